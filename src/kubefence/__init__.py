"""kubefence: discover, generate, govern and analyze Kubernetes network policies."""

from kubefence import report
from kubefence.analysis.discover import DiscoverOptions
from kubefence.analysis.discover_file import load_connections_file
from kubefence.analysis.discover_model import DiscoveryResult
from kubefence.analysis.engine import MapOptions
from kubefence.analysis.explain import Explanation
from kubefence.analysis.guardrails import ConnectionCheck, VerifyResult, check_connections
from kubefence.analysis.guardrails_export import ExportResult
from kubefence.api import (
    diff_connectivity,
    diff_revisions,
    discover_connections,
    explain_connectivity,
    export_guardrails,
    load_cluster,
    map_connectivity,
    verify_guardrails,
)
from kubefence.errors import Diagnostic, InputError, KubefenceError, Origin
from kubefence.io.guardrails import load_guardrails
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ConnectivityMap, Peer, PeerKind
from kubefence.model.guardrails import Guardrail
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector

__all__ = [
    "Cluster",
    "Connection",
    "ConnectionCheck",
    "ConnectionSet",
    "ConnectivityMap",
    "Diagnostic",
    "DiscoverOptions",
    "DiscoveryResult",
    "Explanation",
    "ExportResult",
    "Guardrail",
    "IPRangeSet",
    "InputError",
    "KubefenceError",
    "LabelSelector",
    "MapOptions",
    "Origin",
    "Peer",
    "PeerKind",
    "PortSet",
    "VerifyResult",
    "check_connections",
    "diff_connectivity",
    "diff_revisions",
    "discover_connections",
    "explain_connectivity",
    "export_guardrails",
    "load_cluster",
    "load_connections_file",
    "load_guardrails",
    "map_connectivity",
    "report",
    "verify_guardrails",
]
__version__ = "0.1.0"
