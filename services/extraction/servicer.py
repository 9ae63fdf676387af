"""The ResultsExtractionService: typed extraction with statistics and quality, and exports."""

from __future__ import annotations

import asyncio

import grpc
from tinytroupe.common.v1 import study_pb2
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.engine.llm_port import StructuredLLM
from services.extraction import export
from services.extraction.extractor import Extractor, RawResult
from services.extraction.idempotency import IdempotentCalls
from services.extraction.results import extracted_results
from services.extraction.validation import plan_extraction
from services.llm import LLMDeadlineError, LLMRequestError, LLMUnavailableError, TokenUsage
from services.llm.client import session_scope
from services.runtime.errors import DownstreamError, FailedPrecondition, InvalidArgument, Unavailable

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
        after = self._read()
        cached = after.cached_calls - self._before.cached_calls
        return study_pb2.TokenUsage(
            calls=after.calls - self._before.calls - cached, cached_calls=cached,
            prompt_tokens=after.prompt_tokens - self._before.prompt_tokens,
            completion_tokens=after.completion_tokens - self._before.completion_tokens)


def raise_if_every_call_failed(raws: list[RawResult]) -> None:
    """A request whose every model call failed for want of a model is an error, not empty results."""
    errors = [raw.error for raw in raws if raw.error is not None]
    if not raws or len(errors) < len(raws):
        return
    first = errors[0]
    if isinstance(first, LLMRequestError):
        raise FailedPrecondition("LLM_REQUEST_REJECTED", f"the model endpoint rejected the extraction: {first}")
    if isinstance(first, LLMUnavailableError | LLMDeadlineError):
        raise Unavailable(f"no extraction call succeeded: {first}")


class ExtractionServicer(extraction_pb2_grpc.ResultsExtractionServiceServicer):
    def __init__(self, llm: StructuredLLM, control: control_pb2_grpc.SimulationControlServiceStub | None) -> None:
        self._extractor = Extractor(llm)
        self._llm = llm
        self._control = control
        self._extractions: IdempotentCalls[extraction_pb2.ExtractResultsResponse] = IdempotentCalls()

    async def ExtractResults(self, request: extraction_pb2.ExtractResultsRequest,
                             context: grpc.aio.ServicerContext) -> extraction_pb2.ExtractResultsResponse:
        return await self._extractions.run(request.request_id, request, lambda: self._extract(request))

    async def _extract(self, request: extraction_pb2.ExtractResultsRequest) -> extraction_pb2.ExtractResultsResponse:
        plan = plan_extraction(request)
        with session_scope(self._llm, plan.session):
            meter = UsageMeter(self._llm, plan.session)
            raws = await self._extractor.extract(plan)
            usage = meter.spent()
        raise_if_every_call_failed(raws)
        results = await asyncio.to_thread(extracted_results, plan, raws)
        return extraction_pb2.ExtractResultsResponse(results=results, usage=usage)

    async def ExportResults(self, request: extraction_pb2.ExportResultsRequest,
                            context: grpc.aio.ServicerContext) -> extraction_pb2.ExportResultsResponse:
        violations = []
        if not request.HasField("results"):
            violations.append(("results", "the results to export are required"))
        if request.format not in _FORMATS:
            violations.append(("format", "must be EXPORT_FORMAT_JSON or EXPORT_FORMAT_CSV"))
        if request.store and not request.session.startswith("sessions/"):
            violations.append(("session", "storing an export needs the session, `sessions/{session}`"))
        if violations:
            raise InvalidArgument(*violations[0], more=violations[1:])
        name, content_type = _FORMATS[request.format]
        if name == "json":
            content = await asyncio.to_thread(export.to_json, request.results)
        else:
            content = await asyncio.to_thread(export.to_csv, request.results, list(request.fields))
        response = extraction_pb2.ExportResultsResponse(content=content, content_type=content_type)
        if request.store:
            response.checkpoint = await self._store(request.session, f"export_{name}", content, content_type)
        return response

    async def _store(self, session: str, checkpoint_id: str, content: bytes, content_type: str) -> str:
        if self._control is None:
            raise FailedPrecondition("CONTROL_NOT_CONFIGURED", "this server has no control service to store exports")
        checkpoint = control_pb2.Checkpoint(payload=content, content_type=content_type,
                                            annotations={"kind": "export"})
        try:
            stored = await self._control.CreateCheckpoint(control_pb2.CreateCheckpointRequest(
                parent=session, checkpoint_id=checkpoint_id, checkpoint=checkpoint))
        except grpc.aio.AioRpcError as error:
            raise DownstreamError(error) from None
        return stored.name
