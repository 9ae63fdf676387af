"""Settings of the orchestrator beyond the shared `MeshSettings` (variables prefixed `STUDY_`)."""

from __future__ import annotations

import os
import socket
import uuid

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_replica_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class StudySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDY_", extra="ignore")

    lease_ttl_s: float = 15.0
    """How long a study's lease lasts unless renewed (renewed every third of it)."""
    recovery_interval_s: float = 10.0
    """How often expired leases of other replicas' studies are looked for; 0 disables the search."""
    stream_deadline_s: float = 6 * 3600.0
    """Deadline of the long calls of a study: the simulation stream, generation and extraction."""
    creation_concurrency: int = 16
    """Most agents made at once (LoadAgent, CreateGroundedPersona, ValidateAgent)."""
    watch_poll_interval_s: float = 0.5
    """How often a study run by another replica is polled in control for WatchStudy/WaitOperation."""
    max_wait_s: float = 300.0
    """Longest WaitOperation when the caller gives no timeout."""
    max_running_per_tenant: int = 32
    """Most studies a tenant may run at once, counted across replicas; 0 lifts the limit."""
    creation_rate_per_minute: float = 120.0
    """New studies a tenant may start a minute on each replica; 0 lifts the limit."""
    creation_burst: int = 20
    """New studies a tenant may start at once before the rate applies."""
    tenant_max_cost_per_day: float = 0.0
    """Most a tenant's studies may cost a UTC day, in US dollars, counted across replicas; 0 lifts the limit."""
    tenant_max_cost_per_month: float = 0.0
    """Most a tenant's studies may cost a UTC month, in US dollars; 0 lifts the limit."""
    tenant_max_tokens_per_day: int = 0
    """Most model tokens a tenant's studies may spend a UTC day; 0 lifts the limit."""
    tenant_max_tokens_per_month: int = 0
    """Most model tokens a tenant's studies may spend a UTC month; 0 lifts the limit."""
    usage_poll_interval_s: float = 1.0
    """How often a running study reads its spend from control for its progress and its budget."""
    fan_out_chunk: int = 100
    """Most agents of a study that one call to population, simulation or extraction takes: a larger study is
    split into parts sent concurrently, spread over the services' replicas (services/orchestrator/fan_out.py);
    0 never splits."""
    replica_id: str = Field(default_factory=_default_replica_id)
    """This replica's name as the holder of leases (STUDY_REPLICA_ID)."""
