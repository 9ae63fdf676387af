from google.api import field_behavior_pb2 as _field_behavior_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2 as _agent_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Fragment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAGMENT_UNSPECIFIED: _ClassVar[Fragment]
    FRAGMENT_AUTHORITARIAN: _ClassVar[Fragment]
    FRAGMENT_GENUINE: _ClassVar[Fragment]
    FRAGMENT_LEFTWING: _ClassVar[Fragment]
    FRAGMENT_LIBERTARIAN: _ClassVar[Fragment]
    FRAGMENT_LOVING_PARENT: _ClassVar[Fragment]
    FRAGMENT_PICKY_CUSTOMER: _ClassVar[Fragment]
    FRAGMENT_RIGHTWING: _ClassVar[Fragment]
    FRAGMENT_EARLY_ADOPTER: _ClassVar[Fragment]
    FRAGMENT_SKEPTIC: _ClassVar[Fragment]
    FRAGMENT_BUDGET_CONSCIOUS: _ClassVar[Fragment]
FRAGMENT_UNSPECIFIED: Fragment
FRAGMENT_AUTHORITARIAN: Fragment
FRAGMENT_GENUINE: Fragment
FRAGMENT_LEFTWING: Fragment
FRAGMENT_LIBERTARIAN: Fragment
FRAGMENT_LOVING_PARENT: Fragment
FRAGMENT_PICKY_CUSTOMER: Fragment
FRAGMENT_RIGHTWING: Fragment
FRAGMENT_EARLY_ADOPTER: Fragment
FRAGMENT_SKEPTIC: Fragment
FRAGMENT_BUDGET_CONSCIOUS: Fragment

class FragmentSource(_message.Message):
    __slots__ = ("builtin", "custom_json")
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_JSON_FIELD_NUMBER: _ClassVar[int]
    builtin: Fragment
    custom_json: str
    def __init__(self, builtin: _Optional[_Union[Fragment, str]] = ..., custom_json: _Optional[str] = ...) -> None: ...

class LoadAgentRequest(_message.Message):
    __slots__ = ("session", "spec_json", "fragments", "source", "context")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    SPEC_JSON_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    session: str
    spec_json: str
    fragments: _containers.RepeatedCompositeFieldContainer[FragmentSource]
    source: str
    context: str
    def __init__(self, session: _Optional[str] = ..., spec_json: _Optional[str] = ..., fragments: _Optional[_Iterable[_Union[FragmentSource, _Mapping]]] = ..., source: _Optional[str] = ..., context: _Optional[str] = ...) -> None: ...

class ExportAgentRequest(_message.Message):
    __slots__ = ("agent", "include_state")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_STATE_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    include_state: bool
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., include_state: _Optional[bool] = ...) -> None: ...

class ExportAgentResponse(_message.Message):
    __slots__ = ("spec_json",)
    SPEC_JSON_FIELD_NUMBER: _ClassVar[int]
    spec_json: str
    def __init__(self, spec_json: _Optional[str] = ...) -> None: ...

class ApplyFragmentsRequest(_message.Message):
    __slots__ = ("agent", "fragments")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    fragments: _containers.RepeatedCompositeFieldContainer[FragmentSource]
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., fragments: _Optional[_Iterable[_Union[FragmentSource, _Mapping]]] = ...) -> None: ...

class ListFragmentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFragmentsResponse(_message.Message):
    __slots__ = ("fragments",)
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    fragments: _containers.RepeatedCompositeFieldContainer[FragmentDescription]
    def __init__(self, fragments: _Optional[_Iterable[_Union[FragmentDescription, _Mapping]]] = ...) -> None: ...

class FragmentDescription(_message.Message):
    __slots__ = ("fragment", "fragment_json")
    FRAGMENT_FIELD_NUMBER: _ClassVar[int]
    FRAGMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    fragment: Fragment
    fragment_json: str
    def __init__(self, fragment: _Optional[_Union[Fragment, str]] = ..., fragment_json: _Optional[str] = ...) -> None: ...

class GeneratePopulationRequest(_message.Message):
    __slots__ = ("session", "demographics_json", "count", "context", "particularities", "fragments", "request_id", "expectations", "min_validation_score", "plan_only", "plan", "first_member", "member_count")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    DEMOGRAPHICS_JSON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    PARTICULARITIES_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_FIELD_NUMBER: _ClassVar[int]
    MIN_VALIDATION_SCORE_FIELD_NUMBER: _ClassVar[int]
    PLAN_ONLY_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    FIRST_MEMBER_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    session: str
    demographics_json: str
    count: int
    context: str
    particularities: str
    fragments: _containers.RepeatedCompositeFieldContainer[FragmentSource]
    request_id: str
    expectations: str
    min_validation_score: float
    plan_only: bool
    plan: PopulationPlan
    first_member: int
    member_count: int
    def __init__(self, session: _Optional[str] = ..., demographics_json: _Optional[str] = ..., count: _Optional[int] = ..., context: _Optional[str] = ..., particularities: _Optional[str] = ..., fragments: _Optional[_Iterable[_Union[FragmentSource, _Mapping]]] = ..., request_id: _Optional[str] = ..., expectations: _Optional[str] = ..., min_validation_score: _Optional[float] = ..., plan_only: _Optional[bool] = ..., plan: _Optional[_Union[PopulationPlan, _Mapping]] = ..., first_member: _Optional[int] = ..., member_count: _Optional[int] = ...) -> None: ...

class PlanEntry(_message.Message):
    __slots__ = ("description", "quantity", "characteristics")
    class CharacteristicsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CHARACTERISTICS_FIELD_NUMBER: _ClassVar[int]
    description: str
    quantity: int
    characteristics: _containers.ScalarMap[str, str]
    def __init__(self, description: _Optional[str] = ..., quantity: _Optional[int] = ..., characteristics: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PopulationPlan(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[PlanEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[PlanEntry, _Mapping]]] = ...) -> None: ...

class AgentFailure(_message.Message):
    __slots__ = ("plan_entry_index", "reason", "validation", "agent_name")
    PLAN_ENTRY_INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    plan_entry_index: int
    reason: str
    validation: ValidateAgentResponse
    agent_name: str
    def __init__(self, plan_entry_index: _Optional[int] = ..., reason: _Optional[str] = ..., validation: _Optional[_Union[ValidateAgentResponse, _Mapping]] = ..., agent_name: _Optional[str] = ...) -> None: ...

class PopulationSummary(_message.Message):
    __slots__ = ("requested", "generated", "failed", "model_calls", "regenerated")
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    GENERATED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    MODEL_CALLS_FIELD_NUMBER: _ClassVar[int]
    REGENERATED_FIELD_NUMBER: _ClassVar[int]
    requested: int
    generated: int
    failed: int
    model_calls: int
    regenerated: int
    def __init__(self, requested: _Optional[int] = ..., generated: _Optional[int] = ..., failed: _Optional[int] = ..., model_calls: _Optional[int] = ..., regenerated: _Optional[int] = ...) -> None: ...

class GeneratePopulationResponse(_message.Message):
    __slots__ = ("plan", "agent", "failure", "summary", "validation")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    plan: PopulationPlan
    agent: _agent_pb2.Agent
    failure: AgentFailure
    summary: PopulationSummary
    validation: ValidateAgentResponse
    def __init__(self, plan: _Optional[_Union[PopulationPlan, _Mapping]] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., failure: _Optional[_Union[AgentFailure, _Mapping]] = ..., summary: _Optional[_Union[PopulationSummary, _Mapping]] = ..., validation: _Optional[_Union[ValidateAgentResponse, _Mapping]] = ...) -> None: ...

class ValidateAgentRequest(_message.Message):
    __slots__ = ("session", "agent", "expectations", "questions")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    session: str
    agent: _agent_pb2.Agent
    expectations: str
    questions: int
    def __init__(self, session: _Optional[str] = ..., agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., expectations: _Optional[str] = ..., questions: _Optional[int] = ...) -> None: ...

class ValidateAgentResponse(_message.Message):
    __slots__ = ("score", "justification", "interview")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_FIELD_NUMBER: _ClassVar[int]
    score: float
    justification: str
    interview: _containers.RepeatedCompositeFieldContainer[InterviewExchange]
    def __init__(self, score: _Optional[float] = ..., justification: _Optional[str] = ..., interview: _Optional[_Iterable[_Union[InterviewExchange, _Mapping]]] = ...) -> None: ...

class InterviewExchange(_message.Message):
    __slots__ = ("question", "answer")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    question: str
    answer: str
    def __init__(self, question: _Optional[str] = ..., answer: _Optional[str] = ...) -> None: ...
