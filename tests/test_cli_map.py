"""The ``map`` command through ``kubefence.cli.main``: formats, output files, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kubefence import __version__
from kubefence.cli import main

MANIFESTS = {
    "shop/namespace.yaml": """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
          labels: {team: shop}
        """,
    "shop/apps.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  ports: [{containerPort: 8080, name: http}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: shop}
        spec:
          template:
            metadata: {labels: {app: api}}
            spec: {containers: [{name: api}]}
        """,
    "shop/policies/web.yml": """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Ingress, Egress]
          ingress:
            - from: [{podSelector: {matchLabels: {app: api}}}]
              ports: [{port: http}]
        """,
    "data/db.json": json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "data"},
            "spec": {"template": {"metadata": {"labels": {"app": "db"}}}},
        }
    ),
    "data/policy.yaml": """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db, namespace: data}
        spec:
          podSelector: {}
          ingress:
            - from: [{namespaceSelector: {matchLabels: {team: shop}}}]
              ports: [{port: 5432}]
        """,
    "notes.txt": "this is not a manifest: [\n",
}

EXPECTED_TXT = """\
0.0.0.0-255.255.255.255[External] => shop/api[Deployment] : All Connections
data/db[StatefulSet] => 0.0.0.0-255.255.255.255[External] : All Connections
data/db[StatefulSet] => shop/api[Deployment] : All Connections
shop/api[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections
shop/api[Deployment] => data/db[StatefulSet] : TCP 5432
shop/api[Deployment] => shop/web[Deployment] : TCP 8080
"""

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    for name, text in MANIFESTS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_map_txt(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "map", str(tree))
    assert code == 0
    assert err == ""
    assert out == EXPECTED_TXT


def test_map_several_paths(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", str(tree / "shop"), str(tree / "data" / "db.json"), str(tree / "data"))
    assert code == 0
    # db.json read twice: the same workload, no duplicate lines
    assert out == EXPECTED_TXT


def test_map_json(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", str(tree), "-o", "json")
    assert code == 0
    data = json.loads(out)
    conns = data["connections"]
    assert [f"{c['src']} => {c['dst']} : {c['conn']}" for c in conns] == EXPECTED_TXT.splitlines()
    assert all({"src", "dst", "conn"} <= set(c) for c in conns)
    assert conns[2]["src_kind"] == "workload"
    assert conns[0]["src_kind"] == "ip"


def test_map_csv(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", str(tree), "--output", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["src", "dst", "conn"]
    assert rows[1:] == [line.replace(" => ", " : ").split(" : ") for line in EXPECTED_TXT.splitlines()]


def test_map_md(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", str(tree), "-o", "md")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "## Connectivity map"
    assert "| src | dst | conn |" in lines
    assert "| shop/api[Deployment] | shop/web[Deployment] | TCP 8080 |" in lines
    assert sum(1 for line in lines if line.startswith("| ")) == 1 + len(EXPECTED_TXT.splitlines())


def test_map_dot(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", str(tree), "-o", "dot")
    assert code == 0
    assert out.startswith("digraph ")
    assert out.rstrip().endswith("}")
    # one cluster per namespace with workloads in the map
    assert out.count("subgraph cluster_") == 2
    assert 'label="shop";' in out
    assert 'label="data";' in out
    assert '"shop/api[Deployment]" -> "shop/web[Deployment]" [label="TCP 8080"]' in out


def test_svg_without_graphviz(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    out_dir = tree.parent / "out"
    out_dir.mkdir()
    target = out_dir / "map.svg"
    for extra in ([], ["-f", str(target)]):
        code, out, err = run(capsys, "map", str(tree), "-o", "svg", *extra)
        assert code == 2
        assert out == ""
        assert len(err.splitlines()) == 1
        assert err.startswith("kubefence: error: ")
        assert "dot" in err
        assert "Traceback" not in err
    assert not target.exists()
    assert list(out_dir.iterdir()) == []  # no temporary file left behind either


def test_output_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tree.parent / "map.txt"
    code, out, _ = run(capsys, "map", str(tree), "-f", str(target))
    assert code == 0
    assert out == ""
    assert target.read_text(encoding="utf-8") == EXPECTED_TXT
    # the file is replaced whole
    code, out, _ = run(capsys, "map", str(tree), "--file", str(target), "-o", "json")
    assert code == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))["connections"]) == len(
        EXPECTED_TXT.splitlines()
    )
    assert sorted(p.name for p in tree.parent.iterdir()) == ["manifests", "map.txt"]


def test_output_file_in_missing_directory(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "map", str(tree), "-f", str(tree.parent / "nope" / "map.txt"))
    assert code == 2
    assert err.startswith("kubefence: error: ")
    assert len(err.splitlines()) == 1


def test_bad_input(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tree / "shop" / "policies" / "web.yml"
    text = bad.read_text(encoding="utf-8").replace("ports: [{port: http}]", "ports: [{port: 70000}]")
    bad.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "70000" in t)
    code, out, err = run(capsys, "map", str(tree))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"kubefence: error: {bad}:{line}: ")
    assert "port 70000 is out of range" in err
    assert "Traceback" not in err


def test_malformed_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a: b\n", encoding="utf-8")
    code, out, err = run(capsys, "map", str(bad))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [err.rstrip("\n")]
    assert err.startswith(f"kubefence: error: {bad}:4: malformed YAML")


def test_nonexistent_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing"
    code, out, err = run(capsys, "map", str(missing))
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("kubefence: error: ")
    assert str(missing) in err


def test_usage_errors(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "map")
    assert code == 2
    assert out == ""
    assert "PATH" in err
    code, _, err = run(capsys, "map", str(tree), "-o", "pdf")
    assert code == 2
    assert "pdf" in err
    code, _, _ = run(capsys, "no-such-command")
    assert code == 2


def test_warnings_and_quiet(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "config.yaml").write_text(CONFIGMAP, encoding="utf-8")
    code, out, err = run(capsys, "map", str(tree))
    assert code == 0
    assert out == EXPECTED_TXT
    assert err.splitlines() == [
        f"warning: {tree / 'config.yaml'}:1: skipped 1 ConfigMap object: this kind is not used here"
    ]
    for flag in ("--quiet", "-q"):
        code, out, err = run(capsys, "map", str(tree), flag)
        assert code == 0
        assert out == EXPECTED_TXT
        assert err == ""


def test_focus_workload(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", str(tree), "--focus-workload", "data/db")
    assert code == 0
    assert out.splitlines() == [line for line in EXPECTED_TXT.splitlines() if "data/db" in line]
    assert len(out.splitlines()) == 3


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["-h"], ["map", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0
        text = " ".join(out.split())
        assert "Exit codes: 0 success, 1 findings" in text
        assert "2 usage or input error" in text


def test_version_via_python_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kubefence", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout
    assert "kubefence" in proc.stdout


def test_stdin(tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = (tree / "shop" / "apps.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code, out, _ = run(capsys, "map", "-")
    assert code == 0
    assert "shop/api[Deployment] => shop/web[Deployment] : All Connections" in out.splitlines()


def test_two_expressions_on_one_key(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tree / "shop" / "policies" / "web.yml"
    text = policy.read_text(encoding="utf-8").replace(
        "from: [{podSelector: {matchLabels: {app: api}}}]",
        "from: [{podSelector: {matchExpressions: "
        "[{key: app, operator: Exists}, {key: app, operator: NotIn, values: [web]}]}}]",
    )
    assert text != policy.read_text(encoding="utf-8")
    policy.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "map", str(tree))
    assert (code, err) == (0, "")
    assert out == EXPECTED_TXT
