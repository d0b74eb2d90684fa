"""Checking policies against guardrails, and required connections against guardrails.

:func:`verify` evaluates every rule over the connectivity the policies allow (the connectivity map of
all tiers): a ``deny`` rule is violated by each allowed connection it matches, an ``allow`` rule by
each matching connection that is not (fully) allowed. For a few violations per rule it keeps a
witness: one concrete source, destination, protocol and port, with the decisions of every tier
(:func:`~kubefence.analysis.connectivity.explain.explain_pair`) that allow it, or fail to.

:func:`check_connections` is what policy generation calls: given the connections an application
needs, it says which parts each deny rule forbids, and which connections allow rules add.

Peers a rule can match: the workloads of the input (``cluster`` and pod selectors), external address
ranges (``internet``, CIDRs), and, as in the map, two modelled peers: ``{ingress-controller}`` (a pod
without labels in its namespace; a source only, and never required by an allow rule) and domain names
(``name[Domain]``, matched by ``any`` and ``internet``; checked by deny rules only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from kubefence import defaults
from kubefence.analysis.connectivity.effects import Decision, decide
from kubefence.analysis.connectivity.engine import (
    MapOptions,
    Prepared,
    address_allowance,
    domain_member,
    prepare,
)
from kubefence.analysis.connectivity.explain import (
    DirectionExplanation,
    Endpoint,
    PairExplanation,
    explain_pair,
)
from kubefence.analysis.connectivity.networks import compute_any_connectivity
from kubefence.errors import Diagnostic, Origin
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import (
    INGRESS_CONTROLLER,
    Connection,
    DomainPeer,
    ExternalPeer,
    Peer,
    WorkloadPeer,
)
from kubefence.model.guardrails import GuardAction, GuardPeer, Guardrail, Keyword, PeerSet, internet_addresses
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import PROTOCOLS, ConnectionSet, PortSet
from kubefence.model.workloads import Workload

DEFAULT_WITNESSES = defaults.WITNESSES


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Witness:
    """One concrete connection that breaks a rule, and the decisions behind it.

    ``explanation`` holds, per direction, every decision on ``protocol``/``port``; :attr:`reasons`
    keeps those that matter: what allowed it (deny rules) or what refused it (allow rules).
    """

    src: Peer  # an external end is one address
    dst: Peer
    protocol: str
    port: int
    explanation: PairExplanation
    allowed: bool  # whether the policies allow it (a deny rule's witness) or not (an allow rule's)

    @property
    def reasons(self) -> tuple[tuple[DirectionExplanation, Decision], ...]:
        return tuple(
            (d, dec)
            for d in self.explanation.directions
            for dec in d.decisions
            if dec.allowed == self.allowed
        )


@dataclass(frozen=True)
class RuleResult:
    """The verdict on one rule: ``violations`` are the forbidden connections that are allowed (deny)
    or the required connections that are not (allow), sorted; ``witnesses`` explain a few of them."""

    rule: Guardrail
    violations: tuple[Connection, ...] = ()
    witnesses: tuple[Witness, ...] = ()
    matched: bool = True  # False: the rule selects no connection of the input at all

    @property
    def satisfied(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class VerifyResult:
    """Every rule's verdict, in the order the rules were given."""

    rules: tuple[RuleResult, ...]
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def violated(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.rules if not r.satisfied)

    @property
    def ok(self) -> bool:
        return not self.violated


@dataclass(frozen=True)
class Blocked:
    """The part of a connection that a rule forbids: ``forbidden`` is inside ``required``."""

    rule: Guardrail
    required: Connection
    forbidden: Connection


@dataclass(frozen=True)
class Added:
    """A connection an allow rule requires that the required connections did not include."""

    rule: Guardrail
    connection: Connection


@dataclass(frozen=True)
class ConnectionCheck:
    """What the guardrails make of a list of required connections.

    ``permitted``: the required connections less every part a deny rule forbids. ``blocked``: those
    parts, each with its rule. ``added``: what allow rules require beyond the required connections
    (and no deny rule forbids). ``conflicts``: what an allow rule requires but a deny rule forbids
    (left out: no policy set can satisfy both rules). :attr:`connections` is what to allow.
    """

    permitted: tuple[Connection, ...]
    blocked: tuple[Blocked, ...] = ()
    added: tuple[Added, ...] = ()
    conflicts: tuple[Blocked, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def connections(self) -> tuple[Connection, ...]:
        return _merge([*self.permitted, *(a.connection for a in self.added)])


# -- peers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _End:
    """One end of a connection as rules see it: a workload (with its namespace's labels), an address
    range, a domain name, or a peer unknown to the input (matched only by keywords)."""

    peer: Peer
    workload: Workload | None = None
    ns_labels: Mapping[str, str] = field(default_factory=dict)
    ips: IPRangeSet | None = None

    def part(self, peers: PeerSet, space: IPRangeSet) -> _End | None:
        """The part of this end that ``peers`` selects (a sub-range for addresses), or None."""
        if self.ips is not None:
            inside = self.ips & peers.external(space)
            if not inside:
                return None
            return self if inside == self.ips else _ip_end(inside)
        if isinstance(self.peer, DomainPeer):
            return self if peers.matches_domains else None
        if self.workload is None:  # not in the input: only "every workload" speaks of it
            return self if _every_workload(peers.include) and not _every_workload(peers.exclude) else None
        return self if peers.matches_workload(self.ns_labels, self.workload.label_map) else None


def _every_workload(peers: Iterable[GuardPeer]) -> bool:
    return any(p.keyword in (Keyword.ANY, Keyword.CLUSTER) for p in peers)


def _ip_end(ips: IPRangeSet) -> _End:
    return _End(ExternalPeer(ips), ips=ips)


class _Ends:
    """Resolves peers of the prepared cluster (and of required connections) to :class:`_End`."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        ns_labels = {ns.name: ns.label_map for ns in prep.selection.namespaces}
        self.index: dict[Peer, int] = {}
        self.ends: dict[Peer, _End] = {}
        self.workload_peers: list[Peer] = []
        for i, w in enumerate(prep.workloads):
            peer: Peer = (
                INGRESS_CONTROLLER if i == prep.controller else WorkloadPeer(w.namespace, w.name, w.kind)
            )
            self.index[peer] = i
            self.ends[peer] = _End(peer, w, ns_labels.get(w.namespace, {}))
            if i < prep.real:
                self.workload_peers.append(peer)

    def of(self, peer: Peer) -> _End:
        known = self.ends.get(peer)
        if known is not None:
            return known
        if isinstance(peer, ExternalPeer):
            return _ip_end(peer.ips)
        return _End(peer)

    def matching_workloads(self, peers: PeerSet) -> list[_End]:
        """The workloads of the input (not the ingress controller) that ``peers`` selects."""
        space = self.prep.space
        return [e for e in (self.ends[p] for p in self.workload_peers) if e.part(peers, space) is not None]

    def matching_sources(self, peers: PeerSet) -> list[_End]:
        """Workloads and the ingress controller that ``peers`` selects."""
        found = self.matching_workloads(peers)
        ctl = self.ends.get(INGRESS_CONTROLLER)
        if ctl is not None and ctl.part(peers, self.prep.space) is not None:
            found.append(ctl)
        return found


def _forbidden(rule: Guardrail, c: Connection, ends: _Ends) -> Connection | None:
    """The part of ``c`` that ``rule`` matches."""
    conn = c.conn & rule.conn
    if not conn:
        return None
    space = ends.prep.space
    src = ends.of(c.src).part(rule.sources, space)
    if src is None:
        return None
    dst = ends.of(c.dst).part(rule.destinations, space)
    if dst is None:
        return None
    return Connection(src.peer, dst.peer, conn)


# -- verify ----------------------------------------------------------------------------------------


def verify(
    cluster: Cluster,
    rules: Sequence[Guardrail],
    *,
    options: MapOptions | None = None,
    witnesses: int = DEFAULT_WITNESSES,
) -> VerifyResult:
    """Check the policies of ``cluster`` (every tier) against each rule.

    >>> result = verify(cluster, rules)                              # doctest: +SKIP
    >>> [(r.rule.name, r.satisfied) for r in result.rules]          # doctest: +SKIP
    [('no-telnet', True), ('frontend-never-reaches-data', False)]
    """
    options = replace(options or MapOptions(), focus_workload=None)
    prep = prepare(cluster, options)
    cmap = compute_any_connectivity(cluster, options)
    ends = _Ends(prep)
    results = []
    warnings = list(cmap.warnings)
    for rule in rules:
        if rule.action is GuardAction.DENY:
            result = _verify_deny(rule, cmap.connections, ends)
        else:
            result = _verify_allow(rule, cmap.connections, ends)
        if witnesses:
            result = replace(result, witnesses=_witnesses(rule, result.violations, ends, witnesses))
        if not result.matched:
            warnings.append(
                Diagnostic(
                    rule.origin,
                    f"guardrail {rule.name!r} matches no connection of the input: check its peers",
                )
            )
        results.append(result)
    return VerifyResult(tuple(results), tuple(warnings))


def _cut_by(denies: Iterable[Guardrail], c: Connection, ends: _Ends, into: list[Blocked]) -> list[Connection]:
    """The parts of ``c`` that the deny rules ``denies`` forbid, each also recorded in ``into``."""
    cut = []
    for deny in denies:
        f = _forbidden(deny, c, ends)
        if f is not None:
            into.append(Blocked(deny, c, f))
            cut.append(f)
    return cut


def _matches_anything(rule: Guardrail, ends: _Ends) -> bool:
    space = ends.prep.space
    srcs = ends.matching_sources(rule.sources)
    dsts = ends.matching_workloads(rule.destinations)
    src_ips = rule.sources.external(space)
    dst_ips = rule.destinations.external(space)
    pods = any(s.peer != d.peer for s in srcs for d in dsts)
    return pods or bool(srcs and (dst_ips or rule.destinations.matches_domains)) or bool(dsts and src_ips)


def _verify_deny(rule: Guardrail, allowed: Iterable[Connection], ends: _Ends) -> RuleResult:
    violations = [v for v in (_forbidden(rule, c, ends) for c in allowed) if v is not None]
    return RuleResult(rule, tuple(sorted(violations, key=_key)), matched=_matches_anything(rule, ends))


def _verify_allow(rule: Guardrail, allowed: Iterable[Connection], ends: _Ends) -> RuleResult:
    pairs = {
        (c.src, c.dst): c.conn
        for c in allowed
        if not isinstance(c.src, ExternalPeer) and not isinstance(c.dst, ExternalPeer)
    }
    violations: list[Connection] = []
    for c in required_by(rule, ends):
        if isinstance(c.src, ExternalPeer) or isinstance(c.dst, ExternalPeer):
            violations.extend(_not_allowed_ranges(c, ends))
        else:
            missing = c.conn - pairs.get((c.src, c.dst), ConnectionSet.none())
            if missing:
                violations.append(Connection(c.src, c.dst, missing))
    return RuleResult(rule, tuple(sorted(violations, key=_key)), matched=_matches_anything(rule, ends))


def required_by(rule: Guardrail, ends: _Ends) -> list[Connection]:
    """Every connection ``rule`` speaks of: workload pairs and workload/address-range pairs."""
    space = ends.prep.space
    srcs = ends.matching_workloads(rule.sources)
    dsts = ends.matching_workloads(rule.destinations)
    out = [Connection(s.peer, d.peer, rule.conn) for s in srcs for d in dsts if s.peer != d.peer]
    src_ips = rule.sources.external(space)
    dst_ips = rule.destinations.external(space)
    if dst_ips:
        out.extend(Connection(s.peer, _ip_end(dst_ips).peer, rule.conn) for s in srcs)
    if src_ips:
        out.extend(Connection(_ip_end(src_ips).peer, d.peer, rule.conn) for d in dsts)
    return out


def _not_allowed_ranges(c: Connection, ends: _Ends) -> list[Connection]:
    """The sub-ranges of a workload/address-range connection where (part of) it is not allowed,
    each with the part that is missing."""
    ingress = isinstance(c.src, ExternalPeer)
    workload = c.dst if ingress else c.src
    outside = c.src if ingress else c.dst
    assert isinstance(outside, ExternalPeer)
    ips = outside.ips
    prep = ends.prep
    i = ends.index[workload]
    pieces: list[tuple[IPRangeSet, ConnectionSet]] = []
    rest = ips
    for allowed_ips, conn in address_allowance(prep, prep.ingress[i] if ingress else prep.egress[i]):
        part = ips & allowed_ips
        if part:
            rest = rest - part
            pieces.append((part, c.conn - conn))
    pieces.append((rest, c.conn))
    out = []
    for part, missing in _join(p for p in pieces if p[0] and p[1]):
        peer = _ip_end(part).peer
        out.append(Connection(peer, workload, missing) if ingress else Connection(workload, peer, missing))
    return out


def _key(c: Connection) -> tuple[Peer, Peer, str]:
    return (c.src, c.dst, str(c.conn))


# -- witnesses -------------------------------------------------------------------------------------


def _witnesses(
    rule: Guardrail, violations: Sequence[Connection], ends: _Ends, limit: int
) -> tuple[Witness, ...]:
    out = []
    for v in violations[:limit]:
        proto, port = _sample(v, ends)
        query = ConnectionSet.of(proto, PortSet.of(port))
        src = _endpoint(v.src, ends)
        dst = _endpoint(v.dst, ends)
        if isinstance(v.dst, DomainPeer):
            expl = _explain_domain(ends.prep, src, v.dst, query)
        else:
            expl = explain_pair(ends.prep, src, dst, query)
        out.append(Witness(src.peer, dst.peer, proto, port, expl, rule.action is GuardAction.DENY))
    return tuple(out)


def _sample(c: Connection, ends: _Ends) -> tuple[str, int]:
    """A port worth showing: one the destination declares if it can, else the lowest TCP port."""
    dst = ends.ends.get(c.dst)
    if dst is not None and dst.workload is not None:
        for cp in sorted(dst.workload.ports, key=lambda p: (p.protocol != "TCP", p.port)):
            if (cp.protocol, cp.port) in c.conn:
                return cp.protocol, cp.port
    protocols = sorted(c.conn.protocols, key=lambda p: (p != "TCP", PROTOCOLS.index(p)))
    proto = protocols[0]
    return proto, c.conn.ports(proto).intervals[0][0]


def _endpoint(peer: Peer, ends: _Ends) -> Endpoint:
    if isinstance(peer, ExternalPeer):
        ips = peer.ips
        first = (internet_addresses(ips) or ips).intervals[0][0]  # 1.0.0.0 reads better than 0.0.0.0
        one = IPRangeSet([(first, first)])
        return Endpoint(ExternalPeer(one), ips=one)
    return Endpoint(peer, ends.index.get(peer))


def _explain_domain(
    prep: Prepared, src: Endpoint, domain: DomainPeer, query: ConnectionSet
) -> PairExplanation:
    if src.index is None:
        return PairExplanation(src.peer, domain, query, ConnectionSet.none(), ())
    trace: list[Decision] = []
    allowed = decide(prep.egress[src.index], domain_member(domain.domain, prep.space), trace) & query
    decisions = tuple(d.on(query) for d in trace if d.conn & query)
    direction = DirectionExplanation("egress", src.peer, allowed, decisions)
    return PairExplanation(src.peer, domain, query, allowed, (direction,))


# -- required connections --------------------------------------------------------------------------


def check_connections(
    rules: Sequence[Guardrail],
    required: Iterable[Connection],
    cluster: Cluster,
    *,
    options: MapOptions | None = None,
) -> ConnectionCheck:
    """Apply guardrails to the connections an application needs (``src => dst : conn``).

    Deny rules cut what they forbid out of ``required`` (reported in ``blocked`` with the rule);
    allow rules add the connections they require (``added``). Allowing exactly
    ``result.connections`` passes :func:`verify` for every rule, conflicting pairs of rules aside
    (``conflicts``). Peers are those of the map (workloads, address ranges, the ingress controller,
    domain names); ``cluster`` gives the workloads' labels.

    >>> check = check_connections(rules, needed, cluster)            # doctest: +SKIP
    >>> [(str(b.forbidden), b.rule.name) for b in check.blocked]     # doctest: +SKIP
    [('shop-frontend/web[Deployment] => shop-data/postgres[StatefulSet] : TCP 5432', 'no-data')]
    """
    options = replace(options or MapOptions(), focus_workload=None)
    prep = prepare(cluster, options)
    ends = _Ends(prep)
    warnings: list[Diagnostic] = []
    wanted = list(required)
    for c in wanted:
        for peer in (c.src, c.dst):
            if isinstance(peer, WorkloadPeer) and peer not in ends.ends:
                warnings.append(
                    Diagnostic(
                        Origin(), f"{peer} is not a workload of the input: only any and cluster match it"
                    )
                )
    denies = [r for r in rules if r.action is GuardAction.DENY]
    blocked: list[Blocked] = []
    permitted: list[Connection] = []
    for c in wanted:
        permitted.extend(_subtract(c, _cut_by(denies, c, ends, blocked)))
    added: list[Added] = []
    conflicts: list[Blocked] = []
    have = _merge(permitted + [b.forbidden for b in blocked])
    for rule in rules:
        if rule.action is not GuardAction.ALLOW:
            continue
        for c in required_by(rule, ends):
            rest = _subtract(c, [o for o in have if _same_pair(o, c)])
            for piece in rest:
                cut = _cut_by(denies, piece, ends, conflicts)
                added.extend(Added(rule, p) for p in _subtract(piece, cut))
    # a conflict also stands where an allow rule requires what the required list had but a deny cut
    for rule in rules:
        if rule.action is not GuardAction.ALLOW:
            continue
        for b in blocked:
            f = _forbidden(rule, b.forbidden, ends)
            if f is not None:
                conflicts.append(Blocked(b.rule, f, f))
    return ConnectionCheck(
        permitted=_merge(permitted),
        blocked=tuple(sorted(blocked, key=lambda b: (_key(b.forbidden), b.rule.name))),
        added=tuple(sorted(added, key=lambda a: (_key(a.connection), a.rule.name))),
        conflicts=tuple(sorted(set(conflicts), key=lambda b: (_key(b.forbidden), b.rule.name))),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _same_pair(a: Connection, b: Connection) -> bool:
    """Same workloads on the workload sides, overlapping ranges on the address side."""
    if isinstance(a.src, ExternalPeer) and isinstance(b.src, ExternalPeer):
        return a.dst == b.dst and not a.src.ips.isdisjoint(b.src.ips)
    if isinstance(a.dst, ExternalPeer) and isinstance(b.dst, ExternalPeer):
        return a.src == b.src and not a.dst.ips.isdisjoint(b.dst.ips)
    return a.src == b.src and a.dst == b.dst


def _pieces(c: Connection) -> tuple[bool | None, list[tuple[IPRangeSet, ConnectionSet]]]:
    """``c`` as (address side: True source / False destination / None, [(range, conn)])."""
    if isinstance(c.src, ExternalPeer):
        return True, [(c.src.ips, c.conn)]
    if isinstance(c.dst, ExternalPeer):
        return False, [(c.dst.ips, c.conn)]
    return None, [(IPRangeSet.empty(), c.conn)]


def _subtract(c: Connection, parts: Sequence[Connection]) -> list[Connection]:
    """``c`` less ``parts`` (each on the same pair, an address side possibly narrower)."""
    side, pieces = _pieces(c)
    for p in parts:
        p_ips = _outside_ips(p.src if side else p.dst) if side is not None else None
        nxt: list[tuple[IPRangeSet, ConnectionSet]] = []
        for ips, conn in pieces:
            if p_ips is None:
                nxt.append((ips, conn - p.conn))
                continue
            inside, outside = ips & p_ips, ips - p_ips
            if inside:
                nxt.append((inside, conn - p.conn))
            if outside:
                nxt.append((outside, conn))
        pieces = nxt
    out = []
    for ips, conn in _join(pieces):
        if not conn:
            continue
        if side is None:
            out.append(Connection(c.src, c.dst, conn))
        elif side:
            out.append(Connection(_ip_end(ips).peer, c.dst, conn))
        else:
            out.append(Connection(c.src, _ip_end(ips).peer, conn))
    return out


def _outside_ips(peer: Peer) -> IPRangeSet:
    assert isinstance(peer, ExternalPeer)  # the address side of a connection
    return peer.ips


def _join(pieces: Iterable[tuple[IPRangeSet, ConnectionSet]]) -> list[tuple[IPRangeSet, ConnectionSet]]:
    by_conn: dict[ConnectionSet, IPRangeSet] = {}
    for ips, conn in pieces:
        by_conn[conn] = by_conn.get(conn, IPRangeSet.empty()) | ips
    return [(ips, conn) for conn, ips in by_conn.items()]


def _merge(connections: Iterable[Connection]) -> tuple[Connection, ...]:
    """One connection per workload pair; address sides split so that each range has one conn."""
    pairs: dict[tuple[Peer, Peer], Connection] = {}
    addresses: dict[tuple[Peer, bool], list[tuple[IPRangeSet, ConnectionSet]]] = {}
    for c in connections:
        side, pieces = _pieces(c)
        if side is None:
            prev = pairs.get((c.src, c.dst))
            pairs[(c.src, c.dst)] = c if prev is None else Connection(c.src, c.dst, prev.conn | c.conn)
        else:
            addresses.setdefault((c.dst if side else c.src, side), []).extend(pieces)
    out = list(pairs.values())
    for (peer, side), pieces in addresses.items():
        atoms = _disjoint(pieces)
        for ips, conn in _join(atoms):
            ip_peer = _ip_end(ips).peer
            out.append(Connection(ip_peer, peer, conn) if side else Connection(peer, ip_peer, conn))
    return tuple(sorted(out, key=_key))


def _disjoint(pieces: list[tuple[IPRangeSet, ConnectionSet]]) -> list[tuple[IPRangeSet, ConnectionSet]]:
    """Split overlapping ranges so that each address gets the union of its pieces' conns."""
    atoms: list[tuple[IPRangeSet, ConnectionSet]] = []
    for ips, conn in pieces:
        nxt = []
        rest = ips
        for a_ips, a_conn in atoms:
            inside = a_ips & rest
            if inside:
                nxt.append((inside, a_conn | conn))
                outside = a_ips - inside
                if outside:
                    nxt.append((outside, a_conn))
                rest = rest - inside
            else:
                nxt.append((a_ips, a_conn))
        if rest:
            nxt.append((rest, conn))
        atoms = nxt
    return atoms
