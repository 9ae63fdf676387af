"""A Python backend calling the mesh: runs a study through the orchestrator, or sends an invalid one.

    .venv/bin/python clients/python/run_study.py [--address HOST:PORT] [--token TOKEN] [--invalid mode|rounds]

Needs only the generated stubs (gen/python, or your own from `buf generate`), grpcio and
googleapis-common-protos. The project's .venv has all three; any other Python needs
`pip install grpcio googleapis-common-protos` and the stubs on its path:
`PYTHONPATH=gen/python python3 clients/python/run_study.py` from the repository root.
Prints a JSON summary of the finished study, or the decoded rich error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid

try:
    import grpc
    from google.longrunning import operations_pb2, operations_pb2_grpc
    from google.protobuf import duration_pb2, json_format
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from tinytroupe_mesh_api.common.v1 import study_pb2
    from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc
except ImportError as missing:
    sys.exit(
        f"{missing}: this client needs grpcio, googleapis-common-protos and the mesh's stubs. Run it with "
        "the project's .venv/bin/python, or `pip install grpcio googleapis-common-protos` and, from the "
        "repository root, PYTHONPATH=gen/python python3 clients/python/run_study.py"
    )

# Retry UNAVAILABLE only, with backoff; every other code reaches the caller at once. round_robin spreads
# calls over every pod behind a headless Kubernetes Service (address `dns:///orchestrator...:50050`).
SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [
                    {"service": "tinytroupe.orchestrator.v1.OrchestratorService"},
                    {"service": "google.longrunning.Operations"},
                ],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)
CALL_TIMEOUT_S = 30.0  # every call has a deadline


def open_channel(address: str) -> grpc.Channel:
    options = [("grpc.service_config", SERVICE_CONFIG), ("grpc.enable_retries", 1)]
    return grpc.insecure_channel(address, options=options)  # grpc.secure_channel(...) with TLS


def call_metadata(token: str | None) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")] if token else []


def describe_error(error: grpc.RpcError) -> dict:
    """The google.rpc.Status of the `grpc-status-details-bin` trailer, decoded."""
    described = {"code": error.code().name, "message": error.details(), "error_info": None, "field_violations": []}
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                described["error_info"] = {"reason": info.reason, "domain": info.domain}
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                described["field_violations"] += [
                    {"field": v.field, "description": v.description} for v in bad_request.field_violations
                ]
    return described


class StudyFailed(Exception):
    """The study's operation ended with an error (a google.rpc.Status)."""

    def __init__(self, status: status_pb2.Status):
        super().__init__(status.message)
        self.status = status


def run_study(
    channel: grpc.Channel, request: orchestrator_pb2.RunStudyRequest, token: str | None, timeout_s: float = 600.0
) -> orchestrator_pb2.StudyResult:
    orchestrator = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
    operations = operations_pb2_grpc.OperationsStub(channel)
    metadata = call_metadata(token)
    operation = orchestrator.RunStudy(request, timeout=CALL_TIMEOUT_S, metadata=metadata)
    for progress in orchestrator.WatchStudy(
        orchestrator_pb2.WatchStudyRequest(name=operation.name), timeout=timeout_s, metadata=metadata
    ):
        print(orchestrator_pb2.Phase.Name(progress.phase), progress.round, progress.message, file=sys.stderr)
    while not operation.done:
        operation = operations.WaitOperation(
            operations_pb2.WaitOperationRequest(name=operation.name, timeout=duration_pb2.Duration(seconds=10)),
            timeout=CALL_TIMEOUT_S,
            metadata=metadata,
        )
    if operation.HasField("error"):
        raise StudyFailed(operation.error)
    result = orchestrator_pb2.StudyResult()
    operation.response.Unpack(result)
    return result


def focus_group(invalid: str | None = None) -> orchestrator_pb2.RunStudyRequest:
    personas = [
        {"name": "Ana Costa", "age": 34, "occupation": {"title": "Nurse"}},
        {"name": "Kenji Ito", "age": 41, "occupation": {"title": "Software engineer"}},
    ]
    return orchestrator_pb2.RunStudyRequest(
        request_id=str(uuid.uuid4()),  # the same id again returns the same operation
        participants=orchestrator_pb2.Participants(
            mode=(
                orchestrator_pb2.Participants.MODE_UNSPECIFIED
                if invalid == "mode"
                else orchestrator_pb2.Participants.MODE_FROM_AGENT
            ),
            specifications=[json.dumps({"type": "TinyPerson", "persona": p}) for p in personas],
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
            rounds=0 if invalid == "rounds" else 2,
            enable_memory=True,
            broadcast_mode=True,
        ),
        stimulus=study_pb2.Stimulus(type="product_concept", content="FreshBox: five dinners a week for 59 EUR."),
        extraction_config=study_pb2.ExtractionConfig(
            extract_results=True,
            extraction_objective="Find each participant's rating of FreshBox",
            fields=["rating"],
            fields_hints={"rating": "integer 1-10"},
            statistical_analysis=True,
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default=os.environ.get("MESH_ADDRESS", "127.0.0.1:50050"))
    parser.add_argument("--token", default=os.environ.get("MESH_TOKEN"))
    parser.add_argument("--invalid", choices=["mode", "rounds"])
    args = parser.parse_args()
    with open_channel(args.address) as channel:
        try:
            result = run_study(channel, focus_group(args.invalid), args.token)
        except grpc.RpcError as error:
            print(json.dumps(describe_error(error), indent=2))
            raise SystemExit(0 if args.invalid else 2) from None
        except StudyFailed as failure:
            code = code_pb2.Code.Name(failure.status.code)
            print(json.dumps({"status": "STUDY_STATUS_FAILED", "error": {"code": code, "message": str(failure)}}))
            raise SystemExit(1) from None
    summary = json_format.MessageToDict(result, preserving_proto_field_name=True)
    summary["simulation_results"].pop("interactions", None)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
