"""AcquireRateGrant and PauseRateBudget on a real control server, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import duration_pb2
from pydantic import SecretStr
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from services.runtime.config import MeshSettings
from tests.control.helpers import acting_for, control_server, error_report, unique


def seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(value * 1e9))
    return duration


def ask(
    endpoint: str, holder: str, requests: int, *, tokens: int = 0, settle=(), limit: float = 10
) -> pb.AcquireRateGrantRequest:
    return pb.AcquireRateGrantRequest(
        endpoint=endpoint,
        holder=holder,
        requests=requests,
        tokens=tokens,
        requests_per_window=limit,
        tokens_per_window=0,
        window=seconds(60),
        ttl=seconds(1),
        settlements=list(settle),
    )


async def test_grants_share_one_budget_between_holders(control) -> None:
    endpoint = unique("endpoint")
    first = await control.AcquireRateGrant(ask(endpoint, "replica-a", 6))
    second = await control.AcquireRateGrant(ask(endpoint, "replica-b", 6))
    refused = await control.AcquireRateGrant(ask(endpoint, "replica-c", 1))
    assert (first.requests, second.requests, refused.requests) == (6, 4, 0)
    assert first.grant_id and first.ttl.ToTimedelta().total_seconds() == 1.0
    assert refused.grant_id == "" and refused.retry_after.ToTimedelta().total_seconds() > 0

    settled = await control.AcquireRateGrant(
        ask(endpoint, "replica-a", 0, settle=[pb.RateGrantUsage(grant_id=first.grant_id, requests=2)])
    )
    assert settled.requests == 0
    again = await control.AcquireRateGrant(ask(endpoint, "replica-c", 9))
    assert again.requests == 4, "the four calls replica-a did not spend came back"
    other = await control.AcquireRateGrant(ask(unique("endpoint"), "replica-c", 9))
    assert other.requests == 9, "each endpoint has a budget of its own"


async def test_concurrent_asks_never_grant_more_than_the_limit(control) -> None:
    endpoint = unique("endpoint")
    grants = await asyncio.gather(
        *(control.AcquireRateGrant(ask(endpoint, f"replica-{i}", 3, limit=20)) for i in range(12))
    )
    assert sum(grant.requests for grant in grants) == 20


async def test_a_pause_refuses_every_holder_until_it_passes(control) -> None:
    endpoint = unique("endpoint")
    paused = await control.PauseRateBudget(pb.PauseRateBudgetRequest(endpoint=endpoint, retry_after=seconds(0.5)))
    assert 0.4 < paused.paused_for.ToTimedelta().total_seconds() <= 0.5
    refused = await control.AcquireRateGrant(ask(endpoint, "replica-b", 1))
    assert refused.requests == 0
    assert 0 < refused.paused_for.ToTimedelta().total_seconds() <= 0.5
    await asyncio.sleep(refused.paused_for.ToTimedelta().total_seconds() + 0.05)
    assert (await control.AcquireRateGrant(ask(endpoint, "replica-b", 1))).requests == 1


async def test_tenants_share_the_budget_fairly(make_settings: Callable[..., MeshSettings]) -> None:
    async with control_server(make_settings(internal_token=SecretStr("internal"))) as control:
        endpoint = unique("endpoint")
        with acting_for("acme"):
            first = await control.AcquireRateGrant(ask(endpoint, "acme-1", 8))
        with acting_for("globex"):
            refused = await control.AcquireRateGrant(ask(endpoint, "globex-1", 8))
        with acting_for("acme"):
            settle = [pb.RateGrantUsage(grant_id=first.grant_id, requests=0)]
            more = await control.AcquireRateGrant(ask(endpoint, "acme-1", 8, settle=settle))
        with acting_for("globex"):
            granted = await control.AcquireRateGrant(ask(endpoint, "globex-1", 8))
        assert (first.requests, refused.requests) == (8, 2)
        assert more.requests == 5, "while globex wants more, acme gets its half only"
        assert granted.requests == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": ""}, "endpoint"),
        ({"holder": " x"}, "holder"),
        ({"requests": -1}, "requests"),
        ({"ttl": seconds(120)}, "ttl"),
        ({"window": seconds(0)}, "window"),
    ],
)
async def test_bad_asks_name_their_field(control, change, field) -> None:
    request = ask(unique("endpoint"), "replica-a", 1)
    for name, value in change.items():
        if isinstance(value, duration_pb2.Duration):
            getattr(request, name).CopyFrom(value)
        else:
            setattr(request, name, value)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await control.AcquireRateGrant(request)
    report = error_report(error.value)
    assert report.code == grpc.StatusCode.INVALID_ARGUMENT
    assert report.fields == [field]
