"""The ``discover`` command through ``kubefence.cli.main``: formats, options, inputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubefence import load_connections_file
from kubefence.cli import main

APP = """\
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
        ports: [{containerPort: 8080}]
        env:
        - {name: API_HOST, value: api}
        - {name: API_PORT, value: "80"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1, ports: [{containerPort: 9000, name: http}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
"""

EXPECTED_TXT = """\
0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080
    {f}:16 Service shop/web type: NodePort
shop/web[Deployment] => kube-system/kube-dns[Deployment] : TCP 53,UDP 53
    {f}:1 Deployment shop/web resolves Service names: api
shop/web[Deployment] => shop/api[Deployment] : TCP 9000
    {f}:13 Deployment shop/web container web env API_HOST, port from env API_PORT: api (port 80)
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(APP, encoding="utf-8")
    return path


def test_txt(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", str(app)]) == 0
    out, err = capsys.readouterr()
    assert out == EXPECTED_TXT.format(f=app)
    assert err == f"warning: {app}:34: skipped 1 ServiceAccount object: this kind is not used here\n"


def test_quiet(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", "-q", str(app)]) == 0
    assert capsys.readouterr().err == ""


def test_json_is_the_generate_input(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "needed.json"
    assert main(["discover", "-q", "-o", "json", "-f", str(out_file), str(app)]) == 0
    assert capsys.readouterr().out == ""
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert [(c["src"], c["dst"], c["conn"]) for c in data["connections"]] == [
        ("0.0.0.0-255.255.255.255[External]", "shop/web[Deployment]", "TCP 8080"),
        ("shop/web[Deployment]", "kube-system/kube-dns[Deployment]", "TCP 53,UDP 53"),
        ("shop/web[Deployment]", "shop/api[Deployment]", "TCP 9000"),
    ]
    assert [str(c) for c in load_connections_file(out_file).connections] == [
        line for line in EXPECTED_TXT.splitlines() if not line.startswith(" ")
    ]


def test_yaml(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", "-q", "-o", "yaml", str(app)]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["connections"][2]["evidence"][0]["via"] == "env API_HOST, port from env API_PORT"


@pytest.mark.parametrize(
    ("fmt", "needle"), [("csv", "src,dst,conn,reason,evidence"), ("md", "| src |"), ("dot", "->")]
)
def test_other_formats(app: Path, capsys: pytest.CaptureFixture[str], fmt: str, needle: str) -> None:
    assert main(["discover", "-q", "-o", fmt, str(app)]) == 0
    assert needle in capsys.readouterr().out


def test_dns_options(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["discover", "-q", "--dns-namespace", "dns", "--dns-selector", "app=coredns", "--dns-port", "5353"]
    assert main([*argv, str(app)]) == 0
    assert "shop/web[Deployment] => dns/coredns[Deployment] : TCP 5353,UDP 5353" in capsys.readouterr().out
    assert main(["discover", "-q", "--no-dns", str(app)]) == 0
    assert "kube-dns" not in capsys.readouterr().out


def test_bad_dns_selector_is_a_usage_error(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", "--dns-selector", "kube-dns", str(app)]) == 2
    assert "--dns-selector" in capsys.readouterr().err


def test_stdin(app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(app.read_text(encoding="utf-8")))
    assert main(["discover", "-q", "-"]) == 0
    assert "<stdin>:13 Deployment shop/web container web env API_HOST" in capsys.readouterr().out


def test_missing_path_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", str(tmp_path / "nope")]) == 2
    assert (
        capsys.readouterr().err
        == f"kubefence: error: no such file or directory: {tmp_path / 'nope'} (check the path)\n"
    )


def test_bad_manifest_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: [1, 2]\n", encoding="utf-8")
    assert main(["discover", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kubefence: error: {bad}:4: ConfigMap x: data must be a mapping, got list")


def test_chart_without_helm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["discover", str(chart)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kubefence: error: {chart} is a Helm chart: rendering it needs `helm` on PATH")


def test_kustomization_without_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "kustomization.yaml").write_text("resources: []\n", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["discover", str(base)]) == 2
    assert "needs `kustomize` or `kubectl` on PATH" in capsys.readouterr().err


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "discover" in capsys.readouterr().out
    assert main(["discover", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--dns-namespace", "--dns-selector", "--dns-port", "--no-dns", "yaml"):
        assert option in out
