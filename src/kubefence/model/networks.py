"""Multiple networks (OVN-Kubernetes, Multus, KubeVirt): the networks a workload's pods sit on.

A pod has one *primary* network, on its first interface: the cluster's pod network, or a primary
UserDefinedNetwork (one namespace) or ClusterUserDefinedNetwork (the namespaces it selects). It may
also sit on *secondary* networks, attached through NetworkAttachmentDefinitions and governed there
by MultiNetworkPolicies only. Pods on different primary networks cannot reach each other on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kubefence.errors import Origin
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.policies import NetworkPolicy
from kubefence.model.selectors import LabelSelector

#: A namespace must carry this label for a primary (C)UDN to take it over.
PRIMARY_UDN_LABEL = "k8s.ovn.org/primary-user-defined-network"
#: The pod annotation naming its secondary networks.
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
#: The MultiNetworkPolicy annotation naming the networks it governs.
POLICY_FOR_ANNOTATION = "k8s.v1.cni.cncf.io/policy-for"


class NetworkKind(Enum):
    POD_NETWORK = "pod-network"
    UDN = "UDN"
    CUDN = "CUDN"
    NAD = "NAD"


_SECTION_ORDER = {NetworkKind.POD_NETWORK: 0, NetworkKind.UDN: 1, NetworkKind.CUDN: 2, NetworkKind.NAD: 3}


@dataclass(frozen=True)
class Network:
    """One network of the cluster; a UDN is named after its namespace (one UDN per namespace)."""

    kind: NetworkKind
    name: str

    @property
    def sort_key(self) -> tuple[int, str]:
        """Sections come in this order: the pod network, primary UDNs, CUDNs, secondary NADs."""
        return (_SECTION_ORDER[self.kind], self.name)

    @property
    def primary(self) -> bool:
        return self.kind is not NetworkKind.NAD


POD_NETWORK = Network(NetworkKind.POD_NETWORK, "pod-network")


@dataclass(frozen=True, order=True)
class NetworkAttachment:
    """A workload's attachment to a secondary network, as its annotation or VM spec names it."""

    name: str
    namespace: str = ""  # "" = the workload's own namespace
    addresses: IPRangeSet = field(default_factory=IPRangeSet.empty, compare=False)


@dataclass(frozen=True)
class UserDefinedNetwork:
    """A UserDefinedNetwork (namespaced) or ClusterUserDefinedNetwork (``namespace_selector`` set)."""

    name: str
    namespace: str  # "" for a ClusterUserDefinedNetwork
    role: str  # "Primary" or "Secondary"
    namespace_selector: LabelSelector | None = None
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def cluster_scoped(self) -> bool:
        return self.namespace_selector is not None

    @property
    def label(self) -> str:
        if self.cluster_scoped:
            return f"ClusterUserDefinedNetwork {self.name}"
        return f"UserDefinedNetwork {self.namespace}/{self.name}"


@dataclass(frozen=True, order=True)
class NetworkAttachmentDefinition:
    namespace: str
    name: str
    # the CNI configuration, re-serialized canonically; None when it is not valid JSON
    config: str | None = field(default=None, compare=False)
    origin: Origin = field(default=Origin(), compare=False)


@dataclass(frozen=True)
class MultiNetworkPolicy:
    """A MultiNetworkPolicy: a NetworkPolicy's spec, for the secondary networks it is for."""

    policy: NetworkPolicy
    networks: tuple[NetworkAttachment, ...]  # from the policy-for annotation


@dataclass(frozen=True)
class NetworkResources:
    """Everything that defines networks beyond the pod network, as read from the input."""

    user_defined: tuple[UserDefinedNetwork, ...] = ()
    attachments: tuple[NetworkAttachmentDefinition, ...] = ()
    multi_policies: tuple[MultiNetworkPolicy, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.user_defined or self.attachments or self.multi_policies)
