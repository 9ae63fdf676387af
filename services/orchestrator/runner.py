"""One study's flow, from whatever its checkpoints say is done to its end.

A fresh study and a resumed one take the same path: the checkpoints in control tell which steps
are done (`agents_created`, `round_{n}`, `simulation_complete`, `operation_complete`), and the runner
does the rest, then ends the session. It holds the study's lease all along.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections.abc import Awaitable

import grpc
import structlog
from google.protobuf import timestamp_pb2
from google.rpc import status_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.blinding import unblinded_plan_transcript
from services.common.names import last_segment, operation_name
from services.common.usage import sum_usage
from services.orchestrator import metrics as study_metrics
from services.orchestrator.checkpoints import (
    AGENTS_CREATED,
    OPERATION_COMPLETE,
    STUDY_REQUEST,
    StudyCheckpoints,
    latest_round,
    resumed_checkpoint_id,
    resumed_count,
    retried_count,
)
from services.orchestrator.downstream import Downstream
from services.orchestrator.failures import (
    extraction_failures,
    participant_counts,
    require_enough_participants,
    simulation_failures,
)
from services.orchestrator.fan_out_extraction import extract_results
from services.orchestrator.lease import StudyLease
from services.orchestrator.panels import save_participants
from services.orchestrator.participants import ParticipantFactory
from services.orchestrator.plan import add_plan_results, extract_steps
from services.orchestrator.progress import Phase, ProgressTracker
from services.orchestrator.rpc_errors import status_of
from services.orchestrator.settings import StudySettings
from services.orchestrator.simulation_stage import SimulationOutcome, SimulationStage
from services.orchestrator.spend import SpendWatch
from services.orchestrator.tracing import in_study_span
from services.runtime.context import current_request_id, current_session
from services.runtime.errors import MeshError

log = structlog.get_logger("study")

CANCELLED_REASON = "cancelled"
MAX_END_REASON_LENGTH = 4000


class StopReason(enum.Enum):
    """Why a runner was stopped from outside."""

    CANCELLED = "cancelled"
    """The caller cancelled the study: it ends as FAILED, its operation as CANCELLED."""
    SHUTDOWN = "shutdown"
    """This replica stops: the lease is released so that another replica resumes the study at once."""
    LEASE_LOST = "lease lost"
    """Another replica took the study over, or it was ended elsewhere: leave it alone."""


class StudyRunner:
    def __init__(
        self,
        downstream: Downstream,
        settings: StudySettings,
        session: control_pb2.Session,
        lease: StudyLease,
        *,
        resumed: bool,
    ):
        self.downstream = downstream
        self.settings = settings
        self.session = session
        self.lease = lease
        self.resumed = resumed
        self.session_id = last_segment(session.name)
        self.checkpoints = StudyCheckpoints(downstream.control, session.name)
        self.progress = ProgressTracker(
            orchestrator_pb2.StudyProgress(
                operation=operation_name(self.session_id),
                session=session.name,
                phase=Phase.PHASE_QUEUED,
                runner=settings.replica_id,
                message="resuming" if resumed else "queued",
            )
        )
        self.stop_reason: StopReason | None = None
        self.task: asyncio.Task | None = None
        self.settling = False
        self.request_suffix = ""
        """Appended to the request ids of downstream calls once the study was retried (see retry_suffix)."""
        """Set once the study's last steps began: they are not interrupted any more."""
        self.spend = SpendWatch(downstream.control, session.name, self.progress, settings, downstream.estimator)
        """The study's spend: its budget, its usage, whether it must stop."""

    def start(self) -> asyncio.Task:
        self.task = asyncio.create_task(
            in_study_span(self.run(), self.session, resumed=self.resumed), name=f"study-{self.session_id}"
        )
        return self.task

    def stop(self, reason: StopReason) -> None:
        if self.task is not None and not self.task.done() and not self.settling:
            self.stop_reason = self.stop_reason or reason
            self.task.cancel()

    async def run(self) -> None:
        """The whole study; ends its session whatever happens, unless another replica took it over."""
        current_session.set(self.session.name)
        if not current_request_id.get():
            current_request_id.set(uuid.uuid4().hex)
        structlog.contextvars.bind_contextvars(session=self.session.name, request_id=current_request_id.get())
        study_metrics.study_started(self.progress, resumed=self.resumed)
        keeper = asyncio.create_task(self.lease.keep(on_lost=lambda why: self.stop(StopReason.LEASE_LOST)))
        watching = asyncio.create_task(self.spend.watch())
        try:
            result = await self._study()
            await self._settle(self._complete(result))
        except asyncio.CancelledError:
            await self._settle(self._stopped())
            raise
        except Exception as error:  # noqa: BLE001 - any failure ends the session as FAILED, error kept
            log.warning(
                "study_failed",
                session=self.session.name,
                error=repr(error),
                exc_info=not isinstance(error, grpc.aio.AioRpcError | MeshError),
            )
            await self._settle(self._fail(status_of(error)))
        finally:
            keeper.cancel()
            watching.cancel()
            self.progress.close()

    async def _settle(self, ending: Awaitable[None]) -> None:
        """Runs the study's last steps shielded from cancellation; if control cannot be reached, the
        lease expires and another replica finishes the study from its checkpoints."""
        self.settling = True
        try:
            await asyncio.shield(ending)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "study_not_settled",
                session=self.session.name,
                code=error.code().name,
                details=error.details(),
            )

    async def _study(self) -> orchestrator_pb2.StudyResult:
        ids = await self.checkpoints.ids()
        if OPERATION_COMPLETE in ids:
            return await self.checkpoints.load(OPERATION_COMPLETE, orchestrator_pb2.StudyResult)
        request = await self.checkpoints.load(STUDY_REQUEST, orchestrator_pb2.RunStudyRequest)
        self.request_suffix = retry_suffix(ids)
        if self.resumed:
            await self._record_resumption(ids)
        await self.spend.begin(request)
        created = await self._participants(request, ids)
        outcome = await SimulationStage(
            self.downstream,
            self.checkpoints,
            self.progress,
            long_call_timeout_s=self.settings.stream_deadline_s,
            request_suffix=self.request_suffix,
            stop_after_round=self.spend.exhausted,
            fan_out_chunk=self.settings.fan_out_chunk,
        ).run(request, list(created.agents), ids, latest_round(ids))
        extraction, plan = await asyncio.gather(
            self._extract(request, created, outcome),
            extract_steps(
                self.downstream,
                self.session.name,
                request,
                outcome,
                self.progress,
                request_suffix=self.request_suffix,
                timeout_s=self.settings.stream_deadline_s,
            ),
        )
        result = await self._result(request, created, outcome, extraction)
        await self.spend.settle(result)
        add_plan_results(result, plan)
        if request.save_to_panel:
            agents = [agent for agent in outcome.agents or created.agents if agent.name not in outcome.failed_agents]
            result.panel = await save_participants(self.downstream.control, request, self.session, agents, result)
        return result

    async def _record_resumption(self, ids: list[str]) -> None:
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        await self.checkpoints.store(
            resumed_checkpoint_id(resumed_count(ids) + 1),
            orchestrator_pb2.StudyResumed(
                runner=self.settings.replica_id, resume_time=now, from_checkpoint=ids[-1] if ids else ""
            ),
        )
        log.info("study_resumed", session=self.session.name, from_checkpoint=ids[-1] if ids else "")

    async def _participants(
        self, request: orchestrator_pb2.RunStudyRequest, ids: list[str]
    ) -> orchestrator_pb2.AgentsCreated:
        if AGENTS_CREATED in ids:
            return await self.checkpoints.load(AGENTS_CREATED, orchestrator_pb2.AgentsCreated)
        self.progress.update(phase=Phase.PHASE_CREATING_AGENTS, message="creating participants")
        created = await ParticipantFactory(
            self.downstream,
            self.session.name,
            self.progress,
            concurrency=self.settings.creation_concurrency,
            long_call_timeout_s=self.settings.stream_deadline_s,
            request_suffix=self.request_suffix,
            fan_out_chunk=self.settings.fan_out_chunk,
        ).create(request.participants)
        require_enough_participants(
            created.requested, list(created.failures), request.simulation_config.max_failed_fraction
        )
        await self.checkpoints.store(AGENTS_CREATED, created)
        return created

    async def _extract(
        self,
        request: orchestrator_pb2.RunStudyRequest,
        created: orchestrator_pb2.AgentsCreated,
        outcome: SimulationOutcome,
    ) -> extraction_pb2.ExtractResultsResponse:
        if not request.extraction_config.extract_results or await self.spend.exhausted():
            return extraction_pb2.ExtractResultsResponse()
        self.progress.update(phase=Phase.PHASE_EXTRACTING, message="extracting results")
        return await extract_results(
            self.downstream.extraction,
            extraction_pb2.ExtractResultsRequest(
                session=self.session.name,
                agents=outcome.agents or created.agents,
                transcript=unblinded_plan_transcript(
                    outcome.results.interactions, [step.stimulus for step in request.steps] or [request.stimulus]
                ),
                config=request.extraction_config,
                failed_agents=sorted(outcome.failed_agents),
                request_id=f"{self.session_id}-extraction{self.request_suffix}",
            ),
            chunk=self.settings.fan_out_chunk,
            timeout_s=self.settings.stream_deadline_s,
        )

    async def _result(
        self,
        request: orchestrator_pb2.RunStudyRequest,
        created: orchestrator_pb2.AgentsCreated,
        outcome: SimulationOutcome,
        extraction: extraction_pb2.ExtractResultsResponse,
    ) -> orchestrator_pb2.StudyResult:
        participants = [agent.name for agent in (outcome.agents or created.agents)]
        failures = [
            *created.failures,
            *simulation_failures(self.spend.without_budget_failures(outcome.failed_agents)),
            *extraction_failures(extraction, [name for name in participants if name not in outcome.failed_agents]),
        ]
        require_enough_participants(created.requested, failures, request.simulation_config.max_failed_fraction)
        ids = await self.checkpoints.ids()
        end_time = timestamp_pb2.Timestamp()
        end_time.GetCurrentTime()
        metadata = orchestrator_pb2.StudyMetadata(
            cache_file=self.session.cache_namespace,
            checkpoints=[*ids, OPERATION_COMPLETE],
            quality_score=extraction.results.statistical_analysis.quality_metrics.score,
            token_usage=sum_usage(created.usage, outcome.usage, extraction.usage),
            start_time=self.session.create_time,
            end_time=end_time,
            resumed_count=resumed_count(ids),
            retried_count=retried_count(ids),
        )
        metadata.execution_time.FromNanoseconds(end_time.ToNanoseconds() - self.session.create_time.ToNanoseconds())
        return orchestrator_pb2.StudyResult(
            operation_id=operation_name(self.session_id),
            session_id=self.session.name,
            status=orchestrator_pb2.STUDY_STATUS_PARTIAL if failures else orchestrator_pb2.STUDY_STATUS_COMPLETED,
            participants=participant_counts(created.requested, failures),
            simulation_results=outcome.results,
            extracted_results=extraction.results,
            metadata=metadata,
            validations=created.validations,
            participant_failures=failures,
        )

    async def _complete(self, result: orchestrator_pb2.StudyResult) -> None:
        await self.checkpoints.store(OPERATION_COMPLETE, result)
        await self._end(control_pb2.Session.STATE_ENDED, "completed")
        self.progress.update(phase=Phase.PHASE_DONE, message="completed")
        study_metrics.study_finished(result)
        log.info(
            "study_completed",
            session=self.session.name,
            status=orchestrator_pb2.StudyStatus.Name(result.status),
        )

    async def _fail(self, status: status_pb2.Status) -> None:
        try:
            await self.checkpoints.store_failure(status)
        except grpc.aio.AioRpcError as error:
            log.warning("failure_not_recorded", session=self.session.name, code=error.code().name)
        await self._end(control_pb2.Session.STATE_FAILED, status.message)
        self.progress.update(phase=Phase.PHASE_DONE, message=f"failed: {status.message}")
        study_metrics.study_failed(status.code)

    async def _stopped(self) -> None:
        reason = self.stop_reason
        if reason is StopReason.CANCELLED:
            await self._fail(status_pb2.Status(code=grpc.StatusCode.CANCELLED.value[0], message=CANCELLED_REASON))
        elif reason is StopReason.SHUTDOWN or reason is None:
            self.progress.update(message="stopped: this orchestrator is shutting down")
            await self.lease.release()
        else:
            self.progress.update(message=f"stopped: {reason.value}")

    async def _end(self, state: control_pb2.Session.State, reason: str) -> None:
        try:
            await self.downstream.control.stub.EndSession(
                control_pb2.EndSessionRequest(
                    name=self.session.name, final_state=state, reason=reason[:MAX_END_REASON_LENGTH]
                )
            )
        finally:
            await self.lease.release()


def retry_suffix(ids: list[str]) -> str:
    """ "" for a study's first run; `-retry-{n}` after its n-th retry, so that the services answer the
    retry's calls anew rather than with what they remembered for the failed run's request ids (answers the
    model gave stay in the session's cache and cost nothing again)."""
    retries = retried_count(ids)
    return f"-retry-{retries}" if retries else ""
