"""A caller's side of a study's trace: `troupe run` roots the study's trace, a repeated RunStudy links to the
study's trace, and the stored trace context never takes the place of a caller's label."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
import pytest_asyncio
from opentelemetry.trace import SpanKind
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli import tracing as cli_tracing
from services.orchestrator.experiment.validation import validate_experiment_request
from services.orchestrator.labels import RESERVED_PREFIX, TRACE_LABEL
from services.runtime.config import SERVICE_NAMES
from services.runtime.errors import InvalidArgument
from services.runtime.tracing import configure_tracing
from tests.cli.test_against_the_mesh import dispatch, study
from tests.orchestrator.support import Stubs, small_study
from tests.rich_errors import violations
from tests.tracing.support import TRACING_ON, eventually, service_of, spans_of_trace, traced_services
from tests.tracing.test_study_trace import assert_parents_are_linked, study_spans

pytestmark = pytest.mark.asyncio(loop_scope="session")

RUN_STUDY = "tinytroupe.orchestrator.v1.OrchestratorService/RunStudy"


@pytest_asyncio.fixture(loop_scope="session")
async def stubs(mesh):
    stubs = Stubs.connect(mesh.addresses)
    yield stubs
    await stubs.close()


@pytest.fixture
def exporter():
    """The six services and the CLI traced into one exporter."""
    with traced_services() as exporter:
        assert configure_tracing(cli_tracing.CLI_SERVICE, TRACING_ON, exporter=exporter)
        yield exporter


async def test_troupe_run_roots_the_whole_study_in_the_callers_trace(mesh, stubs, tmp_path, exporter):
    output = await dispatch(mesh, tmp_path, "run", str(study(tmp_path)))
    [study_dir] = (tmp_path / "data" / "results").iterdir()
    session = f"sessions/{study_dir.name}"
    await eventually(lambda: study_spans(exporter, session), what="the study span ended")
    [study_span] = study_spans(exporter, session)
    spans = spans_of_trace(exporter, study_span.context.trace_id)

    [root] = [span for span in spans if span.parent is None]
    assert (root.name, service_of(root), root.kind) == ("troupe run study.json", "cli", SpanKind.INTERNAL)
    trace_id = f"{root.context.trace_id:032x}"
    by_id = {span.context.span_id: span for span in spans}
    [run_study] = [span for span in spans if span.name == RUN_STUDY and span.kind == SpanKind.SERVER]
    caller = by_id[run_study.parent.span_id]
    assert (caller.kind, service_of(caller), caller.parent.span_id) == (SpanKind.CLIENT, "cli", root.context.span_id)
    assert study_span.parent.span_id == run_study.context.span_id
    # The example study's participants come from agent files: content grounds nothing for it.
    assert {service_of(span) for span in spans if span.kind == SpanKind.SERVER} == set(SERVICE_NAMES) - {"content"}
    assert any(span.name.endswith("/WatchStudy") and service_of(span) == "cli" for span in spans)
    assert_parents_are_linked(spans)

    assert f"trace {trace_id}" in output.export_text()
    assert json.loads((study_dir / cli_tracing.TRACE_FILE).read_text()) == {"trace_id": trace_id}
    stored = await stubs.session(f"operations/{study_dir.name}")
    assert stored.labels[TRACE_LABEL].split("-")[1] == trace_id


async def test_troupe_run_without_the_otel_variables_starts_no_trace(mesh, tmp_path):
    with traced_services(environ={}) as exporter:
        assert cli_tracing.configure({}) is False
        with cli_tracing.command_span("troupe run study.json") as trace_id:
            assert trace_id is None
        output = await dispatch(mesh, tmp_path, "run", str(study(tmp_path)))
        [study_dir] = (tmp_path / "data" / "results").iterdir()
        assert exporter.get_finished_spans() == ()
    assert "trace " not in output.export_text()
    assert not (study_dir / cli_tracing.TRACE_FILE).exists()
    assert (study_dir / "result.json").exists()


async def test_a_repeated_run_study_links_to_the_studys_trace(stubs, exporter):
    request = small_study(rounds=1)
    request.session_config.labels["traceparent"] = "a label of the caller's"
    first = await stubs.orchestrator.RunStudy(request)
    repeated = await stubs.orchestrator.RunStudy(request)
    assert repeated.name == first.name
    result = await stubs.result(first.name, timeout_s=120)
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED

    labels = (await stubs.session(first.name)).labels
    assert labels["traceparent"] == "a label of the caller's"
    study_trace = int(labels[TRACE_LABEL].split("-")[1], 16)
    calls = [s for s in exporter.get_finished_spans() if s.name == RUN_STUDY and s.kind == SpanKind.SERVER]
    [beginning] = [span for span in calls if span.context.trace_id == study_trace]
    assert not beginning.links
    [repeat] = [span for span in calls if any(link.context.trace_id == study_trace for link in span.links)]
    assert repeat.context.trace_id != study_trace
    [link] = repeat.links
    assert link.context.span_id == beginning.context.span_id
    assert link.attributes["mesh.link"] == "study"


async def test_labels_under_the_reserved_prefix_are_refused(stubs):
    request = small_study(rounds=1)
    request.session_config.labels[TRACE_LABEL] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stubs.orchestrator.RunStudy(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(refused.value) == [f"session_config.labels['{TRACE_LABEL}']"]

    experiment = orchestrator_pb2.RunExperimentRequest(
        request_id=uuid.uuid4().hex,
        session_config=orchestrator_pb2.SessionConfig(labels={f"{RESERVED_PREFIX}kind": "mine", "team": "a"}),
    )
    with pytest.raises(InvalidArgument) as invalid:
        validate_experiment_request(experiment)
    fields = [field for field, _ in invalid.value.violations]
    assert fields[0] == f"session_config.labels['{RESERVED_PREFIX}kind']"
    assert "session_config.labels['team']" not in fields
