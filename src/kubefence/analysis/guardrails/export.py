"""Guardrails as cluster-admin policies, so that the cluster itself enforces them.

Each rule becomes ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2, tier Admin) or
AdminNetworkPolicy (v1alpha1) objects that do not depend on any cluster: selectors stay selectors.

- ``deny``: action Deny. Pod-to-pod traffic is denied on one side (the destination's ingress, or
  the source's egress when that needs fewer objects); traffic to addresses on the source's egress.
- ``allow``: action Accept (CNP) / Allow (ANP), which overrides NetworkPolicies. Pod-to-pod traffic
  is accepted on both sides (the destination's ingress and the source's egress), traffic to addresses
  on the source's egress.
- Priorities: every deny object comes before every allow object (a lower number wins), each object
  with its own priority counting up from ``ExportOptions.priority``: where a deny rule and an allow
  rule overlap, the deny wins.
- ``exceptFrom``/``exceptTo`` become selector complements (``app=x`` excluded: ``app NotIn (x)`` or
  no ``app`` label), never Pass rules, which would also skip the rules that follow.
- Traffic *from* addresses into pods cannot be expressed: these APIs have ``networks`` peers in
  egress rules only. Such a part is reported in ``uncovered`` (and as a warning); a rule with nothing
  else is an error.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubefence import defaults
from kubefence.errors import Diagnostic, InputError
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminPort, AdminRule, PodsSelector, Tier
from kubefence.model.guardrails import (
    GuardAction,
    GuardPeer,
    Guardrail,
    Keyword,
    PeerSet,
    selector_of,
)
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet
from kubefence.model.selectors import LabelSelector, Operator, Requirement

CNP = "ClusterNetworkPolicy"
ANP = "AdminNetworkPolicy"
EXPORT_KINDS = defaults.EXPORT_KINDS
MAX_PRIORITY = 1000

_KINDS = (CNP, ANP)
_LIMITS = {  # rules per direction, peers per rule, ports per rule (from the CRDs)
    CNP: (25, 25, 25),
    ANP: (100, 100, 100),
}
_MAX_NETWORKS = 25  # CIDRs in one networks peer
_ALL = PodsSelector(LabelSelector(), None)


@dataclass(frozen=True)
class ExportOptions:
    """``kind``: ClusterNetworkPolicy or AdminNetworkPolicy. ``priority``: of the first object (each
    next one gets the next number). ``prefix``: of the object names."""

    kind: str = CNP
    priority: int = 0
    prefix: str = "guardrail-"


@dataclass(frozen=True)
class Uncovered:
    """A part of a rule the exported objects cannot enforce."""

    rule: Guardrail
    what: str

    def __str__(self) -> str:
        return f"{self.rule.label}: {self.what}"


@dataclass(frozen=True)
class ExportResult:
    """The exported policies, each with a note naming its guardrail (``io.admin_yaml`` writes them
    as Kubernetes objects)."""

    kind: str
    policies: tuple[AdminPolicy, ...]
    notes: tuple[str, ...]
    uncovered: tuple[Uncovered, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()


# -- selectors -------------------------------------------------------------------------------------


def _negate(r: Requirement) -> Requirement:
    flip = {
        Operator.IN: Operator.NOT_IN,
        Operator.NOT_IN: Operator.IN,
        Operator.EXISTS: Operator.DOES_NOT_EXIST,
        Operator.DOES_NOT_EXIST: Operator.EXISTS,
    }
    return Requirement(r.key, flip[r.operator], r.values)


def _and(a: LabelSelector, *more: Requirement) -> LabelSelector:
    """The conjunction; ``k NotIn (x)`` and ``k NotIn (y)`` join into ``k NotIn (x,y)``."""
    reqs: list[Requirement] = []
    not_in: dict[str, set[str]] = {}
    for r in [*a.requirements(), *more]:
        if r.operator is Operator.NOT_IN:
            not_in.setdefault(r.key, set()).update(r.values)
        elif r not in reqs:
            reqs.append(r)
    reqs.extend(Requirement(k, Operator.NOT_IN, tuple(v)) for k, v in not_in.items())
    return selector_of(reqs)


def _reqs(s: PodsSelector) -> tuple[frozenset[Requirement], frozenset[Requirement]]:
    pod = s.pod_selector.requirements() if s.pod_selector is not None else ()
    return frozenset(s.namespace_selector.requirements()), frozenset(pod)


def _implies(a: Requirement, b: Requirement) -> bool:
    """Whether every label set ``a`` matches is also matched by ``b`` (same key)."""
    if a == b:
        return True
    if a.key != b.key:
        return False
    if b.operator is Operator.NOT_IN:
        return a.operator is Operator.NOT_IN and set(b.values) <= set(a.values)
    if b.operator is Operator.IN:
        return a.operator is Operator.IN and set(a.values) <= set(b.values)
    return False


def _within(small: PodsSelector, big: PodsSelector) -> bool:
    """A syntactic test that ``small`` selects no pod ``big`` does not: each of ``big``'s
    requirements is implied by one of ``small``'s."""
    s_ns, s_pod = _reqs(small)
    b_ns, b_pod = _reqs(big)
    return all(any(_implies(r, b) for r in s_ns) for b in b_ns) and all(
        any(_implies(r, b) for r in s_pod) for b in b_pod
    )


def _prune(selectors: list[PodsSelector]) -> list[PodsSelector]:
    """Drop duplicates and selectors inside another of the list."""
    unique = list(dict.fromkeys(selectors))
    return [
        s
        for i, s in enumerate(unique)
        if not any(j != i and _within(s, o) and (not _within(o, s) or j < i) for j, o in enumerate(unique))
    ]


def satisfiable(sel: LabelSelector) -> bool:
    """Whether some label set matches ``sel`` (contradictions like ``a=x, a=y`` do not)."""
    by_key: dict[str, list[Requirement]] = {}
    for r in sel.requirements():
        by_key.setdefault(r.key, []).append(r)
    for reqs in by_key.values():
        ops = {r.operator for r in reqs}
        allowed: set[str] | None = None
        for r in reqs:
            if r.operator is Operator.IN:
                allowed = set(r.values) if allowed is None else allowed & set(r.values)
        excluded = {v for r in reqs if r.operator is Operator.NOT_IN for v in r.values}
        must_have = allowed is not None or Operator.EXISTS in ops
        if must_have and Operator.DOES_NOT_EXIST in ops:
            return False
        if allowed is not None and not (allowed - excluded):
            return False
    return True


def _pods(s: PodsSelector) -> bool:
    return satisfiable(s.namespace_selector) and (s.pod_selector is None or satisfiable(s.pod_selector))


def _minus(a: PodsSelector, e: PodsSelector) -> list[PodsSelector]:
    """``a`` less the pods ``e`` selects: ``a and not(ns_e and pod_e)`` as a union of selectors."""
    out = [
        PodsSelector(_and(a.namespace_selector, _negate(r)), a.pod_selector)
        for r in e.namespace_selector.requirements()
    ]
    if e.pod_selector is not None:
        base = a.pod_selector or LabelSelector()
        out.extend(
            PodsSelector(a.namespace_selector, _and(base, _negate(r))) for r in e.pod_selector.requirements()
        )
    return [s for s in out if _pods(s)]


def _as_pods(peer: GuardPeer) -> PodsSelector | None:
    if peer.keyword in (Keyword.ANY, Keyword.CLUSTER):
        return _ALL
    if peer.is_pods:
        return PodsSelector(peer.namespace_selector or LabelSelector(), peer.pod_selector)
    return None


def pods_of(peers: PeerSet) -> list[PodsSelector]:
    """The pods of ``peers`` as a union of (namespace selector, pod selector) pairs."""
    selected = [s for s in (_as_pods(p) for p in peers.include) if s is not None and _pods(s)]
    if _ALL in selected:
        selected = [_ALL]
    for peer in peers.exclude:
        e = _as_pods(peer)
        if e is not None:
            selected = _prune([part for s in selected for part in _minus(s, e)])
    return _prune(selected)


def networks_of(peers: PeerSet) -> IPRangeSet:
    """The addresses of ``peers`` (both IP families)."""
    return peers.external(IPRangeSet.ipv4() | IPRangeSet.ipv6())


def _cidrs(ips: IPRangeSet) -> list[str]:
    out: list[str] = []
    v6_base = IPRangeSet.ipv6().intervals[0][0]
    for lo, hi in ips.intervals:
        spans = [(lo, min(hi, v6_base - 1)), (max(lo, v6_base), hi)]
        for a, b in spans:
            if a > b:
                continue
            if b < v6_base:
                first: Any = ipaddress.IPv4Address(a)
                last: Any = ipaddress.IPv4Address(b)
            else:
                first, last = ipaddress.IPv6Address(a - v6_base), ipaddress.IPv6Address(b - v6_base)
            out.extend(str(n) for n in ipaddress.summarize_address_range(first, last))
    return out


# -- rules ---------------------------------------------------------------------------------------


def _ports(conn: ConnectionSet) -> list[AdminPort]:
    return [AdminPort(proto, lo, hi) for proto, ports in conn.items() for lo, hi in ports.intervals]


_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class _Object:
    subject: PodsSelector
    ingress: list[AdminRule] = field(default_factory=list)
    egress: list[AdminRule] = field(default_factory=list)


class _Builder:
    def __init__(self, rule: Guardrail, kind: str) -> None:
        self.rule = rule
        self.kind = kind
        self.objects: dict[PodsSelector, _Object] = {}
        self.max_rules, self.max_peers, self.max_ports = _LIMITS[kind]

    def add(self, subject: PodsSelector, ingress: bool, peers: list[AdminPeer]) -> None:
        obj = self.objects.setdefault(subject, _Object(subject))
        rules = obj.ingress if ingress else obj.egress
        conn = self.rule.conn
        port_chunks: list[Sequence[AdminPort] | None] = (
            [None] if conn.is_all() else list(_chunks(_ports(conn), self.max_ports))
        )
        direction = "ingress" if ingress else "egress"
        action = Action.DENY if self.rule.action is GuardAction.DENY else Action.ALLOW
        for peer_chunk in _chunks(peers, self.max_peers):
            for ports in port_chunks:
                name = f"{self.rule.name}-{direction}-{len(rules) + 1}"[:100]
                rules.append(
                    AdminRule(name, action, tuple(peer_chunk), None if ports is None else tuple(ports))
                )
        if len(rules) > self.max_rules:
            raise InputError(
                f"guardrail {self.rule.name!r} needs {len(rules)} {direction} rules in one {self.kind}, "
                f"more than the {self.max_rules} the API accepts",
                self.rule.origin,
                "split the rule, or name fewer peers and port ranges",
            )


def _network_peers(ips: IPRangeSet) -> list[AdminPeer]:
    out = []
    for chunk in _chunks(_cidrs(ips), _MAX_NETWORKS):
        networks = IPRangeSet.empty()
        for cidr in chunk:
            networks = networks | IPRangeSet.from_cidr(cidr)
        out.append(AdminPeer(networks=networks, networks_text=", ".join(chunk)))
    return out


def _export_rule(rule: Guardrail, kind: str) -> tuple[list[_Object], list[Uncovered]]:
    b = _Builder(rule, kind)
    src_pods, dst_pods = pods_of(rule.sources), pods_of(rule.destinations)
    src_nets, dst_nets = networks_of(rule.sources), networks_of(rule.destinations)
    deny = rule.action is GuardAction.DENY
    if src_pods and dst_pods:
        both = not deny  # an allow must be granted on both sides, a deny holds on either
        # deny on the side with fewer subjects; on a tie, the source's egress when it needs egress
        # objects for addresses anyway
        fewer = len(dst_pods) < len(src_pods) or (len(dst_pods) == len(src_pods) and not dst_nets)
        on_ingress = both or fewer
        if on_ingress:
            for subject in dst_pods:
                b.add(subject, True, [AdminPeer(pods=s) for s in src_pods])
        if both or not on_ingress:
            for subject in src_pods:
                b.add(subject, False, [AdminPeer(pods=d) for d in dst_pods])
    if src_pods and dst_nets:
        for subject in src_pods:
            b.add(subject, False, _network_peers(dst_nets))
    uncovered = []
    if src_nets and dst_pods:
        shown = ", ".join(_cidrs(src_nets)[:3]) + (" ..." if len(_cidrs(src_nets)) > 3 else "")
        uncovered.append(
            Uncovered(
                rule,
                f"traffic from addresses ({shown}) into pods: {kind} has no ingress networks peers, "
                "so NetworkPolicies alone decide it",
            )
        )
    return list(b.objects.values()), uncovered


def _object_name(prefix: str, rule: Guardrail, index: int, count: int) -> str:
    base = re.sub(r"[^a-z0-9.-]+", "-", f"{prefix}{rule.name}".lower()).strip("-.") or "guardrail"
    suffix = f"-{index + 1}" if count > 1 else ""
    return base[: 253 - len(suffix)] + suffix


def export_guardrails(rules: Iterable[Guardrail], options: ExportOptions | None = None) -> ExportResult:
    """The cluster-admin objects that enforce ``rules``.

    >>> result = export_guardrails(load_guardrails(["guardrails.yaml"]))   # doctest: +SKIP
    >>> result.policies[0].kind                                            # doctest: +SKIP
    'ClusterNetworkPolicy'
    """
    options = options or ExportOptions()
    kind = options.kind
    if kind not in _KINDS:
        raise InputError(f"cannot export as {kind!r}", hint=f"use {CNP} or {ANP}")
    ordered = sorted(rules, key=lambda r: r.action is not GuardAction.DENY)  # stable: denies first
    objects: list[AdminPolicy] = []
    notes: list[str] = []
    uncovered: list[Uncovered] = []
    warnings: list[Diagnostic] = []
    for rule in ordered:
        built, missing = _export_rule(rule, kind)
        if missing and not built:
            raise InputError(
                f"guardrail {rule.name!r} cannot be exported as {kind}: {missing[0].what}",
                rule.origin,
                "enforce it with NetworkPolicies, or drop it from the export",
            )
        if not built:
            warnings.append(
                Diagnostic(rule.origin, f"guardrail {rule.name!r} selects no pods: nothing to export")
            )
        for u in missing:
            uncovered.append(u)
            warnings.append(Diagnostic(rule.origin, f"guardrail {rule.name!r}: not exported: {u.what}"))
        for i, obj in enumerate(built):
            priority = options.priority + len(objects)
            if priority > MAX_PRIORITY:
                raise InputError(
                    f"guardrail {rule.name!r}: priority {priority} is past {MAX_PRIORITY}",
                    rule.origin,
                    "start lower (--priority) or export fewer rules",
                )
            name = _object_name(options.prefix, rule, i, len(built))
            objects.append(
                AdminPolicy(
                    kind,
                    name,
                    Tier.ADMIN,
                    priority,
                    obj.subject,
                    tuple(obj.ingress),
                    tuple(obj.egress),
                    rule.origin,
                )
            )
            where = f" ({rule.origin})" if rule.origin.file else ""
            notes.append(f"guardrail {rule.name}{where}: {rule}")
    return ExportResult(kind, tuple(objects), tuple(notes), tuple(uncovered), tuple(warnings))
