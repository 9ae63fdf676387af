"""Channels from one service to another: deadlines, UNAVAILABLE-only retries, id propagation.

Every call gets a deadline (the caller's, or `call_timeout_s`), only UNAVAILABLE is retried (by gRPC's
own retry policy), `dns:///` addresses balance round-robin over all pods of a headless Service, and the
current session and request ids travel in metadata so the logs of all services join. While tracing is on
(tracing.py), each call is a CLIENT span whose trace context travels in the metadata too.
"""

from __future__ import annotations

import json

import grpc

from services.runtime import rpc_tracing
from services.runtime.config import MeshSettings, load_settings
from services.runtime.context import TENANT_METADATA_KEY, current_tenant, propagated_metadata
from services.runtime.security import channel_credentials

RETRY_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


class _CallDecoration:
    """Adds the default deadline, the propagated ids and the credentials to an outgoing call."""

    def __init__(self, default_timeout_s: float, bearer_token: str | None, internal: bool):
        self.default_timeout_s = default_timeout_s
        self.bearer_token = bearer_token
        self.internal = internal

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        pairs = list(propagated_metadata())
        if self.bearer_token:
            pairs.append(("authorization", f"Bearer {self.bearer_token}"))
        if self.internal and (tenant := current_tenant.get()):
            pairs.append((TENANT_METADATA_KEY, tenant))
        for key, value in pairs:
            if key not in metadata:
                metadata.add(key, value)
        timeout = details.timeout if details.timeout is not None else self.default_timeout_s
        return grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def call(self, continuation, details: grpc.aio.ClientCallDetails, request_or_iterator):
        """Starts the decorated call, inside a CLIENT span when tracing is on."""
        details, span = rpc_tracing.client_call_details(self.details(details))
        if span is None:
            return await continuation(details, request_or_iterator)
        try:
            call = await continuation(details, request_or_iterator)
        except BaseException as error:
            rpc_tracing.end_client_span_failed(span, error)
            raise
        rpc_tracing.end_client_span_when_done(call, span)
        return call


# grpc.aio files each interceptor object under one call kind only, so there is one class per kind.
class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, decoration: _CallDecoration):
        self.decoration = decoration

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await self.decoration.call(continuation, client_call_details, request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, decoration: _CallDecoration):
        self.decoration = decoration

    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await self.decoration.call(continuation, client_call_details, request)


class _StreamUnary(grpc.aio.StreamUnaryClientInterceptor):
    def __init__(self, decoration: _CallDecoration):
        self.decoration = decoration

    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return await self.decoration.call(continuation, client_call_details, request_iterator)


class _StreamStream(grpc.aio.StreamStreamClientInterceptor):
    def __init__(self, decoration: _CallDecoration):
        self.decoration = decoration

    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return await self.decoration.call(continuation, client_call_details, request_iterator)


def open_channel(
    address: str, settings: MeshSettings | None = None, *, bearer_token: str | None = None
) -> grpc.aio.Channel:
    """A channel to another service of the mesh, or to the mesh from a client with `bearer_token`.

    Between services the channel presents `INTERNAL_TOKEN` and passes the caller's tenant on.
    """
    settings = settings or load_settings()
    internal = bearer_token is None and settings.internal_token is not None
    if internal:
        bearer_token = settings.internal_token.get_secret_value()
    options = [
        ("grpc.service_config", RETRY_SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    decoration = _CallDecoration(settings.call_timeout_s, bearer_token, internal)
    interceptors = [kind(decoration) for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)]
    credentials = channel_credentials(settings)
    if credentials is not None:
        return grpc.aio.secure_channel(address, credentials, options=options, interceptors=interceptors)
    return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)
