"""Conversions from storage records to the service's protobuf messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.names import checkpoint_name, remembered_response_name, session_name
from services.control.storage.base import (
    CheckpointRecord,
    LeaseRecord,
    RememberedResponseRecord,
    SessionRecord,
    SessionState,
)

SESSION_STATES = {
    SessionState.ACTIVE: control_pb2.Session.STATE_ACTIVE,
    SessionState.ENDED: control_pb2.Session.STATE_ENDED,
    SessionState.FAILED: control_pb2.Session.STATE_FAILED,
}
STATES_BY_VALUE = {value: state for state, value in SESSION_STATES.items()}


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment)
    return message


def session_message(record: SessionRecord) -> control_pb2.Session:
    message = control_pb2.Session(
        name=session_name(record.session_id),
        display_name=record.display_name,
        description=record.description,
        cache_namespace=record.cache_namespace,
        labels=record.labels,
        state=SESSION_STATES[record.state],
        create_time=timestamp(record.create_time),
        update_time=timestamp(record.update_time),
        end_reason=record.end_reason,
        checkpoint_count=record.checkpoint_count,
        tenant=record.tenant,
    )
    if record.expire_time is not None:
        message.expire_time.CopyFrom(timestamp(record.expire_time))
    return message


def checkpoint_message(record: CheckpointRecord, payload: bytes = b"") -> control_pb2.Checkpoint:
    return control_pb2.Checkpoint(
        name=checkpoint_name(record.session_id, record.checkpoint_id),
        sequence=record.sequence,
        payload=payload,
        content_type=record.content_type,
        size_bytes=record.size_bytes,
        sha256=record.sha256,
        create_time=timestamp(record.create_time),
        annotations=record.annotations,
    )


def lease_message(record: LeaseRecord) -> control_pb2.Lease:
    return control_pb2.Lease(
        session=session_name(record.session_id),
        holder=record.holder,
        expire_time=timestamp(record.expire_time),
        generation=record.generation,
        expired=record.expired,
        tenant=record.tenant,
    )


def remembered_response_message(record: RememberedResponseRecord, payload: bytes) -> control_pb2.RememberedResponse:
    """The remembered response with its `responses` from `payload`, the decoded stored form."""
    message = control_pb2.RememberedResponse.FromString(payload)
    message.name = remembered_response_name(record.session_id, record.response_id)
    message.request_sha256 = record.request_sha256
    message.create_time.CopyFrom(timestamp(record.create_time))
    return message
