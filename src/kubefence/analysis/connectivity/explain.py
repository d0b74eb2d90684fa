"""Why a connection is allowed or denied: the decisions of every tier, per direction, as rule refs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubefence.analysis.connectivity.effects import Decision, Direction, decide, refine
from kubefence.analysis.connectivity.engine import (
    MapOptions,
    Prepared,
    atom_member,
    bit_member,
    domain_member,
    ingress_routes,
    prepare,
)
from kubefence.errors import Diagnostic, UsageError
from kubefence.model.cluster import Cluster
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import INGRESS_CONTROLLER, DomainPeer, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.ports import PROTOCOLS, ConnectionSet, PortSet


@dataclass(frozen=True)
class Endpoint:
    """A workload (by index in the prepared cluster), external addresses, or a domain name."""

    peer: Peer
    index: int | None = None
    ips: IPRangeSet | None = None
    domain: str | None = None


@dataclass(frozen=True)
class DirectionExplanation:
    direction: str  # "egress" or "ingress"
    subject: Peer  # the workload whose policies decide
    allowed: ConnectionSet
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class PairExplanation:
    src: Peer
    dst: Peer
    query: ConnectionSet
    allowed: ConnectionSet
    directions: tuple[DirectionExplanation, ...]


@dataclass(frozen=True)
class Explanation:
    pairs: tuple[PairExplanation, ...]
    warnings: tuple[Diagnostic, ...] = field(default=())


def query_connections(port: int | None = None, protocol: str | None = None) -> ConnectionSet:
    """The connections a user asks about: a protocol, a port (TCP unless said), both, or everything."""
    if protocol is not None:
        protocol = protocol.upper()
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    if port is None:
        return ConnectionSet.all() if protocol is None else ConnectionSet.of(protocol)
    if not 1 <= port <= 65535:
        raise UsageError(f"port {port} is out of range: ports are 1 to 65535")
    return ConnectionSet.of(protocol or "TCP", PortSet.of(port))


def resolve_endpoint(prep: Prepared, text: str) -> list[Endpoint]:
    """Workloads named ``ns/name``, ``ns/name[Kind]`` or ``name``; an IP address or CIDR; a domain
    name (``api.example.com``, ``*.example.com``, as admin policies' domainNames write it); or the
    ingress controller."""
    text = text.strip()
    if text in ("{ingress-controller}", "ingress-controller") and prep.controller is not None:
        return [Endpoint(INGRESS_CONTROLLER, prep.controller)]
    found = []
    for i in range(prep.real):
        w = prep.workloads[i]
        short = f"{w.namespace}/{w.name}"
        if text in (w.peer_name, short) or ("/" not in text and text == w.name):
            found.append(Endpoint(WorkloadPeer(w.namespace, w.name, w.kind), i))
    if found:
        return found
    try:
        ips = IPRangeSet.from_cidr(text if "/" in text else f"{text}/{128 if ':' in text else 32}")
    except ValueError:
        domain = text.removesuffix("[Domain]")
        if _DOMAIN.fullmatch(domain):
            return [Endpoint(DomainPeer(domain), domain=domain)]
        names = sorted({prep.workloads[i].peer_name for i in range(prep.real)})
        hint = f"; workloads are: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}" if names else ""
        raise UsageError(
            f"{text!r} is neither a workload of the input, an IP address nor a domain name{hint}"
        ) from None
    return [Endpoint(ExternalPeer(ips), ips=ips & prep.space or ips)]


# A DNS name with at least two labels, optionally behind one leading wildcard label ("*.").
_DOMAIN = re.compile(
    r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?\.?", re.I
)


def _explain_direction(
    prep: Prepared, d: Direction, direction: str, subject: Peer, peer: Endpoint, query: ConnectionSet
) -> DirectionExplanation:
    trace: list[Decision] = []
    if peer.index is not None:
        member = bit_member(peer.index)
    elif peer.domain is not None:
        member = domain_member(peer.domain, prep.space)
    else:
        member = atom_member(peer.ips or IPRangeSet.empty())
    allowed = decide(d, member, trace) & query
    decisions = tuple(dec.on(query) for dec in trace if dec.conn & query)
    return DirectionExplanation(direction, subject, allowed, decisions)


def explain_pair(prep: Prepared, src: Endpoint, dst: Endpoint, query: ConnectionSet) -> PairExplanation:
    directions = []
    allowed = query
    if src.index is not None:
        eg = _explain_direction(prep, prep.egress[src.index], "egress", src.peer, dst, query)
        directions.append(eg)
        allowed = allowed & eg.allowed
    if dst.index is not None:
        ing = _explain_direction(prep, prep.ingress[dst.index], "ingress", dst.peer, src, query)
        directions.append(ing)
        allowed = allowed & ing.allowed
    return PairExplanation(src.peer, dst.peer, query, allowed, tuple(directions))


def explain(
    cluster: Cluster,
    src: str,
    dst: str,
    *,
    port: int | None = None,
    protocol: str | None = None,
    options: MapOptions | None = None,
) -> Explanation:
    """Explain what is allowed from ``src`` to ``dst`` (optionally on one port/protocol) and why."""
    prep = prepare(cluster, options)
    query = query_connections(port, protocol)
    sources = resolve_endpoint(prep, src)
    destinations = resolve_endpoint(prep, dst)
    if any(e.domain is not None for e in sources):
        raise UsageError(f"{src!r}: a domain name can only be a destination (of egress from a workload)")
    if all(e.index is None for e in sources + destinations):
        raise UsageError(
            "explain needs a workload on at least one side: no policy governs address to address"
        )
    pairs = [
        explain_pair(prep, a, b, query)
        for s in sources
        for d in destinations
        if s != d
        for a, b in _split_addresses(prep, s, d)
    ]
    if not pairs:
        raise UsageError(f"{src!r} and {dst!r} are the same workload: nothing to explain")
    return Explanation(tuple(pairs), tuple(cluster.warnings) + tuple(prep.warnings))


def _split_addresses(prep: Prepared, src: Endpoint, dst: Endpoint) -> list[tuple[Endpoint, Endpoint]]:
    """An address range that rules cover only in part is explained part by part, as the map shows it."""
    if src.ips is not None and dst.index is not None:
        atoms = refine(src.ips, prep.ingress[dst.index].ip_sets())
        return [(Endpoint(ExternalPeer(a), ips=a), dst) for a in atoms]
    if dst.ips is not None and src.index is not None:
        atoms = refine(dst.ips, prep.egress[src.index].ip_sets())
        return [(src, Endpoint(ExternalPeer(a), ips=a)) for a in atoms]
    return [(src, dst)]


def explain_all(cluster: Cluster, options: MapOptions | None = None) -> Explanation:
    """Explain every ordered pair of distinct workloads (``map --explain``), or with
    ``options.focus_workload`` the pairs from or to that workload."""
    prep = prepare(cluster, options)
    query = ConnectionSet.all()
    endpoints = [
        Endpoint(WorkloadPeer(w.namespace, w.name, w.kind), i)
        for i, w in enumerate(prep.workloads[: prep.real])
    ]
    focus = options.focus_workload if options else None
    focused = {e.peer for e in resolve_endpoint(prep, focus)} if focus else None

    def wanted(*peers: Peer) -> bool:
        return focused is None or any(p in focused for p in peers)

    pairs = [
        explain_pair(prep, s, d, query)
        for s in endpoints
        for d in endpoints
        if s.peer != d.peer and wanted(s.peer, d.peer)
    ]
    if prep.controller is not None:  # the controller, on the ports routes send to (as the map)
        routed: dict[int, ConnectionSet] = {}
        for _, i, ports in ingress_routes(prep):
            routed[i] = routed.get(i, ConnectionSet.none()) | ports
        controller = Endpoint(INGRESS_CONTROLLER, prep.controller)
        pairs += [
            explain_pair(prep, controller, endpoints[i], ports)
            for i, ports in routed.items()
            if ports and wanted(INGRESS_CONTROLLER, endpoints[i].peer)
        ]
    pairs.sort(key=lambda p: (p.src, p.dst))
    return Explanation(tuple(pairs), tuple(cluster.warnings) + tuple(prep.warnings))
