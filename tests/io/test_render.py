"""Helm charts and Kustomize directories: rendered through the ToolRunner interface.

Unit tests use :class:`FakeRunner`; the integration tests run the real programs when installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kubefence import DiscoverOptions, discover_connections
from kubefence.errors import InputError, Origin, ToolMissingError
from kubefence.io.render import (
    FakeRunner,
    SubprocessRunner,
    ToolResult,
    is_chart,
    is_kustomization,
    load_inputs,
)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        env: [{name: API_URL, value: "http://api:80/"}]
"""
API = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
"""
HELM_OUTPUT = f"""\
---
# Source: shop/templates/web.yaml
{DEPLOYMENT}---
# Source: shop/templates/api.yaml
{API}"""


def make_chart(root: Path) -> Path:
    chart = root / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("replicas: 1\n", encoding="utf-8")
    (chart / "templates" / "web.yaml").write_text(
        "metadata: {name: {{ .Release.Name }}}\n", encoding="utf-8"
    )  # not YAML before rendering
    return chart


def make_kustomization(root: Path) -> Path:
    base = root / "base"
    base.mkdir()
    (base / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (base / "api.yaml").write_text(API, encoding="utf-8")
    (base / "kustomization.yaml").write_text("resources: [web.yaml, api.yaml]\n", encoding="utf-8")
    return base


def helm_fake(chart: Path, result: ToolResult | None = None) -> FakeRunner:
    return FakeRunner(frozenset({"helm"}), {f"helm template {chart}": result or ToolResult(0, HELM_OUTPUT)})


def test_detection(tmp_path: Path) -> None:
    chart = make_chart(tmp_path)
    base = make_kustomization(tmp_path)
    assert is_chart(chart) and not is_kustomization(chart)
    assert is_kustomization(base) and not is_chart(base)
    assert not is_chart(tmp_path) and not is_kustomization(tmp_path)


def test_helm_chart_is_rendered_and_documents_point_at_their_templates(tmp_path: Path) -> None:
    chart = make_chart(tmp_path)
    runner = helm_fake(chart)
    docs = load_inputs([chart], runner=runner)
    assert runner.calls == [("helm", "template", str(chart))]
    assert [d.kind for d in docs] == ["Deployment", "Deployment", "Service"]
    assert docs[0].origin == Origin(f"{chart / 'templates' / 'web.yaml'} (helm template)", 0)
    assert docs[2].origin == Origin(f"{chart / 'templates' / 'api.yaml'} (helm template)", 0)


def test_discover_through_a_chart(tmp_path: Path) -> None:
    chart = make_chart(tmp_path)
    result = discover_connections([chart], runner=helm_fake(chart), options=DiscoverOptions(dns=False))
    (conn,) = result.connections
    assert str(conn) == "shop/web[Deployment] => shop/api[Deployment] : TCP 8080"
    evidence = conn.evidence[0]
    assert evidence.file == f"{chart / 'templates' / 'web.yaml'} (helm template)"
    assert evidence.line == 0  # a line of the rendered text would point nowhere
    assert evidence.via == "env API_URL"


def test_helm_missing(tmp_path: Path) -> None:
    chart = make_chart(tmp_path)
    with pytest.raises(ToolMissingError, match=r"is a Helm chart: rendering it needs `helm` on PATH"):
        load_inputs([chart], runner=FakeRunner())


def test_helm_failure_is_an_input_error_with_its_last_line(tmp_path: Path) -> None:
    chart = make_chart(tmp_path)
    failing = ToolResult(
        1, "", "walk.go:74: found symbolic link\nError: template: shop/templates/x.yaml:3: bad"
    )
    with pytest.raises(InputError) as err:
        load_inputs([chart], runner=helm_fake(chart, failing))
    assert str(err.value) == (
        f"{chart}: helm template failed: Error: template: shop/templates/x.yaml:3: bad "
        "(fix the chart or kustomization)"
    )


def test_kustomize_build_is_preferred(tmp_path: Path) -> None:
    base = make_kustomization(tmp_path)
    runner = FakeRunner(
        frozenset({"kustomize", "kubectl"}),
        {f"kustomize build {base}": ToolResult(0, DEPLOYMENT + "---\n" + API)},
    )
    docs = load_inputs([base], runner=runner)
    assert runner.calls == [("kustomize", "build", str(base))]
    assert [d.kind for d in docs] == ["Deployment", "Deployment", "Service"]
    assert docs[0].origin == Origin(f"{base} (kustomize build)", 0)


def test_kubectl_kustomize_is_the_fallback(tmp_path: Path) -> None:
    base = make_kustomization(tmp_path)
    runner = FakeRunner(frozenset({"kubectl"}), {f"kubectl kustomize {base}": ToolResult(0, API)})
    docs = load_inputs([base], runner=runner)
    assert runner.calls == [("kubectl", "kustomize", str(base))]
    assert docs[0].origin.file == f"{base} (kubectl kustomize)"


def test_kustomize_missing(tmp_path: Path) -> None:
    base = make_kustomization(tmp_path)
    with pytest.raises(ToolMissingError, match=r"needs `kustomize` or `kubectl` on PATH"):
        load_inputs([base], runner=FakeRunner())


def test_charts_inside_a_plain_directory_are_rendered(tmp_path: Path) -> None:
    chart = make_chart(tmp_path / "charts")
    (tmp_path / "extra.yaml").write_text(API, encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a manifest\n", encoding="utf-8")
    runner = helm_fake(chart)
    docs = load_inputs([tmp_path], runner=runner)
    assert runner.calls == [("helm", "template", str(chart))]
    assert [d.kind for d in docs] == ["Deployment", "Deployment", "Service", "Deployment", "Service"]


def test_files_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(API, encoding="utf-8")
    docs = load_inputs([tmp_path / "api.yaml", "-"], runner=FakeRunner(), stdin_text=DEPLOYMENT)
    assert [d.origin.file for d in docs] == [str(tmp_path / "api.yaml")] * 2 + ["<stdin>"]
    assert load_inputs(["-"], runner=FakeRunner(), read_stdin=lambda: API)[1].kind == "Service"


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        load_inputs([tmp_path / "nope"], runner=FakeRunner())


def test_subprocess_runner_reports_a_program_that_cannot_start(tmp_path: Path) -> None:
    result = SubprocessRunner().run([str(tmp_path / "not-a-program")])
    assert result.returncode == 127


# -- the real programs -----------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None, reason="no kustomize"
)
def test_real_kustomize(tmp_path: Path) -> None:
    base = make_kustomization(tmp_path)
    result = discover_connections([base], options=DiscoverOptions(dns=False))
    assert [str(c) for c in result.connections] == ["shop/web[Deployment] => shop/api[Deployment] : TCP 8080"]


@pytest.mark.skipif(shutil.which("helm") is None, reason="helm is not installed")
def test_real_helm(tmp_path: Path) -> None:
    chart = tmp_path / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "web.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (chart / "templates" / "api.yaml").write_text(API, encoding="utf-8")
    result = discover_connections([chart], options=DiscoverOptions(dns=False))
    (conn,) = result.connections
    assert conn.evidence[0].file == f"{chart / 'templates' / 'web.yaml'} (helm template)"
