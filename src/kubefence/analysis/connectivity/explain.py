"""Why a connection is allowed or denied: the decisions of every tier, per direction, as rule refs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from kubefence.analysis.connectivity.effects import Decision, Direction, Layer, Member, decide, refine
from kubefence.analysis.connectivity.engine import (
    MapOptions,
    Prepared,
    atom_member,
    bit_member,
    domain_member,
    focus_names,
    ingress_routes,
    np_rule_peers,
    prepare,
)
from kubefence.analysis.connectivity.focus import check_known, pair_filter, split_names
from kubefence.errors import Diagnostic, UsageError
from kubefence.model.cluster import Cluster
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import INGRESS_CONTROLLER, DomainPeer, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.ports import PROTOCOLS, ConnectionSet, PortSet
from kubefence.model.rules import RuleAction, RuleRef


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
class RouteGrant:
    """An Ingress or Route object that sends the ingress controller's traffic to a workload, on
    ``conn`` (TCP ports of the workload): the controller's pairs are allowed no more than that."""

    kind: str
    namespace: str
    name: str
    conn: ConnectionSet


@dataclass(frozen=True)
class PairExplanation:
    src: Peer
    dst: Peer
    query: ConnectionSet
    allowed: ConnectionSet
    directions: tuple[DirectionExplanation, ...]
    routes: tuple[RouteGrant, ...] = ()


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
    trace = _cite_network_policy_rules(prep, d, peer, member, trace)
    decisions = tuple(dec.on(query) for dec in trace if dec.conn & query)
    return DirectionExplanation(direction, subject, allowed, decisions)


def _cite_network_policy_rules(
    prep: Prepared, d: Direction, peer: Endpoint, member: Member, trace: list[Decision]
) -> list[Decision]:
    """Every NetworkPolicy rule allowing a port is cited for it: an allowed part is cut where the
    allowing rules' ports differ, each piece citing the rule that granted it first and then every
    other rule allowing all of it. A part denied under isolation cites, per isolating policy, its
    first rule that selects the peer on other ports (or the policy alone when none does), as
    netpol-analyzer explains them."""
    out: list[Decision] = []
    for dec in trace:
        if dec.layer is not Layer.NETWORK_POLICY:
            out.append(dec)
        elif dec.allowed:
            covering = [e for e in d.network_policy if member(e) and e.conn & dec.conn]
            pieces = [dec.conn]
            for e in covering:
                pieces = [cut for piece in pieces for cut in (piece & e.conn, piece - e.conn) if cut]
            for piece in pieces:
                allowing = {dec.refs[0]: None}
                for e in covering:
                    if piece <= e.conn:
                        allowing.setdefault(e.ref, None)
                out.append(Decision(piece, dec.layer, True, tuple(allowing)))
        else:
            selecting = tuple(_selecting_rule(prep, d, peer, member, iso) for iso in dec.refs)
            out.append(Decision(dec.conn, dec.layer, False, selecting))
    return out


def _selecting_rule(prep: Prepared, d: Direction, peer: Endpoint, member: Member, iso: RuleRef) -> RuleRef:
    """The first rule of the isolating policy ``iso`` whose peers select ``peer`` (its ports, or
    named ports the destination lacks, do not match), else ``iso`` itself."""
    policy = next(
        (
            p
            for p in prep.cluster.policies
            if iso.policy is not None and (p.namespace, p.name) == (iso.policy.namespace, iso.policy.name)
        ),
        None,
    )
    if policy is None or peer.domain is not None:
        rules = [e.ref for e in d.network_policy if e.ref.policy == iso.policy and member(e)]
        return replace(rules[0], action=RuleAction.ISOLATED) if rules else iso
    for r, rule in enumerate(policy.ingress if d.name == "ingress" else policy.egress):
        bits, ips = np_rule_peers(prep.selection, rule, policy.namespace, prep.space)
        if peer.index is not None:
            hit = bool(bits >> peer.index & 1)
        else:
            hit = peer.ips is not None and bool(peer.ips) and peer.ips <= ips
        if hit:
            return replace(iso, rule=r + 1)
    return iso


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


def only_verdict(expl: Explanation, only: str | None) -> Explanation:
    """``allow``: the pairs with something allowed; ``deny``: those with something denied."""
    if only is None:
        return expl
    if only not in ("allow", "deny"):
        raise UsageError(f"--explain-only takes allow or deny, not {only!r}")
    keep = [p for p in expl.pairs if (bool(p.allowed) if only == "allow" else p.allowed != p.query)]
    return Explanation(tuple(keep), expl.warnings)


def explain_all(cluster: Cluster, options: MapOptions | None = None) -> Explanation:
    """Explain every ordered pair of distinct workloads (``map --explain``), narrowed by the focus
    options (focus workloads, their peers, direction; ``focus_conn`` is the question asked)."""
    options = options or MapOptions()
    prep = prepare(cluster, options)
    query = options.focus_conn or ConnectionSet.all()
    endpoints = [
        Endpoint(WorkloadPeer(w.namespace, w.name, w.kind), i)
        for i, w in enumerate(prep.workloads[: prep.real])
    ]
    known: list[Peer] = [e.peer for e in endpoints] + (
        [INGRESS_CONTROLLER] if prep.controller is not None else []
    )
    names, peers = focus_names(options), split_names(options.focus_peers)
    check_known(names, known)
    check_known(peers, known, "focus workload peer")
    keep = pair_filter(names, peers, options.focus_direction)

    def wanted(src: Peer, dst: Peer) -> bool:
        return keep(src, dst)

    pairs = [
        explain_pair(prep, s, d, query)
        for s in endpoints
        for d in endpoints
        if s.peer != d.peer and wanted(s.peer, d.peer)
    ]
    for e in endpoints:  # external addresses, cut where the workload's rules cut them
        assert e.index is not None
        for atom in refine(prep.space, prep.egress[e.index].ip_sets()):
            if wanted(e.peer, ExternalPeer(atom)):
                pairs.append(explain_pair(prep, e, Endpoint(ExternalPeer(atom), ips=atom), query))
        for atom in refine(prep.space, prep.ingress[e.index].ip_sets()):
            if wanted(ExternalPeer(atom), e.peer):
                pairs.append(explain_pair(prep, Endpoint(ExternalPeer(atom), ips=atom), e, query))
    if prep.controller is not None:  # the controller on every port: routes limit what it sends
        routed: dict[int, dict[tuple[str, str, str], ConnectionSet]] = {}
        for obj, i, ports in ingress_routes(prep):
            by_object = routed.setdefault(i, {})
            key = (obj.kind, obj.namespace, obj.name)
            by_object[key] = by_object.get(key, ConnectionSet.none()) | ports
        controller = Endpoint(INGRESS_CONTROLLER, prep.controller)
        for i, objects in sorted(routed.items()):
            if wanted(INGRESS_CONTROLLER, endpoints[i].peer):
                pair = explain_pair(prep, controller, endpoints[i], query)
                grants = tuple(
                    RouteGrant(*key, conn) for key, conn in sorted(objects.items(), key=lambda kv: kv[0])
                )
                through = ConnectionSet.union_all(g.conn for g in grants)
                pairs.append(replace(pair, allowed=pair.allowed & through, routes=grants))
    pairs.sort(key=lambda p: (p.src, p.dst))
    return Explanation(tuple(pairs), tuple(cluster.warnings) + tuple(prep.warnings))
