"""The ``generate`` command through ``kubefence.cli.main``: stdout, -d DIR (GitOps), --check, inputs.

Exit codes are the contract: 0 success (and --check up to date), 1 --check found a difference,
2 usage or input error, as one line on stderr.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubefence.cli import main
from kubefence.io.policy_yaml import HEADER, MANAGED_BY_KEY, MANAGED_BY_VALUE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "shop"


def _rel(path: Path) -> str:
    """How diff headers name a file: a/ and b/ prefixes, without doubling an absolute path's slash."""
    return str(path).lstrip("/")


# web (shop) calls api (shop) by name and db (data) by its cluster name; web is exposed by a
# LoadBalancer and an Ingress. Ports are named where the containers name them.
APP = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, pod-template-hash: 5d8f9c7b6}}
    spec:
      containers:
      - name: web
        image: web:1
        ports: [{containerPort: 8080, name: http}]
        env:
        - {name: API_URL, value: "http://api:80/v1"}
        - {name: DB_HOST, value: db.data.svc.cluster.local}
        - {name: DB_PORT, value: "5432"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, tier: backend}}
    spec: {containers: [{name: api, image: api:1, ports: [{containerPort: 9000}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 9000}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, controller-revision-hash: db-7c9f}}
    spec: {containers: [{name: db, image: postgres:16, ports: [{containerPort: 5432, name: postgres}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {selector: {app: db}, ports: [{port: 5432, targetPort: postgres}]}
"""

ONE_NAMESPACE = APP.split("---\napiVersion: apps/v1\nkind: StatefulSet")[0]  # without data/db
FILES = ["data.yaml", "shop.yaml"]
NS_LABEL = "kubernetes.io/metadata.name"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app" / "app.yaml"
    path.parent.mkdir()
    path.write_text(APP, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{d['metadata']['namespace']}/{d['metadata']['name']}": d for d in docs}


def snapshot(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.iterdir()) if p.is_file()}


# -- stdout ----------------------------------------------------------------------------------------


def test_stdout_shows_every_file(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "generate", "-q", app)
    assert code == 0, err
    assert err == ""
    assert [line[2:] for line in out.splitlines() if line.endswith(".yaml")] == FILES
    assert out.count(HEADER.strip()) == 2
    assert "name: kubefence-default-deny" in out and "name: kubefence-web" in out


def test_stdout_of_one_namespace_is_the_file(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.yaml"
    one.write_text(ONE_NAMESPACE, encoding="utf-8")
    code, out, _ = run(capsys, "generate", "-q", one)
    assert code == 0
    assert out.startswith("# shop.yaml\n")
    run(capsys, "generate", "-q", one, "-d", tmp_path / "dir")
    assert out.removeprefix("# shop.yaml\n") == (tmp_path / "dir" / "shop.yaml").read_text(encoding="utf-8")


def test_stdout_is_one_yaml_stream_with_every_policy(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "generate", "-q", app)
    assert code == 0
    names = sorted(by_name(objects(out)))
    assert names == [
        "data/kubefence-db",
        "data/kubefence-default-deny",
        "shop/kubefence-api",
        "shop/kubefence-default-deny",
        "shop/kubefence-web",
    ]


def test_what_is_generated(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    code, _, err = run(capsys, "generate", app, "-d", out_dir)
    assert code == 0, err
    docs = by_name([d for f in FILES for d in objects((out_dir / f).read_text(encoding="utf-8"))])
    assert sorted(docs) == [
        "data/kubefence-db",
        "data/kubefence-default-deny",
        "shop/kubefence-api",
        "shop/kubefence-default-deny",
        "shop/kubefence-web",
    ]
    for doc in docs.values():
        assert doc["metadata"]["labels"] == {MANAGED_BY_KEY: MANAGED_BY_VALUE}
    assert docs["shop/kubefence-default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    web = docs["shop/kubefence-web"]["spec"]
    assert web["podSelector"] == {"matchLabels": {"app": "web"}}  # never pod-template-hash
    assert web["policyTypes"] == ["Ingress", "Egress"]
    # from outside (both families) and from the ingress controller, on the port by its name
    assert web["ingress"] == [
        {
            "from": [
                {"ipBlock": {"cidr": "0.0.0.0/0"}},
                {"ipBlock": {"cidr": "::/0"}},
                {"namespaceSelector": {"matchLabels": {NS_LABEL: "ingress-nginx"}}},
            ],
            "ports": [{"protocol": "TCP", "port": "http"}],
        }
    ]
    # DNS only to kube-dns, UDP and TCP 53; same namespace by podSelector; other namespaces by name
    assert web["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {NS_LABEL: "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": 53}, {"protocol": "UDP", "port": 53}],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"app": "api"}}}],
            "ports": [{"protocol": "TCP", "port": 9000}],
        },
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {NS_LABEL: "data"}},
                    "podSelector": {"matchLabels": {"app": "db"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": "postgres"}],
        },
    ]
    db = docs["data/kubefence-db"]["spec"]
    assert db["podSelector"] == {"matchLabels": {"app": "db"}}  # never controller-revision-hash
    assert db["policyTypes"] == ["Ingress"]
    assert "egress" not in db


def test_ingress_controller_namespace(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "generate", "-q", app, "--ingress-controller-namespace", "traefik")
    assert code == 0
    assert "kubernetes.io/metadata.name: traefik" in out
    assert "ingress-nginx" not in out


def test_numeric_ports(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, named, _ = run(capsys, "generate", "-q", app)
    code, numeric, _ = run(capsys, "generate", "-q", app, "--numeric-ports")
    assert code == 0
    assert "port: http" in named and "port: postgres" in named
    assert "port: http" not in numeric and "port: postgres" not in numeric
    assert "port: 8080" in numeric and "port: 5432" in numeric
    assert named.count("port:") == numeric.count("port:")


def test_validate(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "generate", "-q", "--validate", app)
    assert code == 0, err
    assert "kind: NetworkPolicy" in out


def test_validate_without_the_package(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes_validate", None)  # import fails
    code, out, err = run(capsys, "generate", "-q", "--validate", app, "-d", tmp_path / "p")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "pip install 'kubefence[validate]'" in err
    assert not (tmp_path / "p").exists()


def test_validate_failure_writes_nothing(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("kubernetes_validate")
    from kubefence.io.policy_yaml import policy_dict

    def broken(policy: Any, labels: dict[str, str] | None = None) -> dict[str, Any]:
        obj = policy_dict(policy, labels)
        obj["spec"]["podSelectr"] = {}
        return obj

    monkeypatch.setattr("kubefence.io.policy_schema.policy_dict", broken)
    code, out, err = run(capsys, "generate", "-q", "--validate", app, "-d", tmp_path / "p")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(
        "kubefence: error: generated objects fail schema validation: data/kubefence-default-deny: "
    )
    assert not (tmp_path / "p").exists()


def test_deterministic(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "generate", app)
    second = run(capsys, "generate", app)
    assert first == second
    run(capsys, "generate", "-q", app, "-d", tmp_path / "a")
    run(capsys, "generate", "-q", app, "-d", tmp_path / "b")
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert list(a) == FILES
    assert a == b


def test_example_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "generate", "-q", EXAMPLE)
    assert first[0] == 0
    assert first == run(capsys, "generate", "-q", EXAMPLE)


# -- -d DIR ----------------------------------------------------------------------------------------


def test_output_dir_one_file_per_namespace(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "deep" / "policies"
    code, out, err = run(capsys, "generate", app, "-d", out_dir)
    assert code == 0
    assert out == ""
    assert err.splitlines()[-1] == f"wrote 2 of 2 file(s) in {out_dir}"
    files = snapshot(out_dir)
    assert list(files) == FILES
    for name, text in files.items():
        assert text.startswith(HEADER)
        assert {d["metadata"]["namespace"] for d in objects(text)} == {name.removesuffix(".yaml")}
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_rerun_is_a_no_op(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    before = {p.name: (p.read_text(encoding="utf-8"), p.stat().st_mtime_ns) for p in out_dir.iterdir()}
    code, _, err = run(capsys, "generate", app, "-d", out_dir)
    assert code == 0
    assert err.splitlines()[-1] == f"wrote 0 of 2 file(s) in {out_dir}"
    assert {
        p.name: (p.read_text(encoding="utf-8"), p.stat().st_mtime_ns) for p in out_dir.iterdir()
    } == before


def test_quiet_writes_silently(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "generate", "-q", app, "-d", tmp_path / "p") == (0, "", "")


def test_refuses_to_overwrite_a_hand_written_file(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "policies"
    out_dir.mkdir()
    mine = out_dir / "shop.yaml"
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: mine, namespace: shop}\n"
    mine.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "generate", app, "-d", out_dir)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("kubefence: error: ")
    assert str(mine) in err and "not generated by kubefence" in err
    assert mine.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in out_dir.iterdir()) == ["shop.yaml"]  # nothing else written either


def test_a_file_with_one_hand_written_object_is_not_overwritten(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    shop = out_dir / "shop.yaml"
    edited = shop.read_text(encoding="utf-8") + (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: extra, namespace: shop}\n"
    )
    shop.write_text(edited, encoding="utf-8")
    code, _, err = run(capsys, "generate", app, "-d", out_dir)
    assert code == 2
    assert "not generated by kubefence" in err
    assert shop.read_text(encoding="utf-8") == edited


def test_other_files_are_left_alone(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    out_dir.mkdir()
    kustomization = "resources: [data.yaml, shop.yaml]\n"
    (out_dir / "kustomization.yaml").write_text(kustomization, encoding="utf-8")
    (out_dir / "README.md").write_text("policies\n", encoding="utf-8")
    assert run(capsys, "generate", "-q", app, "-d", out_dir)[0] == 0
    files = snapshot(out_dir)
    assert list(files) == ["README.md", "data.yaml", "kustomization.yaml", "shop.yaml"]
    assert files["kustomization.yaml"] == kustomization
    assert run(capsys, "generate", "-q", app, "-d", out_dir, "--check")[0] == 0


def test_removes_stale_generated_files(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    # the data namespace leaves the app
    app.write_text(ONE_NAMESPACE, encoding="utf-8")
    code, out, err = run(capsys, "generate", "-q", app, "-d", out_dir, "--check")
    assert code == 1
    assert "2 file(s)" in err  # data.yaml goes, shop.yaml loses web's egress to data
    assert f"--- a/{_rel(out_dir / 'data.yaml')}\n+++ /dev/null\n@@ -1," in out
    removal = out.split(f"--- a/{_rel(out_dir / 'shop.yaml')}")[0].splitlines()
    assert all(line[:1] in "-@" for line in removal[2:])  # the whole of data.yaml goes
    assert (out_dir / "data.yaml").exists()  # --check writes nothing
    assert run(capsys, "generate", app, "-d", out_dir)[0] == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["shop.yaml"]


def test_summary_counts_removed_files_apart(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    app.write_text(ONE_NAMESPACE, encoding="utf-8")
    code, _, err = run(capsys, "generate", app, "-d", out_dir)
    assert code == 0
    written, total = (int(n) for n in re.findall(r"wrote (\d+) of (\d+) file", err)[-1])
    assert written <= total, err.splitlines()[-1]


# -- --check ---------------------------------------------------------------------------------------


def test_check_up_to_date(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    assert run(capsys, "generate", "-q", app, "-d", out_dir, "--check") == (0, "", "")


def test_check_edited_file(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    shop = out_dir / "shop.yaml"
    edited = shop.read_text(encoding="utf-8").replace("port: 9000", "port: 9001", 1)
    shop.write_text(edited, encoding="utf-8")
    before = snapshot(out_dir)
    code, out, err = run(capsys, "generate", "-q", app, "-d", out_dir, "--check")
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == [f"--- a/{_rel(shop)}", f"+++ b/{_rel(shop)}"]
    assert lines[2].startswith("@@ ")
    assert [line for line in lines if line[:1] in "+-" and not line.startswith(("---", "+++"))] == [
        "-          port: 9001",
        "+          port: 9000",
    ]
    assert err.splitlines()[-1] == f"1 file(s) in {out_dir} differ from the generated policies"
    assert snapshot(out_dir) == before


def test_check_missing_file(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "policies"
    run(capsys, "generate", app, "-d", out_dir)
    (out_dir / "data.yaml").unlink()
    code, out, err = run(capsys, "generate", "-q", app, "-d", out_dir, "--check")
    assert code == 1
    assert out.startswith(f"--- /dev/null\n+++ b/{_rel(out_dir / 'data.yaml')}\n")
    assert "1 file(s)" in err
    assert not (out_dir / "data.yaml").exists()


def test_check_missing_directory(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "generate", "-q", app, "-d", tmp_path / "nowhere", "--check")
    assert code == 1
    assert out.count("--- /dev/null") == 2
    assert "2 file(s)" in err
    assert not (tmp_path / "nowhere").exists()


def test_check_needs_a_directory(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "generate", app, "--check")
    assert code == 2
    assert out == ""
    assert err == "kubefence: error: --check needs an output directory (-d DIR)\n"


def test_check_with_a_hand_written_file(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "policies"
    out_dir.mkdir()
    (out_dir / "shop.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")
    code, _, err = run(capsys, "generate", app, "-d", out_dir, "--check")
    assert code == 2
    assert err.count("\n") == 1 and "not generated by kubefence" in err


def test_output_dir_that_is_a_file(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "policies.yaml"
    target.write_text("x: 1\n", encoding="utf-8")
    code, _, err = run(capsys, "generate", "-q", app, "-d", target)
    assert code == 2
    assert target.read_text(encoding="utf-8") == "x: 1\n"
    assert err.count("\n") == 1
    assert "internal error" not in err


# -- --connections ---------------------------------------------------------------------------------

HAND_WRITTEN = {
    "connections": [
        {"src": "shop/web[Deployment]", "dst": "shop/api[Deployment]", "conn": "TCP 9000"},
        {"src": "{ingress-controller}", "dst": "shop/web[Deployment]", "conn": "TCP 8080"},
    ]
}


def test_connections_file(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needed = tmp_path / "needed.json"
    needed.write_text(json.dumps(HAND_WRITTEN), encoding="utf-8")
    out_dir = tmp_path / "policies"
    code, _, err = run(capsys, "generate", "-q", app, "--connections", needed, "-d", out_dir)
    assert code == 0, err
    docs = by_name([d for f in FILES for d in objects((out_dir / f).read_text(encoding="utf-8"))])
    assert sorted(docs) == [
        "data/kubefence-default-deny",
        "shop/kubefence-api",
        "shop/kubefence-default-deny",
        "shop/kubefence-web",
    ]
    web = docs["shop/kubefence-web"]["spec"]
    assert web["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {NS_LABEL: "ingress-nginx"}}}],
            "ports": [{"protocol": "TCP", "port": "http"}],
        }
    ]
    assert web["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"app": "api"}}}],
            "ports": [{"protocol": "TCP", "port": 9000}],
        }
    ]  # no DNS: the file does not ask for it
    assert docs["shop/kubefence-api"]["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
            "ports": [{"protocol": "TCP", "port": 9000}],
        }
    ]


def test_connections_from_discover_json(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    needed = tmp_path / "needed.json"
    assert main(["discover", "-q", "-o", "json", "-f", str(needed), str(app)]) == 0
    capsys.readouterr()
    assert run(capsys, "generate", "-q", app, "--connections", needed) == run(capsys, "generate", "-q", app)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"connections": [', "needed.json:1: malformed JSON"),
        (
            '{"connections": [{"src": "web", "dst": "shop/api[Deployment]", "conn": "TCP 80"}]}',
            "bad peer 'web'",
        ),
        (
            '{"connections": [{"src": "shop/web[Deployment]", "dst": "shop/api[Deployment]", '
            '"conn": "TCP http"}]}',
            "bad conn 'TCP http'",
        ),
    ],
    ids=["json", "peer", "conn"],
)
def test_malformed_connections_file(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    needed = tmp_path / "needed.json"
    needed.write_text(content, encoding="utf-8")
    out_dir = tmp_path / "policies"
    code, out, err = run(capsys, "generate", app, "--connections", needed, "-d", out_dir)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("kubefence: error: ")
    assert message in err
    assert not out_dir.exists()


def test_missing_connections_file(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "generate", app, "--connections", tmp_path / "nope.json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "nope.json" in err


# -- inputs and usage ------------------------------------------------------------------------------


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "generate", tmp_path / "nope")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1


def test_stdin(app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from_file = run(capsys, "generate", "-q", app)
    monkeypatch.setattr(sys, "stdin", io.StringIO(APP))
    assert run(capsys, "generate", "-q", "-") == from_file


def test_needs_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "generate")
    assert code == 2
    assert "PATH" in err


def test_policies_in_the_input_are_ignored(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = app.parent / "old-policy.yaml"
    old.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: allow-all, namespace: shop}\n"
        "spec: {podSelector: {}, ingress: [{}], egress: [{}]}\n",
        encoding="utf-8",
    )
    with_old = run(capsys, "generate", "-q", app.parent)
    old.unlink()
    assert with_old == run(capsys, "generate", "-q", app.parent)


def test_warnings_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twins = tmp_path / "twins.yaml"
    twins.write_text(
        APP + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api-canary, namespace: shop}\n"
        "spec:\n  selector: {matchLabels: {app: api}}\n  template:\n"
        "    metadata: {labels: {app: api, tier: backend, pod-template-hash: abc}}\n"
        "    spec: {containers: [{name: api, image: api:2, ports: [{containerPort: 9000}]}]}\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "generate", twins)
    assert code == 0
    assert (
        "no stable labels select shop/api[Deployment] alone (also selected: shop/api-canary[Deployment])"
        in err
    )
    assert run(capsys, "generate", "-q", twins)[2] == ""


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "generate", "--help")
    assert code == 0
    for option in ("--connections", "--out-dir", "--check", "--numeric-ports", "--validate", "Exit codes"):
        assert option in out
