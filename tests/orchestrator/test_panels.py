"""Standing panels through the mesh: a study saves its participants as a panel, a follow-up study runs
the same people from it, who remember the earlier study, and the panel keeps each member's history."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.orchestrator.support import small_study
from tests.rich_errors import error_details, error_reason, violations

pytestmark = pytest.mark.asyncio(loop_scope="session")

Mode = orchestrator_pb2.Participants.Mode


def follow_up(panel: str, stimulus: str, **participants) -> orchestrator_pb2.RunStudyRequest:
    request = small_study(stimulus=stimulus)
    request.participants.CopyFrom(orchestrator_pb2.Participants(mode=Mode.MODE_FROM_PANEL, panel=panel, **participants))
    return request


def prompts_with(mesh, text: str) -> list[str]:
    """The prompts the model received that contain `text`."""
    return [
        "\n".join(str(message.get("content", "")) for message in record.body.get("messages", []))
        for record in mesh.fake.stats.requests
        if record.body and text in json.dumps(record.body)
    ]


async def failure(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_a_follow_up_study_runs_the_panel_who_remember_the_first_study(stubs, mesh):
    tag = uuid.uuid4().hex[:8]
    panel = f"panels/kettle-{tag}"
    names = (f"Ana{tag}", f"Ben{tag}")
    first_question = f"Would you buy a solar kettle, question {tag}?"
    first = small_study(names=names, stimulus=first_question)
    first.save_to_panel = panel
    first_operation = await stubs.orchestrator.RunStudy(first)
    first_result = await stubs.result(first_operation.name, timeout_s=120)
    assert first_result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert first_result.panel == panel

    saved = await stubs.control.GetPanel(control_pb2.GetPanelRequest(name=panel))
    assert [member.agent.name for member in saved.members] == list(names)
    assert all([entry.session for entry in member.studies] == [first_result.session_id] for member in saved.members)
    assert all(
        any(first_question in event.content for event in member.agent.episodic_memory) for member in saved.members
    )

    second_question = f"A year later: do you still use your kettle, question {tag}-2?"
    second = follow_up(panel, second_question)
    second.save_to_panel = panel
    second_operation = await stubs.orchestrator.RunStudy(second)
    second_result = await stubs.result(second_operation.name, timeout_s=120)
    assert second_result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert second_result.participants.total == 2
    assert {agent.agent_name for agent in second_result.extracted_results.individual_results} == set(names)

    # The model was asked to play the same people, who remember the first study's question.
    for name in names:
        turns = [prompt for prompt in prompts_with(mesh, second_question) if prompt.startswith(f"You are {name}.")]
        assert turns, f"no turn of {name} in the follow-up"
        assert all("You remember:" in prompt and first_question in prompt for prompt in turns)

    history = await stubs.control.GetPanel(control_pb2.GetPanelRequest(name=panel))
    assert history.study_count == 2
    for member in history.members:
        assert [entry.session for entry in member.studies] == [first_result.session_id, second_result.session_id]
        assert [entry.operation for entry in member.studies] == [first_operation.name, second_operation.name]
        assert member.studies[0].end_time.ToNanoseconds() <= member.studies[1].start_time.ToNanoseconds()
        contents = [event.content for event in member.agent.episodic_memory]
        assert any(first_question in content for content in contents)
        assert any(second_question in content for content in contents)


async def test_a_follow_up_may_take_some_members_only(stubs, mesh):
    tag = uuid.uuid4().hex[:8]
    panel = f"panels/subset-{tag}"
    first = small_study(names=(f"Cy{tag}", f"Di{tag}", f"Ed{tag}"), rounds=1, stimulus=f"First, {tag}?")
    first.save_to_panel = panel
    await stubs.result((await stubs.orchestrator.RunStudy(first)).name, timeout_s=120)

    request = follow_up(panel, f"Second, {tag}?", panel_members=[f"Di{tag}"])
    request.stimulus.target_agents.append(f"Di{tag}")
    result = await stubs.result((await stubs.orchestrator.RunStudy(request)).name, timeout_s=120)
    assert [agent.agent_name for agent in result.extracted_results.individual_results] == [f"Di{tag}"]
    assert result.panel == ""  # not saved: the request did not ask

    missing = await failure(
        stubs.orchestrator.RunStudy(follow_up(panel, "Third?", panel_members=[f"Di{tag}", "Nobody"]))
    )
    assert missing.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(missing) == "PANEL_MEMBER_MISSING"
    assert "participants.panel_members[1]" in missing.details()


async def test_run_study_refuses_a_missing_panel_and_bad_panel_fields(stubs):
    missing = await failure(stubs.orchestrator.RunStudy(follow_up(f"panels/none-{uuid.uuid4().hex[:8]}", "Hello?")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert "participants.panel" in missing.details()
    infos = error_details(missing, error_details_pb2.ErrorInfo)
    assert infos and infos[0].metadata["field"] == "participants.panel"

    bad_name = await failure(stubs.orchestrator.RunStudy(follow_up("panels/Not_A_Panel", "Hello?")))
    assert bad_name.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(bad_name) == ["participants.panel"]

    bad_fields = follow_up("", "Hello?", panel_members=["Ana", "Ana"], count=3)
    bad_fields.save_to_panel = "sessions/not-a-panel"
    refused = await failure(stubs.orchestrator.RunStudy(bad_fields))
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(refused) == [
        "participants.panel",
        "participants.count",
        "participants.panel_members[1]",
        "save_to_panel",
    ]

    elsewhere = small_study()
    elsewhere.participants.panel = "panels/some-panel"
    refused = await failure(stubs.orchestrator.RunStudy(elsewhere))
    assert violations(refused) == ["participants.panel"]

    experiment = orchestrator_pb2.RunExperimentRequest(
        participants=orchestrator_pb2.Participants(mode=Mode.MODE_FROM_PANEL, panel="panels/some-panel"),
        simulation_config=study_pb2.SimulationConfig(rounds=1),
    )
    refused = await failure(stubs.orchestrator.RunExperiment(experiment))
    assert "participants.mode" in violations(refused)
