"""Exposure analysis: what each workload's policies open to pods that do not exist (yet).

Every rule peer given by selectors stands for *potential* pods: a representative peer with the
rule's namespace and pod requirements (``namespaceSelector: {}`` with no pod selector is the entire
cluster). A rule covers a representative when its selectors equal the representative's (an empty
selector covers every one): a rule naming ``team=a`` says nothing of a namespace the representative
``team=a,env=prod`` may be. Each workload's rules become effects over representatives and are
resolved by the same :func:`~.effects.decide` as the map, so the admin tiers take part: an admin
rule denying some namespaces leaves the entire cluster exposed with that representative as an
exception ("No Connections").

A representative is reported when what it gets differs from the entire cluster's connections. One
that a real pod already realizes (plain ``matchLabels`` on namespace and pods, both matching an
existing workload) is dropped: the map shows the real pod. A workload no policy selects in a
direction is unprotected there: exposed to everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kubefence.analysis.connectivity.bitsets import members
from kubefence.analysis.connectivity.effects import Decision, Direction, Effect, Layer, decide
from kubefence.analysis.connectivity.engine import MapOptions, Prepared, bit_member, focus_names, prepare
from kubefence.analysis.connectivity.explain import Explanation
from kubefence.analysis.connectivity.focus import names_peer
from kubefence.errors import Diagnostic
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminRule, Tier
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import ConnectivityMap
from kubefence.model.exposure import ExposureConn, ExposureItem, ExposureMap, NamedPort, Unprotected
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.peers import ExternalPeer, RepresentativePeer, WorkloadPeer
from kubefence.model.policies import PolicyPeer, PolicyRule
from kubefence.model.ports import ConnectionSet
from kubefence.model.rules import PolicyRef, RuleAction, RuleRef, RuleTier
from kubefence.model.selectors import LabelSelector, Operator, Requirement
from kubefence.model.workloads import NAMESPACE_NAME_LABEL, Workload

Reqs = frozenset[Requirement]
_ANY: Reqs = frozenset()


@dataclass(frozen=True)
class Potential:
    """Pods of the namespaces meeting ``namespaces`` whose labels meet ``pods`` (empty: any)."""

    namespaces: Reqs
    pods: Reqs
    plain: bool = field(default=True, compare=False)  # written as matchLabels only (no expressions)

    @property
    def entire_cluster(self) -> bool:
        return not self.namespaces and not self.pods

    def covered_by(self, rule: Potential) -> bool:
        """Whether a rule peer with these selectors certainly reaches every pod this stands for."""
        return (not rule.namespaces or rule.namespaces == self.namespaces) and (
            not rule.pods or rule.pods == self.pods
        )

    def peer(self) -> RepresentativePeer:
        name = _namespace_name(self.namespaces)
        if name is not None:
            return RepresentativePeer(namespace=name, pod_selector=_selector(self.pods))
        return RepresentativePeer(
            namespace_selector=_selector(self.namespaces), pod_selector=_selector(self.pods)
        )

    def realized_by(self, workloads: Iterable[tuple[dict[str, str], dict[str, str]]]) -> bool:
        """A representative of plain labels (no expressions) that a real pod matches."""
        if not self.namespaces or not self.pods:
            return False
        if not self.plain:
            return False
        return any(
            all(r.matches(ns) for r in self.namespaces) and all(r.matches(pod) for r in self.pods)
            for pod, ns in workloads
        )


ENTIRE_CLUSTER = Potential(_ANY, _ANY)


def _plain(*selectors: LabelSelector | None) -> bool:
    return all(s is None or not s.expressions for s in selectors)


def _reqs(selector: LabelSelector | None) -> Reqs:
    return _ANY if selector is None else frozenset(selector.requirements())


def _is_label(r: Requirement) -> bool:
    return r.operator is Operator.IN and len(r.values) == 1


def _namespace_name(reqs: Reqs) -> str | None:
    if len(reqs) == 1:
        (r,) = reqs
        if r.key == NAMESPACE_NAME_LABEL and _is_label(r):
            return r.values[0]
    return None


def _selector(reqs: Reqs) -> LabelSelector | None:
    if not reqs:
        return None
    labels = {r.key: r.values[0] for r in reqs if _is_label(r)}
    return LabelSelector.of(labels, *(r for r in reqs if not _is_label(r)))


def _np_potentials(peers: tuple[PolicyPeer, ...] | None, namespace: str) -> list[Potential]:
    if peers is None:  # no from/to: every pod (and address)
        return [ENTIRE_CLUSTER]
    out = []
    for p in peers:
        if p.ip_block is not None:
            continue
        if p.namespace_selector is None:
            ns = frozenset({Requirement(NAMESPACE_NAME_LABEL, Operator.IN, (namespace,))})
        else:
            ns = _reqs(p.namespace_selector)
        out.append(Potential(ns, _reqs(p.pod_selector), _plain(p.namespace_selector, p.pod_selector)))
    return out


def _admin_potentials(peers: Iterable[AdminPeer]) -> list[Potential]:
    return [
        Potential(
            _reqs(p.pods.namespace_selector),
            _reqs(p.pods.pod_selector),
            _plain(p.pods.namespace_selector, p.pods.pod_selector),
        )
        for p in peers
        if p.pods is not None
    ]


def potentials(cluster: Cluster) -> list[Potential]:
    """The representatives the policies' rules speak of, the entire cluster first; those a real
    pod realizes are left out."""
    found: dict[Potential, None] = {ENTIRE_CLUSTER: None}
    for policy in cluster.policies:
        for rule in (*policy.ingress, *policy.egress):
            found.update(dict.fromkeys(_np_potentials(rule.peers, policy.namespace)))
    for admin in cluster.admin_policies:
        for arule in (*admin.ingress, *admin.egress):
            found.update(dict.fromkeys(_admin_potentials(arule.peers)))
    ns_labels = {ns.name: ns.label_map for ns in cluster.namespaces}
    real = [
        (w.label_map, ns_labels.get(w.namespace, {NAMESPACE_NAME_LABEL: w.namespace}))
        for w in cluster.workloads
    ]
    return [p for p in found if p.entire_cluster or not p.realized_by(real)]


# -- per workload and direction -------------------------------------------------------------------


@dataclass
class _Side:
    """One workload's direction, with effects over representatives (bit k: ``potentials[k]``)."""

    direction: Direction
    protected: bool = False
    allows: list[tuple[int, tuple[NamedPort, ...]]] = field(default_factory=list)  # (bits, names) allowing


class _Reps:
    """The representatives, with what each rule peer list covers and each policy selects, computed
    once for all workloads."""

    def __init__(self, prep: Prepared, reps: list[Potential]) -> None:
        self.reps = reps
        self._bits: dict[tuple[Potential, ...], int] = {}
        self.np_targets = [(p, prep.selection.policy_targets(p)) for p in prep.cluster.policies]
        self.admin_subjects = [(a, prep.selection.pods_bits(a.subject)) for a in prep.cluster.admin_policies]

    def __len__(self) -> int:
        return len(self.reps)

    def bits(self, rule_peers: list[Potential]) -> int:
        key = tuple(rule_peers)
        found = self._bits.get(key)
        if found is None:
            found = 0
            for k, rep in enumerate(self.reps):
                if any(rep.covered_by(r) for r in rule_peers):
                    found |= 1 << k
            self._bits[key] = found
        return found


def _np_names(rule: PolicyRule) -> tuple[NamedPort, ...]:
    return tuple(NamedPort(p.protocol, p.port) for p in rule.ports or () if isinstance(p.port, str))


def _admin_names(rule: AdminRule) -> tuple[NamedPort, ...]:
    return tuple(NamedPort("", p.name) for p in rule.ports or () if p.name)


def _sides(prep: Prepared, reps: _Reps, i: int, ingress: bool) -> _Side:
    w = prep.workloads[i]
    bit = 1 << i
    direction = "ingress" if ingress else "egress"
    side = _Side(Direction(direction))
    d = side.direction
    dst = w if ingress else None  # named ports resolve on the destination; a potential pod has none
    for policy, targets in reps.np_targets:
        if not (policy.affects_ingress if ingress else policy.affects_egress):
            continue
        if not targets & bit:
            continue
        side.protected = True
        ref = PolicyRef("NetworkPolicy", policy.namespace, policy.name)
        d.isolated_by.append(RuleRef(RuleTier.NETWORK_POLICY, direction, RuleAction.ISOLATED, ref))
        for r, rule in enumerate(policy.ingress if ingress else policy.egress):
            bits = reps.bits(_np_potentials(rule.peers, policy.namespace))
            if not bits:
                continue
            source = RuleRef(RuleTier.NETWORK_POLICY, direction, RuleAction.ALLOW, ref, r + 1)
            d.network_policy.append(
                Effect(
                    Layer.NETWORK_POLICY,
                    Action.ALLOW,
                    bits,
                    IPRangeSet.empty(),
                    rule.connections(dst),
                    source,
                )
            )
            if not ingress:
                side.allows.append((bits, _np_names(rule)))
    d.merged = list(d.network_policy)
    for admin, subjects in reps.admin_subjects:
        rules = admin.ingress if ingress else admin.egress
        if not rules or not subjects & bit:
            continue
        side.protected = True
        _add_admin(side, admin, rules, reps, dst, ingress)
    return side


_ACTIONS = {Action.ALLOW: RuleAction.ALLOW, Action.DENY: RuleAction.DENY, Action.PASS: RuleAction.PASS}


def _add_admin(
    side: _Side,
    admin: AdminPolicy,
    rules: tuple[AdminRule, ...],
    reps: _Reps,
    dst: Workload | None,
    ingress: bool,
) -> None:
    d = side.direction
    layer = Layer.ADMIN if admin.tier is Tier.ADMIN else Layer.BASELINE
    ref = PolicyRef(admin.kind, None, admin.name)
    for rule in rules:
        bits = reps.bits(_admin_potentials(rule.peers))
        if not bits:
            continue
        source = RuleRef(layer, d.name, _ACTIONS[rule.action], ref, rule.name)
        effect = Effect(layer, rule.action, bits, IPRangeSet.empty(), rule.connections(dst), source)
        (d.admin if layer is Layer.ADMIN else d.baseline).append(effect)
        if not ingress and rule.action is not Action.DENY:
            side.allows.append((bits, _admin_names(rule)))


def _conn(side: _Side, k: int) -> ExposureConn:
    conn = decide(side.direction, bit_member(k))
    names = {n for bits, ns in side.allows or () if bits >> k & 1 for n in ns} if not conn.is_all() else set()
    return ExposureConn(conn, tuple(names))


def _why(side: _Side, k: int) -> tuple[RuleRef, ...]:
    """The rules that decide what potential peer ``k`` gets (denials included: they make exceptions)."""
    trace: list[Decision] = []
    decide(side.direction, bit_member(k), trace)
    return tuple(dict.fromkeys(r for dec in trace for r in dec.refs))


def _on(conn: ExposureConn, focus: ConnectionSet | None) -> ExposureConn | None:
    """With a focus connection: the focus if ``conn`` allows all of it, else None."""
    if focus is None:
        return conn
    return ExposureConn(focus) if focus <= conn.conn else None


def _specific(d: Direction) -> int:
    """Representatives some rule of ``d`` speaks of in particular. A rule covering the entire
    cluster (bit 0) covers every representative, so any other one meets exactly the entire
    cluster's rules and gets its connections: there is nothing to report about it."""
    bits = 0
    for e in (*d.admin, *d.network_policy, *d.baseline):
        if not e.bits & 1:
            bits |= e.bits
    return bits


def workload_exposure(
    prep: Prepared, reps: _Reps, i: int, ingress: bool, focus: ConnectionSet | None = None
) -> Iterator[ExposureItem | Unprotected]:
    """The exposure of workload ``i`` in one direction: unprotected, or the entire cluster's
    connections and every representative whose connections differ from them (on ``focus`` only,
    when given)."""
    w = prep.workloads[i]
    peer = WorkloadPeer(w.namespace, w.name, w.kind)
    direction = "ingress" if ingress else "egress"
    side = _sides(prep, reps, i, ingress)
    if not side.protected:
        yield Unprotected(peer, direction)
        everything = _on(ExposureConn(ConnectionSet.all()), focus)
        if everything is not None:
            yield ExposureItem(
                peer, direction, RepresentativePeer(), everything, (RuleRef.default(direction),)
            )
        return
    cluster_wide = _on(_conn(side, 0), focus) or ExposureConn(ConnectionSet.none())
    if cluster_wide:
        yield ExposureItem(peer, direction, RepresentativePeer(), cluster_wide, _why(side, 0))
    for k in members(_specific(side.direction)):
        conn = _on(_conn(side, k), focus)
        if conn is None or (cluster_wide and conn == cluster_wide) or (not cluster_wide and not conn):
            continue
        yield ExposureItem(peer, direction, reps.reps[k].peer(), conn, _why(side, k))


def compute_exposure(
    cluster: Cluster, cmap: ConnectivityMap, options: MapOptions | None = None
) -> ExposureMap:
    """The exposure of every workload of ``cluster`` (``cmap`` gives the external addresses)."""
    options = options or MapOptions()
    prep = prepare(cluster, options)
    reps = _Reps(prep, potentials(cluster))
    focus = focus_names(options)
    items: list[ExposureItem] = []
    unprotected: list[Unprotected] = []
    for i in range(prep.real):
        w = prep.workloads[i]
        if focus and not any(names_peer(WorkloadPeer(w.namespace, w.name, w.kind), f) for f in focus):
            continue
        for ingress in (False, True):
            if options.focus_direction is not None and options.focus_direction != (
                "ingress" if ingress else "egress"
            ):
                continue
            for found in workload_exposure(prep, reps, i, ingress, options.focus_conn):
                if isinstance(found, Unprotected):
                    unprotected.append(found)
                else:
                    items.append(found)
    for c in cmap.connections:
        if isinstance(c.dst, ExternalPeer) and isinstance(c.src, WorkloadPeer):
            items.append(ExposureItem(c.src, "egress", c.dst, ExposureConn(c.conn)))
        elif isinstance(c.src, ExternalPeer) and isinstance(c.dst, WorkloadPeer):
            items.append(ExposureItem(c.dst, "ingress", c.src, ExposureConn(c.conn)))
    return ExposureMap(
        cmap, tuple(dedupe(items)), tuple(sorted(set(unprotected))), focus_conn=options.focus_conn
    )


def dedupe(items: list[ExposureItem]) -> list[ExposureItem]:
    """One item per workload, direction and peer (workloads sharing a name join), sorted."""
    joined: dict[tuple[WorkloadPeer, str, str], ExposureItem] = {}
    for it in items:
        key = (it.workload, it.direction, str(it.peer))
        prev = joined.get(key)
        if prev is not None:
            it = ExposureItem(
                it.workload,
                it.direction,
                it.peer,
                ExposureConn(prev.conn.conn | it.conn.conn, prev.conn.named + it.conn.named),
                tuple(dict.fromkeys((*prev.refs, *it.refs))),
            )
        joined[key] = it
    return [joined[k] for k in sorted(joined, key=lambda k: (k[1], str(k[0]), k[2]))]


@dataclass(frozen=True)
class ExplainedExposure:
    """``map --explain --exposure``: the explanation of every pair, then the exposure."""

    explanation: Explanation
    exposure: ExposureMap

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.explanation.warnings
