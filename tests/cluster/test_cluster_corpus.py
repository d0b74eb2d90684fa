"""For every connlist corpus case: ``map --cluster`` against the emulation equals ``map`` of the files.

The corpus objects are loaded into the emulation and read back through lightkube; the cluster model
built from what was read must equal the one built from the files (namespaces, workloads with their
peer names, labels and ports, every tier's policies, services, ingress objects), which gives the same
map, since the map is a function of the model; where the models differ, the maps are compared. A
``snapshot`` of the read must read back as the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest
from apiserver import StartServer
from manifests import load_objects

import kubefence
from kubefence.api import load_cluster
from kubefence.io.cluster import ClusterSource, read_cluster, write_snapshot

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = REPO_ROOT.parent / "shared" / "corpus" / "connlist"
OPTIONS: Final = kubefence.MapOptions(ip_family="ipv4")


def _cases() -> list[object]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(c, id=c.name) for c in sorted(p for p in CORPUS.iterdir() if p.is_dir())]


def _map(inputs: object) -> list[str]:
    cmap = kubefence.map_connectivity(inputs, options=OPTIONS)  # type: ignore[arg-type]
    return sorted(str(c) for c in cmap.connections)


def _peers(cluster: kubefence.Cluster) -> list[str]:
    return sorted({w.peer_name for w in cluster.workloads})


@pytest.mark.parametrize("case", _cases())
def test_cluster_map_equals_file_map(case: Path | None, start_server: StartServer, tmp_path: Path) -> None:
    if case is None:
        pytest.skip("../shared/corpus not found: cluster conformance skipped")
    files = case / "input"
    server = start_server(load_objects(files))
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    read = read_cluster(ClusterSource(kubeconfig=str(kubeconfig)))
    from_files, from_cluster = load_cluster([files]), load_cluster(read.documents())
    assert _peers(from_cluster) == _peers(from_files)
    if _model(from_cluster) != _model(from_files):  # equal models give equal maps: map only otherwise
        assert _map(from_cluster) == _map(from_files)
    write_snapshot(read, tmp_path / "snapshot")
    assert _model(load_cluster([tmp_path / "snapshot"])) == _model(from_cluster)


def _model(cluster: kubefence.Cluster) -> tuple[object, ...]:
    """What the map is computed from (origins and warnings aside): equal models give equal maps."""
    return (
        cluster.namespaces,
        cluster.workloads,
        cluster.policies,
        cluster.services,
        cluster.admin_policies,
        cluster.ingresses,
    )
