import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2 as _agent_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2 as _study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2 as _control_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2 as _population_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Phase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PHASE_UNSPECIFIED: _ClassVar[Phase]
    PHASE_QUEUED: _ClassVar[Phase]
    PHASE_CREATING_AGENTS: _ClassVar[Phase]
    PHASE_SIMULATING: _ClassVar[Phase]
    PHASE_EXTRACTING: _ClassVar[Phase]
    PHASE_DONE: _ClassVar[Phase]

class StudyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STUDY_STATUS_UNSPECIFIED: _ClassVar[StudyStatus]
    STUDY_STATUS_COMPLETED: _ClassVar[StudyStatus]
    STUDY_STATUS_FAILED: _ClassVar[StudyStatus]
    STUDY_STATUS_PARTIAL: _ClassVar[StudyStatus]

class StudyEndReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STUDY_END_REASON_UNSPECIFIED: _ClassVar[StudyEndReason]
    STUDY_END_REASON_PARTICIPANTS_FAILED: _ClassVar[StudyEndReason]
    STUDY_END_REASON_BUDGET_EXHAUSTED: _ClassVar[StudyEndReason]

class FailurePhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_PHASE_UNSPECIFIED: _ClassVar[FailurePhase]
    FAILURE_PHASE_CREATION: _ClassVar[FailurePhase]
    FAILURE_PHASE_VALIDATION: _ClassVar[FailurePhase]
    FAILURE_PHASE_SIMULATION: _ClassVar[FailurePhase]
    FAILURE_PHASE_EXTRACTION: _ClassVar[FailurePhase]

class ExperimentDesign(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERIMENT_DESIGN_UNSPECIFIED: _ClassVar[ExperimentDesign]
    EXPERIMENT_DESIGN_BETWEEN_SUBJECTS: _ClassVar[ExperimentDesign]
    EXPERIMENT_DESIGN_WITHIN_SUBJECTS: _ClassVar[ExperimentDesign]
PHASE_UNSPECIFIED: Phase
PHASE_QUEUED: Phase
PHASE_CREATING_AGENTS: Phase
PHASE_SIMULATING: Phase
PHASE_EXTRACTING: Phase
PHASE_DONE: Phase
STUDY_STATUS_UNSPECIFIED: StudyStatus
STUDY_STATUS_COMPLETED: StudyStatus
STUDY_STATUS_FAILED: StudyStatus
STUDY_STATUS_PARTIAL: StudyStatus
STUDY_END_REASON_UNSPECIFIED: StudyEndReason
STUDY_END_REASON_PARTICIPANTS_FAILED: StudyEndReason
STUDY_END_REASON_BUDGET_EXHAUSTED: StudyEndReason
FAILURE_PHASE_UNSPECIFIED: FailurePhase
FAILURE_PHASE_CREATION: FailurePhase
FAILURE_PHASE_VALIDATION: FailurePhase
FAILURE_PHASE_SIMULATION: FailurePhase
FAILURE_PHASE_EXTRACTION: FailurePhase
EXPERIMENT_DESIGN_UNSPECIFIED: ExperimentDesign
EXPERIMENT_DESIGN_BETWEEN_SUBJECTS: ExperimentDesign
EXPERIMENT_DESIGN_WITHIN_SUBJECTS: ExperimentDesign

class SessionConfig(_message.Message):
    __slots__ = ("session_name", "description", "cache_file", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SESSION_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CACHE_FILE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    session_name: str
    description: str
    cache_file: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, session_name: _Optional[str] = ..., description: _Optional[str] = ..., cache_file: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Participants(_message.Message):
    __slots__ = ("mode", "specifications", "count", "context", "particularities", "fragments", "expectations", "specification_sources", "min_validation_score", "panel", "panel_members")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[Participants.Mode]
        MODE_FROM_DEMOGRAPHICS: _ClassVar[Participants.Mode]
        MODE_FROM_AGENT: _ClassVar[Participants.Mode]
        MODE_FROM_POPULATION: _ClassVar[Participants.Mode]
        MODE_CUSTOM: _ClassVar[Participants.Mode]
        MODE_FROM_PANEL: _ClassVar[Participants.Mode]
    MODE_UNSPECIFIED: Participants.Mode
    MODE_FROM_DEMOGRAPHICS: Participants.Mode
    MODE_FROM_AGENT: Participants.Mode
    MODE_FROM_POPULATION: Participants.Mode
    MODE_CUSTOM: Participants.Mode
    MODE_FROM_PANEL: Participants.Mode
    MODE_FIELD_NUMBER: _ClassVar[int]
    SPECIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    PARTICULARITIES_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_FIELD_NUMBER: _ClassVar[int]
    SPECIFICATION_SOURCES_FIELD_NUMBER: _ClassVar[int]
    MIN_VALIDATION_SCORE_FIELD_NUMBER: _ClassVar[int]
    PANEL_FIELD_NUMBER: _ClassVar[int]
    PANEL_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    mode: Participants.Mode
    specifications: _containers.RepeatedScalarFieldContainer[str]
    count: int
    context: str
    particularities: str
    fragments: _containers.RepeatedCompositeFieldContainer[_population_pb2.FragmentSource]
    expectations: str
    specification_sources: _containers.RepeatedScalarFieldContainer[str]
    min_validation_score: float
    panel: str
    panel_members: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, mode: _Optional[_Union[Participants.Mode, str]] = ..., specifications: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ..., context: _Optional[str] = ..., particularities: _Optional[str] = ..., fragments: _Optional[_Iterable[_Union[_population_pb2.FragmentSource, _Mapping]]] = ..., expectations: _Optional[str] = ..., specification_sources: _Optional[_Iterable[str]] = ..., min_validation_score: _Optional[float] = ..., panel: _Optional[str] = ..., panel_members: _Optional[_Iterable[str]] = ...) -> None: ...

class RunStudyRequest(_message.Message):
    __slots__ = ("request_id", "session_config", "participants", "simulation_config", "stimulus", "extraction_config", "steps", "max_cost", "max_tokens", "save_to_panel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SIMULATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STIMULUS_FIELD_NUMBER: _ClassVar[int]
    EXTRACTION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SAVE_TO_PANEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session_config: SessionConfig
    participants: Participants
    simulation_config: _study_pb2.SimulationConfig
    stimulus: _study_pb2.Stimulus
    extraction_config: _study_pb2.ExtractionConfig
    steps: _containers.RepeatedCompositeFieldContainer[_study_pb2.StudyStep]
    max_cost: float
    max_tokens: int
    save_to_panel: str
    def __init__(self, request_id: _Optional[str] = ..., session_config: _Optional[_Union[SessionConfig, _Mapping]] = ..., participants: _Optional[_Union[Participants, _Mapping]] = ..., simulation_config: _Optional[_Union[_study_pb2.SimulationConfig, _Mapping]] = ..., stimulus: _Optional[_Union[_study_pb2.Stimulus, _Mapping]] = ..., extraction_config: _Optional[_Union[_study_pb2.ExtractionConfig, _Mapping]] = ..., steps: _Optional[_Iterable[_Union[_study_pb2.StudyStep, _Mapping]]] = ..., max_cost: _Optional[float] = ..., max_tokens: _Optional[int] = ..., save_to_panel: _Optional[str] = ...) -> None: ...

class StudyProgress(_message.Message):
    __slots__ = ("operation", "session", "phase", "round", "rounds_total", "agents_done", "agents_failed", "agents_total", "message", "update_time", "runner", "step", "steps_total", "step_round", "usage", "max_cost", "max_tokens", "budget_exhausted")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    AGENTS_DONE_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    AGENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEPS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    STEP_ROUND_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    operation: str
    session: str
    phase: Phase
    round: int
    rounds_total: int
    agents_done: int
    agents_failed: int
    agents_total: int
    message: str
    update_time: _timestamp_pb2.Timestamp
    runner: str
    step: int
    steps_total: int
    step_round: int
    usage: _study_pb2.TokenUsage
    max_cost: float
    max_tokens: int
    budget_exhausted: bool
    def __init__(self, operation: _Optional[str] = ..., session: _Optional[str] = ..., phase: _Optional[_Union[Phase, str]] = ..., round: _Optional[int] = ..., rounds_total: _Optional[int] = ..., agents_done: _Optional[int] = ..., agents_failed: _Optional[int] = ..., agents_total: _Optional[int] = ..., message: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., runner: _Optional[str] = ..., step: _Optional[int] = ..., steps_total: _Optional[int] = ..., step_round: _Optional[int] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., max_cost: _Optional[float] = ..., max_tokens: _Optional[int] = ..., budget_exhausted: _Optional[bool] = ...) -> None: ...

class StudyMetadata(_message.Message):
    __slots__ = ("execution_time", "cache_file", "checkpoints", "quality_score", "token_usage", "start_time", "end_time", "resumed_count", "retried_count", "usage_by_phase", "usage_by_agent", "usage_by_model")
    EXECUTION_TIME_FIELD_NUMBER: _ClassVar[int]
    CACHE_FILE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    RESUMED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETRIED_COUNT_FIELD_NUMBER: _ClassVar[int]
    USAGE_BY_PHASE_FIELD_NUMBER: _ClassVar[int]
    USAGE_BY_AGENT_FIELD_NUMBER: _ClassVar[int]
    USAGE_BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    execution_time: _duration_pb2.Duration
    cache_file: str
    checkpoints: _containers.RepeatedScalarFieldContainer[str]
    quality_score: float
    token_usage: _study_pb2.TokenUsage
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    resumed_count: int
    retried_count: int
    usage_by_phase: _containers.RepeatedCompositeFieldContainer[UsageShare]
    usage_by_agent: _containers.RepeatedCompositeFieldContainer[UsageShare]
    usage_by_model: _containers.RepeatedCompositeFieldContainer[UsageShare]
    def __init__(self, execution_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., cache_file: _Optional[str] = ..., checkpoints: _Optional[_Iterable[str]] = ..., quality_score: _Optional[float] = ..., token_usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resumed_count: _Optional[int] = ..., retried_count: _Optional[int] = ..., usage_by_phase: _Optional[_Iterable[_Union[UsageShare, _Mapping]]] = ..., usage_by_agent: _Optional[_Iterable[_Union[UsageShare, _Mapping]]] = ..., usage_by_model: _Optional[_Iterable[_Union[UsageShare, _Mapping]]] = ...) -> None: ...

class StudyResult(_message.Message):
    __slots__ = ("operation_id", "session_id", "status", "participants", "simulation_results", "extracted_results", "metadata", "validations", "participant_failures", "step_results", "end_reason", "estimate", "panel")
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SIMULATION_RESULTS_FIELD_NUMBER: _ClassVar[int]
    EXTRACTED_RESULTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FAILURES_FIELD_NUMBER: _ClassVar[int]
    STEP_RESULTS_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    PANEL_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    session_id: str
    status: StudyStatus
    participants: _study_pb2.ParticipantCounts
    simulation_results: _study_pb2.SimulationResults
    extracted_results: _study_pb2.ExtractedResults
    metadata: StudyMetadata
    validations: _containers.RepeatedCompositeFieldContainer[AgentValidation]
    participant_failures: _containers.RepeatedCompositeFieldContainer[ParticipantFailure]
    step_results: _containers.RepeatedCompositeFieldContainer[_study_pb2.StepResults]
    end_reason: StudyEndReason
    estimate: StudyEstimate
    panel: str
    def __init__(self, operation_id: _Optional[str] = ..., session_id: _Optional[str] = ..., status: _Optional[_Union[StudyStatus, str]] = ..., participants: _Optional[_Union[_study_pb2.ParticipantCounts, _Mapping]] = ..., simulation_results: _Optional[_Union[_study_pb2.SimulationResults, _Mapping]] = ..., extracted_results: _Optional[_Union[_study_pb2.ExtractedResults, _Mapping]] = ..., metadata: _Optional[_Union[StudyMetadata, _Mapping]] = ..., validations: _Optional[_Iterable[_Union[AgentValidation, _Mapping]]] = ..., participant_failures: _Optional[_Iterable[_Union[ParticipantFailure, _Mapping]]] = ..., step_results: _Optional[_Iterable[_Union[_study_pb2.StepResults, _Mapping]]] = ..., end_reason: _Optional[_Union[StudyEndReason, str]] = ..., estimate: _Optional[_Union[StudyEstimate, _Mapping]] = ..., panel: _Optional[str] = ...) -> None: ...

class AgentValidation(_message.Message):
    __slots__ = ("agent_name", "score", "justification", "interview")
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    INTERVIEW_FIELD_NUMBER: _ClassVar[int]
    agent_name: str
    score: float
    justification: str
    interview: _containers.RepeatedCompositeFieldContainer[_population_pb2.InterviewExchange]
    def __init__(self, agent_name: _Optional[str] = ..., score: _Optional[float] = ..., justification: _Optional[str] = ..., interview: _Optional[_Iterable[_Union[_population_pb2.InterviewExchange, _Mapping]]] = ...) -> None: ...

class UsageShare(_message.Message):
    __slots__ = ("key", "usage")
    KEY_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    key: str
    usage: _study_pb2.TokenUsage
    def __init__(self, key: _Optional[str] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ...) -> None: ...

class EstimateRange(_message.Message):
    __slots__ = ("low", "expected", "high")
    LOW_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    low: float
    expected: float
    high: float
    def __init__(self, low: _Optional[float] = ..., expected: _Optional[float] = ..., high: _Optional[float] = ...) -> None: ...

class StudyEstimate(_message.Message):
    __slots__ = ("model_calls", "prompt_tokens", "completion_tokens", "cost", "model", "sequential_calls", "critical_path", "latency_per_call", "calls_by_phase", "assumptions")
    class CallsByPhaseEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    MODEL_CALLS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_CALLS_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_PATH_FIELD_NUMBER: _ClassVar[int]
    LATENCY_PER_CALL_FIELD_NUMBER: _ClassVar[int]
    CALLS_BY_PHASE_FIELD_NUMBER: _ClassVar[int]
    ASSUMPTIONS_FIELD_NUMBER: _ClassVar[int]
    model_calls: EstimateRange
    prompt_tokens: EstimateRange
    completion_tokens: EstimateRange
    cost: EstimateRange
    model: str
    sequential_calls: int
    critical_path: _duration_pb2.Duration
    latency_per_call: _duration_pb2.Duration
    calls_by_phase: _containers.ScalarMap[str, int]
    assumptions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model_calls: _Optional[_Union[EstimateRange, _Mapping]] = ..., prompt_tokens: _Optional[_Union[EstimateRange, _Mapping]] = ..., completion_tokens: _Optional[_Union[EstimateRange, _Mapping]] = ..., cost: _Optional[_Union[EstimateRange, _Mapping]] = ..., model: _Optional[str] = ..., sequential_calls: _Optional[int] = ..., critical_path: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., latency_per_call: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., calls_by_phase: _Optional[_Mapping[str, int]] = ..., assumptions: _Optional[_Iterable[str]] = ...) -> None: ...

class EstimateStudyRequest(_message.Message):
    __slots__ = ("study", "latency_per_call")
    STUDY_FIELD_NUMBER: _ClassVar[int]
    LATENCY_PER_CALL_FIELD_NUMBER: _ClassVar[int]
    study: RunStudyRequest
    latency_per_call: _duration_pb2.Duration
    def __init__(self, study: _Optional[_Union[RunStudyRequest, _Mapping]] = ..., latency_per_call: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class EstimateExperimentRequest(_message.Message):
    __slots__ = ("experiment", "latency_per_call")
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_PER_CALL_FIELD_NUMBER: _ClassVar[int]
    experiment: RunExperimentRequest
    latency_per_call: _duration_pb2.Duration
    def __init__(self, experiment: _Optional[_Union[RunExperimentRequest, _Mapping]] = ..., latency_per_call: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ParticipantFailure(_message.Message):
    __slots__ = ("agent_name", "index", "reason", "phase")
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    agent_name: str
    index: int
    reason: str
    phase: FailurePhase
    def __init__(self, agent_name: _Optional[str] = ..., index: _Optional[int] = ..., reason: _Optional[str] = ..., phase: _Optional[_Union[FailurePhase, str]] = ...) -> None: ...

class AgentsCreated(_message.Message):
    __slots__ = ("agents", "requested", "failures", "validations", "usage")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    VALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    requested: int
    failures: _containers.RepeatedCompositeFieldContainer[ParticipantFailure]
    validations: _containers.RepeatedCompositeFieldContainer[AgentValidation]
    usage: _study_pb2.TokenUsage
    def __init__(self, agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., requested: _Optional[int] = ..., failures: _Optional[_Iterable[_Union[ParticipantFailure, _Mapping]]] = ..., validations: _Optional[_Iterable[_Union[AgentValidation, _Mapping]]] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ...) -> None: ...

class StudyResumed(_message.Message):
    __slots__ = ("runner", "resume_time", "from_checkpoint")
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    RESUME_TIME_FIELD_NUMBER: _ClassVar[int]
    FROM_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    runner: str
    resume_time: _timestamp_pb2.Timestamp
    from_checkpoint: str
    def __init__(self, runner: _Optional[str] = ..., resume_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., from_checkpoint: _Optional[str] = ...) -> None: ...

class WatchStudyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ResumeStudyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ExperimentArm(_message.Message):
    __slots__ = ("name", "stimulus", "fragments", "steps")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STIMULUS_FIELD_NUMBER: _ClassVar[int]
    FRAGMENTS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    stimulus: _study_pb2.Stimulus
    fragments: _containers.RepeatedCompositeFieldContainer[_population_pb2.FragmentSource]
    steps: _containers.RepeatedCompositeFieldContainer[_study_pb2.StudyStep]
    def __init__(self, name: _Optional[str] = ..., stimulus: _Optional[_Union[_study_pb2.Stimulus, _Mapping]] = ..., fragments: _Optional[_Iterable[_Union[_population_pb2.FragmentSource, _Mapping]]] = ..., steps: _Optional[_Iterable[_Union[_study_pb2.StudyStep, _Mapping]]] = ...) -> None: ...

class RunExperimentRequest(_message.Message):
    __slots__ = ("request_id", "session_config", "participants", "simulation_config", "stimulus", "extraction_config", "arms", "design", "seed", "max_cost", "max_tokens", "steps")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SIMULATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STIMULUS_FIELD_NUMBER: _ClassVar[int]
    EXTRACTION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    DESIGN_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session_config: SessionConfig
    participants: Participants
    simulation_config: _study_pb2.SimulationConfig
    stimulus: _study_pb2.Stimulus
    extraction_config: _study_pb2.ExtractionConfig
    arms: _containers.RepeatedCompositeFieldContainer[ExperimentArm]
    design: ExperimentDesign
    seed: int
    max_cost: float
    max_tokens: int
    steps: _containers.RepeatedCompositeFieldContainer[_study_pb2.StudyStep]
    def __init__(self, request_id: _Optional[str] = ..., session_config: _Optional[_Union[SessionConfig, _Mapping]] = ..., participants: _Optional[_Union[Participants, _Mapping]] = ..., simulation_config: _Optional[_Union[_study_pb2.SimulationConfig, _Mapping]] = ..., stimulus: _Optional[_Union[_study_pb2.Stimulus, _Mapping]] = ..., extraction_config: _Optional[_Union[_study_pb2.ExtractionConfig, _Mapping]] = ..., arms: _Optional[_Iterable[_Union[ExperimentArm, _Mapping]]] = ..., design: _Optional[_Union[ExperimentDesign, str]] = ..., seed: _Optional[int] = ..., max_cost: _Optional[float] = ..., max_tokens: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[_study_pb2.StudyStep, _Mapping]]] = ...) -> None: ...

class ArmResult(_message.Message):
    __slots__ = ("name", "study_operation", "participants", "result")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STUDY_OPERATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    name: str
    study_operation: str
    participants: _containers.RepeatedScalarFieldContainer[str]
    result: StudyResult
    def __init__(self, name: _Optional[str] = ..., study_operation: _Optional[str] = ..., participants: _Optional[_Iterable[str]] = ..., result: _Optional[_Union[StudyResult, _Mapping]] = ...) -> None: ...

class ArmSummary(_message.Message):
    __slots__ = ("arm", "count", "mean", "std_dev", "categories")
    ARM_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_DEV_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    arm: str
    count: int
    mean: float
    std_dev: float
    categories: _containers.RepeatedCompositeFieldContainer[_study_pb2.CategoryCount]
    def __init__(self, arm: _Optional[str] = ..., count: _Optional[int] = ..., mean: _Optional[float] = ..., std_dev: _Optional[float] = ..., categories: _Optional[_Iterable[_Union[_study_pb2.CategoryCount, _Mapping]]] = ...) -> None: ...

class FieldComparison(_message.Message):
    __slots__ = ("field", "test", "statistic", "p_value", "p_value_adjusted", "rank_test", "rank_statistic", "rank_p_value", "effect_size_name", "effect_size", "difference", "ci95_low", "ci95_high", "sample_size_per_arm_for_80_power", "arms", "sentence", "significant", "skipped_reason")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_ADJUSTED_FIELD_NUMBER: _ClassVar[int]
    RANK_TEST_FIELD_NUMBER: _ClassVar[int]
    RANK_STATISTIC_FIELD_NUMBER: _ClassVar[int]
    RANK_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    EFFECT_SIZE_NAME_FIELD_NUMBER: _ClassVar[int]
    EFFECT_SIZE_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    CI95_LOW_FIELD_NUMBER: _ClassVar[int]
    CI95_HIGH_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_PER_ARM_FOR_80_POWER_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_REASON_FIELD_NUMBER: _ClassVar[int]
    field: str
    test: str
    statistic: float
    p_value: float
    p_value_adjusted: float
    rank_test: str
    rank_statistic: float
    rank_p_value: float
    effect_size_name: str
    effect_size: float
    difference: float
    ci95_low: float
    ci95_high: float
    sample_size_per_arm_for_80_power: int
    arms: _containers.RepeatedCompositeFieldContainer[ArmSummary]
    sentence: str
    significant: bool
    skipped_reason: str
    def __init__(self, field: _Optional[str] = ..., test: _Optional[str] = ..., statistic: _Optional[float] = ..., p_value: _Optional[float] = ..., p_value_adjusted: _Optional[float] = ..., rank_test: _Optional[str] = ..., rank_statistic: _Optional[float] = ..., rank_p_value: _Optional[float] = ..., effect_size_name: _Optional[str] = ..., effect_size: _Optional[float] = ..., difference: _Optional[float] = ..., ci95_low: _Optional[float] = ..., ci95_high: _Optional[float] = ..., sample_size_per_arm_for_80_power: _Optional[int] = ..., arms: _Optional[_Iterable[_Union[ArmSummary, _Mapping]]] = ..., sentence: _Optional[str] = ..., significant: _Optional[bool] = ..., skipped_reason: _Optional[str] = ...) -> None: ...

class ExperimentResult(_message.Message):
    __slots__ = ("operation", "session", "design", "seed", "arms", "comparisons", "arm_orders", "token_usage", "estimate")
    class ArmOrdersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    DESIGN_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    ARM_ORDERS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    operation: str
    session: str
    design: ExperimentDesign
    seed: int
    arms: _containers.RepeatedCompositeFieldContainer[ArmResult]
    comparisons: _containers.RepeatedCompositeFieldContainer[FieldComparison]
    arm_orders: _containers.ScalarMap[str, str]
    token_usage: _study_pb2.TokenUsage
    estimate: StudyEstimate
    def __init__(self, operation: _Optional[str] = ..., session: _Optional[str] = ..., design: _Optional[_Union[ExperimentDesign, str]] = ..., seed: _Optional[int] = ..., arms: _Optional[_Iterable[_Union[ArmResult, _Mapping]]] = ..., comparisons: _Optional[_Iterable[_Union[FieldComparison, _Mapping]]] = ..., arm_orders: _Optional[_Mapping[str, str]] = ..., token_usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., estimate: _Optional[_Union[StudyEstimate, _Mapping]] = ...) -> None: ...
