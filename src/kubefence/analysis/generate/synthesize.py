"""Least-privilege NetworkPolicies for exactly the connections an application needs.

The recipe a reviewer expects: per namespace a default deny of ingress and egress, then per workload
one policy that allows its needed ingress and egress. Peers are selected by the smallest stable label
set that tells them apart from the other workloads of their namespace (or, when none does, by the
labels the others carry and they lack: see ``separating``), other namespaces by
``kubernetes.io/metadata.name``, ports by the name the destination declares (else by number).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from kubefence import defaults
from kubefence.analysis.generate.separating import LabelHint, hint_label, separate
from kubefence.errors import Diagnostic, Origin
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import ExternalPeer, IngressControllerPeer, Peer, WorkloadPeer
from kubefence.model.discovery import DiscoveryResult, NeededConnection
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule, PortMatch
from kubefence.model.ports import ConnectionSet
from kubefence.model.selectors import LabelSelector
from kubefence.model.workloads import NAMESPACE_NAME_LABEL, PER_POD_LABELS, Workload

MANAGED_BY = ("app.kubernetes.io/managed-by", "kubefence")
DEFAULT_DENY_NAME = "kubefence-default-deny"
DEFAULT_CONTROLLER_NAMESPACE = defaults.INGRESS_CONTROLLER_NAMESPACE

# The Job controller's labels (job name, uid, completion index): per run or per pod, never selected on.
UNSTABLE_PREFIXES = ("batch.kubernetes.io/",)


def is_unstable(key: str) -> bool:
    """Whether the label ``key`` changes with rollouts or runs, or names a single pod."""
    return key in PER_POD_LABELS or key.startswith(UNSTABLE_PREFIXES)


# Labels that change with releases: used only when nothing else tells a workload apart.
VOLATILE_LABELS = frozenset({"helm.sh/chart", "app.kubernetes.io/version", "version", "chart", "release"})
# Preferred first when several label sets are equally small: the conventional identity labels.
_PREFERRED = ("app.kubernetes.io/name", "app", "k8s-app", "app.kubernetes.io/component", "component", "name")


@dataclass(frozen=True)
class GenerateOptions:
    """Options of :func:`synthesize`.

    ``ingress_controller_namespace``: where the ingress controller runs (ingress from it is allowed
    to workloads behind an Ingress/Route/HTTPRoute). ``named_ports``: write ports by the name the
    destination declares when it has one.
    """

    ingress_controller_namespace: str = DEFAULT_CONTROLLER_NAMESPACE
    named_ports: bool = True


@dataclass(frozen=True)
class GeneratedPolicy:
    """A generated NetworkPolicy and the needed connections that each of its rules serves."""

    policy: NetworkPolicy
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratedPolicies:
    policies: tuple[GeneratedPolicy, ...]
    warnings: tuple[Diagnostic, ...] = field(default=())
    # what guardrails changed: needed connections left out, connections added (always reported)
    guardrail_notes: tuple[Diagnostic, ...] = field(default=())
    # workloads that no label of their own selects alone: the label to add to their pod template
    label_hints: tuple[LabelHint, ...] = field(default=())


class _Selectors:
    """Chooses, per workload, the smallest stable label set that selects it alone in its namespace.

    When none does, the selector also excludes the others by the labels the workload lacks
    (:func:`separate`); the workload gets a :class:`LabelHint` either way.
    """

    def __init__(self, workloads: Sequence[Workload], warnings: list[Diagnostic]) -> None:
        self.by_ns: dict[str, list[Workload]] = defaultdict(list)
        for w in workloads:
            self.by_ns[w.namespace].append(w)
        self.by_name: dict[Peer, Workload] = {WorkloadPeer(w.namespace, w.name, w.kind): w for w in workloads}
        self.warnings = warnings
        self.hints: list[LabelHint] = []
        self._cache: dict[str, LabelSelector] = {}

    def for_workload(self, w: Workload) -> LabelSelector:
        cached = self._cache.get(w.peer_name)
        if cached is not None:
            return cached
        stable = sorted(((k, v) for k, v in w.labels if not is_unstable(k)), key=_label_rank)
        lasting = [kv for kv in stable if kv[0] not in VOLATILE_LABELS]
        others = [o for o in self.by_ns[w.namespace] if o.peer_name != w.peer_name]
        chosen = _smallest_unique(lasting, others) or _smallest_unique(stable, others)
        selector = LabelSelector(chosen) if chosen is not None else self._separated(w, stable, others)
        self._cache[w.peer_name] = selector
        return selector

    def _separated(self, w: Workload, stable: list[tuple[str, str]], others: list[Workload]) -> LabelSelector:
        """A selector by the labels ``w`` lacks too, the hint to give it its own, and the warning."""
        others = sorted(others, key=lambda o: o.peer_name)
        found = separate(
            stable,
            [o.label_map for o in others],
            usable=lambda k: not is_unstable(k),
            lasting=lambda k: k not in VOLATILE_LABELS,
            rank=lambda k: _label_rank((k, "")),
        )
        also = tuple(
            WorkloadPeer(o.namespace, o.name, o.kind) for o in (others[i] for i in found.shared_with)
        )
        key, value = hint_label(w.name, w.kind, w.label_map, [o.label_map for o in others])
        peer = WorkloadPeer(w.namespace, w.name, w.kind)
        hint = LabelHint(peer, w.origin, found.selector, also, key, value)
        self.hints.append(hint)
        fix = f"hint: add `{hint.label}` to its pod template ({'.'.join(hint.template_path)})"
        if also or not others:
            self.warnings.append(
                Diagnostic(
                    w.origin,
                    f"no stable labels select {w.peer_name} alone"
                    + (
                        f" (also selected: {', '.join(map(str, also))}); its policy and the rules naming "
                        "it apply to those too"
                        if also
                        else " (it has no stable labels); its policy and the rules naming it apply to "
                        f"every pod of {w.namespace}"
                    )
                    + f"; {fix}",
                )
            )
        else:
            self.warnings.append(
                Diagnostic(
                    w.origin,
                    f"no label of its own selects {w.peer_name} alone: selected by {found.selector} "
                    f"(what the other workloads of {w.namespace} carry and it lacks); {fix}",
                )
            )
        return found.selector


def _label_rank(kv: tuple[str, str]) -> tuple[bool, int, str]:
    """Lasting labels first, then the conventional identity labels, then alphabetically."""
    rank = _PREFERRED.index(kv[0]) if kv[0] in _PREFERRED else len(_PREFERRED)
    return (kv[0] in VOLATILE_LABELS, rank, kv[0])


def _smallest_unique(
    labels: Sequence[tuple[str, str]], others: Sequence[Workload]
) -> tuple[tuple[str, str], ...] | None:
    """The first smallest subset of ``labels`` (in their order) that no workload of ``others`` has."""
    for size in range(1, len(labels) + 1):
        for combo in combinations(labels, size):
            if not any(all(o.label_map.get(k) == v for k, v in combo) for o in others):
                return combo
    return None


def _ports(conn: ConnectionSet, dst: Workload | None, named: bool) -> tuple[PortMatch, ...] | None:
    if conn.is_all():
        return None
    out: list[PortMatch] = []
    for proto, ports in conn.items():
        if ports.is_full():
            out.append(PortMatch(proto))
            continue
        for lo, hi in ports:
            if lo == hi and named and dst is not None:
                name = next(
                    (cp.name for cp in dst.ports if cp.port == lo and cp.protocol == proto and cp.name), ""
                )
                if name:
                    out.append(PortMatch(proto, name))
                    continue
            out.append(PortMatch(proto, lo, hi if hi != lo else None))
    return tuple(out)


def cidrs(ips: IPRangeSet) -> list[str]:
    """The fewest CIDRs that cover exactly ``ips``."""
    out: list[str] = []
    for text in ips.ranges():
        lo, _, hi = text.partition("-")
        first, last = ipaddress.ip_address(lo), ipaddress.ip_address(hi)
        out.extend(str(n) for n in ipaddress.summarize_address_range(first, last))
    return out


def _ip_peers(ips: IPRangeSet) -> tuple[PolicyPeer, ...]:
    return tuple(PolicyPeer(ip_block=IPRangeSet.from_cidr(c), ip_text=c) for c in cidrs(ips))


def _outside(ips: IPRangeSet) -> IPRangeSet:
    """Addresses as written, except that all of IPv4 (discovery's "anywhere") means both families."""
    return IPRangeSet.ipv4() | IPRangeSet.ipv6() if ips == IPRangeSet.ipv4() else ips


def synthesize(
    cluster: Cluster, needed: DiscoveryResult, options: GenerateOptions | None = None
) -> GeneratedPolicies:
    """NetworkPolicies that allow ``needed`` on ``cluster`` and nothing else."""
    options = options or GenerateOptions()
    warnings: list[Diagnostic] = []
    selectors = _Selectors(cluster.workloads, warnings)
    info = {p.peer: p for p in needed.peers}
    app_namespaces = sorted({w.namespace for w in cluster.workloads})

    def peer_selector(peer: Peer, from_namespace: str) -> PolicyPeer | None:
        w = selectors.by_name.get(peer)
        if w is not None:
            pod_sel, ns = selectors.for_workload(w), w.namespace
        elif peer in info:
            own = peer.namespace if isinstance(peer, WorkloadPeer) else ""
            pod_sel, ns = LabelSelector(info[peer].labels), info[peer].namespace or own
        else:
            warnings.append(Diagnostic(Origin(), f"{peer} is not in the input and has no selector: skipped"))
            return None
        ns_sel = None if ns == from_namespace else LabelSelector.of({NAMESPACE_NAME_LABEL: ns})
        return PolicyPeer(pod_selector=pod_sel, namespace_selector=ns_sel)

    ingress: dict[str, list[tuple[NeededConnection, PolicyRule]]] = defaultdict(list)
    egress: dict[str, list[tuple[NeededConnection, PolicyRule]]] = defaultdict(list)
    for nc in needed.connections:
        src_w = selectors.by_name.get(nc.src)
        dst_w = selectors.by_name.get(nc.dst)
        if src_w is not None and nc.src == nc.dst:
            continue  # a workload with itself: never restricted by policy
        if dst_w is not None:
            ports = _ports(nc.conn, dst_w, options.named_ports)
            peers = _source_peers(nc.src, dst_w.namespace, options, peer_selector)
            if peers is not None:
                ingress[dst_w.peer_name].append((nc, PolicyRule(peers, ports)))
        if src_w is not None:
            ports = _ports(nc.conn, dst_w, options.named_ports)
            if isinstance(nc.dst, ExternalPeer):
                to: tuple[PolicyPeer, ...] | None = _ip_peers(_outside(nc.dst.ips))
            else:
                sel = peer_selector(nc.dst, src_w.namespace)
                to = None if sel is None else (sel,)
            if to is not None:
                egress[src_w.peer_name].append((nc, PolicyRule(to, ports)))
        if src_w is None and dst_w is None:
            warnings.append(Diagnostic(Origin(), f"neither end of {nc} is a workload of the input: skipped"))

    generated: list[GeneratedPolicy] = []
    for ns in app_namespaces:
        generated.append(
            GeneratedPolicy(
                NetworkPolicy(ns, DEFAULT_DENY_NAME, LabelSelector(), (), (), True, True),
                ("Deny all ingress and egress in this namespace; the policies below allow what is needed.",),
            )
        )
    taken: set[tuple[str, str]] = {(ns, DEFAULT_DENY_NAME) for ns in app_namespaces}
    names: dict[tuple[str, str], int] = defaultdict(int)
    for w in cluster.workloads:
        names[(w.namespace, w.name)] += 1
    seen: set[str] = set()
    for w in sorted(cluster.workloads, key=lambda w: (w.namespace, w.name, w.kind)):
        if w.peer_name in seen:
            continue
        seen.add(w.peer_name)
        ins = ingress.get(w.peer_name, [])
        outs = egress.get(w.peer_name, [])
        if not ins and not outs:
            continue
        name = _unique_name(w, names, taken)
        comments = [f"Least privilege for {w.peer_name}:"]
        comments += [f"  ingress: {nc.src} : {nc.conn}" for nc, _ in ins]
        comments += [f"  egress:  {nc.dst} : {nc.conn}" for nc, _ in outs]
        generated.append(
            GeneratedPolicy(
                NetworkPolicy(
                    w.namespace,
                    name,
                    selectors.for_workload(w),
                    tuple(_merge_rules(r for _, r in ins)),
                    tuple(_merge_rules(r for _, r in outs)),
                    affects_ingress=bool(ins),
                    affects_egress=bool(outs),
                ),
                tuple(comments),
            )
        )
    return GeneratedPolicies(
        tuple(generated),
        tuple(needed.warnings) + tuple(warnings),
        label_hints=tuple(sorted(selectors.hints, key=lambda h: h.workload)),
    )


def _unique_name(w: Workload, names: dict[tuple[str, str], int], taken: set[tuple[str, str]]) -> str:
    """``kubefence-<name>``, with the kind (and then a number) added when another policy has it."""
    base = f"kubefence-{w.name}"
    if names[(w.namespace, w.name)] > 1 or (w.namespace, base) in taken:
        base = f"{base}-{w.kind.lower()}"
    name, n = base[:253], 2
    while (w.namespace, name) in taken:
        name = f"{base[:248]}-{n}"
        n += 1
    taken.add((w.namespace, name))
    return name


def _source_peers(
    src: Peer,
    dst_namespace: str,
    options: GenerateOptions,
    peer_selector: object,
) -> tuple[PolicyPeer, ...] | None:
    if isinstance(src, IngressControllerPeer):
        return (
            PolicyPeer(
                namespace_selector=LabelSelector.of(
                    {NAMESPACE_NAME_LABEL: options.ingress_controller_namespace}
                )
            ),
        )
    if isinstance(src, ExternalPeer):
        return _ip_peers(_outside(src.ips))
    assert callable(peer_selector)
    sel = peer_selector(src, dst_namespace)
    return None if sel is None else (sel,)


def _merge_rules(rules: Iterable[PolicyRule]) -> list[PolicyRule]:
    """Rules with the same ports become one rule with all their peers; sorted for stable output."""
    by_ports: dict[tuple[PortMatch, ...] | None, list[PolicyPeer]] = {}
    for r in rules:
        peers = by_ports.setdefault(r.ports, [])
        for p in r.peers or ():
            if p not in peers:
                peers.append(p)
    out = [PolicyRule(tuple(sorted(peers, key=_peer_key)), ports) for ports, peers in by_ports.items()]
    return sorted(out, key=lambda r: (_ports_key(r.ports), [_peer_key(p) for p in r.peers or ()]))


def _peer_key(p: PolicyPeer) -> tuple[str, str, str]:
    return (str(p.namespace_selector or ""), str(p.pod_selector or ""), p.ip_text)


def _ports_key(ports: tuple[PortMatch, ...] | None) -> str:
    return "" if ports is None else ",".join(str(p) for p in ports)
