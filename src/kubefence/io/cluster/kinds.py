"""The Kubernetes resources a cluster read lists, and whether the analysis cannot do without them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindSpec:
    """One resource to list. ``versions``: the API versions kubefence reads, in order of preference
    (discovery picks the first one the server serves). ``needed``: a 403 on it is an error, since
    the map would be wrong without it; an optional kind is skipped with a warning."""

    kind: str
    group: str
    plural: str
    versions: tuple[str, ...]
    namespaced: bool = True
    needed: bool = True
    crd: bool = False  # may not be installed: then skipped with one info line

    @property
    def resource(self) -> str:
        """``plural.group`` as RBAC and kubectl name it (``networkpolicies.networking.k8s.io``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


_GATEWAY = "gateway.networking.k8s.io"
_POLICY = "policy.networking.k8s.io"

#: What ``map``, ``explain``, ``verify``, ``diff`` and ``snapshot`` read.
POLICY_ANALYSIS_KINDS: tuple[KindSpec, ...] = (
    KindSpec("Namespace", "", "namespaces", ("v1",), namespaced=False),
    KindSpec("Pod", "", "pods", ("v1",)),
    KindSpec("Service", "", "services", ("v1",)),
    KindSpec("ReplicationController", "", "replicationcontrollers", ("v1",), needed=False),
    KindSpec("Deployment", "apps", "deployments", ("v1",)),
    KindSpec("ReplicaSet", "apps", "replicasets", ("v1",)),
    KindSpec("StatefulSet", "apps", "statefulsets", ("v1",)),
    KindSpec("DaemonSet", "apps", "daemonsets", ("v1",)),
    KindSpec("Job", "batch", "jobs", ("v1",)),
    KindSpec("CronJob", "batch", "cronjobs", ("v1", "v1beta1")),
    KindSpec("NetworkPolicy", "networking.k8s.io", "networkpolicies", ("v1",)),
    KindSpec("Ingress", "networking.k8s.io", "ingresses", ("v1",), needed=False),
    KindSpec("AdminNetworkPolicy", _POLICY, "adminnetworkpolicies", ("v1alpha1",), False, crd=True),
    KindSpec(
        "BaselineAdminNetworkPolicy", _POLICY, "baselineadminnetworkpolicies", ("v1alpha1",), False, crd=True
    ),
    KindSpec("ClusterNetworkPolicy", _POLICY, "clusternetworkpolicies", ("v1alpha2",), False, crd=True),
    KindSpec("Route", "route.openshift.io", "routes", ("v1",), needed=False, crd=True),
    KindSpec("HTTPRoute", _GATEWAY, "httproutes", ("v1", "v1beta1"), needed=False, crd=True),
    KindSpec("GRPCRoute", _GATEWAY, "grpcroutes", ("v1", "v1alpha2"), needed=False, crd=True),
    KindSpec("TCPRoute", _GATEWAY, "tcproutes", ("v1alpha2",), needed=False, crd=True),
    KindSpec("TLSRoute", _GATEWAY, "tlsroutes", ("v1alpha3", "v1alpha2"), needed=False, crd=True),
    KindSpec("UDPRoute", _GATEWAY, "udproutes", ("v1alpha2",), needed=False, crd=True),
)

#: ``discover`` and ``generate`` also search ConfigMaps for addresses (Secrets are never read).
CONFIG_KINDS: tuple[KindSpec, ...] = (KindSpec("ConfigMap", "", "configmaps", ("v1",), needed=False),)

#: Kinds that own pods: a pod's peer is the top of its chain of these (Pod -> ReplicaSet -> Deployment).
CONTROLLER_KINDS = frozenset(
    {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController"}
)
