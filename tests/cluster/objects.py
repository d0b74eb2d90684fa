"""Small Kubernetes objects for the cluster tests, as the API server lists them."""

from __future__ import annotations

from typing import Any


def owner(kind: str, name: str, controller: bool = True) -> dict[str, Any]:
    group = {
        "ReplicaSet": "apps/v1",
        "Deployment": "apps/v1",
        "StatefulSet": "apps/v1",
        "DaemonSet": "apps/v1",
    }
    api_version = group.get(kind, "batch/v1" if kind in ("Job", "CronJob") else "v1")
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": f"uid-{name}",
        "controller": controller,
    }


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    ns: str,
    name: str,
    labels: dict[str, str],
    owned_by: dict[str, Any] | None = None,
    ip: str = "",
    port: int = 8080,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels}
    if owned_by is not None:
        meta["ownerReferences"] = [owned_by]
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": port}]}]},
    }
    if ip:
        obj["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}
    return obj


def template(labels: dict[str, str], port: int = 8080) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": port}]}]},
    }


def controller(
    kind: str,
    ns: str,
    name: str,
    labels: dict[str, str],
    owned_by: dict[str, Any] | None = None,
    replicas: int = 1,
) -> dict[str, Any]:
    api_version = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if owned_by is not None:
        meta["ownerReferences"] = [owned_by]
    if kind == "CronJob":
        spec: dict[str, Any] = {
            "schedule": "* * * * *",
            "jobTemplate": {"spec": {"template": template(labels)}},
        }
    else:
        spec = {"template": template(labels), "selector": {"matchLabels": labels}}
        if kind not in ("Job", "DaemonSet"):
            spec["replicas"] = replicas
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": meta,
        "spec": spec,
        "status": {"replicas": replicas},
    }


def deny_all(ns: str, name: str = "deny-all") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def allow_from(ns: str, name: str, app: str, from_app: str, port: int = 8080) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "podSelector": {"matchLabels": {"app": app}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"app": from_app}}}], "ports": [{"port": port}]}
            ],
        },
    }


def small_shop() -> list[dict[str, Any]]:
    """A namespace with a Deployment (ReplicaSet and two pods), a CronJob (Job and pod), a StatefulSet
    and a DaemonSet with pods, a Deployment scaled to zero, a bare pod, and two policies."""
    web_rs = owner("ReplicaSet", "web-5d9f")
    return [
        namespace("shop", team="shop"),
        controller("Deployment", "shop", "web", {"app": "web"}, replicas=2),
        controller(
            "ReplicaSet",
            "shop",
            "web-5d9f",
            {"app": "web", "pod-template-hash": "5d9f"},
            owner("Deployment", "web"),
        ),
        pod("shop", "web-5d9f-a", {"app": "web", "pod-template-hash": "5d9f"}, web_rs, ip="10.0.0.1"),
        pod("shop", "web-5d9f-b", {"app": "web", "pod-template-hash": "5d9f"}, web_rs, ip="10.0.0.2"),
        controller("CronJob", "shop", "report", {"app": "report"}),
        controller("Job", "shop", "report-2901", {"app": "report"}, owner("CronJob", "report")),
        pod("shop", "report-2901-x", {"app": "report"}, owner("Job", "report-2901"), ip="10.0.0.3"),
        controller("StatefulSet", "shop", "db", {"app": "db"}),
        pod("shop", "db-0", {"app": "db"}, owner("StatefulSet", "db"), ip="10.0.0.4", port=5432),
        controller("DaemonSet", "shop", "agent", {"app": "agent"}),
        pod("shop", "agent-x1", {"app": "agent"}, owner("DaemonSet", "agent"), ip="10.0.0.5"),
        controller("Deployment", "shop", "idle", {"app": "idle"}, replicas=0),
        controller("ReplicaSet", "shop", "idle-77", {"app": "idle"}, owner("Deployment", "idle"), replicas=0),
        pod("shop", "debug", {"app": "debug"}, ip="10.0.0.6"),
        deny_all("shop"),
        allow_from("shop", "web-to-db", "db", "web", 5432),
    ]
