"""Observed traffic checked against a policy set: what it allows, what it would deny, what is unused.

Every observed connection (resolved flows, :mod:`kubefence.analysis.discover.flows_resolve`) is
evaluated by the engine under every tier, as ``explain`` does: allowed, or denied with the
decisions that deny it (tier, policy, rule; or isolation with no rule allowing it). Peers the input
does not declare are added as workloads with the labels their flows carry, so policies select them
as they would in the cluster. Then every connection the policy set allows that no record used is
listed: privilege a tighter policy could remove.

>>> result = audit(cluster, observed)              # doctest: +SKIP
>>> [str(f.flow.src) for f in result.denied]       # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from kubefence.analysis.connectivity.effects import Decision
from kubefence.analysis.connectivity.engine import MapOptions, Prepared, compute_connectivity, prepare
from kubefence.analysis.connectivity.explain import Endpoint, explain_pair
from kubefence.analysis.discover.flows_resolve import ObservedConnectivity, ResolvedFlow
from kubefence.errors import Diagnostic
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ExternalPeer, IngressControllerPeer, Peer, WorkloadPeer
from kubefence.model.flows import FlowStats
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet
from kubefence.model.workloads import Namespace, Workload


@dataclass(frozen=True)
class Denial:
    """A decision that denies observed traffic: in which direction, of which workload's policies."""

    direction: str  # egress or ingress
    subject: Peer
    decision: Decision


@dataclass(frozen=True)
class AuditedFlow:
    """One observed connection and the policies' verdict; ``denied_by``: the decisions that deny it."""

    flow: ResolvedFlow
    allowed: bool
    denied_by: tuple[Denial, ...] = ()

    @property
    def would_break(self) -> bool:
        """Denied, and the network forwards some of it now: enforcing the policies would stop it."""
        return not self.allowed and self.flow.forwarded > 0


@dataclass(frozen=True)
class UnusedAllowance:
    """What the policies allow from ``src`` to ``dst`` that no record used (``used``: what was)."""

    src: Peer
    dst: Peer
    unused: ConnectionSet
    used: ConnectionSet = field(default_factory=ConnectionSet.none)


@dataclass(frozen=True)
class AuditResult:
    allowed: tuple[AuditedFlow, ...] = ()
    denied: tuple[AuditedFlow, ...] = ()
    unused: tuple[UnusedAllowance, ...] = ()
    observed: ObservedConnectivity = field(default_factory=ObservedConnectivity)
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def would_break(self) -> tuple[AuditedFlow, ...]:
        return tuple(a for a in self.denied if a.would_break)

    @property
    def stats(self) -> FlowStats:
        return self.observed.stats

    @property
    def ok(self) -> bool:
        return not self.would_break


def with_observed_workloads(cluster: Cluster, observed: ObservedConnectivity) -> Cluster:
    """``cluster`` plus the peers only flows know, as workloads with their observed labels."""
    known = {_peer(w) for w in cluster.workloads}
    extra = tuple(w for w in observed.workloads if _peer(w) not in known)
    extra += _dns_workloads(observed, known | {_peer(w) for w in extra})
    if not extra:
        return cluster
    # their namespaces, labelled with their names, as the API server labels every namespace
    have = {ns.name for ns in cluster.namespaces}
    namespaces = tuple(Namespace(ns, declared=False) for ns in sorted({w.namespace for w in extra} - have))
    return replace(
        cluster,
        workloads=cluster.workloads + extra,
        namespaces=tuple(sorted(cluster.namespaces + namespaces)),
    )


def _peer(w: Workload) -> WorkloadPeer:
    return WorkloadPeer(w.namespace, w.name, w.kind)


def _dns_workloads(observed: ObservedConnectivity, known: set[WorkloadPeer]) -> tuple[Workload, ...]:
    """The DNS stand-in peer of discovery (``kube-system/kube-dns[Deployment]``) when flows reach it."""
    used = {f.dst for f in observed.flows} | {f.src for f in observed.flows}
    return tuple(
        Workload(info.peer.namespace, info.peer.name, info.peer.kind, info.labels)
        for info in observed.peers
        if isinstance(info.peer, WorkloadPeer) and info.peer in used and info.peer not in known
    )


def audit(
    cluster: Cluster,
    observed: ObservedConnectivity,
    options: MapOptions | None = None,
    *,
    unused: bool = True,
) -> AuditResult:
    """Check ``observed`` against ``cluster``'s policies (every tier).

    ``cluster`` is the workloads and policies (manifests); resolve the flows against it with the
    ingress controller as an ordinary workload (``ingress_controller_namespace=None``) so its pods'
    labels decide, as in the cluster.
    """
    full = with_observed_workloads(cluster, observed)
    prep = prepare(full, options)
    indices: dict[Peer, list[int]] = defaultdict(list)
    for i in range(prep.real):
        indices[_peer(prep.workloads[i])].append(i)
    allowed: list[AuditedFlow] = []
    denied: list[AuditedFlow] = []
    for f in observed.flows:
        verdict = _check(prep, indices, f)
        (allowed if verdict.allowed else denied).append(verdict)
    unused_list: tuple[UnusedAllowance, ...] = ()
    if unused:
        unused_list = _unused(compute_connectivity(full, options).connections, observed.flows)
    warnings = tuple(observed.warnings) + tuple(full.warnings) + tuple(prep.warnings)
    denied.sort(key=lambda a: not a.would_break)  # what would break first (a stable sort)
    return AuditResult(tuple(allowed), tuple(denied), unused_list, observed, _unique(warnings))


def _unique(warnings: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(dict.fromkeys(warnings))


def _endpoints(prep: Prepared, indices: dict[Peer, list[int]], peer: Peer) -> list[Endpoint]:
    if isinstance(peer, ExternalPeer):
        return [Endpoint(peer, ips=peer.ips)]
    if isinstance(peer, IngressControllerPeer):
        return [Endpoint(peer, prep.controller)] if prep.controller is not None else []
    return [Endpoint(peer, i) for i in indices.get(peer, [])]


def _check(prep: Prepared, indices: dict[Peer, list[int]], f: ResolvedFlow) -> AuditedFlow:
    query = f.conn
    srcs = _endpoints(prep, indices, f.src)
    dsts = _endpoints(prep, indices, f.dst)
    if not srcs or not dsts:  # an end no policy can select (the controller of an input without Ingresses)
        return AuditedFlow(f, True)
    reasons: list[Denial] = []
    for s in srcs:
        for d in dsts:
            if s.index is None and d.index is None:
                return AuditedFlow(f, True)  # address to address: no policy governs it
            pair = explain_pair(prep, s, d, query)
            if pair.allowed == query:
                return AuditedFlow(f, True)
            for direction in pair.directions:
                if direction.allowed != query:
                    reasons += [
                        Denial(direction.direction, direction.subject, dec)
                        for dec in direction.decisions
                        if not dec.allowed
                    ]
    return AuditedFlow(f, False, tuple(dict.fromkeys(reasons)))


def _unused(connections: Sequence[Connection], flows: Sequence[ResolvedFlow]) -> tuple[UnusedAllowance, ...]:
    """Allowed connections minus observed use; an address range counts as used by any address in it."""
    used: dict[tuple[Peer, Peer], ConnectionSet] = defaultdict(ConnectionSet.none)
    external: dict[tuple[Peer, bool], list[tuple[IPRangeSet, ConnectionSet]]] = defaultdict(list)
    for f in flows:
        if isinstance(f.src, ExternalPeer):
            external[(f.dst, True)].append((f.src.ips, f.conn))
        elif isinstance(f.dst, ExternalPeer):
            external[(f.src, False)].append((f.dst.ips, f.conn))
        else:
            used[(f.src, f.dst)] = used[(f.src, f.dst)] | f.conn
    out = []
    for c in connections:
        seen = used.get((c.src, c.dst), ConnectionSet.none())
        outside = c.src if isinstance(c.src, ExternalPeer) else c.dst
        if isinstance(outside, ExternalPeer):
            inbound = outside is c.src
            ranges = outside.ips
            other = c.dst if inbound else c.src
            for ips, conn in external.get((other, inbound), []):
                if ips & ranges:
                    seen = seen | conn
        rest = c.conn - seen
        if rest:
            out.append(UnusedAllowance(c.src, c.dst, rest, c.conn & seen))
    return tuple(out)
