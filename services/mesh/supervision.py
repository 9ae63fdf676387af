"""How `troupe up` treats a server that exits on its own: it starts it again, on the same port.

Each child (a server or the embedded model) may be restarted `limit` times within `window_s`; the
delay before a restart doubles with each recent restart, from `backoff_s` to at most `max_backoff_s`.
A child that exits more often than that is left down and the launcher stops the mesh. Every exit,
restart and give-up is a JSON line in `logs/mesh.log`, and the count of restarts per child is kept in
the state file (`mesh.json`).
"""

from __future__ import annotations

import json
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

EVENT_LOG = "mesh.log"


@dataclass(frozen=True)
class RestartPolicy:
    limit: int = 5
    """Most restarts of one child within `window_s`; 0 never restarts (an exit stops the mesh)."""
    window_s: float = 600.0
    backoff_s: float = 0.25
    """Delay before the first restart; each further restart within the window doubles it."""
    max_backoff_s: float = 15.0

    def delay_s(self, recent_restarts: int) -> float:
        """The delay before the next restart of a child restarted `recent_restarts` times in the window."""
        return min(self.backoff_s * 2**recent_restarts, self.max_backoff_s)


@dataclass
class RestartHistory:
    """When each child was restarted, and how often in all."""

    policy: RestartPolicy
    clock: object = time.monotonic
    counts: dict[str, int] = field(default_factory=dict)
    _times: dict[str, deque[float]] = field(default_factory=dict)

    def recent(self, name: str) -> int:
        """Restarts of `name` within the policy's window."""
        times = self._times.setdefault(name, deque())
        now = self.clock()
        while times and now - times[0] > self.policy.window_s:
            times.popleft()
        return len(times)

    def may_restart(self, name: str) -> bool:
        return self.recent(name) < self.policy.limit

    def record(self, name: str) -> int:
        """Notes a restart of `name`; returns its count."""
        self._times.setdefault(name, deque()).append(self.clock())
        self.counts[name] = self.counts.get(name, 0) + 1
        return self.counts[name]


def exit_text(returncode: int | None) -> str:
    """`code 3`, `signal SIGKILL`, as a process's return code says."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


def write_event(log_dir: Path, event: str, **fields: object) -> None:
    """Appends one JSON line (`timestamp`, `event`, the fields) to the mesh's event log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    line = {"timestamp": datetime.now(UTC).isoformat(), "level": "info", "event": event, **fields}
    with (log_dir / EVENT_LOG).open("a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


def read_events(log_dir: Path, event: str | None = None) -> list[dict]:
    """The event log's entries (of one `event`, when given), oldest first."""
    path = log_dir / EVENT_LOG
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (event is None or entry.get("event") == event):
            entries.append(entry)
    return entries
