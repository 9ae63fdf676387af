"""A RunStudyRequest from a JSON or YAML study file.

The file holds the request's fields by their protobuf names (`session_config`, `participants`, ...;
lowerCamelCase works too). For readability, enums may be written short (`from_agent`,
`focus_group`), fragments by name (`skeptic`) or file, and each `participants.specifications` entry
may be `{"file": "relative/path"}`: the file's text is inlined (paths are relative to the study
file) and its name recorded as the agent's provenance. Inline JSON objects and arrays also work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format
from tinytroupe.orchestrator.v1 import orchestrator_pb2

ENUM_PREFIXES = {
    ("participants", "mode"): "MODE_",
    ("simulation_config", "environment_type"): "ENVIRONMENT_TYPE_",
    ("simulation_config", "turn_order"): "TURN_ORDER_",
    ("extraction_config", "mode"): "MODE_",
}
YAML_SUFFIXES = (".yaml", ".yml")


class StudyFileError(ValueError):
    """A study file that cannot be read as a RunStudyRequest."""


def load_study_file(path: Path) -> orchestrator_pb2.RunStudyRequest:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise StudyFileError(f"{path}: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text) if path.suffix.lower() in YAML_SUFFIXES else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise StudyFileError(
            f"{path}: not valid {'YAML' if path.suffix.lower() in YAML_SUFFIXES else 'JSON'}: {error}"
        ) from None
    if not isinstance(data, dict):
        raise StudyFileError(f"{path}: must hold an object with the fields of a study request")
    return study_request_from_dict(data, path.parent, source=str(path))


def study_request_from_dict(
    data: dict[str, Any], base_dir: Path, source: str = "study"
) -> orchestrator_pb2.RunStudyRequest:
    data = json.loads(json.dumps(data))  # a deep copy with JSON types only
    _expand_enums(data)
    participants = _section(data, "participants")
    if participants is not None:
        _inline_specifications(participants, base_dir, source)
        _inline_fragments(participants, base_dir, source)
    try:
        return json_format.ParseDict(data, orchestrator_pb2.RunStudyRequest())
    except json_format.ParseError as error:
        raise StudyFileError(f"{source}: {error}") from None


def _section(data: dict[str, Any], snake_name: str) -> dict[str, Any] | None:
    for key in (snake_name, _camel(snake_name)):
        if isinstance(data.get(key), dict):
            return data[key]
    return None


def _key(section: dict[str, Any], snake_name: str) -> str | None:
    for key in (snake_name, _camel(snake_name)):
        if key in section:
            return key
    return None


def _camel(snake_name: str) -> str:
    head, *rest = snake_name.split("_")
    return head + "".join(part.title() for part in rest)


def _expand_enums(data: dict[str, Any]) -> None:
    for (section_name, field), prefix in ENUM_PREFIXES.items():
        section = _section(data, section_name)
        key = _key(section, field) if section is not None else None
        if key is not None and isinstance(section[key], str) and not section[key].upper().startswith(prefix):
            section[key] = prefix + section[key].upper()


def _inline_specifications(participants: dict[str, Any], base_dir: Path, source: str) -> None:
    key = _key(participants, "specifications")
    if key is None:
        return
    entries = participants[key] if isinstance(participants[key], list) else [participants[key]]
    specifications, sources = [], []
    for index, entry in enumerate(entries):
        field = f"participants.specifications[{index}]"
        if isinstance(entry, dict) and set(entry) == {"file"}:
            specifications.append(_read_relative(base_dir, entry["file"], source, field))
            sources.append(str(entry["file"]))
        elif isinstance(entry, str):
            specifications.append(entry)
            sources.append("")
        else:
            specifications.append(json.dumps(entry, ensure_ascii=False))
            sources.append("")
    participants[key] = specifications
    if any(sources):
        participants["specification_sources"] = sources


def _inline_fragments(participants: dict[str, Any], base_dir: Path, source: str) -> None:
    key = _key(participants, "fragments")
    if key is None or not isinstance(participants[key], list):
        return
    fragments = []
    for index, entry in enumerate(participants[key]):
        if isinstance(entry, str):
            name = entry.upper()
            fragments.append({"builtin": name if name.startswith("FRAGMENT_") else f"FRAGMENT_{name}"})
        elif isinstance(entry, dict) and set(entry) == {"file"}:
            fragments.append(
                {
                    "custom_json": _read_relative(
                        base_dir, entry["file"], source, f"participants.fragments[{index}]"
                    )
                }
            )
        else:
            fragments.append(entry)
    participants[key] = fragments


def _read_relative(base_dir: Path, relative: object, source: str, field: str) -> str:
    if not isinstance(relative, str) or not relative:
        raise StudyFileError(f"{source}: {field}: `file` must be a path relative to the study file")
    path = base_dir / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise StudyFileError(f"{source}: {field}: cannot read {path}: {error.strerror or error}") from None
