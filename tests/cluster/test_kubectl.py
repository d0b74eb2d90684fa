"""The emulation is faithful enough for the real client: ``kubectl`` reads back what was loaded."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from apiserver import ALL_RESOURCES, ApiServer, StartServer
from manifests import load_objects

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "connlist"
CASE = CORPUS / "k8s_ingress_test" / "input"

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (.ci/run installs it)")


def _kubectl(server: ApiServer, tmp_path: Path, *args: str) -> str:
    assert KUBECTL is not None
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    proc = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _objects() -> list[dict[str, Any]]:
    if not CASE.is_dir():
        pytest.skip("../shared/corpus not found")
    return load_objects(CASE)


def test_kubectl_get_pods_all_namespaces(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(_objects())
    listed = json.loads(_kubectl(server, tmp_path, "get", "pods", "-A", "-o", "json", "--chunk-size", "2"))
    loaded = server.objects("Pod")
    assert len(loaded) == 6
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in listed["items"]] == sorted(
        (p["metadata"]["namespace"], p["metadata"]["name"]) for p in loaded
    )
    by_name = {p["metadata"]["name"]: p for p in loaded}
    for item in listed["items"]:
        want = by_name[item["metadata"]["name"]]
        assert (
            item["kind"] == "Pod" and item["apiVersion"] == "v1"
        )  # kubectl fills them in, as for a real list
        assert item["metadata"]["labels"] == want["metadata"]["labels"]
        assert item["spec"] == want["spec"]
        assert item["status"]["podIP"] == want["status"]["podIP"]
    # kubectl paged with limit and continue: 6 pods in pages of 2
    pages = [q for path, q in server.requests if path == "/api/v1/pods"]
    assert [q.get("limit") for q in pages] == [["2"]] * 3
    assert sum(1 for q in pages if "continue" in q) == 2


def test_kubectl_api_resources(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    out = _kubectl(server, tmp_path, "api-resources", "--no-headers", "-o", "wide")
    rows = set()
    for line in out.splitlines():
        fields = line.split()
        # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS...: find the column holding true/false
        at = next(i for i, f in enumerate(fields) if f in ("true", "false"))
        rows.add((fields[0], fields[at - 1], fields[at] == "true", fields[at + 1]))
    assert rows == {(r.plural, r.group_version, r.namespaced, r.kind) for r in ALL_RESOURCES}


def test_kubectl_sees_forbidden_and_missing_as_a_real_server_says(
    start_server: StartServer, tmp_path: Path
) -> None:
    from apiserver import Behaviour

    server = start_server(_objects(), behaviour=Behaviour(forbidden={("services", None)}))
    assert KUBECTL is not None
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    proc = subprocess.run(
        [
            KUBECTL,
            "--kubeconfig",
            str(kubeconfig),
            "--cache-dir",
            str(tmp_path / "c"),
            "get",
            "services",
            "-A",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 1
    assert 'cannot list resource "services" in API group "" at the cluster scope' in proc.stderr
