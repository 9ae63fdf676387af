"""A protoc plugin that writes the mesh's Python stubs exactly as `make protos` does.

`buf generate` hands it the compiled protos; it runs grpcio-tools' protoc on them (`_pb2.py`, `.pyi`
and `_pb2_grpc.py`, the same protoc that scripts/gen_protos.py runs) and adds the packages'
`__init__.py`, so the output is byte for byte the committed gen/python. buf adds `json_name` to every
field, which protoc leaves out where the proto does not set it; it is dropped again here, or the
serialized descriptors in `_pb2.py` would differ. Needs the project's virtualenv (grpcio-tools).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path, PurePosixPath

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def _default_json_name(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


def _drop_default_json_names(message: descriptor_pb2.DescriptorProto) -> None:
    for field in [*message.field, *message.extension]:
        if field.json_name == _default_json_name(field.name):
            field.ClearField("json_name")
    for nested in message.nested_type:
        _drop_default_json_names(nested)


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL)
    files = descriptor_pb2.FileDescriptorSet()
    for proto in request.proto_file:
        copy = files.file.add()
        copy.CopyFrom(proto)
        for message in copy.message_type:
            _drop_default_json_names(message)
        for extension in copy.extension:
            if extension.json_name == _default_json_name(extension.name):
                extension.ClearField("json_name")
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_set = Path(tmp) / "protos.binpb"
        descriptor_set.write_bytes(files.SerializeToString())
        out = Path(tmp) / "out"
        out.mkdir()
        args = ["grpc_tools.protoc", f"--descriptor_set_in={descriptor_set}", f"--python_out={out}",
                f"--pyi_out={out}", f"--grpc_python_out={out}", *request.file_to_generate]
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed on " + " ".join(request.file_to_generate)
            return response
        generated = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
        for name in generated:
            response.file.add(name=name, content=(out / name).read_text(encoding="utf-8"))
    packages = {str(parent) for name in generated for parent in PurePosixPath(name).parents if str(parent) != "."}
    for package in sorted(packages):
        response.file.add(name=f"{package}/__init__.py", content="")
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
