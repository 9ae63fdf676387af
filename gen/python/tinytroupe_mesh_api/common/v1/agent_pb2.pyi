from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Agent(_message.Message):
    __slots__ = ("agent_id", "name", "spec_json", "cognitive_state", "episodic_memory", "memory_summary", "provenance")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SPEC_JSON_FIELD_NUMBER: _ClassVar[int]
    COGNITIVE_STATE_FIELD_NUMBER: _ClassVar[int]
    EPISODIC_MEMORY_FIELD_NUMBER: _ClassVar[int]
    MEMORY_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    name: str
    spec_json: str
    cognitive_state: CognitiveState
    episodic_memory: _containers.RepeatedCompositeFieldContainer[MemoryEvent]
    memory_summary: str
    provenance: Provenance
    def __init__(self, agent_id: _Optional[str] = ..., name: _Optional[str] = ..., spec_json: _Optional[str] = ..., cognitive_state: _Optional[_Union[CognitiveState, _Mapping]] = ..., episodic_memory: _Optional[_Iterable[_Union[MemoryEvent, _Mapping]]] = ..., memory_summary: _Optional[str] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ...) -> None: ...

class CognitiveState(_message.Message):
    __slots__ = ("goals", "context", "attention", "emotions")
    GOALS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ATTENTION_FIELD_NUMBER: _ClassVar[int]
    EMOTIONS_FIELD_NUMBER: _ClassVar[int]
    goals: _containers.RepeatedScalarFieldContainer[str]
    context: str
    attention: str
    emotions: str
    def __init__(self, goals: _Optional[_Iterable[str]] = ..., context: _Optional[str] = ..., attention: _Optional[str] = ..., emotions: _Optional[str] = ...) -> None: ...

class MemoryEvent(_message.Message):
    __slots__ = ("round", "kind", "source", "content")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[MemoryEvent.Kind]
        KIND_STIMULUS: _ClassVar[MemoryEvent.Kind]
        KIND_HEARD: _ClassVar[MemoryEvent.Kind]
        KIND_THOUGHT: _ClassVar[MemoryEvent.Kind]
        KIND_SAID: _ClassVar[MemoryEvent.Kind]
    KIND_UNSPECIFIED: MemoryEvent.Kind
    KIND_STIMULUS: MemoryEvent.Kind
    KIND_HEARD: MemoryEvent.Kind
    KIND_THOUGHT: MemoryEvent.Kind
    KIND_SAID: MemoryEvent.Kind
    ROUND_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    round: int
    kind: MemoryEvent.Kind
    source: str
    content: str
    def __init__(self, round: _Optional[int] = ..., kind: _Optional[_Union[MemoryEvent.Kind, str]] = ..., source: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("origin", "source", "plan_entry_json", "documents", "context", "fragments")
    class Origin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ORIGIN_UNSPECIFIED: _ClassVar[Provenance.Origin]
        ORIGIN_SPEC: _ClassVar[Provenance.Origin]
        ORIGIN_DEMOGRAPHICS: _ClassVar[Provenance.Origin]
        ORIGIN_GROUNDED: _ClassVar[Provenance.Origin]
        ORIGIN_CUSTOM: _ClassVar[Provenance.Origin]
    ORIGIN_UNSPECIFIED: Provenance.Origin
    ORIGIN_SPEC: Provenance.Origin
    ORIGIN_DEMOGRAPHICS: Provenance.Origin
    ORIGIN_GROUNDED: Provenance.Origin
    ORIGIN_CUSTOM: Provenance.Origin
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PLAN_ENTRY_JSON_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    origin: Provenance.Origin
    source: str
    plan_entry_json: str
    documents: _containers.RepeatedScalarFieldContainer[str]
    context: str
    fragments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, origin: _Optional[_Union[Provenance.Origin, str]] = ..., source: _Optional[str] = ..., plan_entry_json: _Optional[str] = ..., documents: _Optional[_Iterable[str]] = ..., context: _Optional[str] = ..., fragments: _Optional[_Iterable[str]] = ...) -> None: ...
