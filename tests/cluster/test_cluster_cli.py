"""The cluster options on the command line: map, explain, verify, discover, diff, generate --check,
snapshot; exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import ApiServer, Behaviour, StartServer
from objects import allow_from, small_shop

from kubefence.cli import main


def _write(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(objects), encoding="utf-8")
    return path


def _kc(server: ApiServer, tmp_path: Path) -> list[str]:
    tmp_path.mkdir(exist_ok=True)
    return ["--cluster", "--kubeconfig", str(server.write_kubeconfig(tmp_path / "kubeconfig"))]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_map_cluster_equals_map_of_the_same_objects_in_a_file(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    code, live, err = _run(capsys, "map", *_kc(server, tmp_path))
    assert code == 0, err
    assert "shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432" in live
    assert "shop/idle[Deployment]" in live  # scaled to zero, still a peer
    assert "info: cluster:emulated: not installed (the API serves no such resource), skipped: TLSRoute" in err
    code, snap_err = (
        main(["snapshot", *_kc(server, tmp_path), "-d", str(tmp_path / "snap")]),
        capsys.readouterr().err,
    )
    assert code == 0 and "wrote 10 objects in 4 file(s)" in snap_err
    code, offline, _ = _run(capsys, "map", str(tmp_path / "snap"))
    assert code == 0 and offline == live


def test_snapshot_files_are_one_per_namespace_and_kind(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    assert main(["snapshot", *_kc(server, tmp_path), "-d", str(tmp_path / "snap"), "-q"]) == 0
    names = sorted(p.relative_to(tmp_path / "snap").as_posix() for p in (tmp_path / "snap").rglob("*"))
    # the idle Deployment; the others are their pods
    assert names == [
        ".kubefence-snapshot",
        "_cluster",
        "_cluster/namespaces.json",
        "shop",
        "shop/deployments.json",
        "shop/networkpolicies.json",
        "shop/pods.json",
    ]
    pods = json.loads((tmp_path / "snap" / "shop" / "pods.json").read_text())
    assert pods["kind"] == "List"
    assert [p["metadata"]["name"] for p in pods["items"]] == [
        "agent-x1",
        "db-0",
        "debug",
        "report-2901-x",
        "web-5d9f-a",
        "web-5d9f-b",
    ]
    marker = (tmp_path / "snap" / ".kubefence-snapshot").read_text()
    assert marker == (
        "kubefence snapshot of cluster:emulated\nDeployment: 1\nNamespace: 1\nNetworkPolicy: 2\nPod: 6\n"
    )
    # again: an earlier snapshot is replaced whole; the same cluster gives the same bytes
    before = {p: p.read_bytes() for p in (tmp_path / "snap").rglob("*") if p.is_file()}
    assert main(["snapshot", *_kc(server, tmp_path), "-d", str(tmp_path / "snap"), "-q"]) == 0
    assert {p: p.read_bytes() for p in (tmp_path / "snap").rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_snapshot_refuses_a_directory_of_other_files(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    code, _, err = _run(capsys, "snapshot", *_kc(server, tmp_path), "-d", str(target))
    assert code == 2
    assert err.strip().endswith(
        "the directory is not empty and holds no earlier snapshot (give a new or empty directory)"
    )
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_snapshot_writes_nothing_when_the_read_fails(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(forbidden={("pods", None)}))
    code, _, err = _run(capsys, "snapshot", *_kc(server, tmp_path), "-d", str(tmp_path / "snap"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("kubefence: error: cluster:emulated: forbidden to list pods in all namespaces")
    assert not (tmp_path / "snap").exists()


def test_mixing_the_cluster_with_policies_from_a_branch(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = [o for o in small_shop() if o["kind"] != "NetworkPolicy"]
    server = start_server(running)
    branch = _write(
        tmp_path / "branch" / "policies.yaml", [allow_from("shop", "only-web", "db", "web", 5432)]
    )
    code, out, err = _run(
        capsys, "map", *_kc(server, tmp_path), str(branch.parent), "--focus-workload", "shop/db"
    )
    assert code == 0, err
    assert [
        line
        for line in out.splitlines()
        if line.endswith("shop/db[StatefulSet] : TCP 5432") or "=> shop/db" in line
    ] == ["shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432"]


def _git(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Git holds of a cluster: no ReplicaSets, Jobs or pods of controllers."""
    return [
        o
        for o in objects
        if o["kind"] not in ("ReplicaSet", "Job")
        and not (o["kind"] == "Pod" and o["metadata"].get("ownerReferences"))
    ]


def test_diff_cluster_against_git(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    same = _write(tmp_path / "git" / "all.yaml", _git(small_shop()))
    code, out, err = _run(capsys, "diff", *_kc(server, tmp_path), str(same.parent), "--fail-on", "any", "-q")
    assert code == 0, out + err
    looser = [o for o in _git(small_shop()) if o["metadata"]["name"] != "deny-all"]
    _write(tmp_path / "git2" / "all.yaml", looser)
    code, out, _ = _run(
        capsys, "diff", *_kc(server, tmp_path), str(tmp_path / "git2"), "--fail-on", "any", "-q"
    )
    assert code == 1
    assert "diff-type: added, source: shop/web[Deployment], destination: shop/agent[DaemonSet]" in out
    assert "removed" not in out
    assert main(["diff", *_kc(server, tmp_path), "--git", "--base", "a", "--head", "b"]) == 2


def test_generate_check_cluster(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = [o for o in small_shop() if o["kind"] not in ("NetworkPolicy", "ReplicaSet", "Job", "Pod")]
    web = next(o for o in app if o["metadata"]["name"] == "web")
    web["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "DB_URL", "value": "postgres://db:5432/shop"}
    ]
    app.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]},
        }
    )
    app_dir = _write(tmp_path / "app" / "app.yaml", app).parent
    assert main(["generate", str(app_dir)]) == 0
    generated = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert len(generated) >= 3 and all(
        d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubefence" for d in generated
    )

    deployed = start_server([*app, *generated])
    code, out, err = _run(capsys, "generate", str(app_dir), "--check", *_kc(deployed, tmp_path))
    assert code == 0, out + err
    assert f"the {len(generated)} generated policies are deployed as generated" in err

    changed = [dict(g) for g in generated]
    changed[0] = {**changed[0], "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    stale = {**generated[0], "metadata": {**generated[0]["metadata"], "name": "old-one"}}
    drifted = start_server([*app, *changed[:-1], stale])
    code, out, err = _run(capsys, "generate", str(app_dir), "--check", *_kc(drifted, tmp_path / "drifted"))
    assert code == 1
    name0 = f"{generated[0]['metadata']['namespace']}/{generated[0]['metadata']['name']}"
    last = f"{generated[-1]['metadata']['namespace']}/{generated[-1]['metadata']['name']}"
    assert f"missing: {last} is generated but not deployed in cluster:emulated" in out
    assert f"changed: {name0} in cluster:emulated differs from the generated policy" in out
    assert (
        f"stale: {generated[0]['metadata']['namespace']}/old-one in cluster:emulated "
        "is managed by kubefence but no longer generated" in out
    )
    assert main(["generate", str(app_dir), *_kc(deployed, tmp_path)]) == 2  # --cluster needs --check


def test_explain_verify_discover_read_the_cluster(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    code, out, err = _run(
        capsys,
        "explain",
        *_kc(server, tmp_path),
        "--src",
        "shop/report",
        "--dst",
        "shop/db",
        "--port",
        "5432",
    )
    assert code == 0, err
    assert "shop/report[CronJob]" in out and "deny" in out.lower()
    guardrails = {
        "apiVersion": "kubefence.io/v1alpha1",
        "kind": "Guardrails",
        "rules": [
            {
                "name": "only-web-reaches-db",
                "action": "deny",
                "from": {"namespace": "shop", "podSelector": "app=debug"},
                "to": {"namespace": "shop", "podSelector": "app=db"},
            }
        ],
    }
    rules = _write(tmp_path / "g.yaml", [guardrails])
    code, out, err = _run(capsys, "verify", *_kc(server, tmp_path), "-g", str(rules))
    assert code == 0, out + err
    code, out, err = _run(capsys, "discover", *_kc(server, tmp_path))
    assert code == 0, err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "map", "--context", "prod", str(tmp_path))
    assert code == 2 and "--kubeconfig, --context and -n/--namespace go with --cluster" in err
    code, _, err = _run(capsys, "map")
    assert code == 2 and "give at least one PATH (or --cluster to read a live cluster)" in err
    code, _, err = _run(capsys, "snapshot", "-d", str(tmp_path / "s"))
    assert code == 2 and "snapshot reads a live cluster: add --cluster" in err


def test_a_403_is_exit_2_with_one_line(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(forbidden={("deployments", None)}))
    code, out, err = _run(capsys, "map", *_kc(server, tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and 'verbs: ["list"]' in err and "deployments.apps" in err


def test_a_timeout_is_exit_2_with_one_line(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(delay=1.0))
    code, _, err = _run(capsys, "map", *_kc(server, tmp_path), "--request-timeout", "0.2")
    assert code == 2 and err.count("\n") == 1 and "did not answer within 0.2 s" in err


CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "connlist"


@pytest.mark.parametrize("case", ["k8s_ingress_test", "anp_banp_blog_demo", "acs-security-demos"])
def test_the_command_line_map_of_a_corpus_case(
    case: str, start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from manifests import load_objects

    files = CORPUS / case / "input"
    if not files.is_dir():
        pytest.skip("../shared/corpus not found")
    server = start_server(load_objects(files))
    code, live, err = _run(capsys, "map", *_kc(server, tmp_path), "-o", "json")
    assert code == 0, err
    code, offline, _ = _run(capsys, "map", str(files), "-o", "json")
    assert code == 0 and live == offline


def test_a_branch_policy_replaces_the_deployed_one_of_the_same_name(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())  # web-to-db lets web reach db on 5432
    branch = [allow_from("shop", "web-to-db", "db", "report", 5432)]  # the branch's version: report instead
    _write(tmp_path / "branch" / "p.yaml", branch)
    code, out, err = _run(
        capsys, "map", *_kc(server, tmp_path), str(tmp_path / "branch"), "--focus-workload", "shop/db"
    )
    assert code == 0, err
    into_db = [line for line in out.splitlines() if "=> shop/db[StatefulSet]" in line]
    assert into_db == ["shop/report[CronJob] => shop/db[StatefulSet] : TCP 5432"]
