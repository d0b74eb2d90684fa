"""Reading manifests: YAML streams, lists, JSON, directories, stdin, and what the loader makes of them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from kubefence import Cluster, load_cluster
from kubefence.io.documents import load_documents, parse_text
from kubefence.model.workloads import NAMESPACE_NAME_LABEL, ContainerPort, Workload


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def deployment(name: str, namespace: str | None = None, kind: str = "Deployment") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": meta,
        "spec": {
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c"}]}}
        },
    }


def names(cluster: Cluster) -> list[str]:
    return sorted(w.peer_name for w in cluster.workloads)


def only(cluster: Cluster) -> Workload:
    assert len(cluster.workloads) == 1, cluster.workloads
    return cluster.workloads[0]


MULTI = """\
# a comment before the first document
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
---
# an empty document above, a comment-only one below
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: c}]
--- # a separator with a comment
apiVersion: v1
kind: Pod
metadata:
  name: solo
"""


def test_multi_document_yaml() -> None:
    docs = parse_text(MULTI, "multi.yaml")
    assert [d.kind for d in docs] == ["Namespace", "Deployment", "Pod"]
    assert [d.obj["metadata"]["name"] for d in docs] == ["shop", "web", "solo"]
    assert all(d.origin.file == "multi.yaml" for d in docs)
    lines = MULTI.splitlines()
    for doc, first_key_line in zip(docs, (2, 10, 22), strict=True):
        # a document starts at its `---` separator (or the top of the file) and ends before its content
        assert doc.origin.line <= first_key_line
        between = lines[doc.origin.line - 1 : first_key_line - 1]
        assert not any(line.startswith("apiVersion") for line in between)
        assert lines[first_key_line - 1].startswith("apiVersion")


def test_list_kinds_are_flattened() -> None:
    text = """\
    apiVersion: v1
    kind: List
    items:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
      - apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
      - null
    ---
    apiVersion: v1
    kind: PodList
    items:
      - metadata: {name: p1, namespace: shop, labels: {app: p}}
      - metadata: {name: p2, namespace: shop, labels: {app: p}}
    """
    docs = parse_text(textwrap.dedent(text), "lists.yaml")
    assert [d.kind for d in docs] == ["Deployment", "Namespace", "Pod", "Pod"]
    cluster = load_cluster([d.obj for d in docs])
    assert names(cluster) == ["shop/p1[Pod]", "shop/p2[Pod]", "shop/web[Deployment]"]
    assert cluster.warnings == ()


def test_items_of_a_plain_list_need_a_kind() -> None:
    text = """\
    apiVersion: v1
    kind: List
    items:
      - metadata: {name: mystery}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {template: {metadata: {labels: {app: web}}}}
    """
    cluster = load_cluster(["-"], stdin_text=textwrap.dedent(text))
    assert names(cluster) == ["default/web[Deployment]"]
    assert len(cluster.warnings) == 1
    assert "skipped 1 document" in cluster.warnings[0].message


def test_json_files(tmp_path: Path) -> None:
    single = tmp_path / "web.json"
    single.write_text(json.dumps(deployment("web", "shop")), encoding="utf-8")
    listed = tmp_path / "more.json"
    listed.write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [deployment("a"), deployment("b", "x")]}),
        encoding="utf-8",
    )
    docs = load_documents([single, listed])
    assert [d.obj["metadata"]["name"] for d in docs] == ["web", "a", "b"]
    assert docs[0].origin.file == str(single)
    assert names(load_cluster([single, listed])) == [
        "default/a[Deployment]",
        "shop/web[Deployment]",
        "x/b[Deployment]",
    ]


def test_directories_are_searched_recursively(tmp_path: Path) -> None:
    write(tmp_path / "top.yaml", json.dumps(deployment("top")))
    write(tmp_path / "sub" / "mid.yml", json.dumps(deployment("mid")))
    write(tmp_path / "sub" / "deeper" / "low.json", json.dumps(deployment("low")))
    write(tmp_path / "sub" / "UPPER.YAML", json.dumps(deployment("upper")))
    # files with other suffixes are not read: they would not even parse
    write(tmp_path / "README.md", "not: [valid yaml\n")
    write(tmp_path / "sub" / "notes.txt", "{{ not json\n")
    write(tmp_path / "sub" / "web.yaml.bak", "kind: [\n")
    docs = load_documents([tmp_path])
    found = {Path(d.origin.file).name: d.obj["metadata"]["name"] for d in docs}
    assert found == {"top.yaml": "top", "mid.yml": "mid", "low.json": "low", "UPPER.YAML": "upper"}
    # deterministic order: sorted by path
    assert [d.origin.file for d in docs] == sorted(d.origin.file for d in docs)
    assert names(load_cluster([str(tmp_path)])) == [
        "default/low[Deployment]",
        "default/mid[Deployment]",
        "default/top[Deployment]",
        "default/upper[Deployment]",
    ]


def test_stdin() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n" + json.dumps(deployment("d"))
    docs = load_documents(["-"], stdin_text=text)
    assert [(d.kind, d.origin.file, d.origin.line) for d in docs] == [
        ("Pod", "<stdin>", 1),
        ("Deployment", "<stdin>", 5),
    ]
    assert names(load_cluster(["-"], stdin_text=text)) == ["default/d[Deployment]", "default/p[Pod]"]


def test_stdin_together_with_files(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", json.dumps(deployment("from-file")))
    inputs: list[str | Path] = [path, "-"]
    cluster = load_cluster(inputs, stdin_text=json.dumps(deployment("from-stdin")))
    assert names(cluster) == ["default/from-file[Deployment]", "default/from-stdin[Deployment]"]


def test_default_and_implicit_namespaces() -> None:
    cluster = load_cluster(
        [
            deployment("web"),
            deployment("api", "backend"),
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "declared", "labels": {"team": "x"}},
            },
        ]
    )
    assert names(cluster) == ["backend/api[Deployment]", "default/web[Deployment]"]
    assert [ns.name for ns in cluster.namespaces] == ["backend", "declared", "default"]
    for name in ("backend", "default"):
        ns = cluster.namespace(name)
        assert ns is not None
        assert not ns.declared
        assert ns.label_map == {NAMESPACE_NAME_LABEL: name}
    declared = cluster.namespace("declared")
    assert declared is not None
    assert declared.declared
    assert declared.label_map == {"team": "x", NAMESPACE_NAME_LABEL: "declared"}
    assert cluster.namespace("missing") is None


def test_namespace_of_a_policy_is_implicit_too() -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny", "namespace": "locked"},
        "spec": {"podSelector": {}},
    }
    cluster = load_cluster([policy, {**policy, "metadata": {"name": "no-namespace"}}])
    assert [p.full_name for p in cluster.policies] == ["default/no-namespace", "locked/deny"]
    locked = cluster.namespace("locked")
    assert locked is not None
    assert locked.label_map == {NAMESPACE_NAME_LABEL: "locked"}


def test_unknown_kinds_are_skipped_with_one_warning_per_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: one}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: two}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: s}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {template: {metadata: {labels: {app: web}}}}
        """,
    )
    cluster = load_cluster([path])
    assert names(cluster) == ["default/web[Deployment]"]
    texts = sorted(str(w) for w in cluster.warnings)
    assert len(texts) == 2
    assert texts[0].startswith(f"warning: {path}:1: skipped 2 ConfigMap objects")
    assert texts[1].startswith(f"warning: {path}:")
    assert "skipped 1 Secret object" in texts[1]


def pod(
    name: str, owners: list[dict[str, Any]] | None = None, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "labels": labels or {"app": "x"}}
    if owners is not None:
        meta["ownerReferences"] = owners
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http"}]}]},
    }


def test_pods_are_named_after_their_owner() -> None:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f", "controller": True}
    cluster = load_cluster([pod("web-5d4f-aaaaa", [rs]), pod("web-5d4f-bbbbb", [rs])])
    w = only(cluster)  # replicas with equal labels and ports collapse into one workload
    assert w.peer_name == "ns/web-5d4f[ReplicaSet]"
    assert w.ports == (ContainerPort(8080, "TCP", "http"),)
    assert cluster.warnings == ()


def test_the_controller_owner_wins() -> None:
    owners: list[dict[str, Any]] = [
        {"kind": "ConfigMap", "name": "not-me"},
        {"kind": "StatefulSet", "name": "db", "controller": True},
    ]
    assert only(load_cluster([pod("db-0", owners)])).peer_name == "ns/db[StatefulSet]"
    # without a controller flag the first owner is used
    assert only(load_cluster([pod("db-0", owners[:1])])).peer_name == "ns/not-me[ConfigMap]"


def test_static_pod_stands_for_itself() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "name": "node-1", "controller": True}
    assert only(load_cluster([pod("kube-apiserver-node-1", [node])])).peer_name == (
        "ns/kube-apiserver-node-1[Pod]"
    )


def test_owner_without_kind() -> None:
    assert only(load_cluster([pod("p-1", [{"name": "owner"}])])).peer_name == "ns/owner[Pod]"
    # an owner without a name does not name the pod
    assert only(load_cluster([pod("p-1", [{"kind": "Job"}])])).peer_name == "ns/p-1[Pod]"
    assert only(load_cluster([pod("p-1", [])])).peer_name == "ns/p-1[Pod]"


def test_pods_of_one_owner_with_different_labels_warn() -> None:
    rs = {"kind": "ReplicaSet", "name": "web", "controller": True}
    cluster = load_cluster(
        [pod("a", [rs], {"app": "web", "v": "1"}), pod("b", [rs], {"app": "web", "v": "2"})]
    )
    assert [w.peer_name for w in cluster.workloads] == ["ns/web[ReplicaSet]"] * 2
    assert len(cluster.warnings) == 1
    assert "ns/web[ReplicaSet] has pods with different labels or ports" in cluster.warnings[0].message


@pytest.mark.parametrize(
    "kind", ["Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job"]
)
def test_template_kinds(kind: str) -> None:
    w = only(load_cluster([deployment("w", "ns", kind)]))
    assert w.peer_name == f"ns/w[{kind}]"
    assert w.label_map == {"app": "w"}


def test_cronjob_template() -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "batch"},
        "spec": {
            "schedule": "0 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "metadata": {"labels": {"app": "report", "version": "2", "enabled": "true"}},
                        "spec": {
                            "containers": [
                                {"name": "c", "ports": [{"containerPort": 9090, "name": "metrics"}]},
                                {"name": "d", "ports": [{"containerPort": 53, "protocol": "UDP"}]},
                            ]
                        },
                    }
                }
            },
        },
    }
    w = only(load_cluster([cronjob]))
    assert w.peer_name == "batch/report[CronJob]"
    assert w.label_map == {"app": "report", "version": "2", "enabled": "true"}
    assert w.ports == (ContainerPort(53, "UDP", ""), ContainerPort(9090, "TCP", "metrics"))
    assert w.named_port("metrics", "TCP") == 9090
    assert w.named_port("metrics", "UDP") is None


def test_documents_without_kind_or_api_version_are_skipped() -> None:
    cluster = load_cluster(
        ["-"],
        stdin_text="foo: bar\n---\nkind: Widget\nmetadata: {name: w}\n---\nkind: Pod\nmetadata: {name: p}\n",
    )
    # Pod is a known kind even without apiVersion; Widget without apiVersion is not an object we know
    assert names(cluster) == ["default/p[Pod]"]
    assert len(cluster.warnings) == 1
    assert "skipped 2 document(s)" in cluster.warnings[0].message


def test_crlf_stream_given_as_text() -> None:
    text = "kind: Pod\r\nmetadata: {name: a}\r\n---\r\nkind: Pod\r\nmetadata: {name: b}\r\n"
    docs = load_documents(["-"], stdin_text=text)
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "b"]


def test_crlf_file(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"kind: Pod\r\nmetadata: {name: a}\r\n---\r\nkind: Pod\r\nmetadata: {name: b}\r\n")
    docs = load_documents([path])
    assert [(d.obj["metadata"]["name"], d.origin.line) for d in docs] == [("a", 1), ("b", 4)]


def test_host_network_pods_are_mapped_with_one_warning() -> None:
    def host(name: str) -> dict[str, Any]:
        d = deployment(name, "ops", kind="DaemonSet")
        d["spec"]["template"]["spec"]["hostNetwork"] = True
        return d

    one = load_cluster([host("agent"), deployment("web", "ops")])
    assert {w.name for w in one.workloads} == {"agent", "web"}
    (warning,) = [w.message for w in one.warnings if "host network" in w.message]
    assert warning.startswith("ops/agent[DaemonSet] uses the host network (hostNetwork: true)")
    many = load_cluster([host(f"a{i}") for i in range(5)])
    (warning,) = [w.message for w in many.warnings if "host network" in w.message]
    assert warning.startswith("ops/a0[DaemonSet], ops/a1[DaemonSet], ops/a2[DaemonSet] and 2 more use ")
    assert not [w for w in load_cluster([deployment("web", "ops")]).warnings if "host network" in w.message]
