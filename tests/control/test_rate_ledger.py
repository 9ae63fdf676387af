"""The shared rate budget's rules (services/control/rate_ledger.py), on a clock of the test's own."""

from __future__ import annotations

import json
import random

from services.control import rate_ledger
from services.control.rate_ledger import Ask, Ledger, Limits, Usage, decide, pause

LIMITS = Limits(requests=100, tokens=0, window_s=10.0)
TTL = 1.0


def ask(holder: str, requests: int, *, tenant: str = "", tokens: int = 0, settle: tuple[Usage, ...] = ()) -> Ask:
    return Ask(holder, tenant, requests, tokens, TTL, LIMITS, settle)


def test_grants_stop_at_the_limit_and_say_when_to_ask_again():
    ledger = Ledger()
    first = decide(ledger, ask("a", 70), now=0.0)
    second = decide(ledger, ask("b", 70), now=0.1)
    third = decide(ledger, ask("c", 1), now=0.2)
    assert (first.requests, second.requests, third.requests) == (70, 30, 0)
    assert third.grant_id == ""
    assert 0 < third.retry_after_s <= TTL


def test_a_crashed_holders_grant_returns_one_window_after_its_ttl():
    ledger = Ledger()
    decide(ledger, ask("crashed", 100), now=0.0)  # never settled
    assert decide(ledger, ask("b", 1), now=TTL + LIMITS.window_s - 0.01).requests == 0
    assert decide(ledger, ask("b", 5), now=TTL + LIMITS.window_s + 0.01).requests == 5


def test_settling_gives_back_what_was_not_spent_one_window_after_the_settlement():
    ledger = Ledger()
    grant = decide(ledger, ask("a", 100), now=0.0)
    refused = decide(ledger, ask("b", 50), now=0.1)
    assert refused.requests == 0
    settled = decide(ledger, ask("a", 0, settle=(Usage(grant.grant_id, 30, 0),)), now=0.2)
    assert settled.requests == 0
    assert decide(ledger, ask("b", 80), now=0.3).requests == 70
    # the 30 spent count until a window after the settlement, not after the ttl
    assert decide(ledger, ask("b", 30), now=0.2 + LIMITS.window_s - 0.01).requests == 0
    assert decide(ledger, ask("b", 30), now=0.2 + LIMITS.window_s + 0.01).requests == 30


def test_only_the_holder_of_a_grant_settles_it():
    ledger = Ledger()
    grant = decide(ledger, ask("a", 100), now=0.0)
    decide(ledger, ask("intruder", 0, settle=(Usage(grant.grant_id, 0, 0),)), now=0.1)
    assert decide(ledger, ask("b", 1), now=0.2).requests == 0


def test_tokens_limit_the_calls_granted():
    ledger = Ledger()
    limits = Limits(requests=100, tokens=1000, window_s=10.0)
    grant = decide(ledger, Ask("a", "", 20, 20 * 300, TTL, limits), now=0.0)
    assert (grant.requests, grant.tokens) == (3, 900)
    assert decide(ledger, Ask("b", "", 1, 300, TTL, limits), now=0.1).requests == 0


def test_a_call_larger_than_the_token_limit_goes_alone_once_the_budget_is_empty():
    ledger = Ledger()
    limits = Limits(requests=100, tokens=1000, window_s=10.0)
    assert decide(ledger, Ask("a", "", 1, 5000, TTL, limits), now=0.0).requests == 1
    assert decide(ledger, Ask("a", "", 1, 5000, TTL, limits), now=0.5).requests == 0


def test_tenants_converge_to_equal_shares_while_both_want_more():
    """Tenant `big` asks with four holders, `small` with one; both always want more than the budget."""
    ledger = Ledger()
    holders = [("big", f"big-{i}") for i in range(4)] + [("small", "small-0")]
    granted: dict[str, int] = {"big": 0, "small": 0}
    now = 0.0
    while now < 200.0:
        for tenant, holder in holders:
            decision = decide(ledger, ask(holder, 20, tenant=tenant), now=now)
            if now >= 50.0:  # after the first windows, where who came first still counts
                granted[tenant] += decision.requests
            if decision.grant_id:  # spends it all at once, settles at its next ask
                decide(ledger, ask(holder, 0, settle=(Usage(decision.grant_id, decision.requests, 0),)), now=now)
        now += 0.25
    total = granted["big"] + granted["small"]
    assert total > 0
    assert abs(granted["small"] / total - 0.5) < 0.1, granted


def test_a_lone_tenant_may_take_the_whole_budget():
    ledger = Ledger()
    decide(ledger, ask("b", 1, tenant="other"), now=0.0)  # asked once and got what it asked
    assert decide(ledger, ask("a", 99, tenant="mine"), now=0.1).requests == 99


def test_a_pause_stops_every_holder_until_it_passes():
    ledger = Ledger()
    assert pause(ledger, 3.0, now=1.0) == 3.0
    refused = decide(ledger, ask("a", 5), now=2.0)
    assert refused.requests == 0
    assert refused.paused_for_s == 2.0
    assert refused.retry_after_s == 2.0
    assert decide(ledger, ask("b", 5), now=4.01).requests == 5


def test_no_window_ever_sees_more_than_the_limit_whatever_the_holders_do():
    """Random holders ask, spend at random moments within their grants, settle late or never; the calls
    they send, counted in every window of the budget's length, never exceed the limit."""
    rng = random.Random(7)
    ledger = Ledger()
    sent: list[float] = []
    now = 0.0
    open_grants: dict[str, tuple[str, float, int]] = {}
    while now < 120.0:
        holder = f"h{rng.randrange(6)}"
        settlements: tuple[Usage, ...] = ()
        if holder in open_grants and rng.random() < 0.8:  # 20 % of grants are never settled (crashes)
            grant_id, given, requests = open_grants.pop(holder)
            spent = rng.randint(0, requests)
            sent.extend(rng.uniform(given, min(now, given + TTL)) for _ in range(spent))
            settlements = (Usage(grant_id, spent, 0),)
        elif holder in open_grants:
            grant_id, given, requests = open_grants.pop(holder)
            sent.extend(rng.uniform(given, given + TTL) for _ in range(requests))
        decision = decide(ledger, ask(holder, rng.randint(1, 40), settle=settlements), now=now)
        if decision.grant_id:
            open_grants[holder] = (decision.grant_id, now, decision.requests)
        now += rng.expovariate(20.0)
    for _grant_id, given, requests in open_grants.values():
        sent.extend(rng.uniform(given, given + TTL) for _ in range(requests))
    sent.sort()
    busiest = max(_count_in_window(sent, start, LIMITS.window_s) for start in sent)
    assert busiest <= LIMITS.requests
    assert busiest >= 0.8 * LIMITS.requests  # and the budget is used


def _count_in_window(times: list[float], start: float, length: float) -> int:
    return sum(1 for moment in times if start <= moment < start + length)


def test_ledger_round_trips_through_json():
    ledger = Ledger()
    decide(ledger, ask("a", 3, tenant="t"), now=1.0)
    pause(ledger, 1.0, now=1.0)
    again = Ledger.from_json(json.loads(json.dumps(ledger.to_json(), allow_nan=False)))
    assert again.to_json() == ledger.to_json()
    assert rate_ledger.Ledger.from_json(None).grants == []


def test_settled_grants_are_compacted_so_the_ledger_stays_small():
    """A thousand one-call grants settled over a window leave about a hundred entries per tenant, and
    still count every call until a window after it."""
    ledger = Ledger()
    limits = Limits(requests=5000, tokens=0, window_s=10.0)
    now = 0.0
    for index in range(1000):
        tenant = "a" if index % 2 else "b"
        decision = decide(ledger, Ask(f"h{index}", tenant, 1, 0, TTL, limits), now)
        decide(ledger, Ask(f"h{index}", tenant, 0, 0, TTL, limits, (Usage(decision.grant_id, 1, 0),)), now + 0.005)
        now += 0.01
    assert len(ledger.grants) <= 2 * (100 + 2)
    assert sum(grant["requests"] for grant in ledger.grants) == 1000
    last_settled = now - 0.01 + 0.005
    assert decide(ledger, Ask("x", "a", 5000, 0, TTL, limits), last_settled + 0.01).requests == 4000
