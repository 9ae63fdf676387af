"""A study's long-running operation as seen from control (any replica) and this replica's runner."""

from __future__ import annotations

import grpc
from google.longrunning import operations_pb2
from google.rpc import code_pb2, status_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.control_client import ControlClient
from services.common.names import last_segment, operation_name, session_name
from services.common.plan_checks import rounds_total
from services.orchestrator.checkpoints import (
    AGENTS_CREATED,
    OPERATION_COMPLETE,
    SIMULATION_COMPLETE,
    STUDY_REQUEST,
    StudyCheckpoints,
    latest_round,
)
from services.orchestrator.progress import Phase
from services.orchestrator.registry import StudyRegistry
from services.orchestrator.runner import CANCELLED_REASON
from services.orchestrator.spend import read_ledger
from services.orchestrator.starting import EXPERIMENT, EXPERIMENT_REQUEST, STUDY, kind_of
from services.runtime.errors import NotFound

Session = control_pb2.Session
RESULT_TYPES = {STUDY: orchestrator_pb2.StudyResult, EXPERIMENT: orchestrator_pb2.ExperimentResult}
"""What an operation's `operation_complete` checkpoint holds, by the kind of its session."""


def is_run(session: Session) -> bool:
    """Whether the session is a study's or an experiment's (operations exist for those only)."""
    return kind_of(session) in RESULT_TYPES


class OperationView:
    def __init__(self, control: ControlClient, registry: StudyRegistry):
        self.control = control
        self.registry = registry

    async def study_session(self, session_id: str) -> Session:
        """The session of a study or an experiment; NotFound when there is none or it is neither."""
        try:
            session = await self.control.stub.GetSession(control_pb2.GetSessionRequest(name=session_name(session_id)))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound("operation", operation_name(session_id)) from None
            raise
        if not is_run(session):
            raise NotFound("operation", operation_name(session_id))
        return session

    async def operation(self, session: Session) -> operations_pb2.Operation:
        session_id = last_segment(session.name)
        operation = operations_pb2.Operation(name=operation_name(session_id))
        checkpoints = StudyCheckpoints(self.control, session.name)
        operation.metadata.Pack(await self.progress(session))
        if session.state == Session.STATE_ACTIVE:
            return operation
        operation.done = True
        if session.state == Session.STATE_ENDED:
            try:
                operation.response.Pack(await checkpoints.load(OPERATION_COMPLETE, RESULT_TYPES[kind_of(session)]))
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                operation.error.CopyFrom(
                    status_pb2.Status(
                        code=code_pb2.ABORTED,
                        message=f"the session ended without a result: {session.end_reason}",
                    )
                )
            return operation
        operation.error.CopyFrom(await self._failure(checkpoints, session))
        return operation

    async def _failure(self, checkpoints: StudyCheckpoints, session: Session) -> status_pb2.Status:
        if (failure := await checkpoints.load_failure(status_pb2.Status)) is not None:
            return failure
        code = code_pb2.CANCELLED if session.end_reason == CANCELLED_REASON else code_pb2.ABORTED
        return status_pb2.Status(code=code, message=session.end_reason or "the study failed")

    async def progress(
        self, session: Session, request: orchestrator_pb2.RunStudyRequest | None = None
    ) -> orchestrator_pb2.StudyProgress:
        """The runner's live progress when the study runs here, else what its checkpoints tell."""
        session_id = last_segment(session.name)
        runner = self.registry.get(session_id)
        if runner is not None and session.state == Session.STATE_ACTIVE:
            return runner.progress.latest
        progress = orchestrator_pb2.StudyProgress(operation=operation_name(session_id), session=session.name)
        progress.update_time.CopyFrom(session.update_time)
        if session.state != Session.STATE_ACTIVE:
            progress.phase = Phase.PHASE_DONE
            progress.message = session.end_reason
            return progress
        checkpoints = StudyCheckpoints(self.control, session.name)
        ids = await checkpoints.ids()
        if kind_of(session) == EXPERIMENT:
            return _experiment_progress(progress, ids)
        if request is None and STUDY_REQUEST in ids:
            request = await checkpoints.load(STUDY_REQUEST, orchestrator_pb2.RunStudyRequest)
        if request is not None:
            progress.rounds_total = rounds_total(request.steps, request.simulation_config)
            progress.steps_total = len(request.steps)
            progress.max_cost, progress.max_tokens = request.max_cost, request.max_tokens
        if (ledger := await read_ledger(self.control, session.name, totals_only=True)) is not None:
            progress.usage.CopyFrom(ledger.total)
            progress.budget_exhausted = ledger.budget_exhausted
        progress.round = latest_round(ids)
        if OPERATION_COMPLETE in ids or SIMULATION_COMPLETE in ids:
            progress.phase, progress.message = Phase.PHASE_EXTRACTING, "extracting results"
        elif AGENTS_CREATED in ids:
            progress.phase = Phase.PHASE_SIMULATING
            progress.message = f"round {progress.round} done" if progress.round else "simulating"
        elif STUDY_REQUEST in ids:
            progress.phase, progress.message = Phase.PHASE_CREATING_AGENTS, "creating participants"
        else:
            progress.phase, progress.message = Phase.PHASE_QUEUED, "queued"
        return progress


def _experiment_progress(progress: orchestrator_pb2.StudyProgress, ids: list[str]) -> orchestrator_pb2.StudyProgress:
    """An experiment's progress told by its checkpoints: participants made, then its arms' studies running."""
    if OPERATION_COMPLETE in ids:
        progress.phase, progress.message = Phase.PHASE_EXTRACTING, "comparing the arms"
    elif AGENTS_CREATED in ids:
        progress.phase, progress.message = Phase.PHASE_SIMULATING, "running the arms' studies"
    elif EXPERIMENT_REQUEST in ids:
        progress.phase, progress.message = Phase.PHASE_CREATING_AGENTS, "creating participants"
    else:
        progress.phase, progress.message = Phase.PHASE_QUEUED, "queued"
    return progress
