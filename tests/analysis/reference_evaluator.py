"""A naive reference for connectivity under every policy tier, written straight from the API texts.

It shares nothing with ``kubefence.analysis``: it reads the parsed model (``kubefence.model``) and
decides one probe at a time — one source workload, one destination workload, one protocol, one port —
by walking the rules in the order the specifications give:

* Admin tier (AdminNetworkPolicy, ClusterNetworkPolicy ``tier: Admin``): policies by ascending
  ``priority``, rules in written order; the first rule whose peers and ports match decides: Allow
  (CNP Accept) allows, Deny denies, Pass skips the rest of the tier.
* NetworkPolicy tier: if any NetworkPolicy selects the pod for this direction, the traffic is allowed
  when some rule of one of them matches, and denied otherwise; no later tier is consulted.
* Baseline tier (the BaselineAdminNetworkPolicy, ClusterNetworkPolicy ``tier: Baseline``): first
  matching rule decides; Pass goes on to the default.
* Default: allowed.

A connection is allowed when the source's egress and the destination's ingress both allow it.

Two policies of one tier with the same priority have no defined order ("the implementation can apply
any of the matching policies"); neither has the BaselineAdminNetworkPolicy relative to Baseline-tier
ClusterNetworkPolicies. Instead of picking one order, the reference computes every outcome an
admissible order could give; probes with more than one outcome are reported as *uncertain*.

Nothing here is fast or clever on purpose: it loops over everything, every time.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby

from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminPort, AdminRule, PodsSelector, Tier
from kubefence.model.cluster import Cluster
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule, PortMatch
from kubefence.model.selectors import LabelSelector, Operator
from kubefence.model.workloads import ServicePort, Workload

Probe = tuple[str, int]  # (protocol, port)
Pair = tuple[str, str]  # (source peer name, destination peer name)

PROBE_PROTOCOLS = ("TCP", "UDP", "SCTP")
EXTRA_PORTS = (1, 53, 80, 443, 8080, 65535)
INGRESS_CONTROLLER = "{ingress-controller}"
NAME_LABEL = "kubernetes.io/metadata.name"


# -- label selectors, from the Kubernetes API text --------------------------------------------------


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """matchLabels and matchExpressions are ANDed; an empty selector matches everything."""
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    for req in selector.expressions:
        present = req.key in labels
        if req.operator is Operator.IN and not (present and labels[req.key] in req.values):
            return False
        if req.operator is Operator.NOT_IN and present and labels[req.key] in req.values:
            return False
        if req.operator is Operator.EXISTS and not present:
            return False
        if req.operator is Operator.DOES_NOT_EXIST and present:
            return False
    return True


# -- the cluster as seen by the reference -----------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """One end of a connection: a workload — where it runs, its labels, its container ports as
    (name, protocol, number) — or, with ``address``, one IP address outside the cluster."""

    name: str  # the peer name, ns/name[Kind], or the address
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[tuple[str, str, int], ...]
    address: str = ""


def external(address: str) -> Pod:
    """An address outside the cluster: no namespace, no labels, no named ports."""
    return Pod(address, "", {}, (), address)


def _contains(cidr: str, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr.strip(), strict=False)


def _pod(w: Workload) -> Pod:
    return Pod(
        f"{w.namespace}/{w.name}[{w.kind}]",
        w.namespace,
        dict(w.labels),
        tuple((cp.name, cp.protocol, cp.port) for cp in w.ports),
    )


def namespace_labels(cluster: Cluster, name: str) -> dict[str, str]:
    """A namespace's labels, always with the automatic ``kubernetes.io/metadata.name``."""
    labels: dict[str, str] = {}
    for ns in cluster.namespaces:
        if ns.name == name:
            labels = dict(ns.labels)
    labels[NAME_LABEL] = name
    return labels


# -- ports ------------------------------------------------------------------------------------------


def named_port_any_protocol(dst: Pod, name: str) -> list[Probe]:
    """An admin named port carries no protocol: the destination's container port of that name."""
    return [(proto, number) for port_name, proto, number in dst.ports if port_name == name]


def admin_port_matches(port: AdminPort, dst: Pod, probe: Probe) -> bool:
    proto, number = probe
    if port.name:
        return probe in named_port_any_protocol(dst, port.name)
    if port.protocol != proto:
        return False
    if port.start == 0:  # a protocol without destinationPort: every port of it
        return True
    last = port.end if port.end else port.start
    return port.start <= number <= last


def np_port_matches(port: PortMatch, dst: Pod, probe: Probe) -> bool:
    proto, number = probe
    if port.protocol != proto:
        return False
    if port.port is None:
        return True
    if isinstance(port.port, str):  # a named port: on the destination, on the same protocol
        return any(n == port.port and p == proto and num == number for n, p, num in dst.ports)
    last = port.end_port if port.end_port is not None else port.port
    return port.port <= number <= last


# -- peers ------------------------------------------------------------------------------------------


def pods_selector_matches(cluster: Cluster, sel: PodsSelector, pod: Pod) -> bool:
    if pod.address:
        return False
    if not selector_matches(sel.namespace_selector, namespace_labels(cluster, pod.namespace)):
        return False
    return sel.pod_selector is None or selector_matches(sel.pod_selector, pod.labels)


def admin_peer_matches(cluster: Cluster, peer: AdminPeer, pod: Pod) -> bool:
    """Pods by selectors; or networks, which "cluster-internal traffic will be checked against ... as
    well": a pod's address is unknown, but networks covering all of IPv4 or all of IPv6 hold it.
    Nodes and domain names are never a pod."""
    if peer.pods is not None:
        return pods_selector_matches(cluster, peer.pods, pod)
    if peer.networks is not None:
        cidrs = peer.networks_text.split(", ")
        if pod.address:
            return any(_contains(c, pod.address) for c in cidrs)
        return covers_an_address_family(cidrs)
    return False


def covers_an_address_family(cidrs: list[str]) -> bool:
    """Whether the CIDRs together cover every IPv4 or every IPv6 address (``0.0.0.0/0``, ``::/0``)."""
    nets = [ipaddress.ip_network(c.strip(), strict=False) for c in cidrs]
    v4 = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in nets if isinstance(n, ipaddress.IPv6Network)]
    return [str(n) for n in ipaddress.collapse_addresses(v4)] == ["0.0.0.0/0"] or [
        str(n) for n in ipaddress.collapse_addresses(v6)
    ] == ["::/0"]


def np_peer_matches(cluster: Cluster, policy: NetworkPolicy, peer: PolicyPeer, pod: Pod) -> bool:
    if peer.ip_block is not None:  # addresses outside the cluster: "cidr[ except a, b]"
        if not pod.address:
            return False
        cidr, _, excepts = peer.ip_text.partition(" except ")
        inside = _contains(cidr, pod.address)
        return inside and not any(_contains(e, pod.address) for e in excepts.split(", ") if e)
    if pod.address:
        return False
    if peer.namespace_selector is None:
        if pod.namespace != policy.namespace:
            return False
    elif not selector_matches(peer.namespace_selector, namespace_labels(cluster, pod.namespace)):
        return False
    return peer.pod_selector is None or selector_matches(peer.pod_selector, pod.labels)


# -- one direction ----------------------------------------------------------------------------------


def _admin_rule_matches(cluster: Cluster, rule: AdminRule, peer: Pod, dst: Pod, probe: Probe) -> bool:
    if not any(admin_peer_matches(cluster, p, peer) for p in rule.peers):
        return False
    return rule.ports is None or any(admin_port_matches(p, dst, probe) for p in rule.ports)


def _first_action(
    cluster: Cluster, policy: AdminPolicy, ingress: bool, subject: Pod, peer: Pod, dst: Pod, probe: Probe
) -> Action | None:
    """What this policy does with the probe: the action of its first matching rule, if any."""
    if not pods_selector_matches(cluster, policy.subject, subject):
        return None
    for rule in policy.ingress if ingress else policy.egress:
        if _admin_rule_matches(cluster, rule, peer, dst, probe):
            return rule.action
    return None


def _tier_outcomes(actions_by_priority: list[list[Action | None]]) -> set[Action | None]:
    """Possible deciding actions of a tier: the first priority group with a matching policy decides,
    and within a group any matching policy may come first. ``{None}`` when nothing matches."""
    for group in actions_by_priority:
        matched = {a for a in group if a is not None}
        if matched:
            return set(matched)
    return {None}


def _np_verdict(
    cluster: Cluster, ingress: bool, subject: Pod, peer: Pod, dst: Pod, probe: Probe
) -> bool | None:
    """The NetworkPolicy tier: None when no policy selects ``subject`` for this direction."""
    selecting = [
        p
        for p in cluster.policies
        if p.namespace == subject.namespace
        and selector_matches(p.pod_selector, subject.labels)
        and (p.affects_ingress if ingress else p.affects_egress)
    ]
    if not selecting:
        return None
    for policy in selecting:
        for rule in policy.ingress if ingress else policy.egress:
            if _np_rule_matches(cluster, policy, rule, peer, dst, probe):
                return True
    return False


def _np_rule_matches(
    cluster: Cluster, policy: NetworkPolicy, rule: PolicyRule, peer: Pod, dst: Pod, probe: Probe
) -> bool:
    if rule.peers is not None and not any(np_peer_matches(cluster, policy, p, peer) for p in rule.peers):
        return False
    return rule.ports is None or any(np_port_matches(p, dst, probe) for p in rule.ports)


def direction_outcomes(
    cluster: Cluster, ingress: bool, subject: Pod, peer: Pod, dst: Pod, probe: Probe
) -> set[bool]:
    """Every verdict an admissible evaluation order gives for one direction of one probe.

    ``subject`` is the pod whose policies apply (the destination for ingress, the source for
    egress), ``peer`` the other end, ``dst`` the destination (whose named ports count).
    """
    admin = sorted(
        (
            p
            for p in cluster.admin_policies
            if p.tier is Tier.ADMIN and p.kind != "BaselineAdminNetworkPolicy"
        ),
        key=lambda p: p.priority,
    )
    groups = [
        [_first_action(cluster, p, ingress, subject, peer, dst, probe) for p in group]
        for _, group in groupby(admin, key=lambda p: p.priority)
    ]
    verdicts: set[bool] = set()
    for action in _tier_outcomes(groups):
        if action is Action.ALLOW:
            verdicts.add(True)
        elif action is Action.DENY:
            verdicts.add(False)
        else:  # Pass, or no Admin rule matched
            verdicts |= _after_admin(cluster, ingress, subject, peer, dst, probe)
    return verdicts


def _after_admin(
    cluster: Cluster, ingress: bool, subject: Pod, peer: Pod, dst: Pod, probe: Probe
) -> set[bool]:
    np = _np_verdict(cluster, ingress, subject, peer, dst, probe)
    if np is not None:
        return {np}
    banp = [p for p in cluster.admin_policies if p.kind == "BaselineAdminNetworkPolicy"]
    cnp = sorted(
        (
            p
            for p in cluster.admin_policies
            if p.tier is Tier.BASELINE and p.kind != "BaselineAdminNetworkPolicy"
        ),
        key=lambda p: p.priority,
    )
    groups = [
        [_first_action(cluster, p, ingress, subject, peer, dst, probe) for p in group]
        for _, group in groupby(cnp, key=lambda p: p.priority)
    ]
    outcomes = _tier_outcomes(groups)
    # the BaselineAdminNetworkPolicy has no defined place among Baseline-tier CNPs: it may come first
    for policy in banp:
        action = _first_action(cluster, policy, ingress, subject, peer, dst, probe)
        if action is not None:
            outcomes = (outcomes - {None}) | {action}
    return {action is not Action.DENY for action in outcomes}  # Allow, Pass and nothing: allowed


def probe_outcomes(cluster: Cluster, src: Pod, dst: Pod, probe: Probe) -> set[bool]:
    """Every verdict for one connection: egress of ``src`` and ingress of ``dst`` must both allow."""
    egress = direction_outcomes(cluster, False, src, dst, dst, probe)
    ingress = direction_outcomes(cluster, True, dst, src, dst, probe)
    return {e and i for e in egress for i in ingress}


# -- probes -----------------------------------------------------------------------------------------


def probe_ports(cluster: Cluster) -> list[int]:
    """Every port number the cluster mentions, the numbers around each range end, and a few more."""
    ports = set(EXTRA_PORTS)
    for w in cluster.workloads:
        ports.update(cp.port for cp in w.ports)
    for s in cluster.services:
        for sp in s.ports:
            ports.add(sp.port)
            if isinstance(sp.target_port, int):
                ports.add(sp.target_port)
    for np in cluster.policies:
        for rule in np.ingress + np.egress:
            for pm in rule.ports or ():
                if isinstance(pm.port, int):
                    ports.update(_around(pm.port, pm.end_port or pm.port))
    for ap in cluster.admin_policies:
        for arule in ap.ingress + ap.egress:
            for port in arule.ports or ():
                if port.start:
                    ports.update(_around(port.start, port.end or port.start))
    return sorted(p for p in ports if 1 <= p <= 65535)


def _around(lo: int, hi: int) -> set[int]:
    return {lo - 1, lo, lo + 1, hi - 1, hi, hi + 1}


def probe_set(cluster: Cluster) -> list[Probe]:
    return [(proto, port) for proto in PROBE_PROTOCOLS for port in probe_ports(cluster)]


# -- the whole cluster ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """``allowed``: probes allowed whatever order tied policies take; ``uncertain``: probes whose
    verdict depends on that order. Pairs with nothing in a dict are absent from it."""

    allowed: dict[Pair, set[Probe]]
    uncertain: dict[Pair, set[Probe]]
    probes: tuple[Probe, ...]


def evaluate(
    cluster: Cluster,
    probes: Iterable[Probe] | None = None,
    *,
    ingress_controller_namespace: str = "ingress-controller-ns",
    addresses: Iterable[str] = (),
) -> Reference:
    """Decide every probe between every ordered pair of distinct workloads, from the ingress
    controller to the workloads behind Ingress and Route backends, and between every workload and
    each of ``addresses`` (IPs outside the cluster, which have no policies of their own)."""
    probe_list = tuple(probe_set(cluster) if probes is None else probes)
    pods = [_pod(w) for w in cluster.workloads]
    allowed: dict[Pair, set[Probe]] = {}
    uncertain: dict[Pair, set[Probe]] = {}
    for src in pods:
        for dst in pods:
            if src.name == dst.name:
                continue
            for probe in probe_list:
                _record(
                    probe_outcomes(cluster, src, dst, probe), (src.name, dst.name), probe, allowed, uncertain
                )
    if cluster.ingresses:
        controller = Pod(INGRESS_CONTROLLER, ingress_controller_namespace, {}, ())
        backends = ingress_backend_ports(cluster, pods)
        for dst in pods:
            wanted = backends.get(dst.name, set())
            for probe in probe_list:
                if probe in wanted:
                    outcomes = probe_outcomes(cluster, controller, dst, probe)
                    _record(outcomes, (INGRESS_CONTROLLER, dst.name), probe, allowed, uncertain)
    for address in addresses:
        outside = external(address)
        for pod in pods:
            for probe in probe_list:
                egress = direction_outcomes(cluster, False, pod, outside, outside, probe)
                _record(egress, (pod.name, address), probe, allowed, uncertain)
                ingress = direction_outcomes(cluster, True, pod, outside, pod, probe)
                _record(ingress, (address, pod.name), probe, allowed, uncertain)
    return Reference(allowed, uncertain, probe_list)


def _record(
    outcomes: set[bool],
    pair: Pair,
    probe: Probe,
    allowed: dict[Pair, set[Probe]],
    uncertain: dict[Pair, set[Probe]],
) -> None:
    if outcomes == {True}:
        allowed.setdefault(pair, set()).add(probe)
    elif len(outcomes) > 1:
        uncertain.setdefault(pair, set()).add(probe)


def reference_connectivity(
    cluster: Cluster,
    probes: Iterable[Probe] | None = None,
    *,
    ingress_controller_namespace: str = "ingress-controller-ns",
) -> dict[Pair, set[Probe]]:
    """The probes allowed between workload pairs (and from the ingress controller), under every
    admissible order of tied policies."""
    return evaluate(cluster, probes, ingress_controller_namespace=ingress_controller_namespace).allowed


# -- Ingress and Route ------------------------------------------------------------------------------


def ingress_backend_ports(cluster: Cluster, pods: list[Pod]) -> dict[str, set[Probe]]:
    """Per pod (by peer name) behind an Ingress or Route backend: the (protocol, port) it is sent.

    Ingress backends name a Service port by number or by name; a Route's ``port.targetPort`` names a
    Service port by name (a string) or the port on the pods (a number). No port: every Service port.
    Two conventions of kubefence (shared with netpol-analyzer) that no API text fixes: the controller
    proxies over TCP, and only to ports the pod declares.
    """
    out: dict[str, set[Probe]] = {}
    for obj in cluster.ingresses:
        for backend in obj.backends:
            for svc in cluster.services:
                if svc.namespace != obj.namespace or svc.name != backend.service or svc.selector is None:
                    continue
                for pod in pods:
                    if pod.namespace != svc.namespace or not selector_matches(svc.selector, pod.labels):
                        continue
                    declared = {number for _, _, number in pod.ports}
                    for sp in svc.ports:
                        target = _target_number(sp, pod)
                        if target in declared and _chosen(obj.kind, backend.port, sp, target):
                            out.setdefault(pod.name, set()).add(("TCP", target))
    return out


def _target_number(sp: ServicePort, pod: Pod) -> int | None:
    """The Service port's target on ``pod``: a number, or the container port of that name."""
    if isinstance(sp.target_port, int):
        return sp.target_port
    for name, proto, number in pod.ports:
        if name == sp.target_port and proto == sp.protocol:
            return number
    return None


def _chosen(kind: str, ref: int | str | None, sp: ServicePort, target: int | None) -> bool:
    if ref is None:
        return True
    if isinstance(ref, str):
        return ref == sp.name
    return ref == (target if kind == "Route" else sp.port)
