"""OrchestratorService: RunStudy, WatchStudy and ResumeStudy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
from google.longrunning import operations_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.common.control_client import ControlClient
from services.common.names import study_id_of
from services.orchestrator.checkpoints import (
    STUDY_REQUEST,
    StudyCheckpoints,
    retried_checkpoint_id,
    retried_count,
)
from services.orchestrator.experiment.validation import validate_experiment_request
from services.orchestrator.operation_view import OperationView
from services.orchestrator.panel_rpcs import PanelRpcs
from services.orchestrator.panels import check_study_panel
from services.orchestrator.progress import Phase
from services.orchestrator.quotas import QuotaExceeded, StudyQuotas
from services.orchestrator.registry import StudyRegistry
from services.orchestrator.settings import StudySettings
from services.orchestrator.spend import check_budget_fields, check_tenant_budget, latency_of
from services.orchestrator.starting import EXPERIMENT, EXPERIMENT_REQUEST, STUDY, begin_session, kind_of, store_request
from services.orchestrator.tracing import link_to_study
from services.orchestrator.validation import validate_study_request
from services.runtime.context import current_tenant
from services.runtime.errors import FailedPrecondition

Session = control_pb2.Session


class OrchestratorServicer(PanelRpcs, orchestrator_pb2_grpc.OrchestratorServiceServicer):
    def __init__(
        self,
        control: ControlClient,
        registry: StudyRegistry,
        view: OperationView,
        settings: StudySettings,
    ):
        self.control = control
        self.registry = registry
        self.view = view
        self.settings = settings
        self.quotas = StudyQuotas(control, settings)
        self.estimator = registry.downstream.estimator

    async def RunStudy(
        self, request: orchestrator_pb2.RunStudyRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        """Starts a study within the tenant's quotas; the same `request_id` again returns the same operation."""
        validate_study_request(request)
        check_budget_fields(request, self.estimator)
        await check_study_panel(self.control, request)
        return await self._start(request, STUDY, STUDY_REQUEST)

    async def RunExperiment(
        self, request: orchestrator_pb2.RunExperimentRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        """Starts an experiment within the tenant's quotas (it counts as one study; its arms' studies are
        not admitted again); the same `request_id` again returns the same operation."""
        validate_experiment_request(request)
        check_budget_fields(request, self.estimator)
        return await self._start(request, EXPERIMENT, EXPERIMENT_REQUEST)

    async def EstimateStudy(
        self, request: orchestrator_pb2.EstimateStudyRequest, context: grpc.aio.ServicerContext
    ) -> orchestrator_pb2.StudyEstimate:
        """What the study would cost: calls, tokens and cost as ranges, and its critical path; runs nothing."""
        validate_study_request(request.study)
        return self.estimator.study(request.study, latency_of(request))

    async def EstimateExperiment(
        self, request: orchestrator_pb2.EstimateExperimentRequest, context: grpc.aio.ServicerContext
    ) -> orchestrator_pb2.StudyEstimate:
        """What the experiment would cost, its arms' studies included; runs nothing."""
        validate_experiment_request(request.experiment)
        return self.estimator.experiment(request.experiment, latency_of(request))

    async def _start(self, request: Message, kind: str, request_checkpoint: str) -> operations_pb2.Operation:
        tenant = current_tenant.get()
        self.quotas.take_creation_token(tenant)
        async with self.quotas.admitting(tenant):
            session = await begin_session(self.control, request.session_config, request.request_id, kind)
            link_to_study(session)
            if session.state == Session.STATE_ACTIVE:
                if session.checkpoint_count == 0:  # new: not a repeated request of a running study
                    await self._admit_or_delete(tenant, session)
                await store_request(self.control, session, request_checkpoint, request)
                await self.registry.claim(session, resumed=False)
        return await self.view.operation(session)

    async def _admit_or_delete(self, tenant: str, session: Session) -> None:
        """Deletes the new session again, leaving no trace, when the tenant runs too many studies or its
        daily or monthly budget is spent."""
        try:
            await check_tenant_budget(self.control, tenant, self.settings)
            await self.quotas.check_running(tenant, session)
        except QuotaExceeded:
            await self.control.stub.DeleteSession(control_pb2.DeleteSessionRequest(name=session.name))
            raise

    async def ResumeStudy(
        self, request: orchestrator_pb2.ResumeStudyRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        """Resumes a study whose runner died, or retries one that failed, from its last checkpoint."""
        session = await self.view.study_session(study_id_of(request.name))
        if session.state == Session.STATE_FAILED:
            session = await self._reopen(session)
        if session.state == Session.STATE_ACTIVE and await self.registry.claim(session, resumed=True) is None:
            raise FailedPrecondition(
                "LEASE_HELD",
                "another orchestrator is running this study; it resumes only once that one stops renewing its lease",
                subject=request.name,
            )
        return await self.view.operation(session)

    async def _reopen(self, session: Session) -> Session:
        """Makes a failed study's session active again and records the retry."""
        checkpoints = StudyCheckpoints(self.control, session.name)
        ids = await checkpoints.ids()
        reopened = await self.control.reopen_session(session.name)
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        await checkpoints.store(
            retried_checkpoint_id(retried_count(ids) + 1),
            orchestrator_pb2.StudyResumed(
                runner=self.settings.replica_id, resume_time=now, from_checkpoint=ids[-1] if ids else ""
            ),
        )
        return reopened

    async def WatchStudy(
        self, request: orchestrator_pb2.WatchStudyRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[orchestrator_pb2.StudyProgress]:
        session_id = study_id_of(request.name)
        session = await self.view.study_session(session_id)
        study_request: orchestrator_pb2.RunStudyRequest | None = None
        last_sent: orchestrator_pb2.StudyProgress | None = None
        while True:
            if (runner := self.registry.get(session_id)) is not None:
                async for progress in runner.progress.watch():
                    if worth_sending(last_sent, progress):
                        last_sent = progress
                        yield progress
                if last_sent is not None and last_sent.phase == Phase.PHASE_DONE:
                    return
                session = await self.view.study_session(session_id)
                continue
            if study_request is None and kind_of(session) == STUDY:
                study_request = await StudyCheckpoints(self.control, session.name).load(
                    STUDY_REQUEST, orchestrator_pb2.RunStudyRequest
                )
            progress = await self.view.progress(session, study_request)
            if worth_sending(last_sent, progress):
                last_sent = progress
                yield progress
            if progress.phase == Phase.PHASE_DONE:
                return
            await asyncio.sleep(self.settings.watch_poll_interval_s)
            session = await self.view.study_session(session_id)


def worth_sending(last_sent: orchestrator_pb2.StudyProgress | None, progress: orchestrator_pb2.StudyProgress) -> bool:
    """Whether a watcher gets `progress`: it changed, and its phase does not go back. A study that moves
    to this replica starts a runner at QUEUED while the watcher already saw a later phase polled from
    control; progress a client watches never goes backwards."""
    if last_sent is None:
        return True
    if progress.phase < last_sent.phase:
        return False
    return _without_time(last_sent) != _without_time(progress)


def _without_time(progress: orchestrator_pb2.StudyProgress) -> orchestrator_pb2.StudyProgress:
    copy = orchestrator_pb2.StudyProgress()
    copy.CopyFrom(progress)
    copy.ClearField("update_time")
    return copy
