"""A fake OpenAI-compatible chat server for tests and benchmarks.

It answers `POST /v1/chat/completions` (and Azure's `/openai/deployments/{d}/chat/completions`) with
a valid instance of the requested JSON schema, after a fixed latency, and injects faults on demand:
429 with Retry-After, 500, hangs, truncated JSON, invalid JSON, schema violations, code-fenced JSON
with trailing commas, 400. Faults come from an explicit plan first, then from every k-th request
hanging (`hang_every`), then from rates drawn by a seeded generator in arrival order, so a run is
deterministic given its seed. Scripts force the content of answers whose prompt matches a pattern.

Control and inspection, in process or over HTTP: `configure()` / `POST /_fake/config`,
`stats` / `GET /_fake/stats`, `reset_stats()` / `POST /_fake/reset`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal, Self

from aiohttp import web
from pydantic import BaseModel, Field

from tests.fake_llm.schema_instance import InstanceGenerator, NameRegistry

Fault = Literal[
    "ok",
    "rate_limited",
    "server_error",
    "hang",
    "truncated",
    "invalid_json",
    "schema_violation",
    "fenced",
    "bad_request",
]

ScriptAnswer = str | dict[str, Any] | Callable[[dict[str, Any]], "str | dict[str, Any]"]


class FakeConfig(BaseModel):
    """Behaviour of the fake server; every field can change while it runs."""

    model: str = "fake-model"
    latency_s: float = 0.0
    latency_jitter_s: float = 0.0
    seed: int = 0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_hang: float = 0.0
    rate_truncated: float = 0.0
    rate_invalid_json: float = 0.0
    rate_schema_violation: float = 0.0
    rate_fenced: float = 0.0
    hang_every: int = 0
    """Hang every k-th request (counted from the start or the last change of `hang_every` or `seed`)
    until its connection drops or the server stops; 0 hangs none. Applies after the fault plan and
    before the rates, so the share of hung requests is exact whatever the order of arrival."""
    retry_after_s: float | None = 0.05
    """Delay a 429 asks for; None sends no Retry-After."""
    retry_after_format: Literal["seconds", "ms", "date"] = "seconds"
    """`seconds`: `Retry-After: 0.05`; `ms`: `retry-after-ms: 50`; `date`: an HTTP date."""
    fault_plan: list[Fault] = Field(default_factory=list)
    """Faults for the next requests, in order, before the rates apply."""
    reject_json_schema: bool = False
    """Answer the `json_schema` response format with a 500, as llama-cpp-python's server does."""
    record_bodies: bool = True
    latency_from_arrival: bool = False
    """Make the answer first and count the latency from the request's arrival, so the fake's own work
    overlaps the wait as a remote model's does (benchmarks). Off, the answer is made after the wait,
    and a request cancelled while it waits leaves no trace (no occurrence, name or script use)."""


class RequestRecord(BaseModel):
    index: int
    path: str
    started_at: float
    """time.monotonic() when the request arrived."""
    finished_at: float | None = None
    outcome: str = "in_flight"
    body: dict[str, Any] | None = None
    answer: str | None = None


class FakeStats(BaseModel):
    total_requests: int
    by_outcome: dict[str, int]
    in_flight: int
    peak_in_flight: int
    requests: list[RequestRecord]

    def count(self, outcome: str) -> int:
        return self.by_outcome.get(outcome, 0)


@dataclass
class ScriptRule:
    """Forces the answer of requests whose prompt matches `pattern` (a regular expression).

    `answer` is the JSON text to return, a dict (merged over the generated instance when `merge`),
    or a callable of the request body returning either. `on` picks what is searched: all messages,
    the system messages, or the last user message. `times` limits how often the rule applies."""

    pattern: str
    answer: ScriptAnswer
    times: int | None = None
    merge: bool = True
    on: Literal["all", "system", "last_user"] = "all"
    used: int = field(default=0, init=False)

    def matches(self, messages: list[dict[str, Any]]) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        return re.search(self.pattern, _searched_text(messages, self.on), re.DOTALL) is not None


def _searched_text(messages: list[dict[str, Any]], on: str) -> str:
    if on == "system":
        return "\n".join(_content(m) for m in messages if m.get("role") == "system")
    if on == "last_user":
        users = [m for m in messages if m.get("role") == "user"]
        return _content(users[-1]) if users else ""
    return "\n".join(_content(m) for m in messages)


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


class FakeLLMServer:
    """The fake server, started with `async with FakeLLMServer(latency=0.05) as fake: fake.base_url`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0, **config: Any) -> None:
        self.host = host
        self.port = port
        self.config = FakeConfig(latency_s=latency, **config)
        self.scripts: list[ScriptRule] = []
        self._names = NameRegistry()
        self._fault_rng = random.Random(self.config.seed)
        self._fault_draws = 0
        self._occurrences: Counter[str] = Counter()
        self._records: deque[RequestRecord] = deque(maxlen=20_000)
        self._by_outcome: Counter[str] = Counter()
        self._total = 0
        self._in_flight = 0
        self._peak_in_flight = 0
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL: `http://127.0.0.1:PORT/v1`."""
        return f"{self.root_url}/v1"

    async def start(self) -> FakeLLMServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/_fake/stats", self._http_stats)
        app.router.add_get("/_fake/config", self._http_get_config)
        app.router.add_post("/_fake/config", self._http_configure)
        app.router.add_post("/_fake/reset", self._http_reset)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- control -------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> FakeConfig:
        """Changes behaviour at run time; a new `seed` restarts the fault draws and name sequence."""
        self.config = FakeConfig.model_validate({**self.config.model_dump(), **changes})
        if "seed" in changes:
            self._fault_rng = random.Random(self.config.seed)
            self._occurrences.clear()
            self._names = NameRegistry()
        if "seed" in changes or "hang_every" in changes:
            self._fault_draws = 0
        return self.config

    def plan_faults(self, *faults: Fault) -> None:
        """Queues faults for the next requests, in order."""
        self.config.fault_plan.extend(faults)

    def script(self, pattern: str, answer: ScriptAnswer, **options: Any) -> ScriptRule:
        """Adds a `ScriptRule`; the first matching rule wins."""
        rule = ScriptRule(pattern, answer, **options)
        self.scripts.append(rule)
        return rule

    @property
    def stats(self) -> FakeStats:
        return FakeStats(
            total_requests=self._total,
            by_outcome=dict(self._by_outcome),
            in_flight=self._in_flight,
            peak_in_flight=self._peak_in_flight,
            requests=[record.model_copy() for record in self._records],
        )

    def reset_stats(self) -> None:
        self._records.clear()
        self._by_outcome.clear()
        self._total = 0
        self._peak_in_flight = self._in_flight

    # -- HTTP handlers -------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": self.config.model, "object": "model", "owned_by": "fake"}]}
        )

    async def _http_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.model_dump(mode="json", exclude={"requests": {"__all__": {"body"}}}))

    async def _http_get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.config.model_dump(mode="json"))

    async def _http_configure(self, request: web.Request) -> web.Response:
        changes = await request.json()
        scripts = changes.pop("scripts", None)
        try:
            config = self.configure(**changes)
        except ValueError as error:
            return web.json_response({"error": {"message": str(error)}}, status=400)
        if scripts is not None:
            self.scripts = [ScriptRule(**rule) for rule in scripts]
        return web.json_response(config.model_dump(mode="json"))

    async def _http_reset(self, request: web.Request) -> web.Response:
        self.reset_stats()
        return web.json_response({})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self._total += 1
        record = RequestRecord(index=self._total, path=request.path, started_at=time.monotonic())
        self._records.append(record)
        self._in_flight += 1
        self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            body = await request.json()
            if self.config.record_bodies:
                record.body = body
            outcome, response = await self._answer(body, request.match_info.get("deployment"), record)
            record.outcome = outcome
            return response
        except (json.JSONDecodeError, TypeError, KeyError, ValueError) as error:
            record.outcome = "bad_request"
            return _error(400, f"malformed request: {error}", "invalid_request_error")
        except asyncio.CancelledError:
            record.outcome = "cancelled" if record.outcome == "in_flight" else record.outcome
            raise
        finally:
            self._in_flight -= 1
            record.finished_at = time.monotonic()
            self._by_outcome[record.outcome] += 1

    async def _answer(
        self, body: dict[str, Any], deployment: str | None, record: RequestRecord
    ) -> tuple[str, web.Response]:
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise ValueError("messages must be a non-empty list")
        if body.get("stream"):
            return "bad_request", _error(400, "streaming is not supported by the fake", "invalid_request_error")
        response_format = body.get("response_format") or {}
        if self.config.reject_json_schema and response_format.get("type") == "json_schema":
            return "server_error", _error(
                500,
                "1 validation error: ('body', 'response_format', 'type') Input should be 'text' or 'json_object'",
                "internal_server_error",
            )
        fault = self._next_fault()
        if fault == "rate_limited":
            return fault, self._rate_limited()
        if fault == "server_error":
            return fault, _error(500, "the fake model failed", "server_error")
        if fault == "bad_request":
            return fault, _error(400, "the fake model rejects this request", "invalid_request_error")
        if fault == "hang":
            record.outcome = "hang"
            await self._closing.wait()
            return fault, _error(503, "the fake server is shutting down", "server_error")

        if self.config.latency_from_arrival:
            arrived = time.monotonic()
            text, finish_reason, outcome = self._content(body, messages, response_format, fault)
            await self._wait_latency(spent_s=time.monotonic() - arrived)
        else:
            await self._wait_latency()
            text, finish_reason, outcome = self._content(body, messages, response_format, fault)
        record.answer = text
        prompt_tokens = sum(_tokens(_content(message)) for message in messages)
        completion_tokens = _tokens(text)
        return outcome, web.json_response(
            {
                "id": f"chatcmpl-fake-{record.index}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": deployment or body.get("model") or self.config.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    # -- behaviour -----------------------------------------------------------------------------

    def _next_fault(self) -> Fault:
        if self.config.fault_plan:
            return self.config.fault_plan.pop(0)
        self._fault_draws += 1
        if self.config.hang_every and self._fault_draws % self.config.hang_every == 0:
            return "hang"
        draw = self._fault_rng.random()
        threshold = 0.0
        for fault, rate in (
            ("rate_limited", self.config.rate_429),
            ("server_error", self.config.rate_500),
            ("hang", self.config.rate_hang),
            ("truncated", self.config.rate_truncated),
            ("invalid_json", self.config.rate_invalid_json),
            ("schema_violation", self.config.rate_schema_violation),
            ("fenced", self.config.rate_fenced),
        ):
            threshold += rate
            if draw < threshold:
                return fault  # type: ignore[return-value]
        return "ok"

    def _rate_limited(self) -> web.Response:
        headers: dict[str, str] = {}
        delay = self.config.retry_after_s
        if delay is not None:
            if self.config.retry_after_format == "ms":
                headers["retry-after-ms"] = str(round(delay * 1000))
            elif self.config.retry_after_format == "date":
                headers["Retry-After"] = formatdate(time.time() + delay, usegmt=True)
            else:
                headers["Retry-After"] = f"{delay:g}"
        return _error(429, "rate limit reached (fake)", "rate_limit_exceeded", headers)

    async def _wait_latency(self, spent_s: float = 0.0) -> None:
        delay = self.config.latency_s - spent_s
        if self.config.latency_jitter_s:
            delay += self._fault_rng.uniform(0.0, self.config.latency_jitter_s)
        if delay > 0:
            await asyncio.sleep(delay)

    def _content(
        self,
        body: dict[str, Any],
        messages: list[dict[str, Any]],
        response_format: dict[str, Any],
        fault: Fault,
    ) -> tuple[str, str, str]:
        """The answer text, its finish reason and the outcome to record."""
        schema = _requested_schema(response_format, messages)
        request_hash = hashlib.sha256(
            json.dumps([messages, response_format, body.get("model")], sort_keys=True).encode()
        ).hexdigest()
        occurrence = self._occurrences[request_hash]
        self._occurrences[request_hash] += 1
        variation = f"{self.config.seed}:{request_hash}:{occurrence}"

        if fault == "invalid_json":
            return "Sure! Here is what I think: {not valid json", "stop", fault
        if fault == "schema_violation":
            return json.dumps({"unexpected_field": [1, 2, 3]}), "stop", fault

        wants_json = response_format.get("type") in ("json_object", "json_schema")
        rule, scripted = self._scripted(body, messages)
        if isinstance(scripted, str):
            text, outcome = scripted, "scripted"
        else:
            generated: Any
            if schema is not None:
                generated = InstanceGenerator(schema, variation, self._names).generate()
            elif wants_json:
                generated = {}
            else:
                generated = InstanceGenerator({"type": "string"}, variation, self._names).generate()
            outcome = "ok"
            if rule is not None and scripted is not None:
                merge = rule.merge and isinstance(generated, dict)
                generated = {**generated, **scripted} if merge else scripted
                outcome = "scripted"
            text = generated if isinstance(generated, str) else json.dumps(generated, ensure_ascii=False)

        if fault == "truncated":
            return text[: max(1, len(text) // 2)], "length", fault
        if fault == "fenced" and text.endswith("}"):
            return f"```json\n{text[:-1]},\n}}\n```", "stop", fault
        return text, "stop", outcome

    def _scripted(
        self, body: dict[str, Any], messages: list[dict[str, Any]]
    ) -> tuple[ScriptRule | None, str | dict[str, Any] | None]:
        """The first matching rule and its answer for this request, or (None, None)."""
        for rule in self.scripts:
            if rule.matches(messages):
                rule.used += 1
                return rule, rule.answer(body) if callable(rule.answer) else rule.answer
        return None, None


def _requested_schema(response_format: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The JSON schema asked for: from either response_format form, else from a system prompt that
    spells one out (the `json_object` mode)."""
    kind = response_format.get("type")
    if kind == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema")
    if kind == "json_object":
        if isinstance(response_format.get("schema"), dict):
            return response_format["schema"]
        return _schema_in_prompt(messages)
    return None


def _schema_in_prompt(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for message in messages:
        if message.get("role") != "system":
            continue
        text = _content(message)
        marker = text.find("JSON schema")
        start = text.find("{", max(marker, 0))
        while start >= 0:
            try:
                candidate, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                candidate = None
            if isinstance(candidate, dict) and ("properties" in candidate or "$defs" in candidate):
                return candidate
            start = text.find("{", start + 1)
    return None


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": code, "code": code, "param": None}},
        status=status,
        headers=headers,
    )
