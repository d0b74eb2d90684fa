"""The cluster under analysis: everything loaded, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubefence.errors import Diagnostic
from kubefence.model.admin import AdminPolicy
from kubefence.model.ingress import IngressObject
from kubefence.model.networks import NetworkResources
from kubefence.model.policies import NetworkPolicy
from kubefence.model.workloads import Namespace, Service, Workload


@dataclass(frozen=True)
class Cluster:
    namespaces: tuple[Namespace, ...] = ()
    workloads: tuple[Workload, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    services: tuple[Service, ...] = ()
    admin_policies: tuple[AdminPolicy, ...] = ()
    ingresses: tuple[IngressObject, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    networks: NetworkResources = field(default_factory=NetworkResources)

    def namespace(self, name: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return None
