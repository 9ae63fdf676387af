"""Tenant scoping: a tenant sees only its own sessions, checkpoints, cache entries and leases.

The control server requires the mesh's internal token, as in a deployment; the tenant travels in
`x-tenant`, set by the calling service from its caller's credentials (here: `current_tenant`).
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import duration_pb2
from pydantic import SecretStr
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from services.runtime.config import MeshSettings
from tests.control.helpers import acting_for, begin, control_server, unique

INTERNAL_TOKEN = "mesh-internal-token"


def ttl(seconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds)


async def expect_not_found(call) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    assert error.value.code() == grpc.StatusCode.NOT_FOUND, error.value.details()


async def test_a_tenant_sees_nothing_of_another_tenants_session(make_settings: Callable[..., MeshSettings]) -> None:
    settings = make_settings(internal_token=SecretStr(INTERNAL_TOKEN))
    async with control_server(settings) as control:
        namespace, request_id = unique("shared-ns"), unique("request")
        with acting_for("acme"):
            session = await begin(
                control,
                display_name="acme study",
                cache_namespace=namespace,
                request_id=request_id,
                labels={"kind": "study"},
            )
            checkpoint = await control.CreateCheckpoint(
                pb.CreateCheckpointRequest(
                    parent=session.name, checkpoint_id="round_1", checkpoint=pb.Checkpoint(payload=b"acme state")
                )
            )
            await control.StoreCacheEntries(
                pb.StoreCacheEntriesRequest(
                    session=session.name, entries=[pb.CacheEntry(key="k", value=b"acme answer")]
                )
            )
            await control.AcquireLease(pb.AcquireLeaseRequest(session=session.name, holder="replica-a", ttl=ttl(60)))
        assert session.tenant == "acme"

        with acting_for("globex"):
            await expect_not_found(control.GetSession(pb.GetSessionRequest(name=session.name)))
            listed = await control.ListSessions(pb.ListSessionsRequest(page_size=1000))
            assert session.name not in [listed_session.name for listed_session in listed.sessions]
            await expect_not_found(control.EndSession(pb.EndSessionRequest(name=session.name)))
            await expect_not_found(control.DeleteSession(pb.DeleteSessionRequest(name=session.name)))
            await expect_not_found(control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name)))
            await expect_not_found(control.GetCheckpoint(pb.GetCheckpointRequest(name=checkpoint.name)))
            await expect_not_found(
                control.CreateCheckpoint(
                    pb.CreateCheckpointRequest(
                        parent=session.name, checkpoint_id="round_2", checkpoint=pb.Checkpoint(payload=b"globex")
                    )
                )
            )
            await expect_not_found(
                control.LookupCacheEntries(pb.LookupCacheEntriesRequest(session=session.name, keys=["k"]))
            )
            await expect_not_found(
                control.StoreCacheEntries(
                    pb.StoreCacheEntriesRequest(session=session.name, entries=[pb.CacheEntry(key="k2", value=b"x")])
                )
            )
            await expect_not_found(
                control.AcquireLease(pb.AcquireLeaseRequest(session=session.name, holder="replica-b", ttl=ttl(60)))
            )
            await expect_not_found(
                control.RenewLease(pb.RenewLeaseRequest(session=session.name, holder="replica-a", ttl=ttl(60)))
            )
            await expect_not_found(
                control.ReleaseLease(pb.ReleaseLeaseRequest(session=session.name, holder="replica-a"))
            )

            # The same request id and cache namespace name are globex's own, not acme's.
            own = await begin(control, display_name="globex study", cache_namespace=namespace, request_id=request_id)
            assert own.name != session.name and own.tenant == "globex"
            found = await control.LookupCacheEntries(pb.LookupCacheEntriesRequest(session=own.name, keys=["k"]))
            assert list(found.entries) == []
            await control.StoreCacheEntries(
                pb.StoreCacheEntriesRequest(session=own.name, entries=[pb.CacheEntry(key="k", value=b"globex answer")])
            )

        with acting_for("acme"):
            again = await control.GetSession(pb.GetSessionRequest(name=session.name))
            assert again.state == pb.Session.STATE_ACTIVE and again.checkpoint_count == 1
            restored = await control.GetCheckpoint(pb.GetCheckpointRequest(name=checkpoint.name))
            assert restored.payload == b"acme state"
            found = await control.LookupCacheEntries(pb.LookupCacheEntriesRequest(session=session.name, keys=["k"]))
            assert [(entry.key, entry.value) for entry in found.entries] == [("k", b"acme answer")]
            repeated = await begin(control, display_name="acme study", cache_namespace=namespace, request_id=request_id)
            assert repeated.name == session.name
            listed = await control.ListSessions(pb.ListSessionsRequest(page_size=1000))
            assert [listed_session.name for listed_session in listed.sessions] == [session.name]

        leases = await control.ListLeases(pb.ListLeasesRequest(page_size=1000))
        tenants = {lease.session: lease.tenant for lease in leases.leases}
        assert tenants[session.name] == "acme", "leases name their tenant, for the replica that resumes the study"


async def test_callers_without_a_tenant_share_the_unauthenticated_scope(
    make_settings: Callable[..., MeshSettings],
) -> None:
    """With authentication off (local development) every caller is tenant "" and sees every session."""
    async with control_server(make_settings()) as control:
        session = await begin(control, display_name="local")
        assert session.tenant == ""
        assert (await control.GetSession(pb.GetSessionRequest(name=session.name))).name == session.name
        with acting_for("acme"):  # no internal token: the tenant is not passed on, the caller stays ""
            assert (await control.GetSession(pb.GetSessionRequest(name=session.name))).name == session.name
