"""``kubefence explain`` and ``kubefence map --explain`` through ``kubefence.cli.main``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kubefence.cli import main

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
DEFAULT = "allowed by default: no policy isolates this direction"


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS.lstrip(), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_an_allowed_port(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "explain", str(manifests), "--src", "shop/web", "--dst", "shop/db", "--port", "5432"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{WEB} => {DB} : allowed (TCP 5432)",
        f"  egress of {WEB}:",
        f"    TCP 5432: {DEFAULT} [default]",
        f"  ingress of {DB}:",
        "    TCP 5432: allowed by AdminNetworkPolicy protect-db (rule 'web-to-pg', priority 10) [Admin tier]",
    ]


def test_explain_a_denied_connection_names_the_rule(
    manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "explain",
        str(manifests),
        "--src",
        "web",
        "--dst",
        "db",
        "--port",
        "5432",
        "--protocol",
        "udp",
    )
    assert code == 0  # a denied connection is an answer, not an error
    assert out.splitlines()[0] == f"{WEB} => {DB} : denied"
    assert out.splitlines()[-1] == (
        "    UDP 5432: denied by AdminNetworkPolicy protect-db (rule 'nothing-else', priority 10) "
        "[Admin tier]"
    )


def test_explain_without_port_splits_the_connection(
    manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "explain", str(manifests), "--src", "shop/web[Deployment]", "--dst", "shop/db")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{WEB} => {DB} : partly allowed: TCP 5432"
    assert lines[-2:] == [
        "    TCP 5432: allowed by AdminNetworkPolicy protect-db (rule 'web-to-pg', priority 10) [Admin tier]",
        "    all connections except TCP 5432: denied by AdminNetworkPolicy protect-db "
        "(rule 'nothing-else', priority 10) [Admin tier]",
    ]


def test_explain_json(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "explain",
        str(manifests),
        "--src",
        "shop/db",
        "--dst",
        "shop/web",
        "--port",
        "8080",
        "-o",
        "json",
    )
    assert code == 0
    (pair,) = json.loads(out)["explanations"]
    assert (pair["src"], pair["dst"], pair["query"], pair["allowed"]) == (DB, WEB, "TCP 8080", "TCP 8080")
    assert [(d["direction"], d["subject"]) for d in pair["directions"]] == [("egress", DB), ("ingress", WEB)]
    assert {dec["layer"] for d in pair["directions"] for dec in d["decisions"]} == {"default"}


def test_explain_to_an_address(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", str(manifests), "--src", "203.0.113.9", "--dst", "shop/db", "--port", "5432"
    )
    assert code == 0
    # only the destination's ingress applies, and a namespaces peer covers no address
    assert out.splitlines() == [
        f"203.0.113.9-203.0.113.9[External] => {DB} : allowed (TCP 5432)",
        f"  ingress of {DB}:",
        f"    TCP 5432: {DEFAULT} [default]",
    ]


@pytest.mark.parametrize(
    ("src", "dst", "phrase"),
    [
        (
            "shop/nope",
            "shop/db",
            "kubefence: error: 'shop/nope' is neither a workload of the input, an IP address nor a domain "
            "name",
        ),
        (
            "shop/web",
            "other/db",
            "kubefence: error: 'other/db' is neither a workload of the input, an IP address nor a domain "
            "name",
        ),
        ("shop/web", "shop/web", "kubefence: error: 'shop/web' and 'shop/web' are the same workload"),
    ],
)
def test_unknown_workloads_exit_2_with_one_line(
    manifests: Path, capsys: pytest.CaptureFixture[str], src: str, dst: str, phrase: str
) -> None:
    code, out, err = run(capsys, "explain", str(manifests), "--src", src, "--dst", dst)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(phrase)
    assert "Traceback" not in err


def test_unknown_workload_error_lists_the_workloads(
    manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = run(capsys, "explain", str(manifests), "--src", "nope", "--dst", "db")
    assert err.rstrip("\n").endswith(f"workloads are: {DB}, {WEB}")


@pytest.mark.parametrize(
    "args",
    [
        ["--src", "shop/web"],
        ["--src", "shop/web", "--dst", "shop/db", "--port", "0"],
        ["--src", "shop/web", "--dst", "shop/db", "--port", "http"],
        ["--src", "shop/web", "--dst", "shop/db", "--protocol", "ICMP"],
    ],
    ids=["no-dst", "port-0", "port-name", "protocol"],
)
def test_usage_errors_exit_2(manifests: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = run(capsys, "explain", str(manifests), *args)
    assert code == 2
    assert out == ""
    assert "Error" in err
    assert "Traceback" not in err


def test_bad_input_exit_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MANIFESTS.lstrip().replace("priority: 10", "priority: 1001"), encoding="utf-8")
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "priority: 1001" in t)
    code, out, err = run(capsys, "explain", str(path), "--src", "shop/web", "--dst", "shop/db")
    assert (code, out) == (2, "")
    assert err == (
        f"kubefence: error: {path}:{line}: AdminNetworkPolicy protect-db: spec.priority: "
        "priority 1001 is out of range (use a whole number from 0 to 1000)\n"
    )


def test_map_explain_explains_every_pair(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", "--explain", str(manifests))
    assert code == 0
    heads = [
        line for line in out.splitlines() if line and not line.startswith(" ") and "[External]" not in line
    ]
    assert heads == [
        f"{DB} => {WEB} : allowed (all connections)",
        f"{WEB} => {DB} : partly allowed: TCP 5432",
    ]


def test_map_explain_json(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "map", "--explain", "-o", "json", str(manifests))
    assert code == 0
    pairs = json.loads(out)["explanations"]
    assert [(p["src"], p["dst"], p["allowed"]) for p in pairs if "[External]" not in p["src"] + p["dst"]] == [
        (DB, WEB, "All Connections"),
        (WEB, DB, "TCP 5432"),
    ]


WITH_INGRESS = """
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-nginx, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
"""


def test_explain_the_ingress_controller_and_its_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS.lstrip() + textwrap.dedent(WITH_INGRESS), encoding="utf-8")
    argv = ["explain", str(path), "--src", "{ingress-controller}", "--dst", "shop/web", "--port", "8080"]
    code, out, _ = run(capsys, *argv)  # the default namespace is ingress-nginx's
    assert code == 0
    assert out.splitlines()[0] == f"{{ingress-controller}} => {WEB} : allowed (TCP 8080)"
    code, out, _ = run(capsys, *argv, "--ingress-controller-namespace", "ingress-controller-ns")
    assert code == 0
    assert out.splitlines()[0] == f"{{ingress-controller}} => {WEB} : denied"


def test_map_explain_includes_the_ingress_controller_on_its_routed_ports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS.lstrip() + textwrap.dedent(WITH_INGRESS), encoding="utf-8")
    argv = ["map", "--explain", str(path), "--ingress-controller-namespace", "ingress-controller-ns"]
    code, out, _ = run(capsys, *argv[:-2])
    assert code == 0
    heads = [line for line in out.splitlines() if line and not line.startswith(" ")]
    # explained on every port: the route sends TCP 8080 only
    assert heads[-1] == f"{{ingress-controller}} => {WEB} : partly allowed: TCP 8080"
    code, out, _ = run(capsys, *argv)  # the controller is elsewhere: the route is blocked
    heads = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert heads[-1] == f"{{ingress-controller}} => {WEB} : denied"
    code, out, _ = run(capsys, "map", "--explain", str(path), "--focus-workload", "shop/db")
    assert "{ingress-controller}" not in out


def test_warnings_go_to_stderr_unless_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tie = textwrap.dedent(
        """
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: twin}
        spec:
          priority: 10
          subject: {namespaces: {}}
          ingress: []
        """
    )
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS.lstrip() + tie, encoding="utf-8")
    argv = ["explain", str(path), "--src", "shop/web", "--dst", "shop/db", "--port", "5432"]
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert "warning: " in err
    assert "same priority 10" in err
    quiet_code, quiet_out, quiet_err = run(capsys, *argv, "--quiet")
    assert (quiet_code, quiet_out, quiet_err) == (0, out, "")


def test_output_file(manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.txt"
    code, out, _ = run(capsys, "explain", str(manifests), "--src", "web", "--dst", "db", "-f", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8").startswith(f"{WEB} => {DB} : partly allowed: TCP 5432\n")


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "--help")
    assert code == 0
    assert "--src" in out
    assert "--dst" in out
    assert "Exit codes: 0" in out


def test_map_explain_keeps_to_the_focus_workload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--focus-workload: "Only connections from or to this workload" — explained ones included."""
    cache = textwrap.dedent(
        """
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: cache, namespace: shop}
        spec:
          template:
            metadata: {labels: {app: cache}}
            spec: {containers: [{name: cache}]}
        """
    )
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFESTS.lstrip() + cache, encoding="utf-8")
    code, out, _ = run(capsys, "map", "--explain", "--focus-workload", "shop/db", str(path))
    assert code == 0
    heads = [
        line.split(" : ")[0]
        for line in out.splitlines()
        if line and not line.startswith(" ") and "[External]" not in line
    ]
    assert heads == [
        f"shop/cache[Deployment] => {DB}",
        f"{DB} => shop/cache[Deployment]",
        f"{DB} => {WEB}",
        f"{WEB} => {DB}",
    ]
