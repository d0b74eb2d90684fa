"""Reading a live cluster through the Kubernetes API (the optional extra ``kubefence[cluster]``).

>>> read = read_cluster(ClusterSource(context="prod"))       # doctest: +SKIP
>>> cluster = build_cluster(read.documents())                 # doctest: +SKIP
>>> write_snapshot(read, "snapshot/")                          # doctest: +SKIP

Nothing here imports the Kubernetes client until a cluster is actually read.
"""

from __future__ import annotations

from kubefence.io.cluster.errors import ClusterAccessError
from kubefence.io.cluster.reader import ClusterRead, ClusterSource, cluster_documents, read_cluster
from kubefence.io.cluster.snapshot import write_snapshot

__all__ = [
    "ClusterAccessError",
    "ClusterRead",
    "ClusterSource",
    "cluster_documents",
    "read_cluster",
    "write_snapshot",
]
