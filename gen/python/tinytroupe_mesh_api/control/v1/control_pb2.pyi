import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2 as _agent_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2 as _study_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PanelView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PANEL_VIEW_UNSPECIFIED: _ClassVar[PanelView]
    PANEL_VIEW_BASIC: _ClassVar[PanelView]
    PANEL_VIEW_FULL: _ClassVar[PanelView]
PANEL_VIEW_UNSPECIFIED: PanelView
PANEL_VIEW_BASIC: PanelView
PANEL_VIEW_FULL: PanelView

class Session(_message.Message):
    __slots__ = ("name", "display_name", "description", "cache_namespace", "labels", "state", "create_time", "update_time", "expire_time", "end_reason", "checkpoint_count", "tenant")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Session.State]
        STATE_ACTIVE: _ClassVar[Session.State]
        STATE_ENDED: _ClassVar[Session.State]
        STATE_FAILED: _ClassVar[Session.State]
    STATE_UNSPECIFIED: Session.State
    STATE_ACTIVE: Session.State
    STATE_ENDED: Session.State
    STATE_FAILED: Session.State
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CACHE_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    description: str
    cache_namespace: str
    labels: _containers.ScalarMap[str, str]
    state: Session.State
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    end_reason: str
    checkpoint_count: int
    tenant: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., cache_namespace: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., state: _Optional[_Union[Session.State, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_reason: _Optional[str] = ..., checkpoint_count: _Optional[int] = ..., tenant: _Optional[str] = ...) -> None: ...

class BeginSessionRequest(_message.Message):
    __slots__ = ("session", "request_id", "session_id")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session: Session
    request_id: str
    session_id: str
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., request_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: Session.State
    labels: _containers.ScalarMap[str, str]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[Session.State, str]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class EndSessionRequest(_message.Message):
    __slots__ = ("name", "final_state", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FINAL_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    final_state: Session.State
    reason: str
    def __init__(self, name: _Optional[str] = ..., final_state: _Optional[_Union[Session.State, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReopenSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("name", "sequence", "payload", "content_type", "size_bytes", "sha256", "create_time", "annotations")
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    sequence: int
    payload: bytes
    content_type: str
    size_bytes: int
    sha256: str
    create_time: _timestamp_pb2.Timestamp
    annotations: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., sequence: _Optional[int] = ..., payload: _Optional[bytes] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., annotations: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateCheckpointRequest(_message.Message):
    __slots__ = ("parent", "checkpoint_id", "checkpoint", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    checkpoint_id: str
    checkpoint: Checkpoint
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., checkpoint_id: _Optional[str] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListCheckpointsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ("checkpoints", "next_page_token")
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[Checkpoint]
    next_page_token: str
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[Checkpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CacheEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: bytes
    def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...

class LookupCacheEntriesRequest(_message.Message):
    __slots__ = ("session", "keys")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    session: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class LookupCacheEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[CacheEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[CacheEntry, _Mapping]]] = ...) -> None: ...

class StoreCacheEntriesRequest(_message.Message):
    __slots__ = ("session", "entries")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    session: str
    entries: _containers.RepeatedCompositeFieldContainer[CacheEntry]
    def __init__(self, session: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[CacheEntry, _Mapping]]] = ...) -> None: ...

class StoreCacheEntriesResponse(_message.Message):
    __slots__ = ("stored_count",)
    STORED_COUNT_FIELD_NUMBER: _ClassVar[int]
    stored_count: int
    def __init__(self, stored_count: _Optional[int] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ("session", "holder", "expire_time", "generation", "expired", "tenant")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    session: str
    holder: str
    expire_time: _timestamp_pb2.Timestamp
    generation: int
    expired: bool
    tenant: str
    def __init__(self, session: _Optional[str] = ..., holder: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., generation: _Optional[int] = ..., expired: _Optional[bool] = ..., tenant: _Optional[str] = ...) -> None: ...

class AcquireLeaseRequest(_message.Message):
    __slots__ = ("session", "holder", "ttl")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    session: str
    holder: str
    ttl: _duration_pb2.Duration
    def __init__(self, session: _Optional[str] = ..., holder: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RenewLeaseRequest(_message.Message):
    __slots__ = ("session", "holder", "ttl")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    session: str
    holder: str
    ttl: _duration_pb2.Duration
    def __init__(self, session: _Optional[str] = ..., holder: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ReleaseLeaseRequest(_message.Message):
    __slots__ = ("session", "holder")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    session: str
    holder: str
    def __init__(self, session: _Optional[str] = ..., holder: _Optional[str] = ...) -> None: ...

class ListLeasesRequest(_message.Message):
    __slots__ = ("expired_only", "page_size", "page_token")
    EXPIRED_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    expired_only: bool
    page_size: int
    page_token: str
    def __init__(self, expired_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLeasesResponse(_message.Message):
    __slots__ = ("leases", "next_page_token")
    LEASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    leases: _containers.RepeatedCompositeFieldContainer[Lease]
    next_page_token: str
    def __init__(self, leases: _Optional[_Iterable[_Union[Lease, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RememberedResponse(_message.Message):
    __slots__ = ("name", "request_sha256", "responses", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SHA256_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_sha256: str
    responses: _containers.RepeatedCompositeFieldContainer[_any_pb2.Any]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., request_sha256: _Optional[str] = ..., responses: _Optional[_Iterable[_Union[_any_pb2.Any, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RememberResponseRequest(_message.Message):
    __slots__ = ("parent", "remembered_response_id", "remembered_response")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REMEMBERED_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    REMEMBERED_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    remembered_response_id: str
    remembered_response: RememberedResponse
    def __init__(self, parent: _Optional[str] = ..., remembered_response_id: _Optional[str] = ..., remembered_response: _Optional[_Union[RememberedResponse, _Mapping]] = ...) -> None: ...

class GetRememberedResponseRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Panel(_message.Message):
    __slots__ = ("name", "display_name", "description", "labels", "members", "member_count", "study_count", "create_time", "update_time", "tenant")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    STUDY_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    description: str
    labels: _containers.ScalarMap[str, str]
    members: _containers.RepeatedCompositeFieldContainer[PanelMember]
    member_count: int
    study_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    tenant: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., members: _Optional[_Iterable[_Union[PanelMember, _Mapping]]] = ..., member_count: _Optional[int] = ..., study_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tenant: _Optional[str] = ...) -> None: ...

class PanelMember(_message.Message):
    __slots__ = ("agent", "studies")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    STUDIES_FIELD_NUMBER: _ClassVar[int]
    agent: _agent_pb2.Agent
    studies: _containers.RepeatedCompositeFieldContainer[PanelStudy]
    def __init__(self, agent: _Optional[_Union[_agent_pb2.Agent, _Mapping]] = ..., studies: _Optional[_Iterable[_Union[PanelStudy, _Mapping]]] = ...) -> None: ...

class PanelStudy(_message.Message):
    __slots__ = ("session", "operation", "display_name", "start_time", "end_time")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    session: str
    operation: str
    display_name: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, session: _Optional[str] = ..., operation: _Optional[str] = ..., display_name: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreatePanelRequest(_message.Message):
    __slots__ = ("panel", "panel_id")
    PANEL_FIELD_NUMBER: _ClassVar[int]
    PANEL_ID_FIELD_NUMBER: _ClassVar[int]
    panel: Panel
    panel_id: str
    def __init__(self, panel: _Optional[_Union[Panel, _Mapping]] = ..., panel_id: _Optional[str] = ...) -> None: ...

class GetPanelRequest(_message.Message):
    __slots__ = ("name", "view")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    name: str
    view: PanelView
    def __init__(self, name: _Optional[str] = ..., view: _Optional[_Union[PanelView, str]] = ...) -> None: ...

class ListPanelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "view")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    view: PanelView
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., view: _Optional[_Union[PanelView, str]] = ...) -> None: ...

class ListPanelsResponse(_message.Message):
    __slots__ = ("panels", "next_page_token")
    PANELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    panels: _containers.RepeatedCompositeFieldContainer[Panel]
    next_page_token: str
    def __init__(self, panels: _Optional[_Iterable[_Union[Panel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeletePanelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class AddPanelStudyRequest(_message.Message):
    __slots__ = ("panel", "study", "agents", "allow_missing", "display_name")
    PANEL_FIELD_NUMBER: _ClassVar[int]
    STUDY_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    panel: str
    study: PanelStudy
    agents: _containers.RepeatedCompositeFieldContainer[_agent_pb2.Agent]
    allow_missing: bool
    display_name: str
    def __init__(self, panel: _Optional[str] = ..., study: _Optional[_Union[PanelStudy, _Mapping]] = ..., agents: _Optional[_Iterable[_Union[_agent_pb2.Agent, _Mapping]]] = ..., allow_missing: _Optional[bool] = ..., display_name: _Optional[str] = ...) -> None: ...

class UsageEntry(_message.Message):
    __slots__ = ("service", "model", "agent", "usage")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    service: str
    model: str
    agent: str
    usage: _study_pb2.TokenUsage
    def __init__(self, service: _Optional[str] = ..., model: _Optional[str] = ..., agent: _Optional[str] = ..., usage: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("session", "entries")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    session: str
    entries: _containers.RepeatedCompositeFieldContainer[UsageEntry]
    def __init__(self, session: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[UsageEntry, _Mapping]]] = ...) -> None: ...

class RecordUsageResponse(_message.Message):
    __slots__ = ("total", "budget_exhausted")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BUDGET_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    total: _study_pb2.TokenUsage
    budget_exhausted: bool
    def __init__(self, total: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., budget_exhausted: _Optional[bool] = ...) -> None: ...

class SetUsageBudgetRequest(_message.Message):
    __slots__ = ("session", "max_cost", "max_tokens")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    session: str
    max_cost: float
    max_tokens: int
    def __init__(self, session: _Optional[str] = ..., max_cost: _Optional[float] = ..., max_tokens: _Optional[int] = ...) -> None: ...

class GetUsageLedgerRequest(_message.Message):
    __slots__ = ("session", "totals_only")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    TOTALS_ONLY_FIELD_NUMBER: _ClassVar[int]
    session: str
    totals_only: bool
    def __init__(self, session: _Optional[str] = ..., totals_only: _Optional[bool] = ...) -> None: ...

class UsageLedger(_message.Message):
    __slots__ = ("session", "total", "max_cost", "max_tokens", "budget_exhausted", "entries")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    session: str
    total: _study_pb2.TokenUsage
    max_cost: float
    max_tokens: int
    budget_exhausted: bool
    entries: _containers.RepeatedCompositeFieldContainer[UsageEntry]
    def __init__(self, session: _Optional[str] = ..., total: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., max_cost: _Optional[float] = ..., max_tokens: _Optional[int] = ..., budget_exhausted: _Optional[bool] = ..., entries: _Optional[_Iterable[_Union[UsageEntry, _Mapping]]] = ...) -> None: ...

class GetTenantSpendRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TenantSpend(_message.Message):
    __slots__ = ("tenant", "today", "this_month")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TODAY_FIELD_NUMBER: _ClassVar[int]
    THIS_MONTH_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    today: _study_pb2.TokenUsage
    this_month: _study_pb2.TokenUsage
    def __init__(self, tenant: _Optional[str] = ..., today: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ..., this_month: _Optional[_Union[_study_pb2.TokenUsage, _Mapping]] = ...) -> None: ...

class RateGrantUsage(_message.Message):
    __slots__ = ("grant_id", "requests", "tokens")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    requests: int
    tokens: int
    def __init__(self, grant_id: _Optional[str] = ..., requests: _Optional[int] = ..., tokens: _Optional[int] = ...) -> None: ...

class AcquireRateGrantRequest(_message.Message):
    __slots__ = ("endpoint", "holder", "requests", "tokens", "requests_per_window", "tokens_per_window", "window", "ttl", "settlements")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    holder: str
    requests: int
    tokens: int
    requests_per_window: float
    tokens_per_window: float
    window: _duration_pb2.Duration
    ttl: _duration_pb2.Duration
    settlements: _containers.RepeatedCompositeFieldContainer[RateGrantUsage]
    def __init__(self, endpoint: _Optional[str] = ..., holder: _Optional[str] = ..., requests: _Optional[int] = ..., tokens: _Optional[int] = ..., requests_per_window: _Optional[float] = ..., tokens_per_window: _Optional[float] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., settlements: _Optional[_Iterable[_Union[RateGrantUsage, _Mapping]]] = ...) -> None: ...

class RateGrant(_message.Message):
    __slots__ = ("grant_id", "requests", "tokens", "ttl", "retry_after", "paused_for")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FOR_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    requests: int
    tokens: int
    ttl: _duration_pb2.Duration
    retry_after: _duration_pb2.Duration
    paused_for: _duration_pb2.Duration
    def __init__(self, grant_id: _Optional[str] = ..., requests: _Optional[int] = ..., tokens: _Optional[int] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., retry_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., paused_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PauseRateBudgetRequest(_message.Message):
    __slots__ = ("endpoint", "retry_after")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    retry_after: _duration_pb2.Duration
    def __init__(self, endpoint: _Optional[str] = ..., retry_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RateBudgetPause(_message.Message):
    __slots__ = ("paused_for",)
    PAUSED_FOR_FIELD_NUMBER: _ClassVar[int]
    paused_for: _duration_pb2.Duration
    def __init__(self, paused_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...
