from google.api import field_behavior_pb2 as _field_behavior_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2 as _agent_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2 as _study_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat

class ExtractResultsRequest(_message.Message):
    __slots__ = ("session", "agents", "transcript", "config", "failed_agents", "request_id", "steps")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    FAILED_AGENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    session: str
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    transcript: _containers.RepeatedCompositeFieldContainer[_study_pb2.Interaction]
    config: _study_pb2.ExtractionConfig
    failed_agents: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    steps: _containers.RepeatedCompositeFieldContainer[StepExtraction]
    def __init__(self, session: _Optional[str] = ..., agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., transcript: _Optional[_Iterable[_Union[_study_pb2.Interaction, _Mapping]]] = ..., config: _Optional[_Union[_study_pb2.ExtractionConfig, _Mapping]] = ..., failed_agents: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[StepExtraction, _Mapping]]] = ...) -> None: ...

class StepExtraction(_message.Message):
    __slots__ = ("step", "name", "config")
    STEP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    step: int
    name: str
    config: _study_pb2.ExtractionConfig
    def __init__(self, step: _Optional[int] = ..., name: _Optional[str] = ..., config: _Optional[_Union[_study_pb2.ExtractionConfig, _Mapping]] = ...) -> None: ...

class ExtractResultsResponse(_message.Message):
    __slots__ = ("results", "usage", "step_results")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    STEP_RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _study_pb2.ExtractedResults
    usage: _study_pb2.TokenUsage
    step_results: _containers.RepeatedCompositeFieldContainer[_study_pb2.StepResults]
    def __init__(self, results: _Optional[_Union[_study_pb2.ExtractedResults, _Mapping]] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., step_results: _Optional[_Iterable[_Union[_study_pb2.StepResults, _Mapping]]] = ...) -> None: ...

class ExportResultsRequest(_message.Message):
    __slots__ = ("session", "results", "format", "store", "fields", "step_results")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    STEP_RESULTS_FIELD_NUMBER: _ClassVar[int]
    session: str
    results: _study_pb2.ExtractedResults
    format: ExportFormat
    store: bool
    fields: _containers.RepeatedScalarFieldContainer[str]
    step_results: _containers.RepeatedCompositeFieldContainer[_study_pb2.StepResults]
    def __init__(self, session: _Optional[str] = ..., results: _Optional[_Union[_study_pb2.ExtractedResults, _Mapping]] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., store: _Optional[bool] = ..., fields: _Optional[_Iterable[str]] = ..., step_results: _Optional[_Iterable[_Union[_study_pb2.StepResults, _Mapping]]] = ...) -> None: ...

class ExportResultsResponse(_message.Message):
    __slots__ = ("content", "content_type", "checkpoint")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    content_type: str
    checkpoint: str
    def __init__(self, content: _Optional[bytes] = ..., content_type: _Optional[str] = ..., checkpoint: _Optional[str] = ...) -> None: ...
