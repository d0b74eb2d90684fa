"""Generate a synthetic but realistic Kubernetes cluster for benchmarking ``kubefence``.

The cluster looks like a microservice estate run by several teams: one namespace per product
domain and environment (``payments-prod``, ``payments-staging``, ...), workloads of every common
kind with Services, and NetworkPolicies in the usual shape (namespace default-deny, a DNS
allowance, then per-workload allow rules).

Connectivity stays sparse on purpose: every workload calls a handful of others, broad selectors
are confined to one namespace, and cross-namespace peers always name an app. The number of
allowed pairs therefore grows roughly linearly with the number of workloads, as in a real
cluster, instead of quadratically, which would benchmark the output writer rather than the
analysis.

Counts are exact: ``generate(w, p, n)`` returns ``n`` Namespaces (``kube-system`` and, for
``n >= 5``, ``monitoring`` and ``ingress-nginx`` among them), ``w`` workloads (CoreDNS and the
other platform workloads among them) and ``p`` NetworkPolicies. The same seed gives the same
manifests, byte for byte once written.

Example::

    docs = generate(workloads=1000, policies=500, seed=1)
    write("/tmp/cluster", docs)

or from a shell::

    python bench/gen_cluster.py --workloads 1000 --policies 500 /tmp/cluster
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Manifest", "generate", "main", "write"]

Manifest = dict[str, Any]

NS_NAME_LABEL = "kubernetes.io/metadata.name"
KUBE_SYSTEM = "kube-system"
MONITORING = "monitoring"
INGRESS_NGINX = "ingress-nginx"

_DOMAINS = (
    "payments", "checkout", "catalog", "search", "orders", "inventory", "shipping", "accounts",
    "auth", "billing", "notifications", "analytics", "reviews", "recommendations", "media",
    "messaging", "ledger", "fraud", "pricing", "promotions", "loyalty", "support", "reporting",
    "gateway", "identity", "geo", "logistics", "partners", "content", "mobile",
)  # fmt: skip
_ENVS = ("prod", "staging", "dev")
_CRITICALITY = ("critical", "standard", "best-effort")
_ROLES = {
    "frontend": ("web", "ui", "bff", "portal", "edge"),
    "backend": ("api", "service", "worker", "consumer", "grpc", "events", "sync", "core", "rules"),
    "db": ("postgres", "mysql", "mongo", "cassandra"),
    "cache": ("redis", "memcached"),
}
# Weights of the pod tiers: most of an estate is backend services.
_TIERS = ("frontend", "backend", "db", "cache")
_TIER_WEIGHTS = (20, 50, 15, 15)

# The few address blocks the policies use. A small fixed set keeps the number of distinct IP
# segments an analyzer must split the address space into constant, whatever the cluster size.
_PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
_INTERNET_V4: Manifest = {"cidr": "0.0.0.0/0", "except": _PRIVATE_V4}
_INTERNET_V6: Manifest = {"cidr": "::/0", "except": ["fc00::/7"]}
_CORP_DB_NET: Manifest = {"cidr": "10.20.0.0/16", "except": ["10.20.5.0/24"]}
_SMTP_RELAY: Manifest = {"cidr": "10.30.1.15/32"}
_LB_RANGES = ({"cidr": "10.0.0.0/8"}, {"cidr": "0.0.0.0/0"}, {"cidr": "192.168.0.0/16"})


@dataclass(frozen=True)
class _Port:
    name: str | None
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class _Namespace:
    name: str
    labels: dict[str, str]
    default_deny: bool


@dataclass(frozen=True)
class _Workload:
    index: int
    name: str
    namespace: str
    kind: str
    tier: str
    labels: dict[str, str]
    ports: tuple[_Port, ...]

    @property
    def primary(self) -> _Port | None:
        """The port clients call (the first one); metrics and side ports come after it."""
        return self.ports[0] if self.ports else None

    @property
    def is_server(self) -> bool:
        return self.primary is not None and self.kind not in ("CronJob", "DaemonSet")


def generate(
    workloads: int, policies: int, namespaces: int | None = None, seed: int = 0, density: float = 0.0
) -> list[Manifest]:
    """Return the manifests of a synthetic cluster: Namespaces first, then each namespace's objects.

    ``namespaces`` defaults to ``max(2, workloads // 50)``, about fifty workloads a namespace.
    ``density`` (0 to 1) makes the map dense as many real clusters are: that share of the
    application namespaces stays open (their workloads without a policy of their own are not
    isolated), of default-deny namespaces denies ingress only and of workload policies is
    ingress-only (egress stays open), and of peers selects namespaces with ``{}`` (about a third
    of those by tier, not app). 0 gives today's sparse cluster, byte for byte: the dense choices draw
    from their own random stream.
    """
    if workloads < 1 or policies < 0:
        raise ValueError("need workloads >= 1 and policies >= 0")
    if not 0.0 <= density <= 1.0:
        raise ValueError("need 0 <= density <= 1")
    n_ns = max(2, workloads // 50) if namespaces is None else namespaces
    if n_ns < 2:
        raise ValueError("need namespaces >= 2 (kube-system and at least one application namespace)")
    with _gc_paused():
        return _Generator(random.Random(seed), workloads, policies, n_ns, density, seed).build()


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its previous state afterwards.

    Building millions of small dicts triggers full collections over an ever larger heap, which
    made generation superlinear (6 s instead of 2 s at 50,000 workloads); the manifests hold no
    reference cycles, so there is nothing for the collector to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        n_workloads: int,
        n_policies: int,
        n_namespaces: int,
        density: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.rng = rng
        self.density = density
        # Its own stream, so that density 0 draws nothing from ``rng`` and keeps the sparse bytes.
        self.dense_rng = random.Random(seed * 1_000_003 + 17)
        self.n_workloads = n_workloads
        self.n_policies = n_policies
        # Monitoring and ingress-controller namespaces only once the cluster is big enough to
        # leave room for applications next to them.
        self.full_platform = n_namespaces >= 5 and n_workloads >= 20
        self.namespaces: list[_Namespace] = []
        self.workloads: list[_Workload] = []
        self.deps: list[list[int]] = []
        self.callers: list[list[int]] = []
        self.policy_names: dict[str, set[str]] = defaultdict(set)
        self.ns_policy_keys: set[tuple[str, str]] = set()
        self._make_namespaces(n_namespaces)
        self.ns_by_name = {ns.name: ns for ns in self.namespaces}

    def _dense(self) -> bool:
        """One dense choice: true with probability ``density`` (never at 0)."""
        return self.density > 0 and self.dense_rng.random() < self.density

    # -- topology ----------------------------------------------------------------------------

    def _make_namespaces(self, count: int) -> None:
        platform = [KUBE_SYSTEM] + ([MONITORING, INGRESS_NGINX] if self.full_platform else [])
        for name in platform:
            labels = {NS_NAME_LABEL: name, "team": "platform", "env": "prod", "tier": "critical"}
            self.namespaces.append(_Namespace(name, labels, default_deny=False))
        n_apps = count - len(platform)
        # A few namespaces stay open (no default-deny), as in any real cluster. Their number is
        # capped: pods that are open both ways talk to each other all-to-all.
        n_open = min(3, n_apps // 10)
        open_idx = set(self.rng.sample(range(n_apps), n_open))
        if self.density > 0:
            open_idx |= {i for i in range(n_apps) if self._dense()}
        for i in range(n_apps):
            # Consecutive namespaces are one domain in three environments, owned by one team, so a
            # team label selects three namespaces whatever the cluster size.
            domain = _DOMAINS[(i // len(_ENVS)) % len(_DOMAINS)]
            rnd = i // (len(_ENVS) * len(_DOMAINS))
            team = domain if rnd == 0 else f"{domain}{rnd + 1}"
            env = _ENVS[i % len(_ENVS)]
            name = f"{team}-{env}"
            labels = {NS_NAME_LABEL: name, "team": team, "env": env, "tier": self.rng.choice(_CRITICALITY)}
            if i in open_idx:
                labels["sandbox"] = "true"
            self.namespaces.append(_Namespace(name, labels, default_deny=i not in open_idx))

    def _add_workload(
        self, name: str, namespace: str, kind: str, tier: str, labels: dict[str, str], ports: Sequence[_Port]
    ) -> None:
        w = _Workload(len(self.workloads), name, namespace, kind, tier, labels, tuple(ports))
        self.workloads.append(w)
        self.deps.append([])
        self.callers.append([])

    def _make_platform_workloads(self) -> None:
        dns_ports = [_Port("dns", 53, "UDP"), _Port("dns-tcp", 53, "TCP"), _Port("metrics", 9153)]
        platform: list[tuple[str, str, str, dict[str, str], list[_Port]]] = [
            ("coredns", KUBE_SYSTEM, "Deployment", {"k8s-app": "kube-dns"}, dns_ports),
        ]
        if self.full_platform:
            platform += [
                ("prometheus", MONITORING, "StatefulSet", {"app.kubernetes.io/name": "prometheus"},
                 [_Port("web", 9090)]),
                ("node-exporter", MONITORING, "DaemonSet", {"app.kubernetes.io/name": "node-exporter"},
                 [_Port("metrics", 9100)]),
                ("ingress-nginx-controller", INGRESS_NGINX, "Deployment",
                 {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
                 [_Port("http", 80), _Port("https", 443), _Port("metrics", 10254)]),
            ]  # fmt: skip
        for name, ns, kind, labels, ports in platform[: self.n_workloads]:
            self._add_workload(name, ns, kind, "platform", labels, ports)

    def _make_app_workloads(self) -> None:
        apps = [ns for ns in self.namespaces if ns.labels["team"] != "platform"]
        # Uneven namespace sizes, like real teams; bounded weights keep every namespace small.
        weights = [self.rng.uniform(0.5, 1.5) for _ in apps]
        # Cumulated once: choices() would redo it on every call, O(namespaces) each.
        cum_weights = list(itertools.accumulate(weights))
        seen: Counter[tuple[str, str]] = Counter()
        for _ in range(self.n_workloads - len(self.workloads)):
            ns = self.rng.choices(apps, cum_weights=cum_weights)[0]
            tier = self.rng.choices(_TIERS, _TIER_WEIGHTS)[0]
            role = self.rng.choice(_ROLES[tier])
            base = f"{ns.labels['team']}-{role}"
            seen[ns.name, base] += 1
            # Roles and team names never end in "-<digit>", so the suffixed names cannot collide.
            name = base if seen[ns.name, base] == 1 else f"{base}-{seen[ns.name, base]}"
            kind = self._pick_kind(tier)
            labels = {"app": name, "tier": tier, "version": self.rng.choice(("v1", "v1", "v2"))}
            if self.rng.random() < 0.6:
                labels["team"] = ns.labels["team"]
            if self.rng.random() < 0.03:
                labels["canary"] = "true"
            ports = [] if kind == "CronJob" else self._pick_ports(tier, role)
            self._add_workload(name, ns.name, kind, tier, labels, ports)

    def _pick_kind(self, tier: str) -> str:
        r = self.rng.random()
        if tier in ("db", "cache"):
            return "StatefulSet" if r < 0.6 else "Deployment"
        if tier == "backend":
            if r < 0.08:
                return "CronJob"
            if r < 0.12:
                return "DaemonSet"
        return "Pod" if r > 0.95 else "Deployment"

    def _pick_ports(self, tier: str, role: str) -> list[_Port]:
        rng = self.rng
        if tier == "db":
            number = {"postgres": 5432, "mysql": 3306, "mongo": 27017, "cassandra": 9042}[role]
            ports = [_Port(f"tcp-{role}" if rng.random() < 0.5 else role, number)]
            ports.append(_Port("metrics", 9187))
        elif tier == "cache":
            number = {"redis": 6379, "memcached": 11211}[role]
            ports = [_Port(role, number)]
            if role == "memcached" and rng.random() < 0.5:
                ports.append(_Port("memcached-udp", 11211, "UDP"))
        elif role == "grpc" or (tier == "backend" and rng.random() < 0.3):
            ports = [_Port("grpc", rng.choice((9090, 50051)))]
        else:
            # "http" names different numbers in different pods: named-port resolution matters.
            ports = [_Port("http", rng.choice((8080, 8080, 8080, 8000, 3000, 80)))]
        if tier in ("frontend", "backend"):
            ports.append(_Port("metrics", 9100))
            if rng.random() < 0.05:
                ports.append(_Port("statsd", 8125, "UDP"))
            if rng.random() < 0.01:
                ports.append(_Port("diameter", 3868, "SCTP"))
        if rng.random() < 0.1:
            # Some charts leave ports unnamed; those can only be allowed by number.
            ports = [_Port(None, p.number, p.protocol) for p in ports]
        return ports

    def _wire(self) -> None:
        """Give every client a handful of dependencies, mostly in its own namespace."""
        servers: dict[tuple[str, str], list[int]] = defaultdict(list)
        ns_by_env: dict[str, list[str]] = defaultdict(list)
        for w in self.workloads:
            if w.is_server and w.tier != "platform":
                servers[w.namespace, w.tier].append(w.index)
        for space in self.namespaces:
            if space.labels["team"] != "platform":
                ns_by_env[space.labels["env"]].append(space.name)
        wants = {"frontend": ("backend",), "backend": ("backend", "db", "cache"), "db": (), "cache": ()}
        for w in self.workloads:
            if w.tier == "platform":
                continue
            targets = wants["backend"] if w.kind == "CronJob" else wants[w.tier]
            if not targets:
                continue
            env = self.ns_by_name[w.namespace].labels["env"]
            for _ in range(self.rng.randint(1, 4)):
                tier = self.rng.choice(targets)
                ns = w.namespace
                if self.rng.random() < 0.15:
                    # Shared services of another team, in the same environment.
                    ns, tier = self.rng.choice(ns_by_env[env]), "backend"
                pool = servers.get((ns, tier))
                if not pool:
                    continue
                dep = self.rng.choice(pool)
                if dep != w.index and dep not in self.deps[w.index]:
                    self.deps[w.index].append(dep)
                    self.callers[dep].append(w.index)

    # -- workloads and services ---------------------------------------------------------------

    def _container(self, w: _Workload) -> Manifest:
        image = w.name.split("-")[-1] if w.tier in ("db", "cache") else w.name
        repo = w.namespace.split("-")[0]
        container: Manifest = {
            "name": w.name if w.tier != "platform" else w.name.split("-")[0],
            "image": f"registry.example.com/{repo}/{image}:1.{w.index % 17}.{w.index % 5}",
        }
        if w.ports:
            container["ports"] = [self._container_port(p) for p in w.ports]
        container["env"] = [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        ]
        container["resources"] = {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"memory": "512Mi"},
        }
        primary = w.primary
        if primary is not None and primary.protocol == "TCP":
            target = primary.name if primary.name else primary.number
            container["readinessProbe"] = {"tcpSocket": {"port": target}, "periodSeconds": 10}
        return container

    @staticmethod
    def _container_port(p: _Port) -> Manifest:
        spec: Manifest = {"name": p.name} if p.name else {}
        spec["containerPort"] = p.number
        spec["protocol"] = p.protocol
        return spec

    def _workload_manifest(self, w: _Workload) -> Manifest:
        meta = {"name": w.name, "namespace": w.namespace, "labels": dict(w.labels)}
        pod_spec: Manifest = {"containers": [self._container(w)]}
        template = {"metadata": {"labels": dict(w.labels)}, "spec": pod_spec}
        selector = {"matchLabels": {k: v for k, v in w.labels.items() if k in ("app", "k8s-app")}}
        if not selector["matchLabels"]:
            selector["matchLabels"] = dict(w.labels)
        if w.kind == "Pod":
            return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
        if w.kind == "CronJob":
            pod_spec["restartPolicy"] = "OnFailure"
            job = {"template": template, "backoffLimit": 2}
            spec: Manifest = {
                "schedule": f"{w.index % 60} */{1 + w.index % 6} * * *",
                "jobTemplate": {"spec": job},
            }
            return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}
        spec = {"selector": selector, "template": template}
        if w.kind == "StatefulSet":
            spec = {"serviceName": w.name, "replicas": 3, **spec}
        elif w.kind == "Deployment":
            spec = {"replicas": self.rng.choice((1, 2, 3, 3, 5)), **spec}
        return {"apiVersion": "apps/v1", "kind": w.kind, "metadata": meta, "spec": spec}

    def _service(self, w: _Workload) -> Manifest | None:
        if not w.is_server or (w.tier == "platform" and w.name != "coredns"):
            return None
        if w.tier != "platform" and self.rng.random() < 0.1:
            return None
        name = "kube-dns" if w.name == "coredns" else w.name
        ports = []
        for p in w.ports:
            port = 80 if p.name == "http" else p.number
            entry: Manifest = {"name": p.name or f"{p.protocol.lower()}-{p.number}", "port": port}
            entry["targetPort"] = p.name if p.name else p.number
            entry["protocol"] = p.protocol
            ports.append(entry)
        spec: Manifest = {"selector": {k: v for k, v in w.labels.items() if k in ("app", "k8s-app")}}
        if w.kind == "StatefulSet":
            spec["clusterIP"] = "None"
        spec["ports"] = ports
        meta = {"name": name, "namespace": w.namespace, "labels": {"app": w.labels.get("app", name)}}
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}

    # -- selectors and ports ------------------------------------------------------------------

    def _pod_selector(self, apps: Sequence[_Workload]) -> Manifest:
        """A selector for these apps of one namespace, in one of the shapes people write."""
        names = sorted({a.name for a in apps})
        r = self.rng.random()
        if len(names) > 1 or r < 0.15:
            return {"matchExpressions": [{"key": "app", "operator": "In", "values": names}]}
        app = apps[0]
        sel: Manifest = {"matchLabels": {"app": app.name}}
        if r < 0.55:
            return sel
        if r < 0.7:
            sel["matchLabels"]["tier"] = app.tier
        elif r < 0.8:
            sel["matchExpressions"] = [{"key": "version", "operator": "In", "values": ["v1", "v2"]}]
        elif r < 0.88:
            sel["matchExpressions"] = [{"key": "canary", "operator": "DoesNotExist"}]
        elif r < 0.94:
            sel["matchExpressions"] = [{"key": "version", "operator": "NotIn", "values": ["v0"]}]
        elif "team" in app.labels:
            sel["matchExpressions"] = [{"key": "team", "operator": "Exists"}]
        return sel

    def _ns_selector(self, ns_name: str) -> Manifest:
        ns = self.ns_by_name[ns_name]
        if self._dense():
            return {}
        r = self.rng.random()
        if r < 0.6:
            return {"matchLabels": {NS_NAME_LABEL: ns.name}}
        if r < 0.8:
            return {"matchLabels": {"team": ns.labels["team"], "env": ns.labels["env"]}}
        if r < 0.9:
            # Selects the team's three namespaces; always paired with an app podSelector.
            return {"matchLabels": {"team": ns.labels["team"]}}
        return {
            "matchExpressions": [
                {"key": "team", "operator": "In", "values": [ns.labels["team"]]},
                {"key": "sandbox", "operator": "DoesNotExist"},
            ]
        }

    def _peers(self, here: str, others: Sequence[int]) -> list[Manifest]:
        """Peers for these workloads seen from namespace ``here``: one per namespace, or per app."""
        by_ns: dict[str, list[_Workload]] = defaultdict(list)
        for i in others:
            by_ns[self.workloads[i].namespace].append(self.workloads[i])
        peers: list[Manifest] = []
        for ns, apps in by_ns.items():
            groups = [apps] if self.rng.random() < 0.4 else [[a] for a in apps]
            for group in groups:
                peer: Manifest = {}
                if ns != here:
                    peer["namespaceSelector"] = self._ns_selector(ns)
                    if not peer["namespaceSelector"] and self.dense_rng.random() < 0.35:
                        # Every namespace's pods of that tier: a wide rule.
                        peer["podSelector"] = {"matchLabels": {"tier": group[0].tier}}
                        peers.append(peer)
                        continue
                elif self.rng.random() < 0.05 and self.ns_by_name[ns].labels["team"] != "platform":
                    # Same namespace, spelled out anyway.
                    peer["namespaceSelector"] = {"matchLabels": {NS_NAME_LABEL: ns}}
                peer["podSelector"] = self._pod_selector(group)
                peers.append(peer)
        return peers

    def _port_spec(self, p: _Port, allow_range: bool = True) -> Manifest:
        r = self.rng.random()
        spec: Manifest = {}
        if p.protocol != "TCP" or self.rng.random() < 0.7:
            spec["protocol"] = p.protocol
        if p.name and r < 0.4:
            spec["port"] = p.name
        elif r < 0.85 or not allow_range:
            spec["port"] = p.number
        else:
            # endPort needs a numeric port; ranges usually cover a block of sibling ports.
            spec["port"] = p.number
            spec["endPort"] = p.number + self.rng.choice((1, 9, 99))
        return spec

    def _ports_of(self, w: _Workload) -> list[Manifest]:
        ports = [p for p in w.ports if p.name != "metrics"] or list(w.ports)
        return [self._port_spec(p) for p in ports[:2]]

    # -- policies -----------------------------------------------------------------------------

    def _policy(self, ns: str, name: str, selector: Manifest, body: Manifest) -> Manifest:
        unique, k = name, 2
        while unique in self.policy_names[ns]:
            unique, k = f"{name}-{k}", k + 1
        self.policy_names[ns].add(unique)
        meta = {"name": unique, "namespace": ns}
        spec: Manifest = {"podSelector": selector, **body}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}

    def _dns_rule(self) -> Manifest:
        pods = {"matchLabels": {"k8s-app": "kube-dns"}}
        if self.rng.random() < 0.7:
            peer = {"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: KUBE_SYSTEM}}, "podSelector": pods}
        else:
            peer = {"namespaceSelector": {}, "podSelector": pods}
        if self.rng.random() < 0.8:
            ports: list[Manifest] = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        else:
            ports = [{"protocol": "UDP", "port": "dns"}, {"protocol": "TCP", "port": "dns-tcp"}]
        return {"to": [peer], "ports": ports}

    def _scrape_rule(self, port: Manifest) -> Manifest:
        peer = {
            "namespaceSelector": {"matchLabels": {NS_NAME_LABEL: MONITORING}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        }
        return {"from": [peer], "ports": [port]}

    def _namespace_policies(self, ns: _Namespace) -> list[Manifest]:
        """Baseline policies of a default-deny namespace, most important first."""
        out: list[Manifest] = []
        if self._dense():  # egress open
            out.append(self._policy(ns.name, "default-deny-ingress", {}, {"policyTypes": ["Ingress"]}))
        elif self.rng.random() < 0.8:
            out.append(self._policy(ns.name, "default-deny-all", {}, {"policyTypes": ["Ingress", "Egress"]}))
        else:
            out.append(self._policy(ns.name, "default-deny-ingress", {}, {"policyTypes": ["Ingress"]}))
            out.append(self._policy(ns.name, "default-deny-egress", {}, {"policyTypes": ["Egress"]}))
        if self.rng.random() < 0.8:
            body = {"policyTypes": ["Egress"], "egress": [self._dns_rule()]}
            out.append(self._policy(ns.name, "allow-dns-egress", {}, body))
        if self.full_platform and self.rng.random() < 0.5:
            # Prometheus scrapes the named "metrics" port; pods without one are simply not matched.
            body = {"policyTypes": ["Ingress"], "ingress": [self._scrape_rule({"port": "metrics"})]}
            out.append(self._policy(ns.name, "allow-prometheus-scrape", {}, body))
        if self.rng.random() < 0.1:
            body = {"ingress": [{"from": [{"podSelector": {}}]}]}
            out.append(self._policy(ns.name, "allow-same-namespace", {}, body))
        return out

    def _target_selector(self, w: _Workload) -> Manifest:
        r = self.rng.random()
        if r < 0.01:
            # A policy left behind after its app was renamed: it selects nothing.
            return {"matchLabels": {"app": f"{w.name}-legacy"}}
        if r < 0.1 and "team" in w.labels:
            return {"matchLabels": {"app": w.name, "team": w.labels["team"]}}
        if r < 0.15:
            return {"matchExpressions": [{"key": "app", "operator": "In", "values": [w.name]}]}
        return {"matchLabels": {"app": w.name}}

    def _ingress_rules(self, w: _Workload) -> list[Manifest]:
        callers = self.callers[w.index]
        ports = self._ports_of(w)
        if callers:
            peers = self._peers(w.namespace, callers)
            if len(peers) > 2 and self.rng.random() < 0.5:
                # Split across rules, each with its own copy of the ports.
                half = len(peers) // 2
                return [{"from": peers[:half], "ports": ports}, {"from": peers[half:], "ports": list(ports)}]
            return [{"from": peers, "ports": ports}]
        if w.tier == "frontend":
            if self.full_platform and self.rng.random() < 0.7:
                peer = {
                    "namespaceSelector": {"matchLabels": {NS_NAME_LABEL: INGRESS_NGINX}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                }
                return [{"from": [peer], "ports": ports}]
            return [{"from": [{"ipBlock": dict(self.rng.choice(_LB_RANGES))}], "ports": ports}]
        # No known client: allow the namespace's frontends, a bounded set (all namespaces' when dense).
        peer = {"podSelector": {"matchLabels": {"tier": "frontend"}}}
        if self._dense():
            peer = {"namespaceSelector": {}, **peer}
        return [{"from": [peer], "ports": ports}]

    def _egress_rules(self, w: _Workload, with_dns: bool) -> list[Manifest]:
        rules: list[Manifest] = []
        by_port: dict[_Port, list[int]] = defaultdict(list)
        for d in self.deps[w.index]:
            primary = self.workloads[d].primary
            if primary is not None:
                by_port[primary].append(d)
        for port, deps in by_port.items():
            rules.append({"to": self._peers(w.namespace, deps), "ports": [self._port_spec(port)]})
        if with_dns:
            rules.append(self._dns_rule())
        r = self.rng.random()
        if r < 0.15 and w.tier in ("frontend", "backend"):
            blocks = [{"ipBlock": _INTERNET_V4}]
            if self.rng.random() < 0.2:
                blocks.append({"ipBlock": _INTERNET_V6})
            rules.append({"to": blocks, "ports": [{"protocol": "TCP", "port": 443}]})
        elif r < 0.22 and w.tier == "backend":
            rules.append({"to": [{"ipBlock": _CORP_DB_NET}], "ports": [{"protocol": "TCP", "port": 5432}]})
        elif r < 0.24:
            rules.append({"to": [{"ipBlock": _SMTP_RELAY}], "ports": [{"protocol": "TCP", "port": 587}]})
        return rules

    def _workload_policy(self, w: _Workload) -> Manifest:
        """The main policy of a workload: its clients, its dependencies, or both."""
        ns = self.ns_by_name[w.namespace]
        with_dns = not ns.default_deny or (ns.name, "allow-dns-egress") not in self.ns_policy_keys
        r = self.rng.random()
        if r < 0.35 or (w.kind == "CronJob" and r < 0.5):
            kind = "egress" if w.kind == "CronJob" else "ingress"
        elif r < 0.55:
            kind = "egress"
        else:
            kind = "both"
        if kind != "ingress" and self._dense():  # egress left open
            kind = "ingress"
        body: Manifest = {}
        if kind == "ingress":
            # policyTypes may be left out: Ingress is then implied.
            if self.rng.random() < 0.5:
                body["policyTypes"] = ["Ingress"]
            body["ingress"] = self._ingress_rules(w)
        elif kind == "egress":
            body["policyTypes"] = ["Egress"]
            body["egress"] = self._egress_rules(w, with_dns)
        else:
            if self.rng.random() < 0.7:
                body["policyTypes"] = ["Ingress", "Egress"]
            body["ingress"] = self._ingress_rules(w)
            egress = self._egress_rules(w, with_dns)
            if egress or "policyTypes" not in body:
                body["egress"] = egress
        return self._policy(w.namespace, f"allow-{w.name}" if kind == "both" else f"{w.name}-{kind}",
                            self._target_selector(w), body)  # fmt: skip

    def _extra_policy(self, w: _Workload, round_: int) -> Manifest:
        """A further, narrower policy for a workload that already has its main one."""
        choice = (round_ + w.index) % 4
        if choice == 0 and self.full_platform and any(p.name == "metrics" for p in w.ports):
            body: Manifest = {"policyTypes": ["Ingress"], "ingress": [self._scrape_rule({"port": "metrics"})]}
            return self._policy(w.namespace, f"{w.name}-allow-metrics", self._target_selector(w), body)
        if choice == 1:
            blocks = [{"ipBlock": _INTERNET_V4}]
            body = {"policyTypes": ["Egress"], "egress": [{"to": blocks, "ports": [{"port": 443}]}]}
            return self._policy(w.namespace, f"{w.name}-egress-external", self._target_selector(w), body)
        if choice == 2 and w.ports:
            body = {"ingress": [{"from": [{"ipBlock": dict(self.rng.choice(_LB_RANGES))}],
                                 "ports": self._ports_of(w)}]}  # fmt: skip
            return self._policy(w.namespace, f"{w.name}-from-lb", self._target_selector(w), body)
        body = {"policyTypes": ["Ingress"], "ingress": self._ingress_rules(w)}
        return self._policy(w.namespace, f"{w.name}-ingress", self._target_selector(w), body)

    def _make_policies(self) -> dict[str, list[Manifest]]:
        budget = self.n_policies
        out: dict[str, list[Manifest]] = defaultdict(list)
        for ns in self.namespaces:
            if not ns.default_deny:
                continue
            for pol in self._namespace_policies(ns)[:budget]:
                out[ns.name].append(pol)
                self.ns_policy_keys.add((ns.name, pol["metadata"]["name"]))
                budget -= 1
        apps = [w for w in self.workloads if w.tier != "platform"]
        if not apps:
            return out
        self.rng.shuffle(apps)
        for k in range(budget):
            round_, w = divmod(k, len(apps))
            pol = self._workload_policy(apps[w]) if round_ == 0 else self._extra_policy(apps[w], round_)
            out[apps[w].namespace].append(pol)
        return out

    # -- assembly -----------------------------------------------------------------------------

    def build(self) -> list[Manifest]:
        self._make_platform_workloads()
        self._make_app_workloads()
        self._wire()
        policies = self._make_policies()
        docs: list[Manifest] = []
        for ns in self.namespaces:
            meta = {"name": ns.name, "labels": dict(ns.labels)}
            docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
        by_ns: dict[str, list[Manifest]] = defaultdict(list)
        for w in self.workloads:
            by_ns[w.namespace].append(self._workload_manifest(w))
            svc = self._service(w)
            if svc is not None:
                by_ns[w.namespace].append(svc)
        for ns in self.namespaces:
            docs.extend(by_ns[ns.name])
            docs.extend(sorted(policies[ns.name], key=lambda p: str(p["metadata"]["name"])))
        return docs


def write(out_dir: str | os.PathLike[str], docs: Iterable[Manifest]) -> list[Path]:
    """Write ``docs`` as multi-document YAML: ``namespaces.yaml`` plus one ``<namespace>.yaml`` each.

    Cluster-scoped objects other than Namespaces go to ``cluster.yaml``. Returns the files written,
    in block style as ``kubectl get -o yaml`` or ``helm template`` would print them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[Manifest]] = defaultdict(list)
    for doc in docs:
        if doc.get("kind") == "Namespace":
            groups["namespaces"].append(doc)
        else:
            groups[doc.get("metadata", {}).get("namespace") or "cluster"].append(doc)
    emitter = _Emitter()
    paths = []
    with _gc_paused():
        for name, group in groups.items():
            path = out / f"{name}.yaml"
            path.write_text("---\n".join(emitter.document(doc) for doc in group), encoding="utf-8")
            paths.append(path)
    return paths


class _Emitter:
    """A block-style YAML emitter for plain JSON-like data.

    ``yaml.dump_all`` spends most of its time in PyYAML's Python representer, even with the C
    emitter: 8 s for the 10,000-workload cluster against well under 1 s here. Scalars that PyYAML
    would read back as anything but the same string are double-quoted (JSON string syntax is valid
    YAML), so the output loads back equal to the input.
    """

    _PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:-]*")

    def __init__(self) -> None:
        self._resolver = yaml.resolver.Resolver()
        self._cache: dict[str, str] = {}

    def document(self, doc: Manifest) -> str:
        lines: list[str] = []
        self._mapping(doc, "", "", lines)
        lines.append("")
        return "\n".join(lines)

    def _mapping(self, node: Manifest, pad: str, first: str, lines: list[str]) -> None:
        # ``first`` prefixes the first key instead of ``pad`` when the mapping is a list item ("- ").
        prefix = first or pad
        for key, value in node.items():
            head = f"{prefix}{self._scalar(key)}:"
            prefix = pad
            if isinstance(value, dict) and value:
                lines.append(head)
                self._mapping(value, pad + "  ", "", lines)
            elif isinstance(value, list) and value:
                lines.append(head)
                self._sequence(value, pad, lines)
            else:
                lines.append(f"{head} {self._scalar(value)}")

    def _sequence(self, node: list[Any], pad: str, lines: list[str]) -> None:
        for item in node:
            if isinstance(item, dict) and item:
                self._mapping(item, pad + "  ", pad + "- ", lines)
            elif isinstance(item, list) and item:
                lines.append(f"{pad}-")
                self._sequence(item, pad + "  ", lines)
            else:
                lines.append(f"{pad}- {self._scalar(item)}")

    def _scalar(self, value: Any) -> str:
        if isinstance(value, str):
            cached = self._cache.get(value)
            if cached is None:
                cached = self._cache[value] = self._string(value)
            return cached
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if value == {}:
            return "{}"
        if value == []:
            return "[]"
        raise TypeError(f"cannot emit {type(value).__name__} as YAML")

    def _string(self, value: str) -> str:
        plain = (
            self._PLAIN.fullmatch(value) is not None
            and not value.endswith(":")
            # PyYAML's resolver is untyped; it is the authority on what reads back as a string.
            and self._resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
            == "tag:yaml.org,2002:str"
        )
        return value if plain else json.dumps(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate a cluster and write it to OUT_DIR; prints a summary to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--workloads", "-w", type=int, required=True, help="number of workloads (exact)")
    parser.add_argument("--policies", "-p", type=int, required=True, help="number of NetworkPolicies (exact)")
    parser.add_argument("--namespaces", "-n", type=int, default=None,
                        help="number of namespaces (default: max(2, workloads // 50))")  # fmt: skip
    parser.add_argument("--seed", "-s", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--density", "-d", type=float, default=0.0,
                        help="0 (sparse, the default) to 1: share of open namespaces, open egress and "
                             "namespaceSelector: {} peers")  # fmt: skip
    parser.add_argument("out_dir", type=Path, help="directory to write the YAML files into")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        docs = generate(args.workloads, args.policies, args.namespaces, args.seed, args.density)
    except ValueError as exc:
        parser.error(str(exc))
    paths = write(args.out_dir, docs)
    elapsed = time.perf_counter() - start
    size = sum(p.stat().st_size for p in paths)
    kinds = Counter(str(d["kind"]) for d in docs)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(f"wrote {len(paths)} files, {size / 1e6:.1f} MB to {args.out_dir} in {elapsed:.1f} s: {summary}",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
