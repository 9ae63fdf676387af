"""The ResultsExtractionService: typed extraction with statistics and quality, and exports.

Both calls need an active session of the caller's tenant (ExportResults only when it stores the export);
an ExtractResults with a `request_id` is answered once, its answer remembered in the session
(services/common/remembered.py).
"""

from __future__ import annotations

import asyncio

import grpc
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.common.checkpoint_ids import export_checkpoint_id
from services.common.control_client import ControlClient
from services.common.model_errors import model_failure
from services.common.names import is_session_name
from services.common.remembered import RememberedResponses
from services.common.request_checks import request_id_violations
from services.common.usage import usage_between
from services.common.violations import Violations
from services.engine.llm_port import StructuredLLM
from services.extraction import export
from services.extraction.extractor import Extractor, RawResult
from services.extraction.results import extracted_results
from services.extraction.steps import StepExtractor
from services.extraction.validation import ExtractionPlan, StepPlan, plan_extraction, plan_step_extraction
from services.llm import TokenUsage
from services.llm.client import session_scope
from services.llm.errors import LLMInvalidOutputError
from services.runtime.errors import InvalidArgument

_FORMATS = {
    extraction_pb2.EXPORT_FORMAT_JSON: ("json", export.JSON_CONTENT_TYPE),
    extraction_pb2.EXPORT_FORMAT_CSV: ("csv", export.CSV_CONTENT_TYPE),
}


class UsageMeter:
    """Model usage of one request: the LLM client's session totals after minus before."""

    def __init__(self, llm: StructuredLLM, session: str) -> None:
        self._usage = getattr(llm, "usage", None)
        self._session = session
        self._before = self._read()

    def _read(self) -> TokenUsage:
        return self._usage(self._session) if self._usage is not None else TokenUsage()

    def spent(self) -> study_pb2.TokenUsage:
        return usage_between(self._before, self._read())


def raise_if_every_call_failed(raws: list[RawResult]) -> None:
    """A request whose every model call failed for want of a model is an error, not empty results."""
    errors = [raw.error for raw in raws if raw.error is not None]
    if not raws or len(errors) < len(raws) or isinstance(errors[0], LLMInvalidOutputError):
        return  # answers that stay invalid are each agent's missing values, not a failed request
    raise model_failure("extraction (no call succeeded)", errors[0])


def checked_step_plans(request: extraction_pb2.ExtractResultsRequest) -> list[StepPlan]:
    """The steps' plans of a request with `steps`; one INVALID_ARGUMENT names every offending field."""
    violations = Violations()
    if not request.session:
        violations.add("session", "is required")
    violations.extend(request_id_violations(request.request_id))
    try:
        steps = plan_step_extraction(request)
    except InvalidArgument as error:
        violations.extend(error.violations)
    violations.raise_if_any()
    return steps


def checked_plan(request: extraction_pb2.ExtractResultsRequest) -> ExtractionPlan:
    """The request's plan; one INVALID_ARGUMENT names every offending field, the session (required) and the
    request id included."""
    violations = Violations()
    if not request.session:
        violations.add("session", "is required")
    violations.extend(request_id_violations(request.request_id))
    try:
        plan = plan_extraction(request)
    except InvalidArgument as error:
        violations.extend(error.violations)
    violations.raise_if_any()
    return plan


class ExtractionServicer(extraction_pb2_grpc.ResultsExtractionServiceServicer):
    def __init__(self, llm: StructuredLLM, control: ControlClient) -> None:
        self._extractor = Extractor(llm)
        self._step_extractor = StepExtractor(llm)
        self._llm = llm
        self._control = control
        self._remembered = RememberedResponses(control)

    async def ExtractResults(
        self, request: extraction_pb2.ExtractResultsRequest, context: grpc.aio.ServicerContext
    ) -> extraction_pb2.ExtractResultsResponse:
        if request.steps:
            steps = checked_step_plans(request)
            await self._control.require_active_session(request.session, "an extraction", field="session")
            return await self._remembered.unary(
                request, extraction_pb2.ExtractResultsResponse, lambda: self._extract_steps(steps)
            )
        plan = checked_plan(request)
        await self._control.require_active_session(request.session, "an extraction", field="session")
        return await self._remembered.unary(request, extraction_pb2.ExtractResultsResponse, lambda: self._extract(plan))

    async def _extract_steps(self, steps: list[StepPlan]) -> extraction_pb2.ExtractResultsResponse:
        """A study plan's steps: one call per agent for every step's fields, results per step."""
        with session_scope(self._llm, steps[0].plan.session):
            meter = UsageMeter(self._llm, steps[0].plan.session)
            raws = await self._step_extractor.extract(steps)
            usage = meter.spent()
        raise_if_every_call_failed([raw for step_raws in raws.values() for raw in step_raws])

        def results() -> list[study_pb2.StepResults]:
            return [
                study_pb2.StepResults(
                    step=step.name, index=step.step, extracted_results=extracted_results(step.plan, raws[step.name])
                )
                for step in steps
            ]

        return extraction_pb2.ExtractResultsResponse(step_results=await asyncio.to_thread(results), usage=usage)

    async def _extract(self, plan: ExtractionPlan) -> extraction_pb2.ExtractResultsResponse:
        with session_scope(self._llm, plan.session):
            meter = UsageMeter(self._llm, plan.session)
            raws = await self._extractor.extract(plan)
            usage = meter.spent()
        raise_if_every_call_failed(raws)
        results = await asyncio.to_thread(extracted_results, plan, raws)
        return extraction_pb2.ExtractResultsResponse(results=results, usage=usage)

    async def ExportResults(
        self, request: extraction_pb2.ExportResultsRequest, context: grpc.aio.ServicerContext
    ) -> extraction_pb2.ExportResultsResponse:
        violations = []
        if not request.HasField("results"):
            violations.append(("results", "the results to export are required"))
        if request.format not in _FORMATS:
            violations.append(("format", "must be EXPORT_FORMAT_JSON or EXPORT_FORMAT_CSV"))
        if request.store and not is_session_name(request.session):
            violations.append(("session", "storing an export needs the session, `sessions/{session}`"))
        if violations:
            raise InvalidArgument(*violations[0], more=violations[1:])
        if request.store:
            await self._control.require_active_session(request.session, "storing an export", field="session")
        name, content_type = _FORMATS[request.format]
        if name == "json":
            if request.step_results:
                content = await asyncio.to_thread(export.plan_to_json, request.results, list(request.step_results))
            else:
                content = await asyncio.to_thread(export.to_json, request.results)
        else:
            content = await asyncio.to_thread(
                export.to_csv, request.results, list(request.fields), list(request.step_results)
            )
        response = extraction_pb2.ExportResultsResponse(content=content, content_type=content_type)
        if request.store:
            response.checkpoint = await self._store(request.session, export_checkpoint_id(name), content, content_type)
        return response

    async def _store(self, session: str, checkpoint_id: str, content: bytes, content_type: str) -> str:
        return await self._control.store_checkpoint(
            session, checkpoint_id, content, content_type, annotations={"kind": "export"}
        )
