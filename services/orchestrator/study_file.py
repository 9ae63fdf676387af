"""A RunStudyRequest from a JSON or YAML study file, or a RunExperimentRequest from an experiment file.

The file holds the request's fields by their protobuf names (`session_config`, `participants`, ...;
lowerCamelCase works too). For readability, enums may be written short (`from_agent`,
`focus_group`), fragments by name (`skeptic`) or file, and each `participants.specifications` entry
may be `{"file": "relative/path"}`: the file's text is inlined (paths are relative to the study
file) and its name recorded as the agent's provenance. Inline JSON objects and arrays also work.

An experiment file is a study file with `arms` (the fields of RunExperimentRequest): each arm a `name`,
its own `stimulus` or `steps` (a plan) and `fragments` (written as the participants' are), and `design`
written short (`between_subjects`, `within_subjects`). `load_run_file` reads either kind.

A study plan is a study file with `steps` (the StudyStep fields of RunStudyRequest.steps) instead of
`stimulus`: each step a `stimulus`, `rounds`, `intervention`, `max_follow_ups`, `moderator_opens` and its
own `extraction_config` (its `mode` written short too). The steps, or any one step, may be `{file: ...}`:
a YAML or JSON file holding the steps (a list, or an object with `steps`) or the step. An experiment's
`steps` and each arm's `steps` are written the same way.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

ENUM_PREFIXES = {
    ("participants", "mode"): "MODE_",
    ("simulation_config", "environment_type"): "ENVIRONMENT_TYPE_",
    ("simulation_config", "turn_order"): "TURN_ORDER_",
    ("extraction_config", "mode"): "MODE_",
}
EXPERIMENT_ENUM_PREFIXES = {("", "design"): "EXPERIMENT_DESIGN_"}
FRAGMENT_PREFIX = "FRAGMENT_"
YAML_SUFFIXES = (".yaml", ".yml")
ARMS = "arms"
"""The key that makes a file an experiment's."""


class StudyFileError(ValueError):
    """A study or experiment file that cannot be read as its request."""


def load_study_file(path: Path) -> orchestrator_pb2.RunStudyRequest:
    return study_request_from_dict(read_document(path), path.parent, source=str(path))


def load_experiment_file(path: Path) -> orchestrator_pb2.RunExperimentRequest:
    return experiment_request_from_dict(read_document(path), path.parent, source=str(path))


def load_run_file(path: Path) -> orchestrator_pb2.RunStudyRequest | orchestrator_pb2.RunExperimentRequest:
    """A study's request, or an experiment's when the file has `arms`."""
    data = read_document(path)
    if is_experiment(data):
        return experiment_request_from_dict(data, path.parent, source=str(path))
    return study_request_from_dict(data, path.parent, source=str(path))


def is_experiment(data: dict[str, Any]) -> bool:
    return ARMS in data


def read_document(path: Path) -> dict[str, Any]:
    """The file's object, JSON or YAML by its suffix."""
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
        raise StudyFileError(f"{path}: must hold an object with the fields of a study or experiment request")
    return data


def study_request_from_dict(
    data: dict[str, Any], base_dir: Path, source: str = "study"
) -> orchestrator_pb2.RunStudyRequest:
    data = json.loads(json.dumps(data))  # a deep copy with JSON types only
    _expand_enums(data, ENUM_PREFIXES, orchestrator_pb2.RunStudyRequest.DESCRIPTOR, source)
    _inline_steps(data, base_dir, source, "steps")
    _inline_participants(data, base_dir, source)
    if unknown := unknown_fields(data, orchestrator_pb2.RunStudyRequest.DESCRIPTOR):
        raise StudyFileError(f"{source}: " + "\n".join(unknown))
    try:
        return json_format.ParseDict(data, orchestrator_pb2.RunStudyRequest())
    except json_format.ParseError as error:
        raise StudyFileError(f"{source}: {error}") from None


def experiment_request_from_dict(
    data: dict[str, Any], base_dir: Path, source: str = "experiment"
) -> orchestrator_pb2.RunExperimentRequest:
    """An experiment's request, written as a study's (the same short forms and files) with `arms`."""
    data = json.loads(json.dumps(data))
    descriptor = orchestrator_pb2.RunExperimentRequest.DESCRIPTOR
    _expand_enums(data, {**ENUM_PREFIXES, **EXPERIMENT_ENUM_PREFIXES}, descriptor, source)
    _inline_steps(data, base_dir, source, "steps")
    _inline_participants(data, base_dir, source)
    arms = data.get(ARMS)
    if not isinstance(arms, list) or not all(isinstance(arm, dict) for arm in arms):
        raise StudyFileError(
            f"{source}: arms must be a list of arms, each with a name (its stimulus or steps, its fragments or both)"
        )
    for index, arm in enumerate(arms):
        _inline_fragments(arm, base_dir, source, f"arms[{index}].fragments")
        _inline_steps(arm, base_dir, source, f"arms[{index}].steps")
    if unknown := unknown_fields(data, descriptor, top="an experiment"):
        raise StudyFileError(f"{source}: " + "\n".join(unknown))
    try:
        return json_format.ParseDict(data, orchestrator_pb2.RunExperimentRequest())
    except json_format.ParseError as error:
        raise StudyFileError(f"{source}: {error}") from None


def unknown_fields(data: dict[str, Any], descriptor: Descriptor, prefix: str = "", top: str = "a study") -> list[str]:
    """A line for each key of `data` that names no field of the message (at any depth), with the fields
    there are by their proto names, as study files write them."""
    by_name = {
        **{field.json_name: field for field in descriptor.fields},
        **{field.name: field for field in descriptor.fields},
    }
    problems = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        field = by_name.get(key)
        if field is None:
            names = [field.name for field in descriptor.fields]
            close = difflib.get_close_matches(key, names, n=1)
            guess = f" (did you mean {prefix}{close[0]}?)" if close else ""
            where = prefix.rstrip(".") or top
            problems.append(f"unknown field {path}{guess}; {where} has {', '.join(names)}")
        elif _is_plain_message(field):
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    at = f"{path}[{index}]." if isinstance(value, list) else f"{path}."
                    problems += unknown_fields(item, field.message_type, at, top)
    return problems


def _is_plain_message(field: FieldDescriptor) -> bool:
    """A message field whose JSON is an object of its fields (not a map, nor a well-known type)."""
    message = field.message_type
    return (
        message is not None
        and not message.GetOptions().map_entry
        and not message.full_name.startswith("google.protobuf.")
    )


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


def _expand_enums(
    data: dict[str, Any], prefixes: dict[tuple[str, str], str], descriptor: Descriptor, source: str
) -> None:
    """Short enum names in full (`focus_group` → `ENVIRONMENT_TYPE_FOCUS_GROUP`); a name the enum lacks is
    refused with the names it has, as the file may write them."""
    for (section_name, field), prefix in prefixes.items():
        section = _section(data, section_name) if section_name else data
        key = _key(section, field) if section is not None else None
        if key is None or not isinstance(section[key], str):
            continue
        value = section[key].strip().upper()
        if not value.startswith(prefix):
            value = prefix + value
        enum = _enum_of(descriptor, section_name, field)
        if enum is not None and value not in enum.values_by_name:
            path = f"{section_name}.{field}" if section_name else field
            names = [
                name.removeprefix(prefix).lower() for name in enum.values_by_name if not name.endswith("_UNSPECIFIED")
            ]
            raise StudyFileError(f"{source}: {path}: {section[key]!r} is not one of {', '.join(names)}")
        section[key] = value


def _inline_steps(holder: dict[str, Any], base_dir: Path, source: str, where: str) -> None:
    """A plan's steps read from their files where written `{file: ...}`, with short enum names in each
    (`steps[i].extraction_config.mode: per_agent`)."""
    key = _key(holder, "steps")
    if key is None:
        return
    steps = holder[key]
    if _is_file_reference(steps):
        steps = _read_relative_document(base_dir, steps["file"], source, where)
        steps = steps.get("steps") if isinstance(steps, dict) else steps
        if not isinstance(steps, list):
            raise StudyFileError(f"{source}: {where}: the file must hold a list of steps, or an object with `steps`")
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if _is_file_reference(step):
            step = steps[index] = _read_relative_document(base_dir, step["file"], source, f"{where}[{index}]")
        if isinstance(step, dict):
            _expand_enums(
                step,
                {("extraction_config", "mode"): "MODE_"},
                study_pb2.StudyStep.DESCRIPTOR,
                f"{source}: {where}[{index}]",
            )
    holder[key] = steps


def _is_file_reference(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"file"}


def _read_relative_document(base_dir: Path, relative: object, source: str, field: str) -> Any:
    """A YAML or JSON value (by the file's suffix) from a file relative to the study file."""
    text = _read_relative(base_dir, relative, source, field)
    try:
        if Path(str(relative)).suffix.lower() in YAML_SUFFIXES:
            return yaml.safe_load(text)
        return json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise StudyFileError(f"{source}: {field}: {relative} is not valid YAML or JSON: {error}") from None


def _enum_of(descriptor: Descriptor, section_name: str, field: str):
    if section_name:
        section = descriptor.fields_by_name.get(section_name)
        if section is None or section.message_type is None:
            return None
        descriptor = section.message_type
    found = descriptor.fields_by_name.get(field)
    return found.enum_type if found is not None else None


def _inline_participants(data: dict[str, Any], base_dir: Path, source: str) -> None:
    participants = _section(data, "participants")
    if participants is not None:
        _inline_specifications(participants, base_dir, source)
        _inline_fragments(participants, base_dir, source, "participants.fragments")


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


def _inline_fragments(holder: dict[str, Any], base_dir: Path, source: str, where: str) -> None:
    """Fragments by name (`skeptic`) or file (`{file: ...}`) as FragmentSource objects."""
    key = _key(holder, "fragments")
    if key is None or not isinstance(holder[key], list):
        return
    fragments = []
    for index, entry in enumerate(holder[key]):
        if isinstance(entry, str):
            name = entry.strip().upper()
            name = name if name.startswith(FRAGMENT_PREFIX) else f"{FRAGMENT_PREFIX}{name}"
            if name not in population_pb2.Fragment.keys():
                known = [
                    known.removeprefix(FRAGMENT_PREFIX).lower()
                    for known in population_pb2.Fragment.keys()
                    if not known.endswith("_UNSPECIFIED")
                ]
                raise StudyFileError(
                    f"{source}: {where}[{index}]: {entry!r} is not a built-in fragment "
                    f"({', '.join(known)}); a fragment of your own is {{file: my.fragment.json}}"
                )
            fragments.append({"builtin": name})
        elif isinstance(entry, dict) and set(entry) == {"file"}:
            fragments.append({"custom_json": _read_relative(base_dir, entry["file"], source, f"{where}[{index}]")})
        else:
            fragments.append(entry)
    holder[key] = fragments


def _read_relative(base_dir: Path, relative: object, source: str, field: str) -> str:
    if not isinstance(relative, str) or not relative:
        raise StudyFileError(f"{source}: {field}: `file` must be a path relative to the study file")
    path = base_dir / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise StudyFileError(f"{source}: {field}: cannot read {path}: {error.strerror or error}") from None
