"""Wiring of the orchestrator service into the shared runtime: OrchestratorService and
google.longrunning.Operations on one server, plus the recovery loop that resumes orphaned studies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.orchestrator.downstream import Downstream
from services.orchestrator.estimate import estimator_for
from services.orchestrator.operation_view import OperationView
from services.orchestrator.operations import OperationsServicer
from services.orchestrator.recovery import Recovery
from services.orchestrator.registry import StudyRegistry
from services.orchestrator.servicer import OrchestratorServicer
from services.orchestrator.settings import StudySettings
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = orchestrator_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].full_name
OPERATIONS_SERVICE_NAME = operations_pb2.DESCRIPTOR.services_by_name["Operations"].full_name


def make_definition(study_settings: StudySettings | None = None) -> ServiceDefinition:
    """The service with the given study settings (default: from the environment)."""

    async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
        studies = study_settings or StudySettings()
        downstream = Downstream.open(settings)
        downstream.estimator = estimator_for(settings.llm, studies.creation_concurrency)
        registry = StudyRegistry(downstream, studies)
        view = OperationView(downstream.control, registry)
        orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(
            OrchestratorServicer(downstream.control, registry, view, studies), server
        )
        operations_pb2_grpc.add_OperationsServicer_to_server(
            OperationsServicer(downstream.control, registry, view, studies), server
        )
        return _running(downstream, registry, Recovery(downstream.control, registry, studies), studies)

    return ServiceDefinition(
        name="orchestrator", service_names=(SERVICE_NAME, OPERATIONS_SERVICE_NAME), register=register
    )


@contextlib.asynccontextmanager
async def _running(
    downstream: Downstream, registry: StudyRegistry, recovery: Recovery, studies: StudySettings
) -> AsyncIterator[None]:
    recovering = asyncio.create_task(recovery.run_forever()) if studies.recovery_interval_s > 0 else None
    try:
        yield
    finally:
        if recovering is not None:
            recovering.cancel()
        await registry.shutdown()
        await downstream.close()


DEFINITION = make_definition()
