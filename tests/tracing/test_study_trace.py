"""One study, one trace: through the six real servers with every service traced into an in-memory exporter.

The study's participants are grounded by content (custom descriptions) and validated by population, so
every service of the mesh works for it: orchestrator, control, content, population, simulation and
extraction.
"""

from __future__ import annotations

import uuid

import pytest
import pytest_asyncio
from google.protobuf import duration_pb2
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.tracing import TRACE_LABEL
from services.runtime.config import SERVICE_NAMES
from tests.orchestrator.support import Mode, Stubs, small_study
from tests.tracing.support import eventually, service_of, spans_of_trace, traced_services

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOT_JSON = "I would rather not answer in JSON."


@pytest_asyncio.fixture(loop_scope="session")
async def stubs(mesh):
    stubs = Stubs.connect(mesh.addresses)
    yield stubs
    await stubs.close()


@pytest.fixture
def exporter():
    with traced_services() as exporter:
        yield exporter


def talkative(mesh, marker: str) -> None:
    """Agents who read the stimulus with `marker` answer it, so that each has something to extract."""
    mesh.fake.script(
        rf"^You are (?s:.*){marker}",
        {
            "actions": [
                {"type": "TALK", "target": "", "content": "I would buy it if it boils fast."},
                {"type": "DONE", "target": "", "content": ""},
            ]
        },
    )


def grounded_study(marker: str) -> orchestrator_pb2.RunStudyRequest:
    study = small_study(rounds=1, stimulus=f"Would you buy the {marker} solar kettle?")
    del study.participants.specifications[:]
    study.participants.mode = Mode.MODE_CUSTOM
    study.participants.specifications.extend(
        ["A retired train driver from Lyon who bakes bread on Sundays.", "A nurse on night shifts in Porto."]
    )
    study.participants.expectations = "Adults who live in European cities."
    return study


def study_spans(exporter, session: str) -> list[ReadableSpan]:
    return [
        span
        for span in exporter.get_finished_spans()
        if span.name == "study" and span.attributes.get("mesh.session") == session
    ]


def by_id(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans}


def assert_parents_are_linked(spans: list[ReadableSpan]) -> None:
    """Every span's parent is in the trace, and every server span's parent is its caller's client span."""
    spans_by_id = by_id(spans)
    for span in spans:
        if span.parent is None:
            continue
        assert span.parent.span_id in spans_by_id, f"{span.name} ({service_of(span)}) has a parent outside the trace"
        if span.kind == SpanKind.SERVER:
            caller = spans_by_id[span.parent.span_id]
            assert caller.kind == SpanKind.CLIENT and caller.name == span.name, (caller.name, span.name)


async def test_one_study_is_one_trace_across_all_six_services(stubs, mesh, exporter):
    marker = f"Kettle{uuid.uuid4().hex[:8]}"
    talkative(mesh, marker)
    operation = await stubs.orchestrator.RunStudy(grounded_study(marker))
    result = await stubs.result(operation.name, timeout_s=120)
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    session = operation.name.replace("operations/", "sessions/")
    await eventually(lambda: study_spans(exporter, session), what="the study span ended")
    [study] = study_spans(exporter, session)
    spans = spans_of_trace(exporter, study.context.trace_id)

    [root] = [span for span in spans if span.parent is None]
    assert (root.kind, root.name, service_of(root)) == (
        SpanKind.SERVER,
        "tinytroupe.orchestrator.v1.OrchestratorService/RunStudy",
        "orchestrator",
    )
    assert study.parent.span_id == root.context.span_id
    assert {service_of(span) for span in spans} == set(SERVICE_NAMES)
    servers = {service_of(span) for span in spans if span.kind == SpanKind.SERVER}
    assert servers == set(SERVICE_NAMES)
    assert_parents_are_linked(spans)

    spans_by_id = by_id(spans)
    extraction_calls = [s for s in spans if s.kind == SpanKind.CLIENT and s.name.endswith("/ExtractResults")]
    [extraction_call] = extraction_calls
    assert spans_by_id[extraction_call.parent.span_id] is study
    assert service_of(extraction_call) == "orchestrator"

    model_calls = [span for span in spans if span.name.startswith("chat ")]
    assert {service_of(span) for span in model_calls} == {"content", "population", "simulation", "extraction"}
    for call in model_calls:
        assert call.kind == SpanKind.CLIENT
        assert call.attributes["gen_ai.request.model"] == mesh.fake.config.model
        assert call.attributes["llm.cache_hit"] is False
        assert call.attributes["gen_ai.usage.input_tokens"] > 0 and call.attributes["gen_ai.usage.output_tokens"] > 0
        assert call.attributes["mesh.session"] == session
    assert any(call.attributes["llm.label"] for call in model_calls)

    checkpoints = {span.attributes["mesh.checkpoint.id"]: span for span in spans if span.name == "checkpoint.store"}
    assert {"agents_created", "round_1", "operation_complete"} <= set(checkpoints)
    for checkpoint in checkpoints.values():
        assert checkpoint.attributes["mesh.session"] == session
        assert any(
            child.name.endswith("/CreateCheckpoint") and child.parent.span_id == checkpoint.context.span_id
            for child in spans
            if child.parent is not None
        ), f"checkpoint {checkpoint.attributes['mesh.checkpoint.id']} reached no control call"
    assert service_of(checkpoints["operation_complete"]) == "orchestrator"

    stored = await stubs.session(operation.name)
    assert stored.labels[TRACE_LABEL].split("-")[1] == f"{root.context.trace_id:032x}"


async def test_a_retried_study_stays_in_its_trace_and_links_the_call_that_resumed_it(stubs, mesh, exporter):
    suffix = uuid.uuid4().hex[:6]
    ana, ben, cyd = f"Ana{suffix}", f"Ben{suffix}", f"Cyd{suffix}"
    marker = f"Kettle{suffix}"
    talkative(mesh, marker)
    study = small_study(names=(ana, ben, cyd), rounds=1, stimulus=f"Would you buy the {marker} solar kettle?")
    outage = mesh.fake.script(rf"Extract the fields for ({ana}|{ben}|{cyd})\.", NOT_JSON)
    operation = await stubs.orchestrator.RunStudy(study)
    failed = await stubs.wait(operation.name, timeout_s=120)
    assert failed.HasField("error")
    session = operation.name.replace("operations/", "sessions/")
    await eventually(lambda: len(study_spans(exporter, session)) == 1, what="the first run's span ended")

    mesh.fake.scripts.remove(outage)
    await stubs.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=operation.name))
    result = await stubs.result(operation.name, timeout_s=120)
    assert result.metadata.retried_count == 1
    await eventually(lambda: len(study_spans(exporter, session)) == 2, what="the retry's span ended")

    first, retry = sorted(study_spans(exporter, session), key=lambda span: span.start_time)
    assert first.attributes["mesh.study.resumed"] is False and retry.attributes["mesh.study.resumed"] is True
    assert retry.context.trace_id == first.context.trace_id
    assert retry.parent.span_id == first.parent.span_id, "both runs hang under the RunStudy call"
    resume_calls = [
        span
        for span in exporter.get_finished_spans()
        if span.name.endswith("/ResumeStudy") and span.kind == SpanKind.SERVER
    ]
    [link] = retry.links
    assert link.context.span_id in {span.context.span_id for span in resume_calls}
    assert link.context.trace_id != retry.context.trace_id
    assert link.attributes["mesh.link"] == "resumed_by"

    spans = spans_of_trace(exporter, retry.context.trace_id)
    assert_parents_are_linked(spans)
    retry_work = [span for span in spans if span.start_time > retry.start_time]
    assert {service_of(span) for span in retry_work if span.kind == SpanKind.SERVER} == {"control", "extraction"}
    assert any(span.name.endswith("/ExtractResults") for span in retry_work)


async def test_a_study_recovered_after_a_crash_continues_the_stored_trace(stubs, exporter):
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    study = small_study(rounds=1)
    session = await stubs.control.BeginSession(
        control_pb2.BeginSessionRequest(
            session=control_pb2.Session(
                display_name="orphan",
                labels={"kind": "study", TRACE_LABEL: f"00-{trace_id}-{span_id}-01"},
                cache_namespace=study.session_config.cache_file,
            ),
            request_id=uuid.uuid4().hex,
        )
    )
    await stubs.control_client.store_message(session.name, "study_request", study)
    await stubs.control.AcquireLease(
        control_pb2.AcquireLeaseRequest(
            session=session.name, holder="replica-that-died", ttl=duration_pb2.Duration(seconds=1)
        )
    )
    result = await stubs.result(session.name.replace("sessions/", "operations/"), timeout_s=60)
    assert result.metadata.resumed_count == 1
    await eventually(lambda: study_spans(exporter, session.name), what="the recovered study's span ended")

    [recovered] = study_spans(exporter, session.name)
    assert f"{recovered.context.trace_id:032x}" == trace_id
    assert f"{recovered.parent.span_id:016x}" == span_id
    assert recovered.attributes["mesh.study.resumed"] is True
    spans = spans_of_trace(exporter, recovered.context.trace_id)
    assert {service_of(span) for span in spans if span.kind == SpanKind.SERVER} >= {
        "control",
        "population",
        "simulation",
    }


async def test_without_the_otel_variables_a_study_makes_no_spans(stubs):
    with traced_services(environ={}) as exporter:
        operation = await stubs.orchestrator.RunStudy(small_study(rounds=1))
        result = await stubs.result(operation.name, timeout_s=60)
        assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
        assert exporter.get_finished_spans() == ()
        assert TRACE_LABEL not in (await stubs.session(operation.name)).labels


async def test_an_experiment_and_its_arms_are_one_trace(stubs, exporter):
    request = orchestrator_pb2.RunExperimentRequest(
        request_id=uuid.uuid4().hex,
        session_config=orchestrator_pb2.SessionConfig(session_name="traced experiment"),
        participants=small_study(names=(f"Ana{uuid.uuid4().hex[:6]}", f"Ben{uuid.uuid4().hex[:6]}")).participants,
        simulation_config=small_study(rounds=1).simulation_config,
        extraction_config=small_study().extraction_config,
        arms=[
            orchestrator_pb2.ExperimentArm(name=f"arm {index}", stimulus=small_study(stimulus=text).stimulus)
            for index, text in enumerate(("A kettle for 20 EUR?", "A kettle for 40 EUR?"))
        ],
        design=orchestrator_pb2.ExperimentDesign.EXPERIMENT_DESIGN_WITHIN_SUBJECTS,
    )
    operation = await stubs.orchestrator.RunExperiment(request)
    finished = await stubs.wait(operation.name, timeout_s=120)
    assert not finished.HasField("error"), finished.error
    session = operation.name.replace("operations/", "sessions/")
    await eventually(lambda: study_spans(exporter, session), what="the experiment's span ended")
    [experiment] = study_spans(exporter, session)
    assert experiment.attributes["mesh.study.kind"] == "experiment"

    arms = [
        span
        for span in exporter.get_finished_spans()
        if span.name == "study" and span.context.trace_id == experiment.context.trace_id and span is not experiment
    ]
    assert len(arms) == 2
    for arm in arms:
        assert arm.parent.span_id == experiment.context.span_id
        assert arm.attributes["mesh.study.kind"] == "study"
    spans = spans_of_trace(exporter, experiment.context.trace_id)
    assert_parents_are_linked(spans)
    [root] = [span for span in spans if span.parent is None]
    assert root.name.endswith("/RunExperiment")
