"""Conversions between the engine's personas and the `Agent` message, and fragment resolution.

Shared by the population and content servicers: they turn request fields into engine values and
raise the runtime's errors naming the offending request field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.engine.fragment_library import builtin_fragment
from services.engine.fragments import FragmentConflictError, apply_fragments, parse_fragment
from services.engine.persona import Persona, SpecError
from services.runtime.errors import InvalidArgument

Origin = agent_pb2.Provenance.Origin


def _joined(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if path else prefix


def spec_error(prefix: str, error: SpecError) -> InvalidArgument:
    """An INVALID_ARGUMENT naming `prefix.<path>` for every violation of a spec or fragment."""
    first, *rest = error.violations
    return InvalidArgument(
        _joined(prefix, first.field_path),
        first.description,
        more=[(_joined(prefix, v.field_path), v.description) for v in rest],
    )


def parse_persona(spec_json: str, field: str) -> Persona:
    if not spec_json.strip():
        raise InvalidArgument(field, "a TinyTroupe specification is required")
    try:
        return Persona.from_json(spec_json)
    except SpecError as error:
        raise spec_error(field, error) from None


def builtin_name(fragment: int) -> str:
    """The built-in fragment's library name: FRAGMENT_LOVING_PARENT → `loving_parent`."""
    return population_pb2.Fragment.Name(fragment).removeprefix("FRAGMENT_").lower()


def builtin_fragments() -> list[tuple[int, dict[str, Any]]]:
    """Every built-in fragment (enum value, document), in enum order, UNSPECIFIED left out."""
    return [
        (value, builtin_fragment(builtin_name(value)))
        for value in population_pb2.Fragment.values()
        if value != population_pb2.FRAGMENT_UNSPECIFIED
    ]


def resolve_fragments(
    sources: Sequence[population_pb2.FragmentSource],
    field: str = "fragments",
) -> list[tuple[str, dict[str, Any]]]:
    """(name, document) for each fragment source: `builtin` names, or `custom[i]` for custom JSON."""
    resolved: list[tuple[str, dict[str, Any]]] = []
    for index, source in enumerate(sources):
        kind = source.WhichOneof("source")
        if kind == "builtin":
            if source.builtin == population_pb2.FRAGMENT_UNSPECIFIED:
                raise InvalidArgument(f"{field}[{index}].builtin", "FRAGMENT_UNSPECIFIED is not a fragment")
            try:
                resolved.append((builtin_name(source.builtin), builtin_fragment(builtin_name(source.builtin))))
            except (KeyError, ValueError):
                raise InvalidArgument(
                    f"{field}[{index}].builtin", f"unknown built-in fragment {source.builtin}"
                ) from None
        elif kind == "custom_json":
            try:
                resolved.append((f"custom[{index}]", parse_fragment(source.custom_json)))
            except SpecError as error:
                raise spec_error(f"{field}[{index}].custom_json", error) from None
        else:
            raise InvalidArgument(f"{field}[{index}]", "a fragment needs `builtin` or `custom_json`")
    return resolved


def merge_fragments(
    persona: Persona, fragments: Sequence[tuple[str, dict[str, Any]]], field: str = "fragments"
) -> Persona:
    """The persona with the fragments merged in order; a conflict names the fragment and the path."""
    for index, (name, document) in enumerate(fragments):
        try:
            persona = apply_fragments(persona, [document])
        except FragmentConflictError as error:
            raise InvalidArgument(
                f"{field}[{index}]",
                f"fragment {name} conflicts with the persona at {error.field_path}: the persona has "
                f"{error.base_value!r}, the fragment has {error.fragment_value!r}",
            ) from None
        except SpecError as error:
            raise spec_error(f"{field}[{index}]", error) from None
    return persona


def new_agent_id() -> str:
    return uuid.uuid4().hex


def make_agent(persona: Persona, provenance: agent_pb2.Provenance) -> agent_pb2.Agent:
    # Compact JSON on the wire (json's C encoder; indenting takes its pure-Python path); ExportAgent indents.
    return agent_pb2.Agent(
        agent_id=new_agent_id(), name=persona.name, spec_json=persona.to_spec_json(indent=None), provenance=provenance
    )


_KIND_ROLES = {
    agent_pb2.MemoryEvent.KIND_STIMULUS: ("user", "stimulus"),
    agent_pb2.MemoryEvent.KIND_HEARD: ("user", "conversation"),
    agent_pb2.MemoryEvent.KIND_THOUGHT: ("assistant", "think"),
    agent_pb2.MemoryEvent.KIND_SAID: ("assistant", "talk"),
}


def state_sections(agent: agent_pb2.Agent) -> dict[str, Any]:
    """The agent's state as TinyTroupe's saved-agent sections: `_mental_state` and `episodic_memory`.

    Only sections the agent has state for are returned; TinyTroupe names and shapes are used
    (`_mental_state` with goals/context/attention/emotions; `episodic_memory` with its class name, the
    kept events as role/content messages and the running summary).
    """
    sections: dict[str, Any] = {}
    if agent.HasField("cognitive_state"):
        state = agent.cognitive_state
        sections["_mental_state"] = {
            "goals": list(state.goals),
            "context": state.context,
            "attention": state.attention,
            "emotions": state.emotions,
        }
    if agent.episodic_memory or agent.memory_summary:
        memory = []
        for event in agent.episodic_memory:
            role, kind = _KIND_ROLES.get(event.kind, ("user", "unknown"))
            memory.append(
                {
                    "role": role,
                    "content": {"kind": kind, "source": event.source, "content": event.content},
                    "simulation_round": event.round,
                }
            )
        sections["episodic_memory"] = {
            "json_serializable_class_name": "EpisodicMemory",
            "memory": memory,
            "summary": agent.memory_summary,
        }
    return sections


def export_spec_json(agent: agent_pb2.Agent, include_state: bool, field: str = "agent.spec_json") -> str:
    persona = parse_persona(agent.spec_json, field)
    if not include_state:
        return persona.to_spec_json()
    spec = persona.to_spec()
    spec.update(state_sections(agent))
    return json.dumps(spec, indent=4, ensure_ascii=False)
