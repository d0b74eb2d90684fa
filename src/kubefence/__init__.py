"""kubefence: discover, generate, govern and analyze Kubernetes network policies."""

from kubefence import report
from kubefence.analysis.engine import MapOptions
from kubefence.analysis.explain import Explanation
from kubefence.api import explain_connectivity, load_cluster, map_connectivity
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
    "explain_connectivity",
    "load_cluster",
    "map_connectivity",
    "report",
]
__version__ = "0.1.0"
