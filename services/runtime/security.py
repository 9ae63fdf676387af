"""Transport security and caller authentication for every server and channel of the mesh.

- TLS when `TLS_CERT_FILE`/`TLS_KEY_FILE` are set; mutual TLS when `TLS_REQUIRE_CLIENT_CERT` is set
  (inner services). Plaintext is allowed on loopback only, unless `ALLOW_INSECURE` says otherwise.
- Callers present `authorization: Bearer <token>`: a static token from `AUTH_TOKENS` or a JWT verified
  with `AUTH_JWT_KEY`; each maps to a tenant. The mesh's own services present `INTERNAL_TOKEN` and pass
  the tenant on in `x-tenant`; inner services (not `PUBLIC_SERVICE`) accept only those calls: a valid
  caller's token gets PERMISSION_DENIED there, a wrong one UNAUTHENTICATED (where the service holds the
  callers' credentials to tell them apart; else PERMISSION_DENIED).
- Health and reflection stay open, so probes and discovery work without credentials.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

import grpc
import jwt
import structlog

from services.runtime.config import MeshSettings
from services.runtime.context import TENANT_METADATA_KEY
from services.runtime.errors import PermissionDenied, Unauthenticated

log = structlog.get_logger("security")

OPEN_SERVICES = frozenset(
    {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"}
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server_credentials(settings: MeshSettings) -> grpc.ServerCredentials | None:
    """TLS credentials of the server, or None for plaintext (refused off loopback unless allowed)."""
    if settings.tls_enabled():
        ca = settings.tls_ca_file.read_bytes() if settings.tls_ca_file else None
        return grpc.ssl_server_credentials(
            [(settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())],
            root_certificates=ca,
            require_client_auth=settings.tls_require_client_cert and ca is not None,
        )
    if not is_loopback(settings.host):
        if not settings.allow_insecure:
            raise SystemExit(
                f"refusing to serve plaintext on {settings.host}: set TLS_CERT_FILE and TLS_KEY_FILE, "
                "or ALLOW_INSECURE=true for a trusted network"
            )
        log.warning(
            "PLAINTEXT_ON_NETWORK",
            host=settings.host,
            detail="serving without TLS on a non-loopback address because ALLOW_INSECURE is set",
        )
    else:
        log.warning(
            "plaintext_on_loopback",
            host=settings.host,
            detail="no TLS configured: serving plaintext on loopback for local development",
        )
    return None


def channel_credentials(settings: MeshSettings) -> grpc.ChannelCredentials | None:
    """TLS credentials for calls to other services (with our certificate, for mutual TLS)."""
    if settings.tls_ca_file is None:
        return None
    key = settings.tls_key_file.read_bytes() if settings.tls_key_file else None
    cert = settings.tls_cert_file.read_bytes() if settings.tls_cert_file else None
    return grpc.ssl_channel_credentials(
        root_certificates=settings.tls_ca_file.read_bytes(), private_key=key, certificate_chain=cert
    )


@dataclass(frozen=True)
class Principal:
    tenant: str
    internal: bool = False


class Authenticator:
    """Maps a call's metadata to a Principal, or raises UNAUTHENTICATED / PERMISSION_DENIED."""

    def __init__(self, settings: MeshSettings):
        self.enabled = settings.auth_enabled()
        self.public = settings.public_service
        self.internal_token = settings.internal_token.get_secret_value() if settings.internal_token else None
        self.static_tokens = _parse_tokens(settings.auth_tokens.get_secret_value() if settings.auth_tokens else "")
        self.jwt_key = settings.auth_jwt_key.get_secret_value() if settings.auth_jwt_key else None
        self.jwt_audience = settings.auth_jwt_audience
        self.jwt_issuer = settings.auth_jwt_issuer
        self.tenant_claim = settings.auth_tenant_claim

    def authenticate(self, service: str, metadata: dict[str, str]) -> Principal:
        if not self.enabled or service in OPEN_SERVICES:
            return Principal(tenant=metadata.get(TENANT_METADATA_KEY, ""), internal=not self.enabled)
        token = _bearer(metadata.get("authorization", ""))
        if token is None:
            raise Unauthenticated("MISSING_CREDENTIALS", "a bearer token is required in `authorization` metadata")
        if self.internal_token and hmac.compare_digest(token, self.internal_token):
            return Principal(tenant=metadata.get(TENANT_METADATA_KEY, ""), internal=True)
        if not self.public and not (self.static_tokens or self.jwt_key):
            # Holding no caller credentials, it cannot tell a caller's token from a wrong one.
            raise PermissionDenied("INTERNAL_ONLY", f"{service} accepts calls from the mesh's own services only")
        principal = self._caller(token)
        if not self.public:
            raise PermissionDenied("INTERNAL_ONLY", f"{service} accepts calls from the mesh's own services only")
        return principal

    def _caller(self, token: str) -> Principal:
        """The caller a token names; UNAUTHENTICATED when it names none."""
        for known, tenant in self.static_tokens.items():
            if hmac.compare_digest(token, known):
                return Principal(tenant=tenant)
        if self.jwt_key:
            return Principal(tenant=self._tenant_from_jwt(token))
        raise Unauthenticated("INVALID_CREDENTIALS", "the bearer token is not valid")

    def _tenant_from_jwt(self, token: str) -> str:
        algorithms = ["HS256"] if not self.jwt_key.lstrip().startswith("-----BEGIN") else ["RS256", "ES256"]
        try:
            claims = jwt.decode(
                token,
                self.jwt_key,
                algorithms=algorithms,
                audience=self.jwt_audience,
                issuer=self.jwt_issuer,
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated("INVALID_CREDENTIALS", f"the bearer token is not valid: {error}") from None
        tenant = claims.get(self.tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise PermissionDenied("NO_TENANT", f"the token carries no `{self.tenant_claim}` claim")
        if not is_valid_tenant(tenant):
            raise PermissionDenied(
                "INVALID_TENANT",
                f"the `{self.tenant_claim}` claim must be 1 to {MAX_TENANT_LENGTH} printable characters",
            )
        return tenant


MAX_TENANT_LENGTH = 128


def is_valid_tenant(tenant: str) -> bool:
    return 0 < len(tenant) <= MAX_TENANT_LENGTH and tenant.isprintable()


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _parse_tokens(text: str) -> dict[str, str]:
    pairs = (item.strip().partition("=") for item in text.split(",") if item.strip())
    return {token.strip(): tenant.strip() for token, _, tenant in pairs if token.strip() and tenant.strip()}
