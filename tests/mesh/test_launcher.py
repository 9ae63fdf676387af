"""Each server of `troupe up` gets its role as deploy/ gives it, and the security settings checked."""

from __future__ import annotations

import pytest

from services.mesh.launcher import (
    INNER_SERVICES,
    LocalMesh,
    role_environment,
    secure_environment,
    security_summary,
)
from services.mesh.processes import MeshStartError


def test_only_the_orchestrator_is_public_and_only_inner_services_ask_for_certificates(tmp_path):
    mesh = LocalMesh(data_dir=tmp_path)
    mesh.environment = {"PUBLIC_SERVICE": "true", "AUTH_TOKENS": "tok-a=alpha", "TLS_CERT_FILE": "/c.pem"}
    orchestrator = mesh.service_environment("orchestrator", 50050)
    assert orchestrator["PUBLIC_SERVICE"] == "true" and orchestrator["TLS_REQUIRE_CLIENT_CERT"] == "false"
    assert (orchestrator["PORT"], orchestrator["METRICS_PORT"]) == ("50050", "51050")
    for name in ("control", *INNER_SERVICES):
        inner = mesh.service_environment(name, 0)
        assert inner["PUBLIC_SERVICE"] == "false", "an exported PUBLIC_SERVICE must not open the inner services"
        assert inner["TLS_REQUIRE_CLIENT_CERT"] == "true"
        assert inner["AUTH_TOKENS"] == "tok-a=alpha", "inner services hold the callers' tokens to tell wrong ones"
        assert (inner["PORT"], inner["METRICS_PORT"]) == ("0", "0")
    assert "TLS_REQUIRE_CLIENT_CERT" not in role_environment("control", {})


def test_callers_tokens_get_an_internal_token_made_up_when_none_is_set():
    made = secure_environment({"AUTH_TOKENS": "tok-a=alpha"})
    assert len(made["INTERNAL_TOKEN"]) >= 32
    assert secure_environment({"AUTH_TOKENS": "tok-a=alpha"})["INTERNAL_TOKEN"] != made["INTERNAL_TOKEN"]
    assert secure_environment({"AUTH_JWT_KEY": "k", "INTERNAL_TOKEN": "mine"})["INTERNAL_TOKEN"] == "mine"
    assert "INTERNAL_TOKEN" not in secure_environment({})


def test_tls_needs_all_three_files_and_they_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("cert.pem", "key.pem", "ca.pem"):
        (tmp_path / name).write_text("pem")
    files = {"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem", "TLS_CA_FILE": "ca.pem"}
    secured = secure_environment(files)
    assert secured["TLS_CA_FILE"] == str(tmp_path / "ca.pem")
    with pytest.raises(MeshStartError, match="TLS_CA_FILE is not set"):
        secure_environment({"TLS_CERT_FILE": "cert.pem", "TLS_KEY_FILE": "key.pem"})
    with pytest.raises(MeshStartError, match="does not exist"):
        secure_environment({**files, "TLS_CA_FILE": "missing.pem"})


def test_the_summary_names_tenants_and_never_tokens():
    lines = security_summary(
        {
            "AUTH_TOKENS": "tok-secret-a=alpha,tok-secret-b=beta",
            "INTERNAL_TOKEN": "inner-secret",
            "TLS_CERT_FILE": "/c.pem",
        }
    )
    text = "\n".join(lines)
    assert "alpha, beta" in text and "TLS" in text
    assert "secret" not in text
    assert security_summary({}) == ['authentication is off: every caller is the one tenant ""']
