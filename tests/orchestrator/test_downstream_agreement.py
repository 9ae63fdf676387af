"""RunStudy refuses every request that simulation or extraction would refuse, before any model call.

Each case breaks one rule of the common messages. RunStudy must answer INVALID_ARGUMENT naming the
field, the model server must see nothing of the study, and the downstream service's own check (run
here on the request RunStudy would have sent it) must refuse the same thing: one set of rules.
"""

from __future__ import annotations

import json
import math
import uuid

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.extraction.validation import plan_extraction
from services.runtime.errors import InvalidArgument
from services.simulation.validation import validate_run
from tests.orchestrator.support import agent_spec, small_study
from tests.rich_errors import field_violations


def _hint_not_a_kind(study):
    study.extraction_config.fields_hints["rating"] = "banana"


def _fields_differing_in_case(study):
    study.extraction_config.fields[:] = ["rating", "Rating"]
    study.extraction_config.fields_hints.clear()


def _hint_for_no_field(study):
    study.extraction_config.fields_hints["mood"] = "one of happy/sad"


def _field_name_too_long(study):
    study.extraction_config.fields.append("x" * 65)


def _unknown_extraction_mode(study):
    study.extraction_config.mode = 99


def _unknown_turn_order(study):
    study.simulation_config.turn_order = 99


def _unknown_environment(study):
    study.simulation_config.environment_type = 99


def _failed_fraction_not_a_number(study):
    study.simulation_config.max_failed_fraction = math.nan


def _names_equal_after_normalization(study):
    study.participants.specifications[1] = agent_spec("  ANA ")


def _stimulus_for_nobody_present(study):
    study.stimulus.target_agents.append("Zed")


CASES = [
    (_hint_not_a_kind, "extraction_config.fields_hints[rating]"),
    (_fields_differing_in_case, "extraction_config.fields[1]"),
    (_hint_for_no_field, "extraction_config.fields_hints[mood]"),
    (_field_name_too_long, "extraction_config.fields[2]"),
    (_unknown_extraction_mode, "extraction_config.mode"),
    (_unknown_turn_order, "simulation_config.turn_order"),
    (_unknown_environment, "simulation_config.environment_type"),
    (_failed_fraction_not_a_number, "simulation_config.max_failed_fraction"),
    (_names_equal_after_normalization, "participants.specifications[1]"),
    (_stimulus_for_nobody_present, "stimulus.target_agents[0]"),
]


def downstream_refuses(study) -> bool:
    """Whether simulation's or extraction's own check refuses the request RunStudy would send it."""
    agents = [
        agent_pb2.Agent(name=json.loads(spec)["persona"]["name"], spec_json=spec)
        for spec in study.participants.specifications
    ]
    checks = [
        lambda: validate_run(
            simulation_pb2.RunSimulationRequest(
                session="sessions/agreement", agents=agents, config=study.simulation_config, stimulus=study.stimulus
            )
        ),
        lambda: plan_extraction(
            extraction_pb2.ExtractResultsRequest(
                session="sessions/agreement",
                agents=agents,
                config=study.extraction_config,
                transcript=[study_pb2.Interaction(round=1, agent_name=agents[0].name, content="yes")],
            )
        ),
    ]
    refused = False
    for check in checks:
        try:
            check()
        except InvalidArgument:
            refused = True
    return refused


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("break_rule", "field"), CASES, ids=[case.__name__.strip("_") for case, _ in CASES])
async def test_run_study_refuses_what_a_downstream_service_would(stubs, mesh, break_rule, field):
    marker = f"agreement-{uuid.uuid4().hex}"
    study = small_study(stimulus=f"Would you buy a solar kettle? ({marker})")
    break_rule(study)
    assert downstream_refuses(study), "the case must break a rule that a downstream service enforces"

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(study, timeout=30)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(raised.value), field_violations(raised.value)
    seen_by_model = [record for record in mesh.fake.stats.requests if marker in json.dumps(record.body or {})]
    assert seen_by_model == []


def test_the_unbroken_request_passes_every_downstream_check():
    assert not downstream_refuses(small_study())
