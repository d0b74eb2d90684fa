"""kubefence: discover, generate, govern and analyze Kubernetes network policies.

The public API is loaded on first use (PEP 562), so that a command line run imports only the
modules its command needs: ``kubefence map`` does not pay for diff, review or the renderers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubefence import report
    from kubefence.analysis.connectivity.engine import MapOptions
    from kubefence.analysis.connectivity.explain import Explanation
    from kubefence.analysis.connectivity.networks import MultiNetworkMap
    from kubefence.analysis.discover.pipeline import DiscoverOptions
    from kubefence.analysis.guardrails.export import ExportResult
    from kubefence.analysis.guardrails.verify import ConnectionCheck, VerifyResult, check_connections
    from kubefence.analysis.lint import Finding, LintOptions, LintResult, Severity
    from kubefence.api import (
        diff_connectivity,
        diff_revisions,
        discover_connections,
        explain_connectivity,
        export_guardrails,
        lint_options,
        lint_policies,
        load_cluster,
        map_connectivity,
        map_exposure,
        map_networks,
        verify_guardrails,
    )
    from kubefence.errors import Diagnostic, InputError, KubefenceError, Origin
    from kubefence.io.cluster import ClusterRead, ClusterSource, read_cluster, write_snapshot
    from kubefence.io.connections_file import load_connections_file
    from kubefence.io.guardrails import load_guardrails
    from kubefence.model.cluster import Cluster
    from kubefence.model.connectivity import Connection, ConnectivityMap
    from kubefence.model.discovery import DiscoveryResult
    from kubefence.model.exposure import ExposureMap
    from kubefence.model.guardrails import Guardrail
    from kubefence.model.ipranges import IPRangeSet
    from kubefence.model.peers import (
        DomainPeer,
        ExternalPeer,
        IngressControllerPeer,
        Peer,
        PeerKind,
        RepresentativePeer,
        WorkloadPeer,
    )
    from kubefence.model.ports import ConnectionSet, PortSet
    from kubefence.model.rules import PolicyRef, RuleAction, RuleRef, RuleTier
    from kubefence.model.selectors import LabelSelector

__all__ = [
    "Cluster",
    "ClusterRead",
    "ClusterSource",
    "Connection",
    "ConnectionCheck",
    "ConnectionSet",
    "ConnectivityMap",
    "Diagnostic",
    "DiscoverOptions",
    "DiscoveryResult",
    "DomainPeer",
    "Explanation",
    "ExportResult",
    "ExposureMap",
    "ExternalPeer",
    "Finding",
    "Guardrail",
    "IPRangeSet",
    "IngressControllerPeer",
    "InputError",
    "KubefenceError",
    "LabelSelector",
    "LintOptions",
    "LintResult",
    "MapOptions",
    "MultiNetworkMap",
    "Origin",
    "Peer",
    "PeerKind",
    "PolicyRef",
    "PortSet",
    "RepresentativePeer",
    "RuleAction",
    "RuleRef",
    "RuleTier",
    "Severity",
    "VerifyResult",
    "WorkloadPeer",
    "check_connections",
    "diff_connectivity",
    "diff_revisions",
    "discover_connections",
    "explain_connectivity",
    "export_guardrails",
    "lint_options",
    "lint_policies",
    "load_cluster",
    "load_connections_file",
    "load_guardrails",
    "map_connectivity",
    "map_exposure",
    "map_networks",
    "read_cluster",
    "report",
    "verify_guardrails",
    "write_snapshot",
]
__version__ = "0.1.0"

_LAZY = {
    "Cluster": "kubefence.model.cluster",
    "ClusterRead": "kubefence.io.cluster",
    "ClusterSource": "kubefence.io.cluster",
    "Connection": "kubefence.model.connectivity",
    "ConnectionCheck": "kubefence.analysis.guardrails.verify",
    "ConnectionSet": "kubefence.model.ports",
    "ConnectivityMap": "kubefence.model.connectivity",
    "Diagnostic": "kubefence.errors",
    "DiscoverOptions": "kubefence.analysis.discover.pipeline",
    "DiscoveryResult": "kubefence.model.discovery",
    "DomainPeer": "kubefence.model.peers",
    "Explanation": "kubefence.analysis.connectivity.explain",
    "ExportResult": "kubefence.analysis.guardrails.export",
    "ExternalPeer": "kubefence.model.peers",
    "Finding": "kubefence.analysis.lint",
    "Guardrail": "kubefence.model.guardrails",
    "IPRangeSet": "kubefence.model.ipranges",
    "IngressControllerPeer": "kubefence.model.peers",
    "InputError": "kubefence.errors",
    "KubefenceError": "kubefence.errors",
    "LabelSelector": "kubefence.model.selectors",
    "LintOptions": "kubefence.analysis.lint",
    "LintResult": "kubefence.analysis.lint",
    "MapOptions": "kubefence.analysis.connectivity.engine",
    "ExposureMap": "kubefence.model.exposure",
    "MultiNetworkMap": "kubefence.analysis.connectivity.networks",
    "Origin": "kubefence.errors",
    "Peer": "kubefence.model.peers",
    "PeerKind": "kubefence.model.peers",
    "PolicyRef": "kubefence.model.rules",
    "PortSet": "kubefence.model.ports",
    "RepresentativePeer": "kubefence.model.peers",
    "RuleAction": "kubefence.model.rules",
    "RuleRef": "kubefence.model.rules",
    "RuleTier": "kubefence.model.rules",
    "Severity": "kubefence.analysis.lint",
    "VerifyResult": "kubefence.analysis.guardrails.verify",
    "WorkloadPeer": "kubefence.model.peers",
    "check_connections": "kubefence.analysis.guardrails.verify",
    "diff_connectivity": "kubefence.api",
    "diff_revisions": "kubefence.api",
    "discover_connections": "kubefence.api",
    "explain_connectivity": "kubefence.api",
    "export_guardrails": "kubefence.api",
    "lint_options": "kubefence.api",
    "lint_policies": "kubefence.api",
    "load_cluster": "kubefence.api",
    "load_connections_file": "kubefence.io.connections_file",
    "load_guardrails": "kubefence.io.guardrails",
    "map_connectivity": "kubefence.api",
    "map_exposure": "kubefence.api",
    "map_networks": "kubefence.api",
    "read_cluster": "kubefence.io.cluster",
    "write_snapshot": "kubefence.io.cluster",
    "report": "kubefence.report",
    "verify_guardrails": "kubefence.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kubefence' has no attribute {name!r}")
    value = importlib.import_module(module)
    if name != "report":
        value = getattr(value, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
