from google.api import field_behavior_pb2 as _field_behavior_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2 as _agent_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2 as _study_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunSimulationRequest(_message.Message):
    __slots__ = ("session", "agents", "config", "stimulus", "request_id", "stream_actions", "steps", "checkpoint_suffix")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STIMULUS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_SUFFIX_FIELD_NUMBER: _ClassVar[int]
    session: str
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    config: _study_pb2.SimulationConfig
    stimulus: _study_pb2.Stimulus
    request_id: str
    stream_actions: bool
    steps: _containers.RepeatedCompositeFieldContainer[_study_pb2.StudyStep]
    checkpoint_suffix: str
    def __init__(self, session: _Optional[str] = ..., agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., config: _Optional[_Union[_study_pb2.SimulationConfig, _Mapping]] = ..., stimulus: _Optional[_Union[_study_pb2.Stimulus, _Mapping]] = ..., request_id: _Optional[str] = ..., stream_actions: _Optional[bool] = ..., steps: _Optional[_Iterable[_Union[_study_pb2.StudyStep, _Mapping]]] = ..., checkpoint_suffix: _Optional[str] = ...) -> None: ...

class ResumeSimulationRequest(_message.Message):
    __slots__ = ("checkpoint", "stream_actions")
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    STREAM_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    stream_actions: bool
    def __init__(self, checkpoint: _Optional[str] = ..., stream_actions: _Optional[bool] = ...) -> None: ...

class WorldState(_message.Message):
    __slots__ = ("agents", "config", "stimulus", "rounds_completed", "transcript", "pending_messages", "failed_agents", "usage", "turn_quality", "steps", "step", "step_rounds_completed", "checkpoint_suffix")
    class FailedAgentsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STIMULUS_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    PENDING_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    FAILED_AGENTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TURN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_ROUNDS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_SUFFIX_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    config: _study_pb2.SimulationConfig
    stimulus: _study_pb2.Stimulus
    rounds_completed: int
    transcript: _containers.RepeatedCompositeFieldContainer[_study_pb2.Interaction]
    pending_messages: _containers.RepeatedCompositeFieldContainer[PendingMessage]
    failed_agents: _containers.ScalarMap[str, int]
    usage: _study_pb2.TokenUsage
    turn_quality: _containers.RepeatedCompositeFieldContainer[TurnQuality]
    steps: _containers.RepeatedCompositeFieldContainer[_study_pb2.StudyStep]
    step: int
    step_rounds_completed: int
    checkpoint_suffix: str
    def __init__(self, agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., config: _Optional[_Union[_study_pb2.SimulationConfig, _Mapping]] = ..., stimulus: _Optional[_Union[_study_pb2.Stimulus, _Mapping]] = ..., rounds_completed: _Optional[int] = ..., transcript: _Optional[_Iterable[_Union[_study_pb2.Interaction, _Mapping]]] = ..., pending_messages: _Optional[_Iterable[_Union[PendingMessage, _Mapping]]] = ..., failed_agents: _Optional[_Mapping[str, int]] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., turn_quality: _Optional[_Iterable[_Union[TurnQuality, _Mapping]]] = ..., steps: _Optional[_Iterable[_Union[_study_pb2.StudyStep, _Mapping]]] = ..., step: _Optional[int] = ..., step_rounds_completed: _Optional[int] = ..., checkpoint_suffix: _Optional[str] = ...) -> None: ...

class TurnQuality(_message.Message):
    __slots__ = ("round", "agent_name", "attempts", "scores", "first_scores", "passed", "critique", "error", "extra_calls", "extra_prompt_tokens", "extra_completion_tokens")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    FIRST_SCORES_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    CRITIQUE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXTRA_CALLS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    round: int
    agent_name: str
    attempts: int
    scores: _containers.RepeatedCompositeFieldContainer[_study_pb2.QualityCheckScore]
    first_scores: _containers.RepeatedCompositeFieldContainer[_study_pb2.QualityCheckScore]
    passed: bool
    critique: str
    error: str
    extra_calls: int
    extra_prompt_tokens: int
    extra_completion_tokens: int
    def __init__(self, round: _Optional[int] = ..., agent_name: _Optional[str] = ..., attempts: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[_study_pb2.QualityCheckScore, _Mapping]]] = ..., first_scores: _Optional[_Iterable[_Union[_study_pb2.QualityCheckScore, _Mapping]]] = ..., passed: _Optional[bool] = ..., critique: _Optional[str] = ..., error: _Optional[str] = ..., extra_calls: _Optional[int] = ..., extra_prompt_tokens: _Optional[int] = ..., extra_completion_tokens: _Optional[int] = ...) -> None: ...

class PendingMessage(_message.Message):
    __slots__ = ("recipient", "sender", "content", "target")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    recipient: str
    sender: str
    content: str
    target: str
    def __init__(self, recipient: _Optional[str] = ..., sender: _Optional[str] = ..., content: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class RoundStarted(_message.Message):
    __slots__ = ("round", "step", "step_round")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_ROUND_FIELD_NUMBER: _ClassVar[int]
    round: int
    step: int
    step_round: int
    def __init__(self, round: _Optional[int] = ..., step: _Optional[int] = ..., step_round: _Optional[int] = ...) -> None: ...

class AgentFailed(_message.Message):
    __slots__ = ("round", "agent_name", "reason")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    round: int
    agent_name: str
    reason: str
    def __init__(self, round: _Optional[int] = ..., agent_name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RoundCheckpointed(_message.Message):
    __slots__ = ("round", "checkpoint", "agents_succeeded", "agents_failed")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    AGENTS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    round: int
    checkpoint: str
    agents_succeeded: int
    agents_failed: int
    def __init__(self, round: _Optional[int] = ..., checkpoint: _Optional[str] = ..., agents_succeeded: _Optional[int] = ..., agents_failed: _Optional[int] = ...) -> None: ...

class SimulationFinished(_message.Message):
    __slots__ = ("results", "agents", "participants", "usage", "checkpoint")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    results: _study_pb2.SimulationResults
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    participants: _study_pb2.ParticipantCounts
    usage: _study_pb2.TokenUsage
    checkpoint: str
    def __init__(self, results: _Optional[_Union[_study_pb2.SimulationResults, _Mapping]] = ..., agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., participants: _Optional[_Union[_study_pb2.ParticipantCounts, _Mapping]] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class SimulationEvent(_message.Message):
    __slots__ = ("round_started", "agent_action", "agent_failed", "round_checkpointed", "finished")
    ROUND_STARTED_FIELD_NUMBER: _ClassVar[int]
    AGENT_ACTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_FAILED_FIELD_NUMBER: _ClassVar[int]
    ROUND_CHECKPOINTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    round_started: RoundStarted
    agent_action: _study_pb2.Interaction
    agent_failed: AgentFailed
    round_checkpointed: RoundCheckpointed
    finished: SimulationFinished
    def __init__(self, round_started: _Optional[_Union[RoundStarted, _Mapping]] = ..., agent_action: _Optional[_Union[_study_pb2.Interaction, _Mapping]] = ..., agent_failed: _Optional[_Union[AgentFailed, _Mapping]] = ..., round_checkpointed: _Optional[_Union[RoundCheckpointed, _Mapping]] = ..., finished: _Optional[_Union[SimulationFinished, _Mapping]] = ...) -> None: ...
