"""`troupe run` of the follow-up example on a panel saved by focus_group.json, and `troupe panels` list, show and
delete, against the real servers (in this process, on the fake LLM)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import grpc
import pytest
import yaml

from tests.cli.support import lines
from tests.cli.test_against_the_mesh import EXAMPLES, dispatch, study

pytestmark = pytest.mark.asyncio(loop_scope="session")


def follow_up(tmp_path: Path, panel: str) -> Path:
    """examples/follow_up.yaml on `panel`."""
    data = yaml.safe_load((EXAMPLES / "follow_up.yaml").read_text())
    assert data["participants"]["panel"] == data["save_to_panel"] == "panels/pedalshare-focus-group"
    data["participants"]["panel"] = data["save_to_panel"] = panel
    path = tmp_path / "follow_up.json"
    path.write_text(json.dumps(data))
    return path


async def test_the_follow_up_example_runs_on_the_panel_the_focus_group_saved(mesh, tmp_path):
    panel_id = f"pedalshare-{uuid.uuid4().hex[:8]}"
    panel = f"panels/{panel_id}"
    first = study(tmp_path)
    data = json.loads(first.read_text())
    assert data["save_to_panel"] == "panels/pedalshare-focus-group"
    data["save_to_panel"] = panel
    first.write_text(json.dumps(data))

    ran = "\n".join(lines(await dispatch(mesh, tmp_path, "run", str(first), "--output", str(tmp_path / "results"))))
    assert re.search(rf"saved into +{panel} ", ran), ran
    await dispatch(mesh, tmp_path, "run", str(follow_up(tmp_path, panel)), "--output", str(tmp_path / "results"))

    shown = lines(await dispatch(mesh, tmp_path, "panels", "show", panel_id))
    assert all(len(line) <= 80 for line in shown)
    assert shown[0] == f"{panel}  E-bike subscription focus group"
    assert shown[1].startswith("3 members, 2 studies")
    for name in ("Amara", "Tomas", "Mei"):
        row = next(line for line in shown if line.startswith(name)).split()
        assert int(row[1]) > 0 and row[2] == "2" and " ".join(row[3:]) == "E-bike subscription follow-up"
    ended = [line for line in shown if "E-bike subscription" in line and not line.startswith(("Amara", "Tomas", "Mei"))]
    assert re.search(r"E-bike subscription focus group +3 ", ended[1]), shown
    assert re.search(r"E-bike subscription follow-up +3 ", ended[2]), shown

    listed = lines(await dispatch(mesh, tmp_path, "panels"))
    assert all(len(line) <= 80 for line in listed)
    row = next(line for line in listed if panel_id in line)
    assert row.split()[-4:-2] == ["3", "2"]

    await dispatch(mesh, tmp_path, "panels", "delete", panel)
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await dispatch(mesh, tmp_path, "panels", "show", panel)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert panel_id not in "\n".join(lines(await dispatch(mesh, tmp_path, "panels", "list")))
