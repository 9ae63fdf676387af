"""Checks of deploy/observability: the PodMonitor, the PrometheusRule alerts and the Grafana dashboard.

The folder is rendered with the real `kubectl kustomize`. The ConfigMap validates strictly against
Kubernetes' schemas; PodMonitor and PrometheusRule are the Prometheus Operator's resource types, which
kubernetes-validate does not know: the PodMonitor is checked against the Deployments it scrapes, and the
rules with promtool (`check rules`, and `test rules` with tests/deploy/observability_alerts_test.yaml).
The dashboard's queries parse with promtool too. Last, the six servers run as processes with their
metrics ports, one study runs through them, and every metric and label that a query or an alert names
must be in what their /metrics endpoints export.

promtool comes from Debian's prometheus package through scripts/install-promtool.sh (`make test`
installs it); without it the promtool checks skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.mesh.launcher import LocalMesh
from services.mesh.processes import ChildProcess, MeshStartError, http_ready
from services.runtime.config import DEFAULT_PORTS
from tests.deploy.test_manifests import DEPLOY, ROOT, find_kubectl, main_container, of_kind, render

OBSERVABILITY = DEPLOY / "observability"
DASHBOARD = OBSERVABILITY / "tinytroupe-mesh.json"
ALERT_TESTS = Path(__file__).with_name("observability_alerts_test.yaml")

TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "endpoint"}
"""Labels that Prometheus adds to every scraped series (podmonitor.yaml): no server exports them."""
ALERTS = {
    "TinyTroupeGrpcErrorRatioHigh",
    "TinyTroupeStudyStalled",
    "TinyTroupeModelRateLimited",
    "TinyTroupeCheckpointFailures",
}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$namespace": ".*"}


# ---------------------------------------------------------------------------------------------
# Rendering and the documents


@pytest.fixture(scope="module")
def kubectl() -> str:
    path = find_kubectl()
    if path is None:
        pytest.skip("kubectl not found: run scripts/install-kubectl.sh (make test) or set KUBECTL")
    return path


@pytest.fixture(scope="module")
def observability(kubectl: str) -> list[dict[str, Any]]:
    return render(kubectl, OBSERVABILITY)


def find_promtool() -> str | None:
    """The promtool to check with: $PROMTOOL, the project's .tools/ copy, or one on PATH."""
    for candidate in (
        os.environ.get("PROMTOOL"),
        str(ROOT / ".tools/prometheus/usr/bin/promtool"),
        shutil.which("promtool"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def promtool() -> str:
    path = find_promtool()
    if path is None:
        pytest.skip("promtool not found: run scripts/install-promtool.sh (make test installs it) or set PROMTOOL")
    return path


def rule_groups(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules = of_kind(docs, "PrometheusRule")
    assert list(rules) == ["tinytroupe-mesh"]
    return rules["tinytroupe-mesh"]["spec"]["groups"]


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of the dashboard, its variables' included."""
    board = dashboard()
    queries = [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["query"]["query"])
            assert match, variable
            queries.append((f"variable {variable['name']}", match.group(1)))
    return queries


def alert_queries(docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (rule.get("alert") or rule["record"], rule["expr"]) for group in rule_groups(docs) for rule in group["rules"]
    ]


def without_grafana_variables(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a Grafana variable this test does not know: {expr}"
    return expr


# ---------------------------------------------------------------------------------------------
# The rendered folder


def test_observability_renders_the_three_documents(observability: list[dict[str, Any]]) -> None:
    kinds = sorted((d["apiVersion"], d["kind"]) for d in observability)
    assert kinds == [
        ("monitoring.coreos.com/v1", "PodMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("v1", "ConfigMap"),
    ]
    for doc in observability:
        assert doc["metadata"]["namespace"] == "tinytroupe"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "tinytroupe-mesh"


@pytest.mark.parametrize("k8s_version", ["1.27.0", "1.37.0"])
def test_dashboard_config_map_validates_strictly(observability: list[dict[str, Any]], k8s_version: str) -> None:
    import kubernetes_validate

    config_map = of_kind(observability, "ConfigMap")["tinytroupe-mesh-dashboard"]
    kubernetes_validate.validate(config_map, k8s_version, strict=True)
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1", "the label Grafana's sidecar looks for"
    assert json.loads(config_map["data"]["tinytroupe-mesh.json"]) == dashboard()
    # kubectl apply keeps the whole object in an annotation, which must stay under 256 KiB.
    assert len(config_map["data"]["tinytroupe-mesh.json"]) < 200_000


def test_pod_monitor_scrapes_every_server_on_its_metrics_port(
    observability: list[dict[str, Any]], kubectl: str
) -> None:
    monitor = of_kind(observability, "PodMonitor")["tinytroupe-mesh"]
    assert set(monitor) == {"apiVersion", "kind", "metadata", "spec"}
    spec = monitor["spec"]
    assert set(spec) <= {"jobLabel", "selector", "podMetricsEndpoints", "namespaceSelector", "podTargetLabels"}
    [endpoint] = spec["podMetricsEndpoints"]
    assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "scheme", "relabelings"}
    assert endpoint["path"] == "/metrics"
    for overlay in ("dev", "prod"):
        deployments = of_kind(render(kubectl, DEPLOY / "overlays" / overlay), "Deployment")
        assert set(deployments) == set(DEFAULT_PORTS)
        for name, deployment in deployments.items():
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()), f"{overlay}: {name}"
            assert labels[spec["jobLabel"]] == name, f"{overlay}: job of {name}"
            ports = {p["name"]: p["containerPort"] for p in main_container(deployment)["ports"]}
            assert ports.get(endpoint["port"]) == DEFAULT_PORTS[name] + 1000, f"{overlay}: {name}"


def test_dashboard_is_a_grafana_dashboard_of_the_four_areas() -> None:
    board = dashboard()
    assert board["uid"] == "tinytroupe-mesh" and board["schemaVersion"] >= 36
    panels = board["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert rows == ["Studies", "Model", "gRPC", "Saturation"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for panel in panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
        for target in panel["targets"]:
            assert 'namespace=~"$namespace"' in target["expr"], (panel["title"], target["expr"])
    titles = " ".join(p["title"] for p in panels).lower()
    for wanted in (
        "studies started",
        "running",
        "finished by status",
        "phase duration",
        "model calls",
        "tokens",
        "model errors",
        "model latency",
        "errors by method and code",
        "in flight",
        "cpu",
        "memory",
    ):
        assert wanted in titles, wanted


def test_rule_groups_alert_on_the_four_conditions(observability: list[dict[str, Any]]) -> None:
    rules = [rule for group in rule_groups(observability) for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


# ---------------------------------------------------------------------------------------------
# promtool


def write_rules(path: Path, groups: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


def run_promtool(promtool: str, *args: str, cwd: Path) -> str:
    result = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_promtool_checks_the_rules(observability: list[dict[str, Any]], promtool: str, tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules.yaml", rule_groups(observability))
    output = run_promtool(promtool, "check", "rules", str(rules), cwd=tmp_path)
    assert f"SUCCESS: {len(ALERTS)} rules found" in output


def test_promtool_unit_tests_of_the_alerts_pass(
    observability: list[dict[str, Any]], promtool: str, tmp_path: Path
) -> None:
    write_rules(tmp_path / "rules.yaml", rule_groups(observability))
    tests = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))
    assert tests["rule_files"] == ["rules.yaml"]
    tested = {case["alertname"] for test in tests["tests"] for case in test["alert_rule_test"]}
    assert tested == ALERTS, "every alert has a unit test"
    shutil.copy(ALERT_TESTS, tmp_path / ALERT_TESTS.name)
    output = run_promtool(promtool, "test", "rules", ALERT_TESTS.name, cwd=tmp_path)
    assert "SUCCESS" in output


def test_promtool_parses_every_dashboard_query(promtool: str, tmp_path: Path) -> None:
    """Each query as a recording rule: promtool parses its PromQL as Prometheus would."""
    queries = dashboard_queries()
    rules = [
        {"record": f"dashboard:query_{index}", "expr": without_grafana_variables(expr)}
        for index, (_, expr) in enumerate(queries)
    ]
    path = write_rules(tmp_path / "dashboard.yaml", [{"name": "dashboard", "rules": rules}])
    output = run_promtool(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert f"SUCCESS: {len(queries)} rules found" in output


# ---------------------------------------------------------------------------------------------
# What the queries name, read from PromQL


KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
    "atan2",
}
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*,?')
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
IDENTIFIER = re.compile(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")


@dataclass
class Query:
    metrics: set[str] = field(default_factory=set)
    matchers: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(metric, label, operator, value) of every label matcher."""
    grouping: set[str] = field(default_factory=set)


def parse_promql(expr: str) -> Query:
    """The metric names, label matchers and grouping labels of a PromQL expression (no PromQL parser
    is at hand; promtool has checked its syntax)."""
    query = Query()
    for match in SELECTOR.finditer(expr):
        metric, body = match.group(1) or "", match.group(2)
        position = 0
        while position < len(body.strip()):
            matcher = MATCHER.match(body, position)
            assert matcher, f"cannot read the matchers {body!r} of {expr}"
            query.matchers.append((metric, matcher.group(1), matcher.group(2), json.loads(matcher.group(3))))
            position = matcher.end()
    rest = SELECTOR.sub(lambda m: f" {m.group(1) or ''} ", expr)
    rest = STRING.sub(" ", rest)
    rest = re.sub(r"\[[^\]]*\]", " ", rest)
    for match in GROUPING.finditer(rest):
        query.grouping |= {label.strip() for label in match.group(1).split(",") if label.strip()}
    rest = GROUPING.sub(" ", rest)
    query.metrics = {name for name in IDENTIFIER.findall(rest) if name not in KEYWORDS}
    return query


@pytest.mark.parametrize(
    ("expr", "metrics", "grouping"),
    [
        (
            'sum by (le, job) (rate(llm_request_duration_seconds_bucket{namespace=~"$namespace"}[5m]))',
            {"llm_request_duration_seconds_bucket"},
            {"le", "job"},
        ),
        (
            'sum by (job) (grpc_server_started_total) - sum by (job) (grpc_server_handled_total{grpc_code!="OK"})',
            {"grpc_server_started_total", "grpc_server_handled_total"},
            {"job"},
        ),
        (
            "histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le)) > 0.5 and on (pod) y offset 5m",
            {"x_bucket", "y"},
            {"le", "pod"},
        ),
    ],
)
def test_promql_reading(expr: str, metrics: set[str], grouping: set[str]) -> None:
    query = parse_promql(expr)
    assert query.metrics == metrics
    assert query.grouping == grouping


def test_every_alert_and_dashboard_query_names_metrics(observability: list[dict[str, Any]]) -> None:
    for where, expr in [*dashboard_queries(), *alert_queries(observability)]:
        assert parse_promql(without_grafana_variables(expr)).metrics, where


# ---------------------------------------------------------------------------------------------
# The metrics the servers export


def test_orchestrator_counts_checkpoint_failures_and_endings() -> None:
    import grpc
    from prometheus_client import REGISTRY

    from services.orchestrator import metrics as study_metrics

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    @study_metrics.checkpoint_failures_counted
    async def store(fail: bool) -> str:
        if fail:
            raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata())
        return "stored"

    before = value("orchestrator_checkpoint_failures_total", grpc_code="UNAVAILABLE")
    assert asyncio.run(store(False)) == "stored"
    with pytest.raises(grpc.aio.AioRpcError):
        asyncio.run(store(True))
    assert value("orchestrator_checkpoint_failures_total", grpc_code="UNAVAILABLE") == before + 1

    endings = {
        status: value("orchestrator_studies_finished_total", status=status)
        for status in ("cancelled", "failed", "partial")
    }
    study_metrics.study_failed(grpc.StatusCode.CANCELLED.value[0])
    study_metrics.study_failed(grpc.StatusCode.INTERNAL.value[0])
    study_metrics.study_finished(orchestrator_pb2.StudyResult(status=orchestrator_pb2.STUDY_STATUS_PARTIAL))
    for status, count in endings.items():
        assert value("orchestrator_studies_finished_total", status=status) == count + 1, status


def ports_with_metrics(count: int) -> list[int]:
    """Free ports whose port + 1000 (the metrics port) is free too."""
    chosen: list[int] = []
    while len(chosen) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 1000 > 65535 or port in chosen or port + 1000 in chosen:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1000))
            except OSError:
                continue
        chosen.append(port)
    return chosen


@contextlib.asynccontextmanager
async def fake_llm(log_dir: Path, rate_limited: int) -> AsyncIterator[str]:
    """The fake model as a process whose first `rate_limited` answers are 429s (with Retry-After)."""
    port = ports_with_metrics(1)[0]
    environment = {key: value for key, value in os.environ.items() if key != "PORT"}
    fake = ChildProcess(
        name="fake-llm",
        command=[sys.executable, "-m", "tests.fake_llm", "--port", str(port), "--latency", "0.01"],
        environment=environment,
        log_path=log_dir / "fake-llm.log",
    )
    await fake.start()
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            if await http_ready(f"{base_url}/models"):
                break
            assert not fake.exited(), fake.log_tail()
            await asyncio.sleep(0.1)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}/_fake/config", json={"fault_plan": ["rate_limited"] * rate_limited}
            ) as response,
        ):
            assert response.status == 200, await response.text()
        yield base_url
    finally:
        await fake.stop(grace_s=3)


@dataclass
class Exported:
    """What one server's /metrics holds."""

    names: set[str] = field(default_factory=set)
    """Series names a query can name: samples seen, plus the series of families without samples yet."""
    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    samples: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=lambda: defaultdict(list))


SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "untyped": ("",),
    "unknown": ("",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}


def read_exposition(text: str) -> Exported:
    exported = Exported()
    for family in text_string_to_metric_families(text):
        exported.names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
        for sample in family.samples:
            exported.names.add(sample.name)
            exported.labels[sample.name] |= set(sample.labels)
            exported.samples[sample.name].append((sample.labels, sample.value))
            for label, value in sample.labels.items():
                exported.values[(sample.name, label)].add(value)
    return exported


def test_exposition_reading() -> None:
    exported = read_exposition(
        "# HELP a_total A.\n# TYPE a_total counter\n"
        "# HELP b_seconds B.\n# TYPE b_seconds histogram\n"
        'b_seconds_bucket{le="1.0",phase="x"} 1.0\nb_seconds_bucket{le="+Inf",phase="x"} 1.0\n'
        'b_seconds_sum{phase="x"} 0.5\nb_seconds_count{phase="x"} 1.0\n'
    )
    assert {"a_total", "b_seconds_bucket", "b_seconds_sum", "b_seconds_count"} <= exported.names
    assert "a" not in exported.names and "a_total" not in exported.labels, "a counter without samples has no labels"
    assert exported.labels["b_seconds_bucket"] == {"le", "phase"}
    assert exported.values[("b_seconds_count", "phase")] == {"x"}


async def scrape(port: int) -> Exported:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            return read_exposition(await response.text())


def total(exported: Exported, name: str, **labels: str) -> float:
    return sum(
        value
        for sample_labels, value in exported.samples.get(name, [])
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )


async def run_client(*args: str) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "clients" / "python" / "run_study.py"),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 180)
    assert stdout, stderr.decode()
    return json.loads(stdout)


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="function")
async def test_servers_export_every_metric_the_dashboard_and_alerts_name(
    observability: list[dict[str, Any]], tmp_path: Path
) -> None:
    async with fake_llm(tmp_path / "logs", rate_limited=2) as base_url:
        for attempt in range(3):  # ports found free may be taken before the servers bind them: new ones
            ports = dict(zip(DEFAULT_PORTS, ports_with_metrics(len(DEFAULT_PORTS)), strict=True))
            mesh = LocalMesh(
                data_dir=tmp_path / f"data-{attempt}",
                ports=ports,
                llm_base_url=base_url,
                extra_environment={
                    "LLM_MODEL": "fake-model",
                    "LLM_RESPONSE_FORMAT": "json_schema",
                    "LLM_BACKOFF_BASE_S": "0.01",
                    "LLM_BACKOFF_MAX_S": "0.1",
                    "LOG_LEVEL": "WARNING",
                },
            )
            try:
                await mesh.start()
                break
            except MeshStartError:
                if attempt == 2:
                    raise
        try:
            address = mesh.address("orchestrator")
            result = await run_client("--address", address)
            assert result["status"] in ("STUDY_STATUS_COMPLETED", "STUDY_STATUS_PARTIAL"), result
            error = await run_client("--address", address, "--invalid", "rounds")
            assert error["code"] == "INVALID_ARGUMENT", error
            exported = {name: await scrape(port + 1000) for name, port in ports.items()}
            for _ in range(50):  # the runner closes the study's books just after the operation is done
                if total(exported["orchestrator"], "orchestrator_studies_running") == 0:
                    break
                await asyncio.sleep(0.1)
                exported["orchestrator"] = await scrape(ports["orchestrator"] + 1000)
        finally:
            await mesh.stop(grace_s=5)

    # Every server exports the runtime's gRPC metrics and its process' metrics.
    for name, metrics in exported.items():
        for series in (
            "grpc_server_started_total",
            "grpc_server_handled_total",
            "grpc_server_handling_seconds_bucket",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
        ):
            assert series in metrics.names, f"{name} does not export {series}"

    # The study and the refused request were counted where they happened.
    orchestrator = exported["orchestrator"]
    assert total(orchestrator, "orchestrator_studies_started_total", resumed="false") >= 1
    assert total(orchestrator, "orchestrator_studies_finished_total") >= 1
    assert total(orchestrator, "orchestrator_studies_running") == 0
    assert total(orchestrator, "orchestrator_study_stalled_seconds") == 0
    for phase in ("creating_agents", "simulating", "extracting"):
        assert total(orchestrator, "orchestrator_study_phase_duration_seconds_count", phase=phase) >= 1, phase
    assert total(orchestrator, "grpc_server_handled_total", grpc_method="RunStudy", grpc_code="INVALID_ARGUMENT") >= 1
    llm_services = [name for name, metrics in exported.items() if total(metrics, "llm_requests_total")]
    assert "simulation" in llm_services and "extraction" in llm_services, llm_services
    assert sum(total(metrics, "llm_requests_total", outcome="rate_limited") for metrics in exported.values()) >= 1

    # Every metric of every query is exported by some server, and so are its labels and the label
    # values a matcher asks for wherever the metric has samples.
    names = set().union(*(metrics.names for metrics in exported.values()))
    labels: dict[str, set[str]] = defaultdict(set)
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for metrics in exported.values():
        for series, series_labels in metrics.labels.items():
            labels[series] |= series_labels
        for key, seen in metrics.values.items():
            values[key] |= seen
    problems = []
    for where, expr in [*dashboard_queries(), *alert_queries(observability)]:
        query = parse_promql(without_grafana_variables(expr))
        for metric in sorted(query.metrics - names):
            problems.append(f"{where}: no server exports {metric}")
        # A family without samples yet (no checkpoint failed, no attempt was cut) shows no label names.
        if all(metric in labels for metric in query.metrics):
            known = TARGET_LABELS | {"le"} | set().union(*(labels[m] for m in query.metrics))
            for label in sorted(query.grouping - known):
                problems.append(f"{where}: no series of {sorted(query.metrics)} has the label {label}")
        for metric, label, operator, value in query.matchers:
            if label in TARGET_LABELS or metric not in labels:
                continue
            if label not in labels[metric]:
                problems.append(f"{where}: {metric} has no label {label}")
            elif operator == "=" and value not in values[(metric, label)]:
                problems.append(f"{where}: {metric} never had {label}={value!r} (seen: {values[(metric, label)]})")
    assert not problems, "\n".join(problems)


def test_install_promtool_script_is_valid_bash() -> None:
    script = ROOT / "scripts" / "install-promtool.sh"
    assert os.access(script, os.X_OK), "scripts/install-promtool.sh must be executable"
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
