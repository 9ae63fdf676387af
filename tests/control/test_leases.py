"""Leases: who runs a session's study, with takeover after expiry and a fencing generation."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2

from tests.control.helpers import begin, error_report


async def acquire(stub, session: str, holder: str, ttl_s: int = 30) -> control_pb2.Lease:
    return await stub.AcquireLease(
        control_pb2.AcquireLeaseRequest(session=session, holder=holder, ttl={"seconds": ttl_s})
    )


async def renew(stub, session: str, holder: str, ttl_s: int = 30) -> control_pb2.Lease:
    return await stub.RenewLease(control_pb2.RenewLeaseRequest(session=session, holder=holder, ttl={"seconds": ttl_s}))


async def release(stub, session: str, holder: str) -> None:
    await stub.ReleaseLease(control_pb2.ReleaseLeaseRequest(session=session, holder=holder))


async def failure(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    report = error_report(caught.value)
    return report.code, report.reason


async def test_acquire_renew_release(control) -> None:
    session = await begin(control)
    lease = await acquire(control, session.name, "replica-a")
    assert (lease.session, lease.holder, lease.generation, lease.expired) == (session.name, "replica-a", 1, False)

    again = await acquire(control, session.name, "replica-a", ttl_s=60)
    assert again.generation == 1
    assert again.expire_time.ToDatetime() > lease.expire_time.ToDatetime()

    renewed = await renew(control, session.name, "replica-a", ttl_s=120)
    assert renewed.generation == 1
    assert renewed.expire_time.ToDatetime() > again.expire_time.ToDatetime()

    assert await failure(acquire(control, session.name, "replica-b")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEASE_HELD",
    )
    assert await failure(renew(control, session.name, "replica-b")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEASE_LOST",
    )

    await release(control, session.name, "replica-a")
    await release(control, session.name, "replica-a")
    taken = await acquire(control, session.name, "replica-b")
    assert (taken.holder, taken.generation) == ("replica-b", 2)
    assert await failure(renew(control, session.name, "replica-a")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEASE_LOST",
    )
    assert await failure(release(control, session.name, "replica-a")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEASE_LOST",
    )


async def test_takeover_after_expiry_and_listing_of_claimable_leases(control) -> None:
    orphaned, running, ended = await begin(control), await begin(control), await begin(control)
    await acquire(control, orphaned.name, "replica-a", ttl_s=1)
    await acquire(control, running.name, "replica-a", ttl_s=60)
    await acquire(control, ended.name, "replica-a", ttl_s=1)
    await control.EndSession(control_pb2.EndSessionRequest(name=ended.name))

    await asyncio.sleep(1.2)
    listed = await control.ListLeases(control_pb2.ListLeasesRequest(expired_only=True, page_size=1000))
    claimable = {lease.session: lease for lease in listed.leases}
    assert orphaned.name in claimable and claimable[orphaned.name].expired
    assert running.name not in claimable
    assert ended.name not in claimable

    taken = await acquire(control, orphaned.name, "replica-b")
    assert (taken.holder, taken.generation, taken.expired) == ("replica-b", 2, False)
    assert await failure(renew(control, orphaned.name, "replica-a")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEASE_LOST",
    )
    listed = await control.ListLeases(control_pb2.ListLeasesRequest(expired_only=True, page_size=1000))
    assert orphaned.name not in {lease.session for lease in listed.leases}

    every = await control.ListLeases(control_pb2.ListLeasesRequest(page_size=1000))
    assert {orphaned.name, running.name, ended.name} <= {lease.session for lease in every.leases}


async def test_expired_lease_nobody_took_can_be_renewed(control) -> None:
    session = await begin(control)
    await acquire(control, session.name, "replica-a", ttl_s=1)
    await asyncio.sleep(1.1)
    renewed = await renew(control, session.name, "replica-a")
    assert (renewed.generation, renewed.expired) == (1, False)


async def test_concurrent_acquisitions_have_one_winner(control) -> None:
    session = await begin(control)
    results = await asyncio.gather(
        *(acquire(control, session.name, f"replica-{n}") for n in range(8)), return_exceptions=True
    )
    winners = [result for result in results if isinstance(result, control_pb2.Lease)]
    assert len(winners) == 1 and winners[0].generation == 1
    assert all(error_report(result).reason == "LEASE_HELD" for result in results if result not in winners)


async def test_lease_of_ended_session_is_refused(control) -> None:
    session = await begin(control)
    await control.EndSession(control_pb2.EndSessionRequest(name=session.name))
    assert await failure(acquire(control, session.name, "replica-a")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "SESSION_NOT_ACTIVE",
    )


async def test_lease_pages(control) -> None:
    sessions = [await begin(control) for _ in range(5)]
    for session in sessions:
        await acquire(control, session.name, "replica-a")
    seen, token = [], ""
    while True:
        page = await control.ListLeases(control_pb2.ListLeasesRequest(page_size=2, page_token=token))
        seen.extend(lease.session for lease in page.leases)
        if not (token := page.next_page_token):
            break
    assert seen == sorted(seen)
    assert {session.name for session in sessions} <= set(seen)
    assert len(seen) == len(set(seen))
