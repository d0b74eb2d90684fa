"""Snapshot files: safe names only, nothing written when a name is not safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubefence.errors import KubefenceError
from kubefence.io.cluster import ClusterRead, write_snapshot
from kubefence.io.cluster.snapshot import snapshot_files


def _pod(ns: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns}, "spec": {}}


def test_names_come_from_namespace_and_kind() -> None:
    read = ClusterRead(
        "c", (_pod("shop"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    )
    assert sorted(snapshot_files(read)) == ["_cluster/namespaces.json", "shop/pods.json"]


@pytest.mark.parametrize("namespace", ["../etc", "a/b", ".hidden", "UPPER", ""])
def test_an_unsafe_name_writes_nothing(namespace: str, tmp_path: Path) -> None:
    read = ClusterRead("c", (_pod("shop"), _pod(namespace) if namespace else _pod("_cluster")))
    with pytest.raises(KubefenceError, match="cannot name a snapshot file after"):
        write_snapshot(read, tmp_path / "snap")
    assert list(tmp_path.iterdir()) == []
