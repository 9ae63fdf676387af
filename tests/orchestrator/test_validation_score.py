"""`participants.min_validation_score`: a given agent validated under it is a failed participant."""

from __future__ import annotations

import uuid

import pytest
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.validation import validate_study_request
from tests.fixtures import TINYTROUPE_FIXTURES
from tests.orchestrator.support import small_study
from tests.orchestrator.test_degradation import FailurePhase, assert_one_failed, run, three_people
from tests.orchestrator.test_validation import request, spec, violations

DEMOGRAPHICS = (TINYTROUPE_FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_given_agent_under_the_minimum_leaves_the_study_with_its_interview(stubs, mesh):
    ana, ben, cyd = three_people()
    mesh.fake.script(rf"You interviewed {ben};", {"justification": "Does not drink tea.", "score": 0.1})
    mesh.fake.script(rf"You interviewed ({ana}|{cyd});", {"justification": "Drinks tea daily.", "score": 0.9})
    study = small_study(names=(ana, ben, cyd))
    study.participants.expectations = "Adults who drink tea every day."
    study.participants.min_validation_score = 0.5
    result = await run(stubs, study)
    assert_one_failed(result, FailurePhase.FAILURE_PHASE_VALIDATION, ben)
    assert (
        result.participant_failures[0].reason == "validation score 0.10 is under the minimum 0.5: Does not drink tea."
    )
    by_name = {validation.agent_name: validation for validation in result.validations}
    assert set(by_name) == {ana, ben, cyd}  # the failed agent's validation says why it left
    assert by_name[ben].score == pytest.approx(0.1) and by_name[ben].interview
    assert all(exchange.question and exchange.answer for exchange in by_name[ana].interview)
    assert ben not in {entry.agent_name for entry in result.simulation_results.interactions}


def test_the_minimum_is_a_score_and_needs_expectations():
    study = request(specifications=[spec("Ana")])
    study.participants.min_validation_score = 1.5
    assert set(violations(study)) == {"participants.min_validation_score"}
    study.participants.min_validation_score = 0.5
    assert "participants.min_validation_score" in violations(study)  # no expectations
    study.participants.expectations = "Someone."
    validate_study_request(study)


@pytest.mark.asyncio(loop_scope="session")
async def test_generated_agents_still_under_the_minimum_after_a_second_try_are_validation_failures(stubs, mesh):
    marker = f"Zq{uuid.uuid4().hex[:8]}"
    mesh.fake.script(rf"You interviewed(?s:.*){marker}", {"justification": "Not convincing.", "score": 0.1})
    study = small_study()
    study.participants.mode = orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS
    study.participants.specifications[:] = [DEMOGRAPHICS]
    study.participants.count = 2
    study.participants.expectations = f"Adults who drink tea every day ({marker})."
    study.participants.min_validation_score = 0.5
    operation = await stubs.orchestrator.RunStudy(study)
    finished = await stubs.wait(operation.name, timeout_s=120)
    assert finished.HasField("error")
    assert (
        "no participant could be made: validation score 0.10 is under the minimum (also after generating it "
        "again): Not convincing." in finished.error.message
    )
