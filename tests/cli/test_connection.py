"""Who the CLI calls the mesh as: the caller's token from --token or TROUPE_TOKEN, never the mesh's own."""

from __future__ import annotations

import time

import grpc
import jwt
import pytest
from pydantic import SecretStr

from services.cli.connection import Caller, MeshConnection
from services.cli.main import UsageError, caller, mesh_settings, parser
from services.runtime.config import MeshSettings
from services.runtime.testing import serving
from tests.security.test_transport_and_auth import ECHO, tenant_of

TOKENS = SecretStr("tok-acme=acme,tok-globex=globex")


def test_the_token_comes_from_the_option_or_the_environment(monkeypatch):
    settings = MeshSettings(auth_tokens=TOKENS)
    monkeypatch.delenv("TROUPE_TOKEN", raising=False)
    assert caller(parser().parse_args(["sessions"]), settings) == Caller()
    monkeypatch.setenv("TROUPE_TOKEN", "tok-globex")
    assert caller(parser().parse_args(["sessions"]), settings) == Caller("tok-globex", "globex")
    for argv in (["--token", "tok-acme", "sessions"], ["sessions", "--token", "tok-acme"]):
        assert caller(parser().parse_args(argv), settings) == Caller("tok-acme", "acme"), argv


def test_the_tenant_is_named_where_this_machine_can_tell():
    known = MeshSettings(auth_tokens=TOKENS)
    assert Caller.of(known, "tok-acme").describe() == "tenant acme"
    assert Caller.of(known, "tok-unknown").describe() == "the tenant of the given token"
    assert Caller.of(MeshSettings(), "tok-acme").describe() == "the tenant of the given token"
    claims = {"tenant": "initech", "exp": int(time.time()) + 60}
    assert Caller.of(MeshSettings(), jwt.encode(claims, "some-secret-of-the-mesh-32-bytes!")).tenant == "initech"
    assert Caller.of(MeshSettings(), None).describe() == "no tenant (no token sent)"
    assert Caller.of(MeshSettings(), "  ") == Caller()


def test_tls_options_become_the_settings(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = mesh_settings(parser().parse_args(["sessions", "--ca-file", str(ca), "--address", "mesh:443"]))
    assert settings.tls_ca_file == ca and settings.orchestrator_address == "mesh:443"
    with pytest.raises(UsageError, match="go together"):
        mesh_settings(parser().parse_args(["sessions", "--cert-file", str(ca)]))
    with pytest.raises(UsageError, match="does not exist"):
        mesh_settings(parser().parse_args(["sessions", "--ca-file", str(tmp_path / "missing.pem")]))


async def test_the_cli_presents_the_callers_token_and_never_the_internal_one(tmp_path):
    mesh = MeshSettings(
        data_dir=tmp_path, public_service=True, auth_tokens=TOKENS, internal_token=SecretStr("mesh-internal")
    )
    async with serving(ECHO, mesh) as address:
        cli_settings = MeshSettings(internal_token=SecretStr("mesh-internal"))  # exported in the CLI's shell
        for who, expected in ((Caller.of(cli_settings, "tok-globex"), "globex"), (Caller(), None)):
            connection = MeshConnection(cli_settings, address, address, who)
            async with connection.open(address) as channel:
                if expected is not None:
                    assert await tenant_of(channel) == expected
                    continue
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await tenant_of(channel)
                assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
