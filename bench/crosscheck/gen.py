"""Random small clusters that exercise every NetworkPolicy form, for differential testing.

A cluster has 2-4 namespaces, 3-15 workloads of every kind (bare Pods, Pods sharing an owner, all
template-bearing kinds) and 1-12 NetworkPolicies (0-3 per namespace). Selectors, peers, ports and
rule shapes are drawn from small pools so that they match something often, and so that every form
appears:

* selectors: empty, ``matchLabels``, ``matchExpressions`` with ``In``/``NotIn``/``Exists``/
  ``DoesNotExist``, both; pod-only, namespace-only and combined peers; ``ipBlock`` with ``except``
  (IPv6 in some clusters);
* ports: missing, empty list, ``{}``, protocol only, numbers, ``endPort`` ranges, named ports that
  a workload defines on the same protocol, on another protocol, or not at all; TCP, UDP, SCTP;
* rules: ``from``/``to`` missing or empty, ``ingress``/``egress`` missing, empty or with rules,
  ``policyTypes`` missing or given.

Only manifests the Kubernetes API server accepts are made; one cluster in five has its objects in
random order (Pods before their Namespace, ...). The same ``(seed, index)`` gives the same cluster.

>>> docs = random_cluster(1, 0)
>>> {"Namespace", "NetworkPolicy"} <= {d["kind"] for d in docs}
True
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Manifest", "cluster_features", "random_cluster", "write_cluster"]

Manifest = dict[str, Any]

NS_NAME_LABEL = "kubernetes.io/metadata.name"
_NAMESPACES = ("alpha", "beta", "gamma", "default")
_NS_LABELS: dict[str, tuple[str, ...]] = {"env": ("prod", "dev", ""), "team": ("red", "blue")}
_POD_LABELS: dict[str, tuple[str, ...]] = {
    "tier": ("web", "api", "db"),
    "env": ("prod", "dev"),
    "role": ("", "edge"),
}
_APPS = ("web", "api", "db", "cache", "auth", "queue", "search", "batch", "mail", "proxy")
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_PROTOCOL_WEIGHTS = (6, 3, 1)
_PORT_NAMES = ("http", "dns", "metrics", "db", "grpc")
_PORT_NUMBERS = (53, 80, 443, 5432, 6379, 8080, 9090)
# (cidr, except): IPv4 always; IPv6 only in some clusters (a policy naming IPv6 widens both tools'
# external address space to IPv6 as well)
_IPV4_BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("0.0.0.0/0", ()),
    ("0.0.0.0/0", ("10.0.0.0/8", "192.168.0.0/16")),
    ("10.0.0.0/8", ()),
    ("10.0.0.0/8", ("10.1.0.0/16",)),
    ("10.1.2.0/24", ()),
    ("172.16.0.0/12", ("172.16.5.0/24", "172.17.0.0/16")),
    ("192.168.1.10/32", ()),
    ("203.0.113.0/24", ("203.0.113.128/25",)),
)
_IPV6_BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("::/0", ("fd00::/8",)),
    ("fd00::/8", ("fd00:1::/32",)),
    ("2001:db8::/32", ()),
)
_OWNER_KINDS = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job")
_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
    "OwnedPods",
)
_KIND_WEIGHTS = (6, 2, 2, 1, 1, 1, 1, 4, 2)


@dataclass(frozen=True)
class _Port:
    number: int
    protocol: str
    name: str | None


@dataclass(frozen=True)
class _Workload:
    namespace: str
    name: str
    labels: dict[str, str]
    ports: tuple[_Port, ...]


def random_cluster(seed: int, index: int) -> list[Manifest]:
    """The manifests of cluster ``index`` of run ``seed``: Namespaces, workloads, NetworkPolicies."""
    return _Generator(random.Random(f"crosscheck-{seed}-{index}")).cluster()


def write_cluster(out_dir: str | Path, docs: Sequence[Manifest]) -> Path:
    """Write ``docs`` as one multi-document ``cluster.yaml`` in ``out_dir`` (created); return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.workloads: list[_Workload] = []
        self.ns_pool: dict[str, list[str]] = {}
        self.pod_pool: dict[str, list[str]] = {}
        self.ipv6 = False

    # -- topology ------------------------------------------------------------------------------

    def cluster(self) -> list[Manifest]:
        rng = self.rng
        namespaces = sorted(rng.sample(_NAMESPACES, rng.randint(2, 4)))
        ns_labels = {ns: self._labels(_NS_LABELS, 0.6) for ns in namespaces}
        docs: list[Manifest] = []
        undeclared = rng.choice(namespaces) if rng.random() < 0.1 else None
        for ns in namespaces:
            if ns == undeclared:
                continue  # both tools then know only its name label
            meta: Manifest = {"name": ns}
            if ns_labels[ns]:
                meta["labels"] = ns_labels[ns]
            docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
        workloads: list[_Workload] = []
        kinds: list[tuple[_Workload, str]] = []
        names: dict[str, set[str]] = {ns: set() for ns in namespaces}
        for _ in range(rng.randint(3, 15)):
            ns = rng.choice(namespaces)
            kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
            name = self._unique(names[ns], rng.choice(_APPS))
            templated = [w.name for w, k in kinds if w.namespace == ns and k not in ("Pod", "OwnedPods")]
            if kind == "Pod" and templated and rng.random() < 0.06:
                # named like one of a workload's pods in other tools' naming ("web-1"): a valid name
                name = self._unique(names[ns], f"{rng.choice(templated)}-{rng.randint(1, 2)}")
            labels = {"app": name} if rng.random() < 0.8 else {}
            labels.update(self._labels(_POD_LABELS, 0.5))
            w = _Workload(ns, name, labels, self._container_ports())
            workloads.append(w)
            kinds.append((w, kind))
            docs.extend(self._workload_docs(kind, w))
        self.workloads = workloads
        self.ns_pool = self._ns_pool(namespaces, ns_labels)
        self.pod_pool = self._pod_pool(workloads)
        self.ipv6 = rng.random() < 0.1
        for ns_name in namespaces:
            taken: set[str] = set()
            for _ in range(rng.choices((0, 1, 2, 3), (3, 4, 2, 1))[0]):
                docs.append(self._policy(ns_name, self._unique(taken, "np")))
        if not any(d["kind"] == "NetworkPolicy" for d in docs):
            docs.append(self._policy(rng.choice(namespaces), "np-0"))
        if rng.random() < 0.2:  # the API does not care in which order objects come
            rng.shuffle(docs)
        return docs

    def _unique(self, taken: set[str], base: str) -> str:
        # "-x<n>" never reads as a replica suffix ("web-1") nor as a ReplicaSet hash
        name = base
        n = 0
        while name in taken:
            n += 1
            name = f"{base}-x{n}"
        taken.add(name)
        return name

    def _labels(self, pool: dict[str, tuple[str, ...]], p: float) -> dict[str, str]:
        return {k: self.rng.choice(vs) for k, vs in pool.items() if self.rng.random() < p}

    def _container_ports(self) -> tuple[_Port, ...]:
        rng = self.rng
        ports: list[_Port] = []
        names = list(_PORT_NAMES)
        rng.shuffle(names)
        for _ in range(rng.choices((0, 1, 2, 3), (2, 4, 3, 1))[0]):
            number = rng.choice(_PORT_NUMBERS)
            proto = rng.choices(_PROTOCOLS, _PROTOCOL_WEIGHTS)[0]
            if any(p.number == number and p.protocol == proto for p in ports):
                continue
            name = names.pop() if rng.random() < 0.8 else None
            ports.append(_Port(number, proto, name))
        return tuple(ports)

    def _meta(self, name: str, namespace: str) -> Manifest:
        if namespace == "default" and self.rng.random() < 0.5:
            return {"name": name}  # no namespace: "default"
        return {"name": name, "namespace": namespace}

    def _pod_spec(self, w: _Workload) -> Manifest:
        ports: list[Manifest] = []
        for p in w.ports:
            entry: Manifest = {"containerPort": p.number}
            if p.protocol != "TCP" or self.rng.random() < 0.3:
                entry["protocol"] = p.protocol
            if p.name:
                entry["name"] = p.name
            ports.append(entry)
        # sometimes spread over two containers: named ports are looked up in every container
        split = len(ports) if len(ports) < 2 or self.rng.random() < 0.7 else 1
        containers: list[Manifest] = []
        for name, part in (("main", ports[:split]), ("sidecar", ports[split:])):
            if name == "main" or part:
                container: Manifest = {"name": name, "image": "registry.example/app:1"}
                if part:
                    container["ports"] = part
                containers.append(container)
        return {"containers": containers}

    def _workload_docs(self, kind: str, w: _Workload) -> list[Manifest]:
        meta = self._meta(w.name, w.namespace)
        if kind == "Pod":
            if w.labels:
                meta["labels"] = dict(w.labels)
            return [{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": self._pod_spec(w)}]
        if kind == "OwnedPods":
            owner_kind = self.rng.choice(_OWNER_KINDS)
            owner = w.name
            if owner_kind == "ReplicaSet":  # as a Deployment's ReplicaSet is named
                owner = f"{w.name}-{self.rng.randrange(16**9, 16**10):x}"
            pods = []
            for i in range(self.rng.randint(1, 2)):
                pod_meta = self._meta(f"{owner}-p{i}", w.namespace)
                pod_meta["ownerReferences"] = [
                    {"apiVersion": "apps/v1", "kind": owner_kind, "name": owner, "controller": True}
                ]
                labels = dict(w.labels)
                if i and self.rng.random() < 0.2:  # pods of one owner that differ (mid-rollout)
                    labels["rev"] = "next"
                if labels:
                    pod_meta["labels"] = labels
                pods.append(
                    {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": self._pod_spec(w)}
                )
            return pods
        template: Manifest = {"metadata": {"labels": dict(w.labels)}, "spec": self._pod_spec(w)}
        if not w.labels:
            template = {"spec": template["spec"]}
        spec: Manifest
        if kind == "CronJob":
            job_template = {"spec": {"template": template}}
            return [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "metadata": meta,
                    "spec": {"schedule": "0 * * * *", "jobTemplate": job_template},
                }
            ]
        if kind == "Job":
            return [
                {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": template}}
            ]
        spec = {"template": template}
        if w.labels:
            spec["selector"] = {"matchLabels": dict(w.labels)}
        if kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"):
            spec["replicas"] = self.rng.randint(1, 3)
        api = "v1" if kind == "ReplicationController" else "apps/v1"
        return [{"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}]

    # -- selector pools ------------------------------------------------------------------------

    @staticmethod
    def _ns_pool(namespaces: Sequence[str], labels: dict[str, dict[str, str]]) -> dict[str, list[str]]:
        pool: dict[str, list[str]] = {NS_NAME_LABEL: [*namespaces, "omega"]}
        for k, vs in _NS_LABELS.items():
            pool[k] = [*vs, "other"]
        for ns_labels in labels.values():
            for k, v in ns_labels.items():
                if v not in pool[k]:
                    pool[k].append(v)
        return pool

    @staticmethod
    def _pod_pool(workloads: Iterable[_Workload]) -> dict[str, list[str]]:
        pool: dict[str, list[str]] = {"app": [], **{k: [*vs, "other"] for k, vs in _POD_LABELS.items()}}
        for w in workloads:
            for k, v in w.labels.items():
                if v not in pool.setdefault(k, []):
                    pool[k].append(v)
        pool["app"].append("nothing")
        pool["rev"] = ["next"]  # only some pods of an owner carry it
        return pool

    def _selector(self, pool: dict[str, list[str]], p_empty: float) -> Manifest:
        rng = self.rng
        if rng.random() < p_empty:
            return {}
        form = rng.choice(("labels", "expressions", "both"))
        sel: Manifest = {}
        keys = sorted(pool)
        if form in ("labels", "both"):
            chosen = rng.sample(keys, rng.randint(1, 2))
            sel["matchLabels"] = {k: rng.choice(pool[k]) for k in chosen}
        if form in ("expressions", "both"):
            exprs = []
            candidates = [*keys, "absent"]
            count = rng.randint(1, 2)
            # two requirements on one key are valid but rare in practice
            chosen_keys = (
                rng.choices(candidates, k=count) if rng.random() < 0.1 else rng.sample(candidates, count)
            )
            for key in chosen_keys:
                op = rng.choice(("In", "NotIn", "Exists", "DoesNotExist"))
                expr: Manifest = {"key": key, "operator": op}
                if op in ("In", "NotIn"):
                    values = pool.get(key) or ["x"]
                    expr["values"] = rng.sample(values, min(len(values), rng.randint(1, 2)))
                exprs.append(expr)
            sel["matchExpressions"] = exprs
        return sel

    # -- policies ------------------------------------------------------------------------------

    def _policy(self, namespace: str, name: str) -> Manifest:
        rng = self.rng
        types = rng.choices((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]), (4, 2, 2, 2))[0]
        spec: Manifest = {"podSelector": self._selector(self.pod_pool, 0.3)}
        # The API server accepts an ingress section with policyTypes [Egress] (and ignores it); NCA
        # rejects such a policy outright, so those are not generated (KNOWN_DIFFERENCES.md).
        for section, typ in (("ingress", "Ingress"), ("egress", "Egress")):
            if types is not None and typ not in types:
                continue
            shape = rng.choices(("missing", "empty", "rules"), (2, 1, 5))[0]
            if shape == "empty":
                spec[section] = []
            elif shape == "rules":
                spec[section] = [self._rule(section) for _ in range(rng.randint(1, 3))]
        if types is not None:
            spec["policyTypes"] = types
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": self._meta(name, namespace),
            "spec": spec,
        }

    def _rule(self, section: str) -> Manifest:
        rng = self.rng
        rule: Manifest = {}
        peers_key = "from" if section == "ingress" else "to"
        shape = rng.choices(("missing", "empty", "peers"), (1, 1, 6))[0]
        if shape == "empty":
            rule[peers_key] = []
        elif shape == "peers":
            rule[peers_key] = [self._peer() for _ in range(rng.randint(1, 3))]
        ports_shape = rng.choices(("missing", "empty", "ports"), (2, 1, 5))[0]
        if ports_shape == "empty":
            rule["ports"] = []
        elif ports_shape == "ports":
            rule["ports"] = [self._port() for _ in range(rng.randint(1, 3))]
        return rule

    def _peer(self) -> Manifest:
        rng = self.rng
        form = rng.choices(("pod", "ns", "both", "ip"), (3, 2, 3, 2))[0]
        if form == "ip":
            blocks = _IPV4_BLOCKS + (_IPV6_BLOCKS if self.ipv6 else ())
            cidr, excepts = rng.choice(blocks)
            block: Manifest = {"cidr": cidr}
            if excepts:
                block["except"] = list(excepts)
            return {"ipBlock": block}
        peer: Manifest = {}
        if form in ("ns", "both"):
            peer["namespaceSelector"] = self._selector(self.ns_pool, 0.3)
        if form in ("pod", "both"):
            peer["podSelector"] = self._selector(self.pod_pool, 0.25)
        return peer

    def _port(self) -> Manifest:
        rng = self.rng
        form = rng.choices(("blank", "protocol", "number", "range", "named"), (1, 1, 3, 2, 3))[0]
        entry: Manifest = {}
        if form == "blank":
            return entry
        proto = rng.choices(_PROTOCOLS, _PROTOCOL_WEIGHTS)[0]
        if form == "named":
            defined = [p for w in self.workloads for p in w.ports if p.name]
            if defined and rng.random() < 0.8:
                chosen = rng.choice(defined)
                entry["port"] = chosen.name
                # mostly the protocol the name is defined on, sometimes another one
                proto = chosen.protocol if rng.random() < 0.75 else rng.choice(_PROTOCOLS)
            else:
                entry["port"] = rng.choice(("http", "undefined"))
        elif form in ("number", "range"):
            start = rng.choice(_PORT_NUMBERS) - rng.choice((0, 0, 1, 10))
            entry["port"] = max(start, 1)
            if form == "range":
                entry["endPort"] = entry["port"] + rng.choice((0, 1, 100, 5000))
        if proto != "TCP" or rng.random() < 0.3:
            entry["protocol"] = proto
        return entry


def cluster_features(docs: Iterable[Manifest]) -> Counter[str]:
    """Which NetworkPolicy forms ``docs`` use, counted: the coverage the summary reports."""
    docs = list(docs)
    found: Counter[str] = Counter()
    named = _named_ports(docs)
    with_pods: set[str] = set()
    for doc in docs:
        kind = doc.get("kind")
        ns = doc["metadata"].get("namespace") or "default"
        if kind == "Namespace":
            found["Namespace"] += 1
            if doc["metadata"]["name"] in with_pods:
                found["order: workload before its Namespace"] += 1
            continue
        if kind != "NetworkPolicy":
            with_pods.add(ns)
            if kind == "Pod" and doc["metadata"].get("ownerReferences"):
                found["workload: Pod with owner"] += 1
            else:
                found[f"workload: {kind}"] += 1
            if len(_pod_template_spec(doc).get("containers") or ()) > 1:
                found["workload: ports in two containers"] += 1
            continue
        if "namespace" not in doc["metadata"]:
            found["policy without metadata.namespace"] += 1
        spec = doc["spec"]
        found[
            "policyTypes " + ("missing" if "policyTypes" not in spec else "+".join(spec["policyTypes"]))
        ] += 1
        _selector_features("policy podSelector", spec["podSelector"], found)
        for section, key in (("ingress", "from"), ("egress", "to")):
            if section not in spec:
                found[f"{section} missing"] += 1
                continue
            if not spec[section]:
                found[f"{section} empty"] += 1
            for rule in spec[section]:
                _rule_features(section, key, rule, found, named)
    return found


def _pod_template_spec(doc: Manifest) -> Manifest:
    spec: Manifest = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        return spec
    if doc.get("kind") == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: Manifest = spec.get("template") or {}
    return template.get("spec") or {}


def _named_ports(docs: Iterable[Manifest]) -> dict[str, set[str]]:
    """Container port name -> the protocols it is defined on, somewhere in the cluster."""
    out: dict[str, set[str]] = {}
    for doc in docs:
        if doc.get("kind") in ("Namespace", "NetworkPolicy"):
            continue
        for container in _pod_template_spec(doc).get("containers") or ():
            for p in container.get("ports") or ():
                if p.get("name"):
                    out.setdefault(p["name"], set()).add(p.get("protocol", "TCP"))
    return out


def _rule_features(
    section: str, key: str, rule: Manifest, found: Counter[str], named: dict[str, set[str]]
) -> None:
    if key not in rule:
        found[f"{section} {key} missing"] += 1
    elif not rule[key]:
        found[f"{section} {key} empty"] += 1
    for peer in rule.get(key) or ():
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            found["ipBlock" + (" except" if block.get("except") else "")] += 1
            if ":" in block["cidr"]:
                found["ipBlock IPv6"] += 1
            continue
        has_ns, has_pod = "namespaceSelector" in peer, "podSelector" in peer
        found[
            "peer " + ("both" if has_ns and has_pod else "namespaceSelector" if has_ns else "podSelector")
        ] += 1
        for field in ("namespaceSelector", "podSelector"):
            if field in peer:
                _selector_features(f"peer {field}", peer[field], found)
    if "ports" not in rule:
        found["ports missing"] += 1
    elif not rule["ports"]:
        found["ports empty"] += 1
    for port in rule.get("ports") or ():
        proto = port.get("protocol", "TCP (default)")
        if "port" not in port:
            found["port: protocol only" if "protocol" in port else "port: {}"] += 1
        elif isinstance(port["port"], str):
            protocols = named.get(port["port"], set())
            proto_used = port.get("protocol", "TCP")
            found[
                "port: named, "
                + ("defined on its protocol" if proto_used in protocols else "defined on another protocol")
                if protocols
                else "port: named, defined nowhere"
            ] += 1
        elif "endPort" in port:
            found["port: endPort range"] += 1
        else:
            found["port: number"] += 1
        found[f"protocol {proto}"] += 1


def _selector_features(what: str, sel: Manifest, found: Counter[str]) -> None:
    if not sel:
        found[f"{what} empty"] += 1
    if sel.get("matchLabels"):
        found[f"{what} matchLabels"] += 1
    for expr in sel.get("matchExpressions") or ():
        found[f"{what} {expr['operator']}"] += 1
