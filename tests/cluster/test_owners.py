"""Owner chains: a pod stands for its top owner; idle controllers still appear; nothing twice."""

from __future__ import annotations

from objects import controller, owner, pod, small_shop

from kubefence.io.cluster.owners import resolve_owners
from kubefence.io.cluster.reader import cluster_documents
from kubefence.io.kube import build_cluster


def _peers(objects: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(
        {w.peer_name for w in build_cluster(cluster_documents(resolve_owners(objects), "t")).workloads}
    )


def test_top_owners_and_idle_controllers() -> None:
    assert _peers(small_shop()) == [
        "shop/agent[DaemonSet]",
        "shop/db[StatefulSet]",
        "shop/debug[Pod]",
        "shop/idle[Deployment]",  # scaled to zero: the Deployment stands for itself, its ReplicaSet not
        "shop/report[CronJob]",  # Pod -> Job -> CronJob
        "shop/web[Deployment]",  # Pod -> ReplicaSet -> Deployment
    ]


def test_pods_keep_their_labels_and_addresses() -> None:
    cluster = build_cluster(cluster_documents(resolve_owners(small_shop()), "t"))
    web = [w for w in cluster.workloads if w.name == "web"]
    assert len(web) == 1  # two pods, one workload, the Deployment itself not again
    assert web[0].label_map == {"app": "web", "pod-template-hash": "5d9f"}
    assert web[0].pod_ips == ("10.0.0.1", "10.0.0.2")
    assert [w.pod_ips for w in cluster.workloads if w.name == "idle"] == [()]


def test_an_owner_not_read_ends_the_chain() -> None:
    # the ReplicaSet is not there (as in manifest files): the pod stands for the ReplicaSet
    objects = [pod("ns", "a-1", {"app": "a"}, owner("ReplicaSet", "a-7f"))]
    assert _peers(objects) == ["ns/a-7f[ReplicaSet]"]
    assert resolve_owners(objects) == objects  # unchanged


def test_a_static_pod_stands_for_itself() -> None:
    objects = [pod("kube-system", "etcd-node1", {"component": "etcd"}, owner("Node", "node1"))]
    assert _peers(objects) == ["kube-system/etcd-node1[Pod]"]


def test_an_owner_loop_ends() -> None:
    objects = [
        controller("ReplicaSet", "ns", "a", {"app": "a"}, owner("ReplicaSet", "b")),
        controller("ReplicaSet", "ns", "b", {"app": "a"}, owner("ReplicaSet", "a")),
        pod("ns", "p", {"app": "a"}, owner("ReplicaSet", "a")),
    ]
    assert _peers(objects) in (["ns/a[ReplicaSet]"], ["ns/b[ReplicaSet]"])


def test_the_rewritten_pod_names_only_its_top_owner() -> None:
    out = resolve_owners(small_shop())
    web = next(o for o in out if o["metadata"]["name"] == "web-5d9f-a")
    assert web["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "uid-web", "controller": True}
    ]
    assert not any(o["kind"] in ("ReplicaSet", "Job") for o in out)
    original = next(o for o in small_shop() if o["metadata"]["name"] == "web-5d9f-a")
    assert original["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"  # the input is not changed
