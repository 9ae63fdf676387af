"""The shared rate budget of one model endpoint: short-lived grants of calls and tokens.

Every replica of every service that calls a model endpoint asks control for a grant (an allowance of
calls and tokens it may spend during the grant's time to live) and spends it locally. Control keeps one
ledger per endpoint: each grant occupies the budget from the moment it is given until one window after
its spending ended, so no window of that length at the provider sees more than the limits, whatever
the replicas do with their grants:

- a grant may be spent until `spend_until` (given + ttl; the holder stops earlier by its own clock,
  because it counts the ttl from before it asked);
- the holder settles a grant once the calls it sent under it are answered (it reports what it spent):
  the grant's spending ends then (earlier than `spend_until` when it ran out, later when answers were
  slow, so a call that left late still counts), and what it did not spend returns at once; a grant
  nobody settles (its holder crashed) ends at `spend_until`, so its share returns one window later;
- a grant counts until `spend_until + window`: any window of that length at the provider that
  sees a call of this grant starts before `spend_until` and ends after the grant was given, so the
  latest-given grant it sees was admitted while all the others it sees were still counted.

Fairness: the tenants that asked within the last `fair_horizon_s` share the limits max-min fairly.
A tenant's demand is what it occupies (plus what it asks for, when it asks; unbounded while one of its
asks within the horizon was not met in full); a tenant gets at most its fair share less what it already occupies, so
tenants that keep asking converge to equal shares whatever their number of replicas, and a tenant
alone, or asking little, leaves the rest to the others.

A pause (the provider answered 429 with Retry-After) stops every grant until it passes.

The ledger is plain data (stored as JSON by control's storage, changed inside one transaction with the
database's clock), and these functions are pure, so both storage backends share them.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

MIN_RETRY_S = 0.02
COMPACT_FRACTION = 0.01
"""Settled grants ending within this share of the window of each other count as one (see `compacted`)."""
NEVER = -1e18
"""A moment before every other (JSON has no infinity)."""
"""Shortest wait a refused holder is told before asking again."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The endpoint's budget per window; 0 or less means unlimited."""

    requests: float
    tokens: float
    window_s: float


@dataclass(frozen=True, slots=True)
class Usage:
    """What a holder spent of one of its grants."""

    grant_id: str
    requests: int
    tokens: int


@dataclass(frozen=True, slots=True)
class Ask:
    """One holder's request for a grant, with the settlement of its earlier grants."""

    holder: str
    tenant: str
    requests: int
    tokens: int
    ttl_s: float
    limits: Limits
    settlements: tuple[Usage, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to an ask: a grant (possibly of nothing) and when to ask again if refused."""

    grant_id: str
    requests: int
    tokens: int
    ttl_s: float
    retry_after_s: float
    paused_for_s: float


@dataclass
class Ledger:
    """The grants of one endpoint that still occupy its budget, the recent asks and the pause."""

    grants: list[dict[str, Any]] = field(default_factory=list)
    asks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """tenant -> {"at": when it last asked, "requests"/"tokens": what it asked for then, "unmet_at": when
    it last got less than it asked}."""
    paused_until: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Ledger:
        if not data:
            return cls()
        return cls(list(data.get("grants", [])), dict(data.get("asks", {})), float(data.get("paused_until", 0.0)))

    def to_json(self) -> dict[str, Any]:
        return {"grants": self.grants, "asks": self.asks, "paused_until": self.paused_until}


def _occupied_until(grant: dict[str, Any], window_s: float) -> float:
    return grant["spend_until"] + window_s


def settle(ledger: Ledger, holder: str, settlements: tuple[Usage, ...], now: float) -> None:
    """Ends the spending of the holder's settled grants now (their calls are answered), keeping only what
    they spent."""
    by_id = {usage.grant_id: usage for usage in settlements}
    for grant in ledger.grants:
        usage = by_id.get(grant["id"])
        if usage is None or grant["holder"] != holder or grant["settled"]:
            continue
        grant["requests"] = min(grant["requests"], max(0, usage.requests))
        grant["tokens"] = max(0, usage.tokens)
        grant["spend_until"] = now  # its calls were answered by now: they reached the provider before
        grant["settled"] = True


def prune(ledger: Ledger, window_s: float, fair_horizon_s: float, now: float) -> None:
    """Drops grants that no longer occupy the budget and asks older than the fairness horizon, and
    compacts the settled grants."""
    ledger.grants = compacted(
        [grant for grant in ledger.grants if _occupied_until(grant, window_s) > now], window_s * COMPACT_FRACTION
    )
    ledger.asks = {tenant: ask for tenant, ask in ledger.asks.items() if ask["at"] > now - fair_horizon_s}


def compacted(grants: list[dict[str, Any]], step_s: float) -> list[dict[str, Any]]:
    """The grants with the settled ones of each tenant merged per `step_s` of their end, each merged
    entry ending at the end of its step (later, so never counting less). Keeps the ledger, rewritten at
    every ask, at about tenants x (window / step) entries whatever the calls' rate."""
    kept: list[dict[str, Any]] = []
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    for grant in grants:
        if not grant["settled"] or step_s <= 0:
            kept.append(grant)
            continue
        step = math.ceil(grant["spend_until"] / step_s)
        entry = merged.get((grant["tenant"], step))
        if entry is None:
            merged[(grant["tenant"], step)] = {
                **grant,
                "id": f"settled-{grant['tenant']}-{step}",
                "holder": "",
                "spend_until": step * step_s,
            }
        else:
            entry["requests"] += grant["requests"]
            entry["tokens"] += grant["tokens"]
            entry["given"] = min(entry["given"], grant["given"])
    return kept + list(merged.values())


def _room(limit: float, occupied: float) -> float:
    return math.inf if limit <= 0 else max(0.0, limit - occupied)


def decide(ledger: Ledger, ask: Ask, now: float, fair_horizon_s: float | None = None) -> Decision:
    """Settles the ask's earlier grants, then grants what fits the budget and the tenant's fair share
    (changes `ledger` in place)."""
    limits = ask.limits
    horizon = fair_horizon_s if fair_horizon_s is not None else max(3 * ask.ttl_s, 1.0)
    settle(ledger, ask.holder, ask.settlements, now)
    prune(ledger, limits.window_s, horizon, now)
    paused_for = max(0.0, ledger.paused_until - now)
    if ask.requests <= 0:
        return Decision("", 0, 0, 0.0, 0.0, paused_for)
    if paused_for > 0:
        _record_ask(ledger, ask, now, unmet=True)
        return Decision("", 0, 0, 0.0, paused_for, paused_for)

    _record_ask(ledger, ask, now, unmet=False)
    room_requests = _fair_room(ledger, ask.tenant, "requests", limits.requests, now - horizon)
    room_tokens = _fair_room(ledger, ask.tenant, "tokens", limits.tokens, now - horizon)
    per_call = max(1.0, ask.tokens / ask.requests)
    granted = int(min(ask.requests, room_requests, room_tokens / per_call))
    if granted <= 0 and not ledger.grants and len(ledger.asks) == 1:
        granted = 1  # a call larger than the whole token limit goes alone once the budget is empty
    if granted < ask.requests:
        ledger.asks[ask.tenant]["unmet_at"] = now
    if granted <= 0:
        return Decision("", 0, 0, 0.0, _retry_after(ledger, limits.window_s, ask.ttl_s, now), 0.0)
    tokens = math.ceil(granted * per_call) if ask.tokens > 0 else 0
    grant_id = uuid.uuid4().hex
    ledger.grants.append(
        {
            "id": grant_id,
            "holder": ask.holder,
            "tenant": ask.tenant,
            "requests": granted,
            "tokens": tokens,
            "given": now,
            "spend_until": now + ask.ttl_s,
            "settled": False,
        }
    )
    return Decision(grant_id, granted, tokens, ask.ttl_s, 0.0, 0.0)


def _record_ask(ledger: Ledger, ask: Ask, now: float, *, unmet: bool) -> None:
    last_unmet = ledger.asks.get(ask.tenant, {}).get("unmet_at", NEVER)
    ledger.asks[ask.tenant] = {
        "at": now,
        "requests": ask.requests,
        "tokens": ask.tokens,
        "unmet_at": now if unmet else last_unmet,
    }


def _fair_room(ledger: Ledger, tenant: str, kind: str, limit: float, unmet_since: float) -> float:
    """What `tenant` may still take of `kind` (requests or tokens): the free room, at most its max-min
    fair share of the limit less what it occupies. The asker's demand is what it occupies plus what it
    asks for; another's is what it occupies, or unbounded if an ask of it went unmet since `unmet_since`. Shares
    are filled from the smallest demand up, so a tenant asking little leaves the rest to the others."""
    if limit <= 0:
        return math.inf
    used: dict[str, float] = {}
    for grant in ledger.grants:
        used[grant["tenant"]] = used.get(grant["tenant"], 0.0) + grant[kind]
    free = max(0.0, limit - sum(used.values()))
    demands = {
        name: math.inf if last["unmet_at"] > unmet_since else used.get(name, 0.0) for name, last in ledger.asks.items()
    }
    demands[tenant] = used.get(tenant, 0.0) + ledger.asks[tenant].get(kind, 0)
    remaining, left = limit, len(demands)
    share = limit
    for name, demand in sorted(demands.items(), key=lambda item: item[1]):
        share = remaining / left
        if name == tenant:
            break
        if demand >= share:  # every larger demand gets the same share
            break
        remaining -= demand
        left -= 1
    mine = demands.get(tenant, 0.0)
    return max(0.0, min(free, min(share, mine) - used.get(tenant, 0.0)))


def _retry_after(ledger: Ledger, window_s: float, ttl_s: float, now: float) -> float:
    """When room may appear: as the earliest grant stops counting, at most one ttl away (settlements
    free room earlier)."""
    earliest = min((_occupied_until(grant, window_s) for grant in ledger.grants), default=now)
    return min(max(MIN_RETRY_S, earliest - now), max(MIN_RETRY_S, ttl_s))


def pause(ledger: Ledger, retry_after_s: float, now: float) -> float:
    """Stops every grant of the endpoint for `retry_after_s`; returns the seconds the pause lasts."""
    ledger.paused_until = max(ledger.paused_until, now + max(0.0, retry_after_s))
    return max(0.0, ledger.paused_until - now)
