"""Observed traffic end to end: flows generated from exactly the connectivity discover finds for the
bundled example are found again by ``discover --flows-only``; ``audit`` of them against the policies
``generate`` made denies nothing; one undeclared flow is denied, with the rule that denies it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from gen_flows import connections_of, write_records  # noqa: E402
from kubefence.analysis.discover.flows_resolve import ResolveOptions, resolve_flows  # noqa: E402
from kubefence.api import (  # noqa: E402
    audit_flows,
    discover_connections,
    discover_with_flows,
    generate_policies,
    load_cluster,
    policy_files,
    read_flow_log,
)
from kubefence.cli import main  # noqa: E402
from kubefence.model.connectivity import ExternalPeer  # noqa: E402
from kubefence.model.flows import FlowEndpoint, FlowLog, ObservedFlow  # noqa: E402
from kubefence.report.audit_view import denial_text  # noqa: E402

SHOP = ROOT / "examples" / "shop"


@pytest.fixture(scope="module")
def shop_flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("flows") / "hubble.json.gz"
    write_records(connections_of([str(SHOP)]), str(out), 30_000, seed=3)
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("policies")
    for name, text in policy_files(generate_policies([str(SHOP)])).items():
        (out / name).write_text(text)
    return out


def _pairs(result_connections: object) -> dict[tuple[str, str], str]:
    return {(str(c.src), str(c.dst)): str(c.conn) for c in result_connections}  # type: ignore[attr-defined]


def test_discover_flows_only_finds_the_declared_pairs(shop_flows: Path) -> None:
    declared = discover_connections([str(SHOP)])
    observed = discover_with_flows([str(SHOP)], [shop_flows], flows_only=True)
    inside = {k: v for k, v in _pairs(declared.connections).items() if "[External]" not in k[0] + k[1]}
    found = {k: v for k, v in _pairs(observed.connections).items() if "[External]" not in k[0] + k[1]}
    assert found == inside
    # the outside: observed addresses lie within the declared ranges, on the same ports
    outside = [c for c in declared.connections if isinstance(c.src, ExternalPeer)]
    seen = [c for c in observed.connections if isinstance(c.src, ExternalPeer)]
    assert seen and len(seen) == len(outside)
    for c in seen:
        match = next(d for d in outside if d.dst == c.dst)
        assert isinstance(c.src, ExternalPeer) and isinstance(match.src, ExternalPeer)
        assert c.src.ips <= match.src.ips and c.conn == match.conn
    # every observed connection carries its evidence; the unresolvable records are reported
    for c in observed.connections:
        assert c.evidence and all(e.file == str(shop_flows) and e.line > 0 for e in c.evidence)
    assert any("resolve to no workload" in w.message for w in observed.warnings)
    assert any("dropped are not learned" in w.message for w in observed.warnings)


def test_discover_with_flows_adds_evidence_to_declared_connections(shop_flows: Path) -> None:
    merged = discover_with_flows([str(SHOP)], [shop_flows])
    declared = discover_connections([str(SHOP)])
    assert _pairs(merged.connections) == _pairs(declared.connections)
    web = merged.get("shop-frontend/web[Deployment]", "shop-frontend/api-gateway[Deployment]")
    assert web is not None and {r.value for r in web.reasons} == {"service", "observed"}
    kinds = {type(e).__name__ for e in web.evidence}
    assert kinds == {"Evidence", "FlowEvidence"}


def test_audit_against_generated_policies_denies_nothing(shop_flows: Path, generated: Path) -> None:
    result = audit_flows([str(SHOP / "shop-frontend" / "web.yaml"), *_app(), str(generated)], [shop_flows])
    assert result.ok, [f"{a.flow.src} {a.flow.dst}" for a in result.would_break]
    assert len(result.allowed) > 20
    # the undeclared traffic the generator drops is denied, and already dropped now: not a finding
    assert result.denied and all(not a.would_break for a in result.denied)


def _app() -> list[str]:
    """The example without its own policies (those generate replaces)."""
    return [str(p) for p in sorted(SHOP.rglob("*.yaml")) if "networkpolicies" not in p.name]


def test_one_undeclared_flow_is_denied_with_its_rule(
    shop_flows: Path, generated: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "extra.json"
    record = {
        "time": "2024-05-02T00:00:00Z",
        "verdict": "FORWARDED",
        "IP": {"source": "10.244.9.1", "destination": "10.244.9.2"},
        "l4": {"TCP": {"source_port": 40000, "destination_port": 6379}},
        "source": {
            "namespace": "shop-frontend",
            "pod_name": "web-abcdefghij-zzzzz",
            "labels": ["k8s:app=web"],
        },
        "destination": {"namespace": "shop-data", "pod_name": "redis-0", "labels": ["k8s:app=redis"]},
        "is_reply": False,
    }
    extra.write_text(json.dumps({"flow": record}) + "\n")
    result = audit_flows([*_app(), str(generated)], [shop_flows, extra])
    assert not result.ok
    (broken,) = result.would_break
    assert (str(broken.flow.src), str(broken.flow.dst)) == (
        "shop-frontend/web[Deployment]",
        "shop-data/redis[StatefulSet]",
    )
    assert broken.flow.sample.file == str(extra) and broken.flow.sample.line == 1
    reasons = [denial_text(d) for d in broken.denied_by]
    assert any("kubefence-default-deny" in reason for reason in reasons), reasons
    out = tmp_path / "audit.txt"
    code = main(
        [
            "audit",
            *_app(),
            str(generated),
            "--flows",
            str(shop_flows),
            "--flows",
            str(extra),
            "-q",
            "-f",
            str(out),
        ]
    )
    assert code == 1
    text = out.read_text()
    assert "denied: shop-frontend/web[Deployment] => shop-data/redis[StatefulSet] : TCP 6379" in text
    for fmt in ("json", "csv", "md", "html"):
        target = tmp_path / f"audit.{fmt}"
        assert (
            main(
                ["audit", *_app(), str(generated), "--flows", str(extra), "-q", "-o", fmt, "-f", str(target)]
            )
            == 1
        )
        assert "shop-data/redis[StatefulSet]" in target.read_text()
    data = json.loads((tmp_path / "audit.json").read_text())
    assert data["summary"]["would_break"] == 1 and data["denied"][0]["sample"]["line"] == 1


def test_unused_privilege(shop_flows: Path) -> None:
    # the example's own policies allow more than its traffic uses (web may reach postgres)
    result = audit_flows([str(SHOP)], [shop_flows])
    unused = {(str(u.src), str(u.dst)) for u in result.unused}
    assert ("shop-frontend/web[Deployment]", "shop-data/postgres[StatefulSet]") in unused
    assert ("shop-frontend/web[Deployment]", "shop-frontend/api-gateway[Deployment]") not in unused


def test_generate_with_flows_allows_observed_traffic(shop_flows: Path, tmp_path: Path) -> None:
    out = tmp_path / "policies"
    assert main(["generate", str(SHOP), "--flows", str(shop_flows), "-d", str(out), "-q"]) == 0
    result = audit_flows([*_app(), str(out)], [shop_flows])
    assert result.ok


def _log(*flows: ObservedFlow) -> FlowLog:
    return FlowLog(tuple(flows))


def _flow(src: FlowEndpoint, dst: FlowEndpoint, port: int = 8080, proto: str = "TCP") -> ObservedFlow:
    return ObservedFlow(src, dst, proto, port, count=5)


def test_resolution_paths() -> None:
    cluster = load_cluster([str(SHOP)])
    web = FlowEndpoint(namespace="shop-frontend", pod="web-7d9c5b8f4b-x2x9k")
    cases = {
        # the owner the log names
        FlowEndpoint(
            namespace="shop-backend", workload="cart", workload_kind="Deployment"
        ): "shop-backend/cart[Deployment]",
        # a ReplicaSet named as a Deployment's
        FlowEndpoint(
            namespace="shop-backend", workload="cart-5d8f7c9b4", workload_kind="ReplicaSet"
        ): "shop-backend/cart[Deployment]",
        # StatefulSet ordinals
        FlowEndpoint(namespace="shop-data", pod="redis-2"): "shop-data/redis[StatefulSet]",
        # a CronJob's pod
        FlowEndpoint(
            namespace="payments", pod="settlement-report-28391234-abcde"
        ): "payments/settlement-report[CronJob]",
        # labels that only one workload of the namespace has
        FlowEndpoint(
            namespace="shop-backend", labels=(("app", "orders"), ("db-user", "orders"), ("tier", "backend"))
        ): "shop-backend/orders[Deployment]",
        # not in the input: the owner the pod name implies, DNS, the ingress controller
        FlowEndpoint(
            namespace="monitoring", pod="prometheus-7c9d8f6b5-abcde"
        ): "monitoring/prometheus[Deployment]",
        FlowEndpoint(
            namespace="kube-system", pod="coredns-5dd5756b68-qwert"
        ): "kube-system/kube-dns[Deployment]",
        FlowEndpoint(
            namespace="ingress-nginx", pod="ingress-nginx-controller-abc12def3-xyz12"
        ): "{ingress-controller}",
        FlowEndpoint(ip="93.184.216.34", reserved=("world",)): "93.184.216.34-93.184.216.34[External]",
    }
    flows = [_flow(web, dst) for dst in cases]
    observed = resolve_flows(cluster, _log(*flows))
    got = {str(f.dst) for f in observed.flows}
    assert got == set(cases.values())
    # the web pod itself: by the Deployment pattern, with a warning
    assert {str(f.src) for f in observed.flows} == {"shop-frontend/web[Deployment]"}
    assert any("naming pattern" in w.message for w in observed.warnings)
    info = {str(p.peer): p for p in observed.peers}
    assert info["kube-system/kube-dns[Deployment]"].labels == (("k8s-app", "kube-dns"),)


def test_services_resolve_to_their_workloads_on_the_target_port() -> None:
    cluster = load_cluster([str(SHOP)])
    web = FlowEndpoint(namespace="shop-frontend", workload="web", workload_kind="Deployment")
    api = FlowEndpoint(service="shop-frontend/api-gateway", ip="10.96.3.4")
    unknown = FlowEndpoint(service="elsewhere/thing", ip="10.96.9.9")
    observed = resolve_flows(cluster, _log(_flow(web, api, port=80), _flow(web, unknown, port=80)))
    (f,) = observed.flows
    assert (str(f.dst), f.port) == ("shop-frontend/api-gateway[Deployment]", 8080)
    assert observed.unresolved == 5
    assert any("elsewhere/thing is not in the input" in w.message for w in observed.warnings)


def test_min_count_and_internal_traffic() -> None:
    cluster = load_cluster([str(SHOP)])
    web = FlowEndpoint(namespace="shop-frontend", workload="web", workload_kind="Deployment")
    api = FlowEndpoint(namespace="shop-frontend", workload="api-gateway", workload_kind="Deployment")
    observed = resolve_flows(cluster, _log(_flow(web, api), _flow(web, web)), ResolveOptions(min_count=6))
    assert observed.flows == () and observed.rare == 5 and observed.internal == 5


def test_cli_options(shop_flows: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.json"
    code = main(
        [
            "discover",
            str(SHOP),
            "--flows",
            str(shop_flows),
            "--flows-only",
            "--min-count",
            "100000",
            "-o",
            "json",
            "-f",
            str(out),
            "-q",
        ]
    )
    assert code == 0 and json.loads(out.read_text())["connections"] == []
    assert main(["discover", str(SHOP), "--flows-only"]) == 2
    assert "go with --flows" in capsys.readouterr().err
    assert main(["discover", str(SHOP), "--flows", str(shop_flows), "--since", "yesterday"]) == 2
    assert "RFC 3339" in capsys.readouterr().err
    code = main(
        [
            "discover",
            str(SHOP),
            "--flows",
            str(shop_flows),
            "--flows-only",
            "--since",
            "2030-01-01T00:00:00Z",
            "-o",
            "json",
            "-f",
            str(out),
            "-q",
        ]
    )
    assert code == 0 and json.loads(out.read_text())["connections"] == []
    assert main(["audit", str(SHOP)]) == 2
    assert read_flow_log([shop_flows]).records == 30_000


def _git(repo: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **env}
    )


def test_review_shows_observed_traffic_the_change_would_block(shop_flows: Path, tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(SHOP, repo / "app")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    web = repo / "app" / "shop-frontend" / "web.yaml"
    text = web.read_text()
    assert 'API_GATEWAY_URL: "http://api-gateway"' in text
    web.write_text(text.replace('API_GATEWAY_URL: "http://api-gateway"', 'API_GATEWAY_URL: ""'))
    _git(repo, "commit", "-qam", "web stops naming the gateway")
    md, html = tmp_path / "comment.md", tmp_path / "report.html"
    args = [
        "review",
        "--repo",
        str(repo),
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "app",
        "--flows",
        str(shop_flows),
    ]
    args += ["--markdown", str(md), "--html", str(html), "-q", "-f", str(tmp_path / "out.txt")]
    assert main(args) == 0  # shown, not a failure unless asked
    assert main([*args, "--fail-on", "blocked"]) == 1
    comment = md.read_text()
    assert "### Observed traffic this change would block" in comment
    rows = [x for x in comment.splitlines() if x.startswith("| shop-frontend/web[Deployment]")]
    assert any("| shop-frontend/api-gateway[Deployment] | TCP 8080 |" in row for row in rows), rows
    assert "Observed traffic this change would block" in html.read_text()


def test_pod_addresses_resolve_endpoints_given_only_by_address() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "api-6f7d8c9b5-abcde",
            "namespace": "shop",
            "labels": {"app": "api"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "api-6f7d8c9b5", "controller": True}],
        },
        "spec": {"containers": [{"name": "api", "image": "api:1"}]},
        "status": {"podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}]},
    }
    cluster = load_cluster([pod])
    src = FlowEndpoint(ip="10.244.1.7")
    dst = FlowEndpoint(ip="93.184.216.34", reserved=("world",))
    (f,) = resolve_flows(cluster, _log(_flow(src, dst, port=443))).flows
    assert (str(f.src), str(f.dst)) == (
        "shop/api-6f7d8c9b5[ReplicaSet]",
        "93.184.216.34-93.184.216.34[External]",
    )
