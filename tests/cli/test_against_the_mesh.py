"""The `troupe` commands against the real servers (in this process, on the fake LLM): the errors they print come
from the mesh's rich details, read with the runtime's readers; what they print fits 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from services.cli import studies
from services.cli.connection import describe_error
from services.cli.main import dispatch as cli_dispatch
from services.cli.main import parser
from services.orchestrator.study_file import StudyFileError
from services.runtime.config import MeshSettings
from tests.cli.support import console, lines

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def study(tmp_path: Path, **changes) -> Path:
    """examples/focus_group.json with its agent files found where they are, and `changes` per section."""
    data = json.loads((EXAMPLES / "focus_group.json").read_text())
    for entry in data["participants"]["specifications"]:
        entry["file"] = str(EXAMPLES / entry["file"])
    for section, fields in changes.items():
        data.setdefault(section, {}).update(fields)
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data))
    return path


async def dispatch(mesh, tmp_path: Path, *argv: str):
    """`troupe ARGV` against the in-process mesh, its output on an 80-column console."""
    settings = MeshSettings(data_dir=tmp_path / "data").model_copy(
        update={"orchestrator_address": mesh.addresses.orchestrator, "control_address": mesh.addresses.control}
    )
    output = console(80)
    await cli_dispatch(parser().parse_args(list(argv)), output, settings)
    return output


async def test_hints_that_name_no_field_are_named_by_their_key(mesh, tmp_path):
    path = study(
        tmp_path,
        extraction_config={
            "fields_hints": {
                "purchase_intent": "one of yes/no/maybe",
                "price": "number",
                "concern": "text",
                "mood": "text",
            }
        },
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await dispatch(mesh, tmp_path, "run", str(path))
    text = describe_error(refused.value)
    assert text.startswith("INVALID_ARGUMENT: the request has invalid fields")
    for key in ("price", "concern", "mood"):
        assert f"  extraction_config.fields_hints[{key}]: the hint's key '{key}' names no field" in text, text


async def test_unknown_fields_of_a_study_file_are_named_as_study_files_write_them(mesh, tmp_path):
    path = study(tmp_path, simulation_config={"roundz": 3})
    data = json.loads(path.read_text())
    data["requestId"] = "camel-case-is-read-too"
    data["participants"]["contxt"] = "typo"
    path.write_text(json.dumps(data))
    with pytest.raises(StudyFileError) as refused:
        await dispatch(mesh, tmp_path, "run", str(path))
    message = str(refused.value)
    assert "unknown field simulation_config.roundz (did you mean simulation_config.rounds?)" in message
    assert "unknown field participants.contxt (did you mean participants.context?)" in message
    assert "requestId" not in message and "'requestId'" not in message
    assert "environment_type, rounds, enable_memory" in message, "the fields there are, by their proto names"


async def test_a_run_prints_80_columns_and_cancel_refuses_the_finished_study(mesh, tmp_path):
    output = await dispatch(mesh, tmp_path, "run", str(study(tmp_path)))
    shown = lines(output)
    assert all(len(line) <= 80 for line in shown), "\n".join(shown)
    text = output.export_text()
    assert "completed" in text and "2/2 rounds" in text
    [study_dir] = (tmp_path / "data" / "results").iterdir()
    with pytest.raises(studies.CommandRefused, match="has already finished \\(completed\\)"):
        await dispatch(mesh, tmp_path, "cancel", study_dir.name)
    listing = await dispatch(mesh, tmp_path, "sessions")
    assert all(len(line) <= 80 for line in lines(listing))
    assert any(study_dir.name in line and "completed" in line for line in lines(listing))
