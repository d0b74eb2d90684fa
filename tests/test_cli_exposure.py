"""The CLI of exposure analysis and netpol-analyzer's query options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubefence.cli import main

# web may reach db's pg port (an admin policy governs db's ingress); every other pod is denied
MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, ports: [{containerPort: 5432, name: pg}]}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: protect-db}
spec:
  priority: 10
  subject:
    pods:
      namespaceSelector: {}
      podSelector: {matchLabels: {app: db}}
  ingress:
  - name: web-to-pg
    action: Allow
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]
    ports: [{namedPort: pg}]
  - name: nothing-else
    action: Deny
    from: [{namespaces: {}}]
"""
WEB, DB = "shop/web[Deployment]", "shop/db[Deployment]"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


WIDE_OPEN = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: frontend}}}]
    ports: [{port: 8080}]
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS.lstrip() + WIDE_OPEN, encoding="utf-8")
    return path


def test_exposure_txt_and_json(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", "--exposure", str(shop))
    assert code == 0
    assert "Exposure Analysis Result:" in out
    assert f"{WEB} \t<= \t[namespace with {{team=frontend}}]/[all pods] : TCP 8080" in out
    assert f"{DB}   \t<= \tentire-cluster : No Connections" not in out  # denied everywhere: not exposed
    assert f"{WEB} is not protected on Egress" in out
    code, out, _ = run(capsys, "map", "--exposure", "-o", "json", str(shop))
    data = json.loads(out)
    assert {
        "workload": WEB,
        "direction": "ingress",
        "peer": {
            "type": "pods",
            "namespace": None,
            "namespace_selector": "team=frontend",
            "pod_selector": None,
        },
        "conn": "TCP 8080",
    } in data["exposure"]
    assert {"workload": DB, "direction": "egress"} in data["unprotected"]
    assert {"workload": DB, "direction": "ingress"} not in data["unprotected"]


def test_focus_options(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", "--focus-workload", "db", "--focus-direction", "ingress", str(shop))
    assert code == 0
    # the admin policy denies pods, not addresses
    assert out.splitlines() == [
        f"0.0.0.0-255.255.255.255[External] => {DB} : All Connections",
        f"{WEB} => {DB} : TCP 5432",
    ]
    code, out, _ = run(capsys, "map", "--focus-conn", "tcp-5432", str(shop))
    assert out.splitlines()[0] == "Permitted connections on TCP 5432:"
    assert f"{WEB} => {DB}" in out.splitlines()
    code, out, err = run(capsys, "map", "--focus-workload", "db,nope", str(shop))
    assert code == 2 and out == ""
    assert err.strip().endswith(
        "focus workload 'nope' is not in the input: give ns/name or name of a workload"
    )
    code, _, err = run(capsys, "map", "--focus-direction", "egress", str(shop))
    assert code == 2 and "need --focus-workload" in err


def test_explain_only_and_explain_with_exposure(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", "--explain", "--explain-only", "deny", "-o", "json", str(shop))
    assert code == 0
    pairs = json.loads(out)["explanations"]
    assert pairs and all(p["allowed"] != p["query"] for p in pairs)
    code, out, _ = run(capsys, "map", "--explain", "--exposure", "-o", "json", str(shop))
    data = json.loads(out)
    assert set(data) == {"explanations", "exposure", "unprotected"}
    # the potential peers are explained too: the rule that opened web to team=frontend namespaces
    (opened,) = [e for e in data["exposure"] if e["peer"].get("namespace_selector") == "team=frontend"]
    assert opened["cites"] == [
        {
            "policy": {"kind": "NetworkPolicy", "namespace": "shop", "name": "web-in"},
            "rule": "#1",
            "action": "allow",
        },
        {
            "policy": {"kind": "NetworkPolicy", "namespace": "shop", "name": "web-in"},
            "rule": None,
            "action": "isolated",
        },
    ]
    cites = [
        c
        for p in data["explanations"]
        for d in p["directions"]
        for dec in d["decisions"]
        for c in dec["cites"]
    ]
    assert {
        "policy": {"kind": "NetworkPolicy", "namespace": "shop", "name": "web-in"},
        "rule": None,
        "action": "isolated",
    } in cites
    code, _, err = run(capsys, "map", "--explain-only", "allow", str(shop))
    assert code == 2 and "--explain-only needs --explain" in err
