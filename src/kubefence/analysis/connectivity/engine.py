"""Who may talk to whom: the connectivity map of a cluster under all policy tiers.

The computation works on sets, not pairs: selectors become bitsets of workloads through a label
index; each policy rule becomes an :class:`~.effects.Effect` on every workload it
governs, per direction. Only pairs that some effect could allow are then visited, and each is
resolved by :func:`~.effects.decide`. A pair is allowed the intersection of what
the source's egress and the destination's ingress allow.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from kubefence import defaults
from kubefence.analysis.connectivity.bitsets import LabelIndex, members
from kubefence.analysis.connectivity.effects import Direction, Effect, Layer, decide, refine
from kubefence.analysis.connectivity.focus import check_known, connection_filter, split_names
from kubefence.errors import Diagnostic
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminRule, PodsSelector, Tier, domain_covers
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ConnectivityMap
from kubefence.model.ingress import Backend, IngressObject
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import INGRESS_CONTROLLER, DomainPeer, ExternalPeer, Peer, WorkloadPeer
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.rules import PolicyRef, RuleAction, RuleRef, RuleTier
from kubefence.model.workloads import Namespace, Service, ServicePort, Workload

IPFamily = Literal["auto", "ipv4", "ipv6", "dual"]
DEFAULT_INGRESS_CONTROLLER_NAMESPACE = defaults.INGRESS_CONTROLLER_NAMESPACE


@dataclass(frozen=True)
class MapOptions:
    """Options of :func:`compute_connectivity`.

    ``ip_family``: which address space stands for "outside the cluster". ``auto`` is IPv4, plus IPv6
    when some policy names an IPv6 block (a manifest does not say which families the cluster runs).
    ``focus_workload``: keep only connections from or to this workload (``ns/name``, ``name`` or the
    full peer name). ``ingress_controller_namespace``: where traffic from Ingress/Route objects comes
    from; the controller is a pod without labels in that namespace.
    """

    ip_family: IPFamily = "auto"
    focus_workload: str | None = None
    focus_workloads: tuple[str, ...] = ()  # more focus workloads (names as ``focus_workload``)
    focus_peers: tuple[str, ...] = ()  # with focus workloads: only pairs with these on the other side
    focus_direction: Literal["ingress", "egress"] | None = None  # the side the focus workload is on
    focus_conn: ConnectionSet | None = None  # only pairs that allow all of it, shown as it
    ingress_controller_namespace: str = DEFAULT_INGRESS_CONTROLLER_NAMESPACE
    progress: Callable[[int, int], None] | None = field(default=None, compare=False, repr=False)


def external_space(cluster: Cluster, family: IPFamily) -> IPRangeSet:
    if family == "ipv4":
        return IPRangeSet.ipv4()
    if family == "ipv6":
        return IPRangeSet.ipv6()
    if family == "dual":
        return IPRangeSet.ipv4() | IPRangeSet.ipv6()
    np_v6 = any(
        peer.ip_block is not None and peer.ip_block.has_ipv6
        for policy in cluster.policies
        for rule in policy.ingress + policy.egress
        for peer in rule.peers or ()
    )
    admin_v6 = any(
        peer.networks is not None and peer.networks.has_ipv6
        for policy in cluster.admin_policies
        for rule in policy.egress
        for peer in rule.peers
    )
    return IPRangeSet.ipv4() | IPRangeSet.ipv6() if np_v6 or admin_v6 else IPRangeSet.ipv4()


class Selection:
    """Evaluates pod and namespace selectors as bitsets over a list of workloads."""

    def __init__(self, workloads: tuple[Workload, ...], namespaces: tuple[Namespace, ...]) -> None:
        self.workloads = workloads
        self.pods = LabelIndex.build(w.label_map for w in workloads)
        self.namespaces = namespaces
        self.ns_index = LabelIndex.build(ns.label_map for ns in namespaces)
        self.ns_members: dict[str, int] = defaultdict(int)
        for i, w in enumerate(workloads):
            self.ns_members[w.namespace] |= 1 << i
        self._ns_cache: dict[int, int] = {}
        # workloads with the same container ports resolve named ports alike
        self.port_profiles: dict[object, int] = defaultdict(int)
        for i, w in enumerate(workloads):
            self.port_profiles[w.ports] |= 1 << i

    @property
    def all(self) -> int:
        return self.pods.all

    def in_namespaces(self, ns_bits: int) -> int:
        """Workloads in the namespaces set in ``ns_bits`` (namespace indices)."""
        cached = self._ns_cache.get(ns_bits)
        if cached is None:
            cached = 0
            for j in members(ns_bits):
                cached |= self.ns_members.get(self.namespaces[j].name, 0)
            self._ns_cache[ns_bits] = cached
        return cached

    def policy_targets(self, policy: NetworkPolicy) -> int:
        return self.pods.select(policy.pod_selector) & self.ns_members.get(policy.namespace, 0)

    def peer_bits(self, peer: PolicyPeer, policy_namespace: str) -> int:
        """Workloads a (non-ipBlock) NetworkPolicy rule peer selects."""
        if peer.ip_block is not None:
            return 0
        if peer.namespace_selector is None:
            ns_bits = self.ns_members.get(policy_namespace, 0)
        else:
            ns_bits = self.in_namespaces(self.ns_index.select(peer.namespace_selector))
        if peer.pod_selector is None:
            return ns_bits
        return ns_bits & self.pods.select(peer.pod_selector)

    def pods_bits(self, pods: PodsSelector) -> int:
        bits = self.in_namespaces(self.ns_index.select(pods.namespace_selector))
        if pods.pod_selector is not None:
            bits &= self.pods.select(pods.pod_selector)
        return bits

    def by_port_profile(self, bits: int) -> Iterable[tuple[int, Workload]]:
        """Split ``bits`` into groups whose workloads resolve named ports alike, with a representative."""
        for profile_bits in self.port_profiles.values():
            part = bits & profile_bits
            if part:
                yield part, self.workloads[members(part)[0]]


@dataclass
class Prepared:
    """The effects governing every workload, per direction: what pairs are then resolved against."""

    cluster: Cluster
    workloads: tuple[Workload, ...]  # the cluster's, then the ingress controller (if any)
    real: int  # how many of ``workloads`` are the cluster's
    space: IPRangeSet
    selection: Selection
    ingress: list[Direction]
    egress: list[Direction]
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def controller(self) -> int | None:
        return self.real if len(self.workloads) > self.real else None


def prepare(cluster: Cluster, options: MapOptions | None = None) -> Prepared:
    options = options or MapOptions()
    workloads = cluster.workloads
    namespaces = cluster.namespaces
    if cluster.ingresses:
        ns = options.ingress_controller_namespace
        workloads = (*workloads, Workload(ns, "ingress-controller", "Pod"))
        if all(n.name != ns for n in namespaces):
            namespaces = (*namespaces, Namespace(ns, declared=False))
    sel = Selection(workloads, namespaces)
    n = len(workloads)
    prep = Prepared(
        cluster=cluster,
        workloads=workloads,
        real=len(cluster.workloads),
        space=external_space(cluster, options.ip_family),
        selection=sel,
        ingress=[Direction("ingress") for _ in range(n)],
        egress=[Direction("egress") for _ in range(n)],
    )
    for policy in cluster.policies:
        targets = sel.policy_targets(policy)
        if targets:
            if policy.affects_ingress:
                _add_np(prep, policy, targets, ingress=True)
            if policy.affects_egress:
                _add_np(prep, policy, targets, ingress=False)
    _add_admin(prep, cluster.admin_policies)
    for d in prep.ingress + prep.egress:
        d.merged = _merge_equal(d.network_policy)
    return prep


def _np_ref(policy: NetworkPolicy, direction: str, action: RuleAction, rule: int | None = None) -> RuleRef:
    """A NetworkPolicy rule (1-based ``rule``), or with ``rule`` None the policy isolating alone."""
    ref = PolicyRef("NetworkPolicy", policy.namespace, policy.name)
    return RuleRef(RuleTier.NETWORK_POLICY, direction, action, ref, rule, origin=policy.origin)


def _add_np(prep: Prepared, policy: NetworkPolicy, targets: int, *, ingress: bool) -> None:
    sel = prep.selection
    target_list = members(targets)
    directions = prep.ingress if ingress else prep.egress
    direction = "ingress" if ingress else "egress"
    isolated = _np_ref(policy, direction, RuleAction.ISOLATED)
    for i in target_list:
        directions[i].isolated_by.append(isolated)
    rules = policy.ingress if ingress else policy.egress
    for r, rule in enumerate(rules):
        bits, ips = np_rule_peers(sel, rule, policy.namespace, prep.space)
        if not bits and not ips:
            continue
        source = _np_ref(policy, direction, RuleAction.ALLOW, r + 1)
        if not rule.has_named_ports:
            effect = Effect(Layer.NETWORK_POLICY, Action.ALLOW, bits, ips, rule.connections(None), source)
            for i in target_list:
                directions[i].network_policy.append(effect)
        elif ingress:  # named ports resolve against the destination: the selected workload itself
            for i in target_list:
                conn = rule.connections(sel.workloads[i])
                if conn:
                    directions[i].network_policy.append(
                        Effect(Layer.NETWORK_POLICY, Action.ALLOW, bits, ips, conn, source)
                    )
        else:  # ... against each destination; an address has no named ports
            effects = _split_named(Layer.NETWORK_POLICY, Action.ALLOW, sel, bits, ips, rule, source)
            for i in target_list:
                directions[i].network_policy.extend(effects)


def _split_named(
    layer: Layer,
    action: Action,
    sel: Selection,
    bits: int,
    ips: IPRangeSet,
    rule: PolicyRule | AdminRule,
    source: RuleRef,
    domains: frozenset[str] = frozenset(),
) -> list[Effect]:
    effects = []
    conn = rule.connections(None)
    if (ips or domains) and conn:
        effects.append(Effect(layer, action, 0, ips, conn, source, domains))
    for part, rep in sel.by_port_profile(bits):
        conn = rule.connections(rep)
        if conn:
            effects.append(Effect(layer, action, part, IPRangeSet.empty(), conn, source))
    return effects


def np_rule_peers(
    sel: Selection, rule: PolicyRule, namespace: str, space: IPRangeSet
) -> tuple[int, IPRangeSet]:
    """(workload bits, external addresses) a NetworkPolicy rule's ``from``/``to`` covers."""
    if rule.peers is None:
        return sel.all, space
    bits = 0
    ips = IPRangeSet.empty()
    for peer in rule.peers:
        if peer.ip_block is not None:
            ips = ips | (peer.ip_block & space)
        else:
            bits |= sel.peer_bits(peer, namespace)
    return bits, ips


def _covers_a_family(ips: IPRangeSet) -> bool:
    """Admin ``networks`` also match pods' addresses, which manifests do not give; a block that covers
    all of IPv4 or all of IPv6 (0.0.0.0/0, ::/0) holds every pod's address whatever they are."""
    return IPRangeSet.ipv4() <= ips or IPRangeSet.ipv6() <= ips


def _admin_peers(
    sel: Selection, peers: Iterable[AdminPeer], space: IPRangeSet
) -> tuple[int, IPRangeSet, frozenset[str]]:
    bits = 0
    ips = IPRangeSet.empty()
    domains: set[str] = set()
    for peer in peers:
        if peer.pods is not None:
            bits |= sel.pods_bits(peer.pods)
        elif peer.networks is not None:
            ips = ips | (peer.networks & space)
            if _covers_a_family(peer.networks):
                bits |= sel.all
        domains.update(peer.domains)  # nodes: unknown addresses, match nothing
    return bits, ips, frozenset(domains)


def _add_admin(prep: Prepared, policies: tuple[AdminPolicy, ...]) -> None:
    sel = prep.selection
    subjects = {p.label: sel.pods_bits(p.subject) for p in policies}
    _warn_priority_ties(prep, policies, subjects)
    # cluster.admin_policies is sorted by tier, priority, kind, name: effects get appended in order
    for policy in policies:
        targets = members(subjects[policy.label])
        if not targets:
            continue
        layer = Layer.ADMIN if policy.tier is Tier.ADMIN else Layer.BASELINE
        prio = policy.priority if policy.kind != "BaselineAdminNetworkPolicy" else None
        ref = PolicyRef(policy.kind, None, policy.name)
        for ingress, rules in ((True, policy.ingress), (False, policy.egress)):
            directions = prep.ingress if ingress else prep.egress
            for rule in rules:
                bits, ips, domains = _admin_peers(sel, rule.peers, prep.space)
                if not bits and not ips and not domains:
                    continue
                source = RuleRef(
                    layer,
                    "ingress" if ingress else "egress",
                    _RULE_ACTIONS[rule.action],
                    ref,
                    rule.name,
                    prio,
                    policy.origin,
                )
                if not rule.has_named_ports:
                    effects = [Effect(layer, rule.action, bits, ips, rule.connections(None), source, domains)]
                elif not ingress:
                    effects = _split_named(layer, rule.action, sel, bits, ips, rule, source, domains)
                else:
                    effects = []
                for i in targets:
                    d = directions[i]
                    bucket = d.admin if layer is Layer.ADMIN else d.baseline
                    if ingress and rule.has_named_ports:
                        conn = rule.connections(sel.workloads[i])
                        if conn:
                            bucket.append(Effect(layer, rule.action, bits, ips, conn, source, domains))
                    else:
                        bucket.extend(effects)


_RULE_ACTIONS = {Action.ALLOW: RuleAction.ALLOW, Action.DENY: RuleAction.DENY, Action.PASS: RuleAction.PASS}


def _warn_priority_ties(prep: Prepared, policies: tuple[AdminPolicy, ...], subjects: dict[str, int]) -> None:
    by_priority: dict[tuple[Tier, int], list[AdminPolicy]] = defaultdict(list)
    for p in policies:
        if p.kind != "BaselineAdminNetworkPolicy":
            by_priority[(p.tier, p.priority)].append(p)
    for (tier, priority), group in sorted(by_priority.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if subjects[a.label] & subjects[b.label]:
                    prep.warnings.append(
                        Diagnostic(
                            b.origin,
                            f"{a.label} and {b.label} have the same priority {priority} in the "
                            f"{tier.value} tier and select the same pods: their order is undefined, "
                            f"kubefence evaluates {a.label} first",
                        )
                    )


def _merge_equal(effects: Iterable[Effect]) -> list[Effect]:
    """One effect per distinct connection set: fewer effects to test per pair."""
    by_conn: dict[ConnectionSet, Effect] = {}
    for e in effects:
        prev = by_conn.get(e.conn)
        by_conn[e.conn] = (
            e
            if prev is None
            else Effect(
                e.layer, e.action, prev.bits | e.bits, prev.ips | e.ips, e.conn, prev.ref, prev.domains
            )
        )
    return list(by_conn.values())


# -- pairs -----------------------------------------------------------------------------------------


def bit_member(index: int) -> Callable[[Effect], bool]:
    return lambda e: bool(e.bits >> index & 1)


def atom_member(atom: IPRangeSet) -> Callable[[Effect], bool]:
    return lambda e: atom <= e.ips


def domain_member(domain: str, space: IPRangeSet) -> Callable[[Effect], bool]:
    """A domain's address is unknown: only rules covering every address, or naming the domain
    (wildcards included), match it."""
    return lambda e: (bool(e.ips) and space <= e.ips) or any(domain_covers(p, domain) for p in e.domains)


def pair_connections(prep: Prepared, src: int, dst: int) -> ConnectionSet:
    eg = decide(prep.egress[src], bit_member(dst))
    if not eg:
        return eg
    return eg & decide(prep.ingress[dst], bit_member(src))


def compute_connectivity(cluster: Cluster, options: MapOptions | None = None) -> ConnectivityMap:
    """The connectivity map of ``cluster``: every allowed (source, destination) pair and its ports."""
    stream = stream_connectivity(cluster, options)
    connections = tuple(stream.connections)
    peers = {c.src for c in connections} | {c.dst for c in connections}
    workloads = sorted({_workload_peer(w) for w in cluster.workloads})
    return ConnectivityMap(connections, tuple(sorted(peers)), tuple(stream.warnings), tuple(workloads))


@dataclass
class ConnectivityStream:
    """Allowed connections produced one source at a time, in (source, destination) order, so a huge
    map can be written without holding it. ``warnings`` is complete before the first connection."""

    connections: Iterator[Connection]
    warnings: list[Diagnostic]
    workloads: int


def stream_connectivity(cluster: Cluster, options: MapOptions | None = None) -> ConnectivityStream:
    options = options or MapOptions()
    prep = prepare(cluster, options)
    warnings = list(cluster.warnings) + prep.warnings
    controller_lines = sorted(_ingress_connections(prep, warnings), key=lambda c: c.sort_key)
    keep = focus_of(prep, options)
    merged = heapq.merge(
        _address_source_connections(prep),
        _workload_source_connections(prep, options.progress),
        controller_lines,
        key=lambda c: c.sort_key,
    )
    kept = (keep(c) for c in merged if c.src != c.dst)
    selected = (c for c in kept if c is not None)
    return ConnectivityStream(selected, warnings, prep.real)


def focus_names(options: MapOptions) -> tuple[str, ...]:
    """Every focus workload of ``options``."""
    single = (options.focus_workload,) if options.focus_workload else ()
    return split_names((*single, *options.focus_workloads))


def focus_of(prep: Prepared, options: MapOptions) -> Callable[[Connection], Connection | None]:
    """The focus filter of ``options``, after checking that every name it gives is in the input."""
    workloads, peers = focus_names(options), split_names(options.focus_peers)
    known: list[Peer] = [_workload_peer(w) for w in prep.workloads[: prep.real]]
    if prep.controller is not None:
        known.append(INGRESS_CONTROLLER)
    check_known(workloads, known)
    check_known(peers, known, "focus workload peer")
    return connection_filter(workloads, peers, options.focus_direction, options.focus_conn)


def _address_source_connections(prep: Prepared) -> Iterator[Connection]:
    """External addresses to workloads: only the workloads' ingress decides."""
    out: dict[tuple[Peer, Peer], ConnectionSet] = {}
    cache: dict[object, list[tuple[IPRangeSet, ConnectionSet]]] = {}
    for i in range(prep.real):
        d = prep.ingress[i]
        key = _address_key(d)
        allowance = cache.get(key)
        if allowance is None:
            allowance = cache[key] = address_allowance(prep, d)
        for ips, conn in allowance:
            _add(out, (_ip_peer(ips), _workload_peer(prep.workloads[i])), conn)
    for (src, dst), conn in sorted(out.items(), key=lambda kv: kv[0]):
        yield Connection(src, dst, conn)


def _workload_source_connections(
    prep: Prepared, progress: Callable[[int, int], None] | None
) -> Iterator[Connection]:
    """Connections from workloads, source by source in name order (several workloads may share a
    name: pods of one owner with different labels; their connections are joined)."""
    n = prep.real
    everyone = prep.selection.all & ((1 << n) - 1)
    eg_cand = [prep.egress[i].candidates(everyone) & everyone for i in range(n)]
    # who may be let in where: open destinations at once, isolated ones per source (a transpose)
    open_dsts = 0
    inbound = [0] * n
    for d in range(n):
        cand = prep.ingress[d].candidates(everyone) & everyone
        if cand == everyone:
            open_dsts |= 1 << d
        else:
            bit = 1 << d
            for s in members(cand):
                inbound[s] |= bit
    peers = [_workload_peer(w) for w in prep.workloads[:n]]
    by_name: dict[WorkloadPeer, list[int]] = defaultdict(list)
    for i, p in enumerate(peers):
        by_name[p].append(i)
    meet: dict[tuple[ConnectionSet, ConnectionSet], ConnectionSet] = {}
    ip_cache: dict[object, list[tuple[IPRangeSet, ConnectionSet]]] = {}
    names = sorted(by_name)
    step = max(1, len(names) // 100)
    for done, name in enumerate(names):
        if progress is not None and done % step == 0:
            progress(done, len(names))
        row: dict[Peer, ConnectionSet] = {}
        for s in by_name[name]:
            egress = prep.egress[s]
            for d in members(eg_cand[s] & (inbound[s] | open_dsts)):
                if d == s:
                    continue
                eg_conn = decide(egress, bit_member(d))
                if not eg_conn:
                    continue
                in_conn = decide(prep.ingress[d], bit_member(s))
                conn = meet.get((eg_conn, in_conn))
                if conn is None:
                    conn = meet[(eg_conn, in_conn)] = eg_conn & in_conn
                if conn:
                    row[peers[d]] = row[peers[d]] | conn if peers[d] in row else conn
            key = _address_key(egress)
            allowance = ip_cache.get(key)
            if allowance is None:
                allowance = ip_cache[key] = address_allowance(prep, egress)
            for ips, conn in allowance:
                ip_dst = _ip_peer(ips)
                row[ip_dst] = row[ip_dst] | conn if ip_dst in row else conn
            for domain in sorted(egress.domains()):
                conn = decide(egress, domain_member(domain, prep.space))
                if conn:
                    domain_dst = DomainPeer(domain)
                    row[domain_dst] = row[domain_dst] | conn if domain_dst in row else conn
        src = peers[by_name[name][0]]
        for dst in sorted(row):
            yield Connection(src, dst, row[dst])
    if progress is not None:
        progress(len(names), len(names))


def address_allowance(prep: Prepared, d: Direction) -> list[tuple[IPRangeSet, ConnectionSet]]:
    """External addresses and what ``d`` allows with them, joined per connection set."""
    joined: dict[ConnectionSet, IPRangeSet] = {}
    for atom in refine(prep.space, d.ip_sets()):
        conn = decide(d, atom_member(atom))
        if conn:
            prev = joined.get(conn)
            joined[conn] = atom if prev is None else prev | atom
    return [(ips, conn) for conn, ips in joined.items()]


def _address_key(d: Direction) -> object:
    """What decides a direction's allowance for addresses: isolation and the effects naming addresses."""
    return (
        bool(d.isolated_by),
        *(
            tuple((e.action, e.ips, e.conn) for e in effects if e.ips)
            for effects in (d.admin, d.merged, d.baseline)
        ),
    )


def _ingress_connections(prep: Prepared, warnings: list[Diagnostic]) -> list[Connection]:
    """Traffic from the ingress controller to the workloads behind Ingress and Route backends, as far
    as the policies let the controller (a pod without labels in its own namespace) reach them."""
    out: dict[tuple[Peer, Peer], ConnectionSet] = {}
    ctl = prep.controller
    if ctl is None:
        return []
    controller = INGRESS_CONTROLLER
    ctl_ns = prep.workloads[ctl].namespace
    for obj, i, wanted in ingress_routes(prep, warnings):
        w = prep.workloads[i]
        conn = wanted & pair_connections(prep, ctl, i)
        if conn:
            _add(out, (controller, _workload_peer(w)), conn)
        elif wanted:
            warnings.append(
                Diagnostic(
                    obj.origin,
                    f"{obj.label}: policies block the ingress controller's traffic to "
                    f"{w.peer_name} on {wanted} (the controller is a pod without labels in "
                    f"namespace {ctl_ns}; see --ingress-controller-namespace)",
                )
            )
    return [Connection(src, dst, conn) for (src, dst), conn in out.items()]


def ingress_routes(
    prep: Prepared, warnings: list[Diagnostic] | None = None
) -> Iterator[tuple[IngressObject, int, ConnectionSet]]:
    """Each Ingress/Route backend's target workloads (by index) and the TCP ports the controller
    would send them, before policies; backends that reach nothing are reported in ``warnings``."""
    services = {(s.namespace, s.name): s for s in prep.cluster.services}
    for obj in prep.cluster.ingresses:
        for backend in obj.backends:
            svc = services.get((backend.namespace or obj.namespace, backend.service))
            if svc is None:
                if warnings is not None:
                    warnings.append(
                        Diagnostic(
                            obj.origin,
                            f"{obj.label} sends traffic to Service {backend.service!r}, "
                            f"which is not in namespace {backend.namespace or obj.namespace} of the input",
                        )
                    )
                continue
            if svc.selector is None:
                continue
            targets = [
                i
                for i in range(prep.real)
                if prep.workloads[i].namespace == svc.namespace
                and svc.selector.matches(prep.workloads[i].label_map)
            ]
            if targets and not any(_backend_ports(svc, backend, prep.workloads[i]) for i in targets):
                if warnings is not None:
                    warnings.append(
                        Diagnostic(
                            obj.origin, f"{obj.label}: Service {svc.full_name} has no port {backend.port!r}"
                        )
                    )
                continue
            for i in targets:
                w = prep.workloads[i]
                yield obj, i, _ingress_ports(w, _backend_ports(svc, backend, w))


def _pod_port(sp: ServicePort, w: Workload) -> int | None:
    """The port on ``w`` that a Service port targets (a named target resolved on the pod, over TCP)."""
    return sp.target_port if isinstance(sp.target_port, int) else w.named_port(sp.target_port, "TCP")


def _backend_ports(svc: Service, backend: Backend, w: Workload) -> list[ServicePort]:
    """The Service ports an ingress backend reaches on ``w``: all when it names none. An Ingress names
    a Service port (by name, else number); a Route names the pods' port (a Service port's name or
    target, a number compared with the target resolved on the pod). Failing that, the other reading
    is tried, as netpol-analyzer does."""
    required = backend.port
    if required is None:
        return list(svc.ports)
    by_name = [sp for sp in svc.ports if sp.name and sp.name == required]
    by_port = [sp for sp in svc.ports if sp.port == required]
    by_target = [
        sp
        for sp in svc.ports
        if sp.target_port == required or (isinstance(required, int) and _pod_port(sp, w) == required)
    ]
    order = (by_name, by_target, by_port) if backend.target_port else (by_name, by_port, by_target)
    return next(([found[0]] for found in order if found), [])


def _ingress_ports(w: Workload, ports: list[ServicePort]) -> ConnectionSet:
    """TCP ports of ``w`` that ``ports`` target: an ingress controller proxies over TCP, to ports the
    pod declares."""
    declared = {cp.port for cp in w.ports}
    wanted = ConnectionSet.none()
    for sp in ports:
        number = _pod_port(sp, w)
        # a virtual machine declares no ports: any numbered target may be listening
        if number is not None and (number in declared or w.is_virtual_machine):
            wanted = wanted | ConnectionSet.of("TCP", PortSet.of(number))
    return wanted


def _add(out: dict[tuple[Peer, Peer], ConnectionSet], key: tuple[Peer, Peer], conn: ConnectionSet) -> None:
    prev = out.get(key)
    out[key] = conn if prev is None else prev | conn


def _workload_peer(w: Workload) -> WorkloadPeer:
    return WorkloadPeer(w.namespace, w.name, w.kind)


def _ip_peer(ips: IPRangeSet) -> ExternalPeer:
    return ExternalPeer(ips)
