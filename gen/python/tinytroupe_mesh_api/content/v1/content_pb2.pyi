from google.api import field_behavior_pb2 as _field_behavior_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2 as _agent_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2 as _population_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GroundingSource(_message.Message):
    __slots__ = ("name", "text", "pdf", "mime_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PDF_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    text: str
    pdf: bytes
    mime_type: str
    def __init__(self, name: _Optional[str] = ..., text: _Optional[str] = ..., pdf: _Optional[bytes] = ..., mime_type: _Optional[str] = ...) -> None: ...

class CreateGroundedPersonaRequest(_message.Message):
    __slots__ = ("session", "sources", "fragments", "context", "request_id")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    session: str
    sources: _containers.RepeatedCompositeFieldContainer[GroundingSource]
    fragments: _containers.RepeatedCompositeFieldContainer[_population_pb2.FragmentSource]
    context: str
    request_id: str
    def __init__(self, session: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[GroundingSource, _Mapping]]] = ..., fragments: _Optional[_Iterable[_Union[_population_pb2.FragmentSource, _Mapping]]] = ..., context: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class FactAttribution(_message.Message):
    __slots__ = ("fact", "source_name", "excerpt", "verified")
    FACT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAME_FIELD_NUMBER: _ClassVar[int]
    EXCERPT_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    fact: str
    source_name: str
    excerpt: str
    verified: bool
    def __init__(self, fact: _Optional[str] = ..., source_name: _Optional[str] = ..., excerpt: _Optional[str] = ..., verified: _Optional[bool] = ...) -> None: ...

class CreateGroundedPersonaResponse(_message.Message):
    __slots__ = ("agent", "attributions")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    attributions: _containers.RepeatedCompositeFieldContainer[FactAttribution]
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., attributions: _Optional[_Iterable[_Union[FactAttribution, _Mapping]]] = ...) -> None: ...

class EnrichContentRequest(_message.Message):
    __slots__ = ("session", "content", "requirements", "request_id")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    session: str
    content: str
    requirements: str
    request_id: str
    def __init__(self, session: _Optional[str] = ..., content: _Optional[str] = ..., requirements: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EnrichContentResponse(_message.Message):
    __slots__ = ("content",)
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content: str
    def __init__(self, content: _Optional[str] = ...) -> None: ...

class GenerateDocumentRequest(_message.Message):
    __slots__ = ("session", "agent", "instructions", "request_id")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    session: str
    agent: _agent_pb2.Agent
    instructions: str
    request_id: str
    def __init__(self, session: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., instructions: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GenerateDocumentResponse(_message.Message):
    __slots__ = ("title", "markdown")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    title: str
    markdown: str
    def __init__(self, title: _Optional[str] = ..., markdown: _Optional[str] = ...) -> None: ...
