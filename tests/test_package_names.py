"""The mesh and Microsoft's TinyTroupe library install side by side: the stubs are not a `tinytroupe` package."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_top_level_tinytroupe_package_is_generated():
    assert not (ROOT / "gen" / "python" / "tinytroupe").exists()
    assert (ROOT / "gen" / "python" / "tinytroupe_mesh_api" / "orchestrator" / "v1" / "orchestrator_pb2.py").is_file()


def test_stubs_keep_the_proto_packages_on_the_wire():
    from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

    service = orchestrator_pb2.DESCRIPTOR.services_by_name["OrchestratorService"]
    assert service.full_name == "tinytroupe.orchestrator.v1.OrchestratorService"
    assert orchestrator_pb2.DESCRIPTOR.name == "tinytroupe/orchestrator/v1/orchestrator.proto"
    assert orchestrator_pb2.RunStudyRequest.__module__ == "tinytroupe_mesh_api.orchestrator.v1.orchestrator_pb2"


def test_a_tinytroupe_library_imports_beside_the_mesh(tmp_path):
    library = tmp_path / "tinytroupe"
    library.mkdir()
    (library / "__init__.py").write_text("LIBRARY = 'tinytroupe'\n")
    program = (
        "import tinytroupe, services.orchestrator.servicer, services.cli.main;"
        "from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2;"
        "print(tinytroupe.LIBRARY, orchestrator_pb2.RunStudyRequest.DESCRIPTOR.full_name)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert shown.stdout.split() == ["tinytroupe", "tinytroupe.orchestrator.v1.RunStudyRequest"]
