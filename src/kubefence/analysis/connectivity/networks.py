"""Connectivity per network, for clusters with user-defined and secondary networks.

Every workload sits on one primary network: the pod network, the primary UserDefinedNetwork of its
namespace, or a primary ClusterUserDefinedNetwork that selects its namespace (which must carry the
``k8s.ovn.org/primary-user-defined-network`` label). Workloads on different primary networks cannot
reach each other there; on its own primary network a workload is governed by NetworkPolicies and the
admin tiers as usual, and external addresses and the ingress controller reach it there. Secondary
networks (NetworkAttachmentDefinitions of one name, in the namespaces of the workloads that attach
to them) carry only what MultiNetworkPolicies allow, between workloads.

Each primary network's map is the ordinary engine's map of the cluster restricted to the workloads
on it: a pair's verdict depends only on the policies and the pair, so the restriction is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from kubefence.analysis.connectivity.engine import MapOptions, compute_connectivity, focus_names
from kubefence.analysis.connectivity.focus import check_known, connection_filter, split_names, without_focus
from kubefence.analysis.connectivity.multi_policies import secondary_connections
from kubefence.errors import Diagnostic, InputError
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ConnectivityMap, Peer
from kubefence.model.networks import (
    POD_NETWORK,
    PRIMARY_UDN_LABEL,
    Network,
    NetworkKind,
    UserDefinedNetwork,
)
from kubefence.model.peers import INGRESS_CONTROLLER, WorkloadPeer
from kubefence.model.ports import ConnectionSet
from kubefence.model.workloads import Namespace, Workload

_RESERVED_NAMESPACE_PREFIX = "openshift-"


@dataclass(frozen=True)
class NetworkSection:
    """The connectivity of one network."""

    network: Network
    connectivity: ConnectivityMap
    workloads: int  # how many workloads sit on it


@dataclass(frozen=True)
class WorkloadNetworks:
    workload: Workload
    primary: Network
    secondary: tuple[Network, ...]


@dataclass(frozen=True)
class MultiNetworkMap:
    """A connectivity map per network, and which networks each workload is on."""

    sections: tuple[NetworkSection, ...]
    memberships: tuple[WorkloadNetworks, ...]
    warnings: tuple[Diagnostic, ...] = ()

    def section(self, network: Network) -> NetworkSection | None:
        return next((s for s in self.sections if s.network == network), None)


def uses_multiple_networks(cluster: Cluster) -> bool:
    """Whether the input defines networks beyond the pod network, or has KubeVirt VMs."""
    return bool(cluster.networks) or any(w.kind == "VirtualMachine" for w in cluster.workloads)


def primary_networks(cluster: Cluster, warnings: list[Diagnostic]) -> dict[str, Network]:
    """The primary network of each namespace that has one other than the pod network."""
    assigned: dict[str, tuple[Network, UserDefinedNetwork]] = {}
    declared = {ns.name: ns for ns in cluster.namespaces if ns.declared}
    for udn in cluster.networks.user_defined:
        if udn.role != "Primary":
            warnings.append(
                Diagnostic(udn.origin, f"{udn.label} is ignored: only Primary networks are analyzed")
            )
            continue
        if udn.cluster_scoped:
            _assign_cluster_network(udn, declared, assigned, warnings)
            continue
        namespace = declared.get(udn.namespace)
        if namespace is None:
            warnings.append(
                Diagnostic(udn.origin, f"{udn.label} is ignored: its namespace is not in the input")
            )
            continue
        if PRIMARY_UDN_LABEL not in namespace.label_map:
            warnings.append(
                Diagnostic(
                    udn.origin,
                    f"{udn.label} is ignored: namespace {udn.namespace} lacks the label {PRIMARY_UDN_LABEL}",
                )
            )
            continue
        _check_namespace(udn, udn.namespace)
        _check_free(udn, udn.namespace, assigned)
        assigned[udn.namespace] = (Network(NetworkKind.UDN, udn.namespace), udn)
    return {ns: network for ns, (network, _) in assigned.items()}


def _assign_cluster_network(
    cudn: UserDefinedNetwork,
    declared: dict[str, Namespace],
    assigned: dict[str, tuple[Network, UserDefinedNetwork]],
    warnings: list[Diagnostic],
) -> None:
    selector = cudn.namespace_selector
    assert selector is not None
    if selector.is_empty and assigned:
        raise InputError(
            f"{cudn.label} selects every namespace, but some already have a primary network",
            cudn.origin,
            "narrow its namespaceSelector",
        )
    taken = 0
    for ns in sorted(declared):
        namespace = declared[ns]
        labels = namespace.label_map
        if not selector.matches(labels):
            continue
        _check_free(cudn, ns, assigned)
        if PRIMARY_UDN_LABEL not in labels:
            warnings.append(
                Diagnostic(
                    cudn.origin,
                    f"{cudn.label} selects namespace {ns}, which lacks the label {PRIMARY_UDN_LABEL}: "
                    "it stays on the pod network",
                )
            )
            continue
        _check_namespace(cudn, ns)
        assigned[ns] = (Network(NetworkKind.CUDN, cudn.name), cudn)
        taken += 1
    if not taken:
        warnings.append(Diagnostic(cudn.origin, f"{cudn.label} selects no namespace of the input"))


def _check_namespace(udn: UserDefinedNetwork, namespace: str) -> None:
    if namespace == "default" or namespace.startswith(_RESERVED_NAMESPACE_PREFIX):
        raise InputError(
            f"{udn.label} may not take over namespace {namespace}",
            udn.origin,
            "user-defined networks are not allowed in default or openshift-* namespaces",
        )


def _check_free(
    udn: UserDefinedNetwork, namespace: str, assigned: dict[str, tuple[Network, UserDefinedNetwork]]
) -> None:
    if namespace in assigned:
        raise InputError(
            f"namespace {namespace} has two primary networks: {assigned[namespace][1].label} and {udn.label}",
            udn.origin,
            "a namespace may have one primary user-defined network",
        )


def secondary_networks(cluster: Cluster, workload: Workload) -> tuple[Network, ...]:
    """The secondary networks a workload is on: those it names that have a definition in the
    namespace it names (its own by default)."""
    defined = {(d.namespace, d.name) for d in cluster.networks.attachments}
    found = {a.name for a in workload.networks if ((a.namespace or workload.namespace), a.name) in defined}
    return tuple(Network(NetworkKind.NAD, name) for name in sorted(found))


def compute_network_connectivity(cluster: Cluster, options: MapOptions | None = None) -> MultiNetworkMap:
    """The connectivity map of each network of ``cluster``."""
    warnings: list[Diagnostic] = []
    options = options or MapOptions()
    # the focus applies to every section alike; its names are checked once, against the whole input
    keep = _focus_filter(cluster, options)
    options = without_focus(options)
    primaries = primary_networks(cluster, warnings)
    warnings.extend(attachment_warnings(cluster))
    memberships = tuple(
        WorkloadNetworks(w, primaries.get(w.namespace, POD_NETWORK), secondary_networks(cluster, w))
        for w in sorted(cluster.workloads, key=lambda w: w.peer_name)
    )
    sections: list[NetworkSection] = []
    primary_groups = _group(((m.primary, m.workload) for m in memberships), always=(POD_NETWORK,))
    for network, members in primary_groups:
        cmap = _focus(compute_connectivity(replace(cluster, workloads=members), options), keep)
        sections.append(NetworkSection(network, cmap, len(members)))
    secondary_groups = _group((n, m.workload) for m in memberships for n in m.secondary)
    for network, members in secondary_groups:
        cmap = _focus(secondary_connections(cluster, network.name, members, warnings), keep)
        sections.append(NetworkSection(network, cmap, len(members)))
    seen = dict.fromkeys(d for s in sections for d in s.connectivity.warnings)
    return MultiNetworkMap(tuple(sections), memberships, (*seen, *warnings))


def _focus_filter(cluster: Cluster, options: MapOptions) -> Callable[[Connection], Connection | None] | None:
    names, peers = focus_names(options), split_names(options.focus_peers)
    if not (names or peers or options.focus_direction or options.focus_conn):
        return None
    known: list[Peer] = [WorkloadPeer(w.namespace, w.name, w.kind) for w in cluster.workloads]
    if cluster.ingresses:
        known.append(INGRESS_CONTROLLER)
    check_known(names, known)
    check_known(peers, known, "focus workload peer")
    return connection_filter(names, peers, options.focus_direction, options.focus_conn)


def _focus(cmap: ConnectivityMap, keep: Callable[[Connection], Connection | None] | None) -> ConnectivityMap:
    if keep is None:
        return cmap
    kept = (keep(c) for c in cmap.connections)
    return replace(cmap, connections=tuple(c for c in kept if c is not None))


def _group(
    pairs: Iterable[tuple[Network, Workload]], always: tuple[Network, ...] = ()
) -> list[tuple[Network, tuple[Workload, ...]]]:
    groups: dict[Network, list[Workload]] = {n: [] for n in always}
    for network, workload in pairs:
        groups.setdefault(network, []).append(workload)
    ordered = sorted(groups.items(), key=lambda item: item[0].sort_key)
    return [(network, tuple(members)) for network, members in ordered]


def attachment_warnings(cluster: Cluster) -> list[Diagnostic]:
    """What the analysis cannot know of NetworkAttachmentDefinitions from the manifests alone."""
    out = []
    configs: dict[str, set[str | None]] = {}
    for nad in cluster.networks.attachments:
        configs.setdefault(nad.name, set()).add(nad.config)
        if nad.config is None:
            out.append(
                Diagnostic(
                    nad.origin,
                    f"NetworkAttachmentDefinition {nad.namespace}/{nad.name}: its spec.config is not valid "
                    "JSON; the network is analyzed by name only",
                )
            )
    for nad in cluster.networks.attachments:
        if len(configs.get(nad.name, set())) > 1:
            configs.pop(nad.name)
            out.append(
                Diagnostic(
                    nad.origin,
                    f"NetworkAttachmentDefinitions named {nad.name} differ between namespaces; they are "
                    "analyzed as one network, which holds only if their configurations agree",
                )
            )
    return out


def flatten(result: MultiNetworkMap) -> ConnectivityMap:
    """One map for all networks: a pair is allowed what any network it shares allows (for diff)."""
    merged: dict[tuple[Peer, Peer], ConnectionSet] = {}
    for section in result.sections:
        for c in section.connectivity.connections:
            key = (c.src, c.dst)
            merged[key] = merged[key] | c.conn if key in merged else c.conn
    connections = tuple(
        sorted((Connection(s, d, conn) for (s, d), conn in merged.items()), key=lambda c: c.sort_key)
    )
    peers = {c.src for c in connections} | {c.dst for c in connections}
    workloads = {p for section in result.sections for p in section.connectivity.workloads}
    return ConnectivityMap(connections, tuple(sorted(peers)), result.warnings, tuple(sorted(workloads)))


def compute_any_connectivity(cluster: Cluster, options: MapOptions | None = None) -> ConnectivityMap:
    """The flat map of ``cluster``: per network and merged when it has several, else the usual one."""
    if uses_multiple_networks(cluster):
        return flatten(compute_network_connectivity(cluster, options))
    return compute_connectivity(cluster, options)
