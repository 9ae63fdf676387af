"""The one configuration loader of the mesh: every setting comes from the environment.

Each server process reads `MeshSettings` once at start-up. Names are plain environment variables
(`PORT`, `CONTROL_ADDRESS`, `DATABASE_URL`, `LLM_BASE_URL`, ...) so the same image runs locally and
on Kubernetes with a ConfigMap.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PORTS: dict[str, int] = {
    "orchestrator": 50050,
    "control": 50051,
    "population": 50052,
    "simulation": 50053,
    "content": 50054,
    "extraction": 50055,
}
"""Default gRPC port of each service; its Prometheus port is the same number plus 1000."""

SERVICE_NAMES: tuple[str, ...] = tuple(DEFAULT_PORTS)


class LLMSettings(BaseSettings):
    """How to reach the OpenAI-compatible model endpoint (variables prefixed `LLM_`)."""

    model_config = SettingsConfigDict(env_prefix="LLM_", extra="ignore")

    base_url: str | None = None
    """OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1. Unset: the embedded local model."""
    api_key: SecretStr = SecretStr("not-needed")
    model: str = "gemma-3-270m"
    provider: str = "openai"
    """`openai` (any OpenAI-compatible server) or `azure` (Azure OpenAI: uses `azure_endpoint`)."""
    azure_endpoint: str | None = None
    api_version: str = "2024-10-21"
    response_format: str = "json_schema"
    """How the backend takes a schema: `json_schema` (OpenAI, vLLM, Ollama, llama.cpp server),
    `json_object_schema` (llama-cpp-python's server) or `json_object` (schema only in the prompt)."""
    temperature: float = 0.7
    seed: int | None = 42
    max_tokens: int = 512
    context_tokens: int = 0
    """Tokens the model's context holds; prompt budgets (persona, memory, inbox) follow it. 0: the embedded
    model's own when the mesh runs it, else what the server reports (vLLM's `/v1/models` max_model_len,
    llama.cpp's `/props` n_ctx), else 8192 (`services/llm/context.py`)."""
    timeout_s: float = 60.0
    """Deadline of one call, every attempt and backoff included."""
    attempt_timeout_s: float = 0.0
    """Bound of one request attempt; a timed-out attempt is cancelled and retried like a 5xx. 0 sizes
    it to the answer: `attempt_first_token_s + max_tokens / attempt_tokens_per_s`, at most half of
    `timeout_s`. An attempt never outlives the deadline, and the last one that fits gets the rest."""
    attempt_first_token_s: float = 10.0
    """Time an attempt is allowed before the model answers at all (queueing, prompt processing)."""
    attempt_tokens_per_s: float = 20.0
    """Slowest generation an attempt is allowed; 0 leaves attempts bounded by the deadline only."""
    hedge_quantile: float = 0.0
    """Send a second attempt when the first has run longer than this quantile of recent answers
    (e.g. 0.95) and the first answer wins; 0 sends none. A hedge is sent only when the concurrency
    cap and the rate budget have room at once."""
    max_retries: int = 4
    output_attempts: int = Field(default=3, ge=1)
    """Answers one call may ask for before invalid output (cut short, not JSON, off the schema) fails
    it, the first included. Each further answer is a new sample: the model sees its latest invalid
    answer and the error, under a seed of its own; only a valid answer is cached."""
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    max_concurrency: int = 64
    requests_per_minute: float = 6000.0
    tokens_per_minute: float = 2_000_000.0
    budget_window_s: float = 60.0
    """Length of the rate budget's window; tests shrink it to check the budget on a short clock."""
    rate_budget: Literal["shared", "process"] = "shared"
    """`shared`: `requests_per_minute` and `tokens_per_minute` bound the whole endpoint, every replica of
    every service together, through short-lived grants from control (services/control/rate_ledger.py);
    `process`: each process has that budget of its own (a lone client without control)."""
    grant_ttl_s: float = 2.0
    """How long a grant of the shared budget may be spent; a crashed replica's grant returns one window
    after it."""
    grant_fraction: float = Field(default=0.05, gt=0, le=1)
    """Largest grant one ask gets, as a fraction of the window's limits (what is not spent returns)."""
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    """`LLM_PRICES`: US dollars per million tokens by model, JSON:
    `{"gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.6}}` (services/llm/pricing.py)."""
    prices_file: Path | None = None
    """`LLM_PRICES_FILE`: the same in a JSON or YAML file; `LLM_PRICES` wins for a model in both."""


class MeshSettings(BaseSettings):
    """Settings of one server process of the mesh."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int | None = None
    """gRPC port; unset means the service's default port, 0 means any free port."""
    metrics_port: int | None = None
    """Prometheus port; unset means the gRPC default port plus 1000, 0 disables the endpoint."""
    health_port: int | None = None
    """A plaintext port serving only grpc.health.v1, for probes that cannot present a client
    certificate when the main port requires one; unset means none, 0 means any free port."""
    log_level: str = "INFO"
    log_format: str = "json"
    shutdown_grace_s: float = 10.0
    max_connection_age_s: float = 300.0
    max_message_bytes: int = 64 * 1024 * 1024

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".tinytroupe-mesh")
    database_url: SecretStr | None = None
    """`postgresql://...` for PostgreSQL; unset means SQLite at `data_dir/control.sqlite3`."""
    session_retention_s: float = 7 * 24 * 3600.0
    sweep_interval_s: float = 300.0
    session_idle_timeout_s: float = 24 * 3600.0
    """Control ends an active session as failed (reason `expired: ...`) once it has seen no activity
    (checkpoints, remembered responses, lease changes) for this long and no live lease holds it; 0 never."""
    cache_entry_max_age_s: float = 30 * 24 * 3600.0
    """Control deletes cache entries older than this, whichever sessions name their namespace; 0 never."""

    orchestrator_address: str = f"127.0.0.1:{DEFAULT_PORTS['orchestrator']}"
    control_address: str = f"127.0.0.1:{DEFAULT_PORTS['control']}"
    population_address: str = f"127.0.0.1:{DEFAULT_PORTS['population']}"
    simulation_address: str = f"127.0.0.1:{DEFAULT_PORTS['simulation']}"
    content_address: str = f"127.0.0.1:{DEFAULT_PORTS['content']}"
    extraction_address: str = f"127.0.0.1:{DEFAULT_PORTS['extraction']}"
    call_timeout_s: float = 600.0
    """Deadline of one downstream call between services (a whole simulation stream included)."""
    replicas: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    """`REPLICAS`, e.g. `population=2,simulation=3`: processes per service that `troupe up` starts, behind
    client-side round-robin (the inner services only; 1 where unnamed)."""

    @field_validator("replicas", mode="before")
    @classmethod
    def _parse_replicas(cls, value: object) -> object:
        return parse_replicas(value) if isinstance(value, str) else value

    llm: LLMSettings = Field(default_factory=LLMSettings)

    tls_cert_file: Path | None = None
    """PEM certificate of this service: served to callers, and presented to other services (mTLS)."""
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    """PEM CA bundle that signs the mesh's certificates: verifies servers, and clients when required."""
    tls_require_client_cert: bool = False
    """Refuse callers without a certificate signed by `tls_ca_file` (mutual TLS; for inner services)."""
    allow_insecure: bool = False
    """Serve plaintext on a non-loopback address (never in production; logged loudly)."""

    auth_tokens: SecretStr | None = None
    """Static bearer tokens, `token=tenant` pairs separated by commas (from a Kubernetes Secret)."""
    auth_jwt_key: SecretStr | None = None
    """Key that verifies callers' JWTs: an HS256 secret, or a PEM public key for RS256/ES256."""
    auth_jwt_audience: str | None = None
    auth_jwt_issuer: str | None = None
    auth_tenant_claim: str = "tenant"
    internal_token: SecretStr | None = None
    """Shared secret the mesh's own services present to each other; inner services accept only it."""
    public_service: bool = False
    """Whether external callers may call this service (the orchestrator); inner services set False."""

    def grpc_port(self, service: str) -> int:
        return DEFAULT_PORTS[service] if self.port is None else self.port

    def prometheus_port(self, service: str) -> int:
        return DEFAULT_PORTS[service] + 1000 if self.metrics_port is None else self.metrics_port

    def address_of(self, service: str) -> str:
        return getattr(self, f"{service}_address")

    def tls_enabled(self) -> bool:
        return self.tls_cert_file is not None and self.tls_key_file is not None

    def auth_enabled(self) -> bool:
        return bool(self.auth_tokens or self.auth_jwt_key or self.internal_token)

    def sqlite_path(self) -> Path:
        return self.data_dir / "control.sqlite3"


def parse_replicas(text: str) -> dict[str, int]:
    """`population=2,simulation=3` (or JSON) as a mapping of service to process count."""
    text = text.strip()
    if text.startswith("{"):
        return {str(name): int(count) for name, count in json.loads(text).items()}
    replicas: dict[str, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, separator, count = part.partition("=")
        if not separator or not count.strip().isdigit():
            raise ValueError(f"{part!r}: expected SERVICE=COUNT, e.g. population=2")
        replicas[name.strip()] = int(count)
    return replicas


@lru_cache(maxsize=1)
def load_settings() -> MeshSettings:
    """The process-wide settings, read from the environment once."""
    return MeshSettings()
