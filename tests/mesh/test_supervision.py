"""`troupe up`'s supervision: the restart policy, and a child that dies started again where it was."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from services.mesh.launcher import LocalMesh, free_port, is_launcher, read_state
from services.mesh.processes import ChildProcess, http_ready
from services.mesh.supervision import RestartHistory, RestartPolicy, exit_text, read_events


def test_the_delay_doubles_up_to_its_cap_and_the_limit_counts_within_the_window():
    policy = RestartPolicy(limit=3, window_s=60, backoff_s=0.25, max_backoff_s=1.0)
    assert [policy.delay_s(n) for n in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    now = [0.0]
    history = RestartHistory(policy, clock=lambda: now[0])
    for _ in range(3):
        assert history.may_restart("control")
        history.record("control")
    assert not history.may_restart("control") and history.may_restart("simulation")
    now[0] = 61.0
    assert history.may_restart("control") and history.recent("control") == 0
    assert history.counts == {"control": 3}, "the count is of all restarts, the window only limits"
    assert not RestartHistory(RestartPolicy(limit=0)).may_restart("control"), "limit 0: never restarted"


def test_exits_read_as_people_say_them():
    assert exit_text(-signal.SIGKILL) == "signal SIGKILL"
    assert exit_text(3) == "code 3"
    assert exit_text(None) == "no exit status"


async def test_a_killed_model_server_comes_back_on_its_url_until_the_limit(tmp_path: Path):
    """The embedded model's place is taken by the fake LLM server: what is supervised is the child and its URL."""
    port = free_port()
    mesh = LocalMesh(data_dir=tmp_path, restart_policy=RestartPolicy(limit=1, backoff_s=0.05))
    mesh.model = ChildProcess(
        name="model",
        command=[sys.executable, "-m", "tests.fake_llm", "--port", str(port)],
        environment={key: value for key, value in os.environ.items() if key != "PORT"},
        log_path=mesh.log_dir / "model.log",
    )
    mesh.model_url = f"http://127.0.0.1:{port}/v1"
    lines: list[str] = []
    await mesh.model.start()
    supervising = asyncio.ensure_future(mesh.supervise(lines.append))
    try:
        await _until(lambda: http_ready(f"{mesh.model_url}/models"))
        mesh.started_at = time.time()
        mesh.write_state()
        first = mesh.model.pid
        mesh.model.kill()
        await _until(lambda: _state_changed(tmp_path, first))
        assert await http_ready(f"{mesh.model_url}/models"), "back on the same URL"
        assert read_state(tmp_path)["model_restarts"] == 1
        mesh.model.kill()
        assert await asyncio.wait_for(supervising, 30) == "model", "past the limit it is left down"
    finally:
        supervising.cancel()
        await mesh.stop(grace_s=2)
    assert [event["event"] for event in read_events(mesh.log_dir)] == [
        "service_exited",
        "service_restarted",
        "restart_limit_reached",
    ]
    assert lines[0] == f"model exited (signal SIGKILL, pid {first}); restart 1 in 0.05 s"
    assert lines[1].startswith("model is back (pid ")
    assert "after 1 restarts within 600 s, the most allowed" in lines[2]


async def test_a_stopping_mesh_restarts_nothing(tmp_path: Path):
    mesh = LocalMesh(data_dir=tmp_path)
    mesh.model = ChildProcess(
        name="model",
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
        environment=dict(os.environ),
        log_path=mesh.log_dir / "model.log",
    )
    await mesh.model.start()
    supervising = asyncio.ensure_future(mesh.supervise())
    await asyncio.sleep(0)
    await mesh.stop(grace_s=2)
    assert await asyncio.wait_for(supervising, 10) == ""
    assert read_events(mesh.log_dir) == []


def test_only_a_troupe_up_is_taken_for_a_launcher():
    assert not is_launcher(os.getpid()), "this test process is no launcher, whatever its path says"
    assert not is_launcher(2**22 + 1)


async def _until(check, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def _state_changed(data_dir: Path, pid: int) -> bool:
    state = read_state(data_dir)
    return state is not None and state["model_pid"] not in (None, pid)
