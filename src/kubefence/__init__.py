"""kubefence: discover, generate, govern and analyze Kubernetes network policies."""

from kubefence import report
from kubefence.analysis.discover import DiscoverOptions
from kubefence.analysis.discover_file import load_connections_file
from kubefence.analysis.discover_model import DiscoveryResult
from kubefence.analysis.engine import MapOptions
from kubefence.analysis.explain import Explanation
from kubefence.api import (
    diff_connectivity,
    diff_revisions,
    discover_connections,
    explain_connectivity,
    load_cluster,
    map_connectivity,
)
from kubefence.errors import Diagnostic, InputError, KubefenceError, Origin
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import Connection, ConnectivityMap, Peer, PeerKind
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet, PortSet
from kubefence.model.selectors import LabelSelector

__all__ = [
    "Cluster",
    "Connection",
    "ConnectionSet",
    "ConnectivityMap",
    "Diagnostic",
    "DiscoverOptions",
    "DiscoveryResult",
    "Explanation",
    "IPRangeSet",
    "InputError",
    "KubefenceError",
    "LabelSelector",
    "MapOptions",
    "Origin",
    "Peer",
    "PeerKind",
    "PortSet",
    "diff_connectivity",
    "diff_revisions",
    "discover_connections",
    "explain_connectivity",
    "load_cluster",
    "load_connections_file",
    "map_connectivity",
    "report",
]
__version__ = "0.1.0"
