"""Starting a study's or an experiment's session: its kind and trace labels, its request checkpoint, its runner
here."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.control_client import ControlClient
from services.orchestrator.tracing import trace_labels
from services.runtime.errors import InvalidArgument

KIND_LABEL = "kind"
STUDY = "study"
EXPERIMENT = "experiment"
EXPERIMENT_REQUEST = "experiment_request"
"""Checkpoint id of an experiment's RunExperimentRequest (a study's is `study_request`)."""
Session = control_pb2.Session


def kind_of(session: Session) -> str:
    return session.labels.get(KIND_LABEL, "")


async def begin_session(
    control: ControlClient,
    config: orchestrator_pb2.SessionConfig,
    request_id: str,
    kind: str,
    labels: dict[str, str] | None = None,
) -> Session:
    """The session of a new run, or the one the same `request_id` began before."""
    return await control.stub.BeginSession(
        control_pb2.BeginSessionRequest(
            session=Session(
                display_name=config.session_name or kind,
                description=config.description,
                cache_namespace=config.cache_file,
                labels={**config.labels, **(labels or {}), **trace_labels(), KIND_LABEL: kind},
            ),
            request_id=request_id,
        )
    )


async def store_request(control: ControlClient, session: Session, checkpoint_id: str, request: Message) -> None:
    """Stores the run's request once; the same `request_id` with another request is refused."""
    try:
        await control.store_message(session.name, checkpoint_id, request)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.ALREADY_EXISTS:
            raise InvalidArgument("request_id", "was already used for a different request") from None
        raise
