from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnvironmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENVIRONMENT_TYPE_UNSPECIFIED: _ClassVar[EnvironmentType]
    ENVIRONMENT_TYPE_FOCUS_GROUP: _ClassVar[EnvironmentType]
    ENVIRONMENT_TYPE_SURVEY: _ClassVar[EnvironmentType]
    ENVIRONMENT_TYPE_INTERVIEW: _ClassVar[EnvironmentType]

class TurnOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TURN_ORDER_UNSPECIFIED: _ClassVar[TurnOrder]
    TURN_ORDER_CONCURRENT: _ClassVar[TurnOrder]
    TURN_ORDER_SEQUENTIAL: _ClassVar[TurnOrder]

class QualityCheck(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_CHECK_UNSPECIFIED: _ClassVar[QualityCheck]
    QUALITY_CHECK_PERSONA_ADHERENCE: _ClassVar[QualityCheck]
    QUALITY_CHECK_SELF_CONSISTENCY: _ClassVar[QualityCheck]
    QUALITY_CHECK_FLUENCY: _ClassVar[QualityCheck]
    QUALITY_CHECK_SUITABILITY: _ClassVar[QualityCheck]

class ActionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_TYPE_UNSPECIFIED: _ClassVar[ActionType]
    ACTION_TYPE_THINK: _ClassVar[ActionType]
    ACTION_TYPE_TALK: _ClassVar[ActionType]
    ACTION_TYPE_DONE: _ClassVar[ActionType]
    ACTION_TYPE_STIMULUS: _ClassVar[ActionType]

class ValueKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_KIND_UNSPECIFIED: _ClassVar[ValueKind]
    VALUE_KIND_NUMBER: _ClassVar[ValueKind]
    VALUE_KIND_CATEGORY: _ClassVar[ValueKind]
    VALUE_KIND_LIST: _ClassVar[ValueKind]
    VALUE_KIND_TEXT: _ClassVar[ValueKind]
    VALUE_KIND_BOOLEAN: _ClassVar[ValueKind]
ENVIRONMENT_TYPE_UNSPECIFIED: EnvironmentType
ENVIRONMENT_TYPE_FOCUS_GROUP: EnvironmentType
ENVIRONMENT_TYPE_SURVEY: EnvironmentType
ENVIRONMENT_TYPE_INTERVIEW: EnvironmentType
TURN_ORDER_UNSPECIFIED: TurnOrder
TURN_ORDER_CONCURRENT: TurnOrder
TURN_ORDER_SEQUENTIAL: TurnOrder
QUALITY_CHECK_UNSPECIFIED: QualityCheck
QUALITY_CHECK_PERSONA_ADHERENCE: QualityCheck
QUALITY_CHECK_SELF_CONSISTENCY: QualityCheck
QUALITY_CHECK_FLUENCY: QualityCheck
QUALITY_CHECK_SUITABILITY: QualityCheck
ACTION_TYPE_UNSPECIFIED: ActionType
ACTION_TYPE_THINK: ActionType
ACTION_TYPE_TALK: ActionType
ACTION_TYPE_DONE: ActionType
ACTION_TYPE_STIMULUS: ActionType
VALUE_KIND_UNSPECIFIED: ValueKind
VALUE_KIND_NUMBER: ValueKind
VALUE_KIND_CATEGORY: ValueKind
VALUE_KIND_LIST: ValueKind
VALUE_KIND_TEXT: ValueKind
VALUE_KIND_BOOLEAN: ValueKind

class Stimulus(_message.Message):
    __slots__ = ("type", "content", "context", "target_agents", "options", "blind_options", "blinding_seed")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TARGET_AGENTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    BLIND_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    BLINDING_SEED_FIELD_NUMBER: _ClassVar[int]
    type: str
    content: str
    context: str
    target_agents: _containers.RepeatedScalarFieldContainer[str]
    options: _containers.RepeatedCompositeFieldContainer[StimulusOption]
    blind_options: bool
    blinding_seed: int
    def __init__(self, type: _Optional[str] = ..., content: _Optional[str] = ..., context: _Optional[str] = ..., target_agents: _Optional[_Iterable[str]] = ..., options: _Optional[_Iterable[_Union[StimulusOption, _Mapping]]] = ..., blind_options: _Optional[bool] = ..., blinding_seed: _Optional[int] = ...) -> None: ...

class StimulusOption(_message.Message):
    __slots__ = ("name", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class SimulationConfig(_message.Message):
    __slots__ = ("environment_type", "rounds", "enable_memory", "enable_thinking", "broadcast_mode", "max_actions_per_turn", "turn_order", "max_failed_fraction", "quality_checks")
    ENVIRONMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    ENABLE_MEMORY_FIELD_NUMBER: _ClassVar[int]
    ENABLE_THINKING_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_MODE_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIONS_PER_TURN_FIELD_NUMBER: _ClassVar[int]
    TURN_ORDER_FIELD_NUMBER: _ClassVar[int]
    MAX_FAILED_FRACTION_FIELD_NUMBER: _ClassVar[int]
    QUALITY_CHECKS_FIELD_NUMBER: _ClassVar[int]
    environment_type: EnvironmentType
    rounds: int
    enable_memory: bool
    enable_thinking: bool
    broadcast_mode: bool
    max_actions_per_turn: int
    turn_order: TurnOrder
    max_failed_fraction: float
    quality_checks: QualityChecks
    def __init__(self, environment_type: _Optional[_Union[EnvironmentType, str]] = ..., rounds: _Optional[int] = ..., enable_memory: _Optional[bool] = ..., enable_thinking: _Optional[bool] = ..., broadcast_mode: _Optional[bool] = ..., max_actions_per_turn: _Optional[int] = ..., turn_order: _Optional[_Union[TurnOrder, str]] = ..., max_failed_fraction: _Optional[float] = ..., quality_checks: _Optional[_Union[QualityChecks, _Mapping]] = ...) -> None: ...

class QualityChecks(_message.Message):
    __slots__ = ("enabled", "checks", "threshold", "max_attempts")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    checks: _containers.RepeatedScalarFieldContainer[QualityCheck]
    threshold: float
    max_attempts: int
    def __init__(self, enabled: _Optional[bool] = ..., checks: _Optional[_Iterable[_Union[QualityCheck, str]]] = ..., threshold: _Optional[float] = ..., max_attempts: _Optional[int] = ...) -> None: ...

class ExtractionConfig(_message.Message):
    __slots__ = ("extract_results", "extraction_objective", "situation", "fields", "fields_hints", "statistical_analysis", "mode")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[ExtractionConfig.Mode]
        MODE_PER_AGENT: _ClassVar[ExtractionConfig.Mode]
        MODE_RAPPORTEUR: _ClassVar[ExtractionConfig.Mode]
        MODE_WORLD: _ClassVar[ExtractionConfig.Mode]
    MODE_UNSPECIFIED: ExtractionConfig.Mode
    MODE_PER_AGENT: ExtractionConfig.Mode
    MODE_RAPPORTEUR: ExtractionConfig.Mode
    MODE_WORLD: ExtractionConfig.Mode
    class FieldsHintsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EXTRACT_RESULTS_FIELD_NUMBER: _ClassVar[int]
    EXTRACTION_OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    SITUATION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_HINTS_FIELD_NUMBER: _ClassVar[int]
    STATISTICAL_ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    extract_results: bool
    extraction_objective: str
    situation: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    fields_hints: _containers.ScalarMap[str, str]
    statistical_analysis: bool
    mode: ExtractionConfig.Mode
    def __init__(self, extract_results: _Optional[bool] = ..., extraction_objective: _Optional[str] = ..., situation: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., fields_hints: _Optional[_Mapping[str, str]] = ..., statistical_analysis: _Optional[bool] = ..., mode: _Optional[_Union[ExtractionConfig.Mode, str]] = ...) -> None: ...

class Interaction(_message.Message):
    __slots__ = ("round", "agent_name", "action", "content", "target", "sequence", "step")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    round: int
    agent_name: str
    action: ActionType
    content: str
    target: str
    sequence: int
    step: int
    def __init__(self, round: _Optional[int] = ..., agent_name: _Optional[str] = ..., action: _Optional[_Union[ActionType, str]] = ..., content: _Optional[str] = ..., target: _Optional[str] = ..., sequence: _Optional[int] = ..., step: _Optional[int] = ...) -> None: ...

class ParticipantCounts(_message.Message):
    __slots__ = ("total", "successful", "failed", "failed_creation", "failed_validation", "failed_simulation", "failed_extraction")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    FAILED_CREATION_FIELD_NUMBER: _ClassVar[int]
    FAILED_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    FAILED_SIMULATION_FIELD_NUMBER: _ClassVar[int]
    FAILED_EXTRACTION_FIELD_NUMBER: _ClassVar[int]
    total: int
    successful: int
    failed: int
    failed_creation: int
    failed_validation: int
    failed_simulation: int
    failed_extraction: int
    def __init__(self, total: _Optional[int] = ..., successful: _Optional[int] = ..., failed: _Optional[int] = ..., failed_creation: _Optional[int] = ..., failed_validation: _Optional[int] = ..., failed_simulation: _Optional[int] = ..., failed_extraction: _Optional[int] = ...) -> None: ...

class SimulationResults(_message.Message):
    __slots__ = ("interactions", "rounds_completed", "total_interactions", "turn_quality")
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    TURN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    interactions: _containers.RepeatedCompositeFieldContainer[Interaction]
    rounds_completed: int
    total_interactions: int
    turn_quality: TurnQualityReport
    def __init__(self, interactions: _Optional[_Iterable[_Union[Interaction, _Mapping]]] = ..., rounds_completed: _Optional[int] = ..., total_interactions: _Optional[int] = ..., turn_quality: _Optional[_Union[TurnQualityReport, _Mapping]] = ...) -> None: ...

class TurnQualityReport(_message.Message):
    __slots__ = ("checks", "threshold", "turns_checked", "turns_regenerated", "turns_below_threshold", "turns_unchecked", "statistics", "agents", "extra_calls", "extra_prompt_tokens", "extra_completion_tokens")
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TURNS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    TURNS_REGENERATED_FIELD_NUMBER: _ClassVar[int]
    TURNS_BELOW_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    TURNS_UNCHECKED_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_CALLS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedScalarFieldContainer[QualityCheck]
    threshold: float
    turns_checked: int
    turns_regenerated: int
    turns_below_threshold: int
    turns_unchecked: int
    statistics: _containers.RepeatedCompositeFieldContainer[QualityCheckStatistics]
    agents: _containers.RepeatedCompositeFieldContainer[AgentTurnQuality]
    extra_calls: int
    extra_prompt_tokens: int
    extra_completion_tokens: int
    def __init__(self, checks: _Optional[_Iterable[_Union[QualityCheck, str]]] = ..., threshold: _Optional[float] = ..., turns_checked: _Optional[int] = ..., turns_regenerated: _Optional[int] = ..., turns_below_threshold: _Optional[int] = ..., turns_unchecked: _Optional[int] = ..., statistics: _Optional[_Iterable[_Union[QualityCheckStatistics, _Mapping]]] = ..., agents: _Optional[_Iterable[_Union[AgentTurnQuality, _Mapping]]] = ..., extra_calls: _Optional[int] = ..., extra_prompt_tokens: _Optional[int] = ..., extra_completion_tokens: _Optional[int] = ...) -> None: ...

class QualityCheckStatistics(_message.Message):
    __slots__ = ("check", "scores", "first_attempt_mean", "below_threshold")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    FIRST_ATTEMPT_MEAN_FIELD_NUMBER: _ClassVar[int]
    BELOW_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    check: QualityCheck
    scores: NumericStatistics
    first_attempt_mean: float
    below_threshold: int
    def __init__(self, check: _Optional[_Union[QualityCheck, str]] = ..., scores: _Optional[_Union[NumericStatistics, _Mapping]] = ..., first_attempt_mean: _Optional[float] = ..., below_threshold: _Optional[int] = ...) -> None: ...

class AgentTurnQuality(_message.Message):
    __slots__ = ("agent_name", "turns_checked", "turns_regenerated", "mean_scores")
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    TURNS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    TURNS_REGENERATED_FIELD_NUMBER: _ClassVar[int]
    MEAN_SCORES_FIELD_NUMBER: _ClassVar[int]
    agent_name: str
    turns_checked: int
    turns_regenerated: int
    mean_scores: _containers.RepeatedCompositeFieldContainer[QualityCheckScore]
    def __init__(self, agent_name: _Optional[str] = ..., turns_checked: _Optional[int] = ..., turns_regenerated: _Optional[int] = ..., mean_scores: _Optional[_Iterable[_Union[QualityCheckScore, _Mapping]]] = ...) -> None: ...

class QualityCheckScore(_message.Message):
    __slots__ = ("check", "score")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    check: QualityCheck
    score: float
    def __init__(self, check: _Optional[_Union[QualityCheck, str]] = ..., score: _Optional[float] = ...) -> None: ...

class FieldValue(_message.Message):
    __slots__ = ("kind", "number_value", "string_value", "list_value", "bool_value", "confidence", "problem", "raw")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NUMBER_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    kind: ValueKind
    number_value: float
    string_value: str
    list_value: StringList
    bool_value: bool
    confidence: float
    problem: str
    raw: str
    def __init__(self, kind: _Optional[_Union[ValueKind, str]] = ..., number_value: _Optional[float] = ..., string_value: _Optional[str] = ..., list_value: _Optional[_Union[StringList, _Mapping]] = ..., bool_value: _Optional[bool] = ..., confidence: _Optional[float] = ..., problem: _Optional[str] = ..., raw: _Optional[str] = ...) -> None: ...

class StringList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class AgentResult(_message.Message):
    __slots__ = ("agent_name", "fields", "confidence_score", "failure_reason")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FieldValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FieldValue, _Mapping]] = ...) -> None: ...
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_SCORE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    agent_name: str
    fields: _containers.MessageMap[str, FieldValue]
    confidence_score: float
    failure_reason: str
    def __init__(self, agent_name: _Optional[str] = ..., fields: _Optional[_Mapping[str, FieldValue]] = ..., confidence_score: _Optional[float] = ..., failure_reason: _Optional[str] = ...) -> None: ...

class NumericStatistics(_message.Message):
    __slots__ = ("count", "mean", "median", "std_dev", "min", "max", "ci95_low", "ci95_high")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIELD_NUMBER: _ClassVar[int]
    STD_DEV_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    CI95_LOW_FIELD_NUMBER: _ClassVar[int]
    CI95_HIGH_FIELD_NUMBER: _ClassVar[int]
    count: int
    mean: float
    median: float
    std_dev: float
    min: float
    max: float
    ci95_low: float
    ci95_high: float
    def __init__(self, count: _Optional[int] = ..., mean: _Optional[float] = ..., median: _Optional[float] = ..., std_dev: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., ci95_low: _Optional[float] = ..., ci95_high: _Optional[float] = ...) -> None: ...

class CategoryCount(_message.Message):
    __slots__ = ("value", "count", "share")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    value: str
    count: int
    share: float
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ..., share: _Optional[float] = ...) -> None: ...

class FieldStatistics(_message.Message):
    __slots__ = ("field", "kind", "usable_count", "total_count", "numeric", "counts")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    USABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    NUMERIC_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    field: str
    kind: ValueKind
    usable_count: int
    total_count: int
    numeric: NumericStatistics
    counts: _containers.RepeatedCompositeFieldContainer[CategoryCount]
    def __init__(self, field: _Optional[str] = ..., kind: _Optional[_Union[ValueKind, str]] = ..., usable_count: _Optional[int] = ..., total_count: _Optional[int] = ..., numeric: _Optional[_Union[NumericStatistics, _Mapping]] = ..., counts: _Optional[_Iterable[_Union[CategoryCount, _Mapping]]] = ...) -> None: ...

class QualityMetrics(_message.Message):
    __slots__ = ("score", "coverage", "confidence", "agreement", "failure_rate", "notes")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_RATE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    score: float
    coverage: float
    confidence: float
    agreement: float
    failure_rate: float
    notes: _containers.RepeatedCompositeFieldContainer[QualityNote]
    def __init__(self, score: _Optional[float] = ..., coverage: _Optional[float] = ..., confidence: _Optional[float] = ..., agreement: _Optional[float] = ..., failure_rate: _Optional[float] = ..., notes: _Optional[_Iterable[_Union[QualityNote, _Mapping]]] = ...) -> None: ...

class QualityNote(_message.Message):
    __slots__ = ("metric", "score_lost", "explanation")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SCORE_LOST_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    metric: str
    score_lost: float
    explanation: str
    def __init__(self, metric: _Optional[str] = ..., score_lost: _Optional[float] = ..., explanation: _Optional[str] = ...) -> None: ...

class StatisticalAnalysis(_message.Message):
    __slots__ = ("sample_size", "confidence_level", "quality_metrics", "confidence_score")
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    QUALITY_METRICS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_SCORE_FIELD_NUMBER: _ClassVar[int]
    sample_size: int
    confidence_level: float
    quality_metrics: QualityMetrics
    confidence_score: float
    def __init__(self, sample_size: _Optional[int] = ..., confidence_level: _Optional[float] = ..., quality_metrics: _Optional[_Union[QualityMetrics, _Mapping]] = ..., confidence_score: _Optional[float] = ...) -> None: ...

class ExtractedResults(_message.Message):
    __slots__ = ("individual_results", "aggregate_statistics", "statistical_analysis")
    INDIVIDUAL_RESULTS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_STATISTICS_FIELD_NUMBER: _ClassVar[int]
    STATISTICAL_ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    individual_results: _containers.RepeatedCompositeFieldContainer[AgentResult]
    aggregate_statistics: _containers.RepeatedCompositeFieldContainer[FieldStatistics]
    statistical_analysis: StatisticalAnalysis
    def __init__(self, individual_results: _Optional[_Iterable[_Union[AgentResult, _Mapping]]] = ..., aggregate_statistics: _Optional[_Iterable[_Union[FieldStatistics, _Mapping]]] = ..., statistical_analysis: _Optional[_Union[StatisticalAnalysis, _Mapping]] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("calls", "cached_calls", "prompt_tokens", "completion_tokens", "cost", "unpriced_calls", "reasoning_tokens", "cached_prompt_tokens", "saved_tokens", "saved_cost", "model_requests")
    CALLS_FIELD_NUMBER: _ClassVar[int]
    CACHED_CALLS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_CALLS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SAVED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SAVED_COST_FIELD_NUMBER: _ClassVar[int]
    MODEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    calls: int
    cached_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    unpriced_calls: int
    reasoning_tokens: int
    cached_prompt_tokens: int
    saved_tokens: int
    saved_cost: float
    model_requests: int
    def __init__(self, calls: _Optional[int] = ..., cached_calls: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cost: _Optional[float] = ..., unpriced_calls: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cached_prompt_tokens: _Optional[int] = ..., saved_tokens: _Optional[int] = ..., saved_cost: _Optional[float] = ..., model_requests: _Optional[int] = ...) -> None: ...

class Intervention(_message.Message):
    __slots__ = ("content", "context", "target_agents")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TARGET_AGENTS_FIELD_NUMBER: _ClassVar[int]
    content: str
    context: str
    target_agents: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, content: _Optional[str] = ..., context: _Optional[str] = ..., target_agents: _Optional[_Iterable[str]] = ...) -> None: ...

class StudyStep(_message.Message):
    __slots__ = ("name", "stimulus", "rounds", "intervention", "extraction_config", "max_follow_ups", "moderator_opens")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STIMULUS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    INTERVENTION_FIELD_NUMBER: _ClassVar[int]
    EXTRACTION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MAX_FOLLOW_UPS_FIELD_NUMBER: _ClassVar[int]
    MODERATOR_OPENS_FIELD_NUMBER: _ClassVar[int]
    name: str
    stimulus: Stimulus
    rounds: int
    intervention: Intervention
    extraction_config: ExtractionConfig
    max_follow_ups: int
    moderator_opens: bool
    def __init__(self, name: _Optional[str] = ..., stimulus: _Optional[_Union[Stimulus, _Mapping]] = ..., rounds: _Optional[int] = ..., intervention: _Optional[_Union[Intervention, _Mapping]] = ..., extraction_config: _Optional[_Union[ExtractionConfig, _Mapping]] = ..., max_follow_ups: _Optional[int] = ..., moderator_opens: _Optional[bool] = ...) -> None: ...

class StepResults(_message.Message):
    __slots__ = ("step", "index", "rounds_completed", "extracted_results")
    STEP_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    EXTRACTED_RESULTS_FIELD_NUMBER: _ClassVar[int]
    step: str
    index: int
    rounds_completed: int
    extracted_results: ExtractedResults
    def __init__(self, step: _Optional[str] = ..., index: _Optional[int] = ..., rounds_completed: _Optional[int] = ..., extracted_results: _Optional[_Union[ExtractedResults, _Mapping]] = ...) -> None: ...
