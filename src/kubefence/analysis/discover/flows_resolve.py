"""Observed flows resolved to the peers policies speak of: workloads, address ranges, the ingress
controller.

A flow's endpoint names a pod (namespace, pod name, owner, labels), a Service, or only an address.
In order of trust: the owner the log names, the input's pods, the pod-name patterns of the
controllers the input declares (``<statefulset>-<n>``, ``<replicaset>-<suffix>``,
``<cronjob>-<time>-<suffix>``), the pod's labels matching exactly one workload of its namespace, and
last the Deployment pattern ``<deployment>-<hash>-<suffix>`` (a warning says how many pods it named).
A pod that is not in the input keeps the owner the log or the pattern gives, with its labels, so
generated policies can still select it. The cluster DNS (``k8s-app=kube-dns`` in ``kube-system`` by
default) and the ingress controller's namespace are recognised. A Service address stands for the
Service's workloads, on the target port. Every other address is an external range. Replies never
reach this module (the reader counts them apart); an endpoint that cannot be resolved is counted
and reported in one warning, never dropped silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from kubefence import defaults
from kubefence.errors import Diagnostic, Origin
from kubefence.gcpause import no_cycle_collection
from kubefence.model.cluster import Cluster
from kubefence.model.discovery import PeerInfo
from kubefence.model.flows import FlowEndpoint, FlowLog, FlowStats, ObservedFlow
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import INGRESS_CONTROLLER, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.workloads import PER_POD_LABELS, LabelPairs, Service, Workload

# Kubernetes names pods of controllers so (the hash and suffix alphabet is [bcdfghjklmnpqrstvwxz2-9])
_REPLICASET_POD = re.compile(r"(?P<owner>.+)-[a-z0-9]{5}")  # also DaemonSet and Job pods
_DEPLOYMENT_POD = re.compile(r"(?P<owner>.+)-[a-z0-9]{6,10}-[a-z0-9]{5}")
_CRONJOB_POD = re.compile(r"(?P<owner>.+)-[0-9]{8,}-[a-z0-9]{5}")
_STATEFULSET_POD = re.compile(r"(?P<owner>.+)-[0-9]+")
_DEPLOYMENT_REPLICASET = re.compile(r"(?P<owner>.+)-[a-z0-9]{6,10}")
_CRONJOB_JOB = re.compile(r"(?P<owner>.+)-[0-9]{8,}")
_DNS_NAMES = ("kube-dns", "coredns")


@dataclass(frozen=True)
class ResolveOptions:
    """Options of :func:`resolve_flows`.

    ``dns_namespace``/``dns_labels``: the cluster DNS; when its pods are not in the input, the peer
    ``<dns_namespace>/<first label value>[Deployment]`` stands for them (as in discovery).
    ``ingress_controller_namespace``: pods there that the input does not declare are the ingress
    controller (``None``: treat them as ordinary workloads). ``min_count``: connections seen in fewer
    records are left out (and counted).
    """

    dns_namespace: str = defaults.DNS_NAMESPACE
    dns_labels: LabelPairs = defaults.DNS_LABELS
    ingress_controller_namespace: str | None = defaults.INGRESS_CONTROLLER_NAMESPACE
    min_count: int = 1

    @property
    def dns_peer(self) -> WorkloadPeer:
        name = self.dns_labels[0][1] if self.dns_labels else "kube-dns"
        return WorkloadPeer(self.dns_namespace, name, "Deployment")


@dataclass(frozen=True)
class ResolvedFlow:
    """Observed traffic between two peers on one protocol and port, with its evidence.

    ``src_ips``/``dst_ips``: the addresses of an external end (``None`` for a workload or the
    ingress controller).
    """

    src: Peer
    dst: Peer
    protocol: str
    port: int
    count: int
    dropped: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sample: Origin = field(default=Origin())
    drop_reason: str = ""
    src_ips: IPRangeSet | None = None
    dst_ips: IPRangeSet | None = None

    @property
    def conn(self) -> ConnectionSet:
        return ConnectionSet.of(self.protocol, PortSet.of(self.port))

    @property
    def forwarded(self) -> int:
        return self.count - self.dropped

    @property
    def sort_key(self) -> tuple[Peer, Peer, str, int]:
        return (self.src, self.dst, self.protocol, self.port)


@dataclass(frozen=True)
class ObservedConnectivity:
    """Flows resolved to peers, one per (source, destination, protocol, port), sorted.

    ``peers``: how to select peers the input does not declare (their labels in the flows).
    ``workloads``: those peers as workloads, for evaluating policies on them. ``unresolved``,
    ``internal`` (within one workload) and ``rare`` (below ``min_count``) count records left out.
    """

    flows: tuple[ResolvedFlow, ...] = ()
    peers: tuple[PeerInfo, ...] = ()
    workloads: tuple[Workload, ...] = ()
    stats: FlowStats = field(default_factory=FlowStats)
    unresolved: int = 0
    internal: int = 0
    rare: int = 0
    warnings: tuple[Diagnostic, ...] = ()


# -- peers: built here only, so that a typed peer needs changes in these three functions alone ------


def workload_peer(namespace: str, name: str, kind: str) -> Peer:
    return WorkloadPeer(namespace, name, kind)


def address_peer(ips: IPRangeSet) -> Peer:
    return ExternalPeer(ips)


def controller_peer() -> Peer:
    return INGRESS_CONTROLLER


# -- resolution ------------------------------------------------------------------------------------

_Target = tuple[Peer, IPRangeSet | None, int]  # a peer, its addresses if external, the port reached


@dataclass
class _Foreign:
    """A peer the input does not declare, and the labels its pods carry in the flows."""

    namespace: str
    name: str
    kind: str
    labels: dict[str, str] = field(default_factory=dict)


class _Resolver:
    def __init__(self, cluster: Cluster, options: ResolveOptions) -> None:
        self.options = options
        self.by_key: dict[tuple[str, str, str], Workload] = {}
        self.by_name: dict[tuple[str, str], list[Workload]] = defaultdict(list)
        self.by_namespace: dict[str, list[Workload]] = defaultdict(list)
        self.pods: dict[tuple[str, str], Workload] = {}
        self.ips: dict[str, Workload] = {}
        for w in cluster.workloads:
            self.by_key.setdefault((w.namespace, w.name, w.kind), w)
            if w not in self.by_name[(w.namespace, w.name)]:
                self.by_name[(w.namespace, w.name)].append(w)
            self.by_namespace[w.namespace].append(w)
            if w.kind == "Pod":
                self.pods[(w.namespace, w.name)] = w
            # the addresses of running pods, where the input has them (a live cluster, a snapshot)
            for ip in w.pod_ips:
                self.ips[ip] = w
        self.services: dict[tuple[str, str], Service] = {(s.namespace, s.name): s for s in cluster.services}
        # Service addresses, where the input has them (a live cluster's, or exported manifests)
        self.service_ips: dict[str, str] = {}
        for s in cluster.services:
            for ip in (getattr(s, "cluster_ip", "") or "", *(getattr(s, "cluster_ips", ()) or ())):
                if ip and ip != "None":
                    self.service_ips[str(ip)] = f"{s.namespace}/{s.name}"
        dns = dict(options.dns_labels)
        self.dns_servers = [
            w
            for w in cluster.workloads
            if w.namespace == options.dns_namespace and all(w.label_map.get(k) == v for k, v in dns.items())
        ]
        self.foreign: dict[str, _Foreign] = {}
        self.by_pattern: dict[str, str] = {}  # pod -> workload, named by the Deployment pattern
        self._cache: dict[FlowEndpoint, list[_Target] | str] = {}

    # -- peers of workloads

    def peer(self, w: Workload) -> Peer:
        return workload_peer(w.namespace, w.name, w.kind)

    def foreign_peer(self, ep: FlowEndpoint, name: str, kind: str) -> Peer:
        peer = workload_peer(ep.namespace, name, kind)
        info = self.foreign.setdefault(str(peer), _Foreign(ep.namespace, name, kind))
        for k, v in ep.labels:
            if k not in PER_POD_LABELS:
                info.labels.setdefault(k, v)
        return peer

    # -- one endpoint

    def resolve(self, ep: FlowEndpoint, protocol: str, port: int) -> list[_Target] | str:
        if not ep.namespace and not ep.service and ep.ip in self.service_ips:
            ep = FlowEndpoint(ip=ep.ip, service=self.service_ips[ep.ip])
        if not ep.namespace and ep.service:
            return self.service(ep, protocol, port)
        cached = self._cache.get(ep)
        if cached is None:
            cached = self._cache[ep] = self._resolve(ep)
        if isinstance(cached, str):
            return cached
        return [(peer, ips, port) for peer, ips, _ in cached]

    def _resolve(self, ep: FlowEndpoint) -> list[_Target] | str:
        if ep.namespace:
            found = self.declared(ep)
            if found is not None:
                return [(self.peer(found), None, 0)]
            special = self.special(ep)
            if special is not None:
                return special
            peer = self.undeclared(ep)
            if peer is not None:
                return [(peer, None, 0)]
            if not ep.ip:
                return f"pod in namespace {ep.namespace} without a name, an owner or labels"
        if ep.ip:
            w = self.ips.get(ep.ip)
            if w is not None:
                return [(self.peer(w), None, 0)]
            try:
                ips = IPRangeSet.from_cidr(ep.ip)
            except ValueError:
                return f"address {ep.ip!r} is not an IP address"
            return [(address_peer(ips), ips, 0)]
        return "no namespace, pod, Service or address"

    def declared(self, ep: FlowEndpoint) -> Workload | None:
        """The input's workload the endpoint's pod belongs to, if the input declares it."""
        ns = ep.namespace
        if ep.workload:
            w = self.by_key.get((ns, ep.workload, ep.workload_kind))
            if w is not None:
                return w
            owner = self.owner_of_controller(ns, ep.workload, ep.workload_kind)
            if owner is not None:
                return owner
            same = self.by_name.get((ns, ep.workload), [])
            if len(same) == 1:
                return same[0]
        if ep.pod:
            w = self.pods.get((ns, ep.pod))
            if w is not None:
                return w
            for pattern, kinds in (
                (_STATEFULSET_POD, ("StatefulSet",)),
                (_CRONJOB_POD, ("CronJob",)),
                (_REPLICASET_POD, ("ReplicaSet", "DaemonSet", "Job", "ReplicationController")),
            ):
                found = pattern.fullmatch(ep.pod)
                if found is not None:
                    w = self._of_kinds(ns, found["owner"], kinds)
                    if w is not None:
                        return w
        by_labels = self.by_labels(ep)
        if by_labels is not None:
            return by_labels
        if ep.pod:
            found = _DEPLOYMENT_POD.fullmatch(ep.pod)
            if found is not None:
                w = self._of_kinds(ns, found["owner"], ("Deployment",))
                if w is not None:
                    self.by_pattern[f"{ns}/{ep.pod}"] = w.peer_name
                    return w
        return None

    def owner_of_controller(self, ns: str, name: str, kind: str) -> Workload | None:
        """The Deployment of a ReplicaSet, the CronJob of a Job, when the log names the direct owner."""
        if kind == "ReplicaSet":
            found = _DEPLOYMENT_REPLICASET.fullmatch(name)
            if found is not None:
                w = self._of_kinds(ns, found["owner"], ("Deployment",))
                if w is not None:
                    self.by_pattern[f"{ns}/{name}"] = w.peer_name
                    return w
        if kind == "Job":
            found = _CRONJOB_JOB.fullmatch(name)
            if found is not None:
                return self._of_kinds(ns, found["owner"], ("CronJob",))
        return None

    def _of_kinds(self, ns: str, name: str, kinds: Iterable[str]) -> Workload | None:
        for kind in kinds:
            w = self.by_key.get((ns, name, kind))
            if w is not None:
                return w
        return None

    def by_labels(self, ep: FlowEndpoint) -> Workload | None:
        """The one workload of the namespace whose pod labels the endpoint's labels include."""
        if not ep.labels:
            return None
        have = dict(ep.labels)
        matches = {
            w.peer_name: w
            for w in self.by_namespace.get(ep.namespace, [])
            if w.labels and all(have.get(k) == v for k, v in w.labels if k not in PER_POD_LABELS)
        }
        return next(iter(matches.values())) if len(matches) == 1 else None

    def special(self, ep: FlowEndpoint) -> list[_Target] | None:
        """The cluster DNS and the ingress controller, which inputs rarely declare."""
        opts = self.options
        if ep.namespace == opts.dns_namespace and self.is_dns(ep):
            if self.dns_servers:
                return [(self.peer(w), None, 0) for w in self.dns_servers]
            return [(opts.dns_peer, None, 0)]
        if (
            opts.ingress_controller_namespace is not None
            and ep.namespace == opts.ingress_controller_namespace
        ):
            return [(controller_peer(), None, 0)]
        return None

    def is_dns(self, ep: FlowEndpoint) -> bool:
        labels = dict(ep.labels)
        if self.options.dns_labels and all(labels.get(k) == v for k, v in self.options.dns_labels):
            return True
        names = (ep.workload, ep.pod, ep.service.rpartition("/")[2])
        return any(n == d or n.startswith(d + "-") for n in names if n for d in _DNS_NAMES)

    def undeclared(self, ep: FlowEndpoint) -> Peer | None:
        """A pod the input does not declare: the owner the log names, else one its name implies."""
        if ep.workload:
            name, kind = ep.workload, ep.workload_kind or "Deployment"
            if kind == "ReplicaSet" and (found := _DEPLOYMENT_REPLICASET.fullmatch(name)):
                name, kind = found["owner"], "Deployment"
                self.by_pattern[f"{ep.namespace}/{ep.workload}"] = f"{ep.namespace}/{name}[{kind}]"
            elif kind == "Job" and (found := _CRONJOB_JOB.fullmatch(name)):
                name, kind = found["owner"], "CronJob"
            return self.foreign_peer(ep, name, kind)
        if ep.pod:
            if found := _CRONJOB_POD.fullmatch(ep.pod):
                return self.foreign_peer(ep, found["owner"], "CronJob")
            if found := _DEPLOYMENT_POD.fullmatch(ep.pod):
                peer = self.foreign_peer(ep, found["owner"], "Deployment")
                self.by_pattern[f"{ep.namespace}/{ep.pod}"] = str(peer)
                return peer
            return self.foreign_peer(ep, ep.pod, "Pod")
        return None

    def service(self, ep: FlowEndpoint, protocol: str, port: int) -> list[_Target] | str:
        """A destination addressed as a Service: its workloads, on the port the Service targets."""
        ns, _, name = ep.service.partition("/")
        svc = self.services.get((ns, name))
        if svc is None:
            if ns == self.options.dns_namespace and self.is_dns(FlowEndpoint(service=ep.service)):
                special = self.special(FlowEndpoint(namespace=ns, service=ep.service))
                return [(p, i, port) for p, i, _ in special or []]
            return f"Service {ep.service} is not in the input"  # its address is the cluster's, not external
        if svc.selector is None:
            return f"Service {ep.service} has no selector"
        ports = [sp for sp in svc.ports if sp.port == port and sp.protocol == protocol]
        if not ports:
            return f"Service {ep.service} has no {protocol} port {port}"
        out: list[_Target] = []
        for w in self.by_namespace.get(ns, []):
            if not svc.selector.matches(w.label_map):
                continue
            for sp in ports:
                target = (
                    sp.target_port
                    if isinstance(sp.target_port, int)
                    else w.named_port(sp.target_port, protocol)
                )
                if target is not None:
                    out.append((self.peer(w), None, target))
        return out or f"Service {ep.service} selects no workload of the input"

    def peer_infos(self) -> tuple[PeerInfo, ...]:
        infos = [
            PeerInfo(WorkloadPeer(f.namespace, f.name, f.kind), f.namespace, tuple(sorted(f.labels.items())))
            for f in self.foreign.values()
        ]
        if not self.dns_servers:
            opts = self.options
            infos.append(PeerInfo(opts.dns_peer, opts.dns_namespace, tuple(opts.dns_labels)))
        return tuple(sorted(infos))

    def workloads(self) -> tuple[Workload, ...]:
        return tuple(
            Workload(f.namespace, f.name, f.kind, tuple(sorted(f.labels.items())))
            for _, f in sorted(self.foreign.items())
        )


def resolve_flows(
    cluster: Cluster, log: FlowLog, options: ResolveOptions | None = None
) -> ObservedConnectivity:
    """Resolve ``log``'s flows to peers of ``cluster`` (its workloads, Services and pods)."""
    options = options or ResolveOptions()
    resolver = _Resolver(cluster, options)
    with no_cycle_collection():  # a large log makes hundreds of thousands of small objects
        merged: dict[tuple[Peer, Peer, str, int], _Sum] = {}
        unresolved: dict[str, tuple[int, Origin, str]] = {}  # endpoint -> records, first sample, reason
        internal = 0
        for flow in log.flows:
            srcs = resolver.resolve(flow.src, flow.protocol, flow.port)
            dsts = resolver.resolve(flow.dst, flow.protocol, flow.port)
            bad = [(ep, why) for ep, why in ((flow.src, srcs), (flow.dst, dsts)) if isinstance(why, str)]
            if bad or isinstance(srcs, str) or isinstance(dsts, str):
                for ep, why in bad:
                    n, origin, _ = unresolved.get(str(ep), (0, flow.sample, str(why)))
                    unresolved[str(ep)] = (n + flow.count, min(origin, flow.sample), str(why))
                continue
            for src, src_ips, _ in srcs:
                for dst, dst_ips, port in dsts:
                    if src == dst:
                        internal += flow.count
                        continue
                    key = (src, dst, flow.protocol, port)
                    total = merged.get(key)
                    if total is None:
                        merged[key] = _Sum(flow, src_ips, dst_ips)
                    else:
                        total.add(flow, src_ips, dst_ips)
        rare = sum(t.count for t in merged.values() if t.count < options.min_count)
        # peers sort as their text (cached on each): sorting on it keeps the order, at C speed
        order = sorted(merged, key=lambda k: (str(k[0]), str(k[1]), k[2], k[3]))
        flows = tuple(merged[k].flow(k) for k in order if merged[k].count >= options.min_count)
    warnings: list[Diagnostic] = []
    if resolver.by_pattern:
        example, owner = sorted(resolver.by_pattern.items())[0]
        warnings.append(
            Diagnostic(
                Origin(),
                f"flows: {len(resolver.by_pattern)} pod or ReplicaSet name(s) taken for a Deployment's "
                f"by the naming pattern <deployment>-<hash>-<suffix> (e.g. {example} as {owner}); "
                "include the pods or the cluster to resolve them exactly",
            )
        )
    if unresolved:
        records = sum(n for n, _, _ in unresolved.values())
        name, (_, origin, why) = max(unresolved.items(), key=lambda kv: (kv[1][0], kv[0]))
        warnings.append(
            Diagnostic(
                origin,
                f"flows: {records} record(s) with {len(unresolved)} endpoint(s) that resolve to no workload "
                f"or address are not counted, e.g. {name}: {why}",
            )
        )
    return ObservedConnectivity(
        flows,
        resolver.peer_infos(),
        resolver.workloads(),
        log.stats,
        sum(n for n, _, _ in unresolved.values()),
        internal,
        rare,
        tuple(warnings),
    )


class _Sum:
    """The observed flows of one (source, destination, protocol, port), added up: counts, the
    earliest and latest time, the sample of the earliest flow, one drop reason, the addresses."""

    __slots__ = ("count", "drop_reason", "dropped", "dst_ips", "first", "last", "sample", "src_ips")

    def __init__(self, flow: ObservedFlow, src_ips: IPRangeSet | None, dst_ips: IPRangeSet | None) -> None:
        self.count = flow.count
        self.dropped = flow.dropped
        self.first = flow.first_seen
        self.last = flow.last_seen
        self.sample = flow.sample
        self.drop_reason = flow.drop_reason if flow.dropped else ""
        self.src_ips = src_ips
        self.dst_ips = dst_ips

    def add(self, flow: ObservedFlow, src_ips: IPRangeSet | None, dst_ips: IPRangeSet | None) -> None:
        # the sample stays the earliest flow's; a timed flow wins over untimed ones seen before it
        earlier = self.first is not None and (flow.first_seen is None or self.first <= flow.first_seen)
        if not earlier:
            self.sample = flow.sample
        self.count += flow.count
        self.dropped += flow.dropped
        if flow.first_seen is not None and (self.first is None or flow.first_seen < self.first):
            self.first = flow.first_seen
        if flow.last_seen is not None and (self.last is None or flow.last_seen > self.last):
            self.last = flow.last_seen
        if not self.drop_reason and flow.dropped:
            self.drop_reason = flow.drop_reason
        if self.src_ips is not None and src_ips is not None:
            self.src_ips = self.src_ips | src_ips
        if self.dst_ips is not None and dst_ips is not None:
            self.dst_ips = self.dst_ips | dst_ips

    def flow(self, key: tuple[Peer, Peer, str, int]) -> ResolvedFlow:
        src, dst, protocol, port = key
        return ResolvedFlow(
            src, dst, protocol, port, self.count, self.dropped, self.first, self.last, self.sample,
            self.drop_reason, self.src_ips, self.dst_ips,
        )  # fmt: skip
