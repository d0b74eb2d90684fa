"""The map by regions and groups (rows.py) equals the plain per-pair decision; its streaming writers
write the bytes of the whole-map renderers; the summary from groups equals the summary from pairs.

The clusters come from the benchmark generator, sparse and dense (``density``), sometimes with
workloads of one name whose pods differ in labels (their connectivity is joined).
"""

from __future__ import annotations

import copy
import io
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence import load_cluster
from kubefence.analysis.connectivity.engine import (
    MapOptions,
    compute_connectivity,
    pair_connections,
    prepare,
)
from kubefence.analysis.connectivity.rows import map_rows
from kubefence.analysis.connectivity.summary import summarize, summarize_rows
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import WorkloadPeer
from kubefence.model.ports import ConnectionSet
from kubefence.report import render
from kubefence.report.map_stream import STREAM_FORMATS, write_map

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from gen_cluster import generate  # noqa: E402

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Pod"}


def _with_twins(docs: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Some workloads again under the same name with other pod labels: pods of one owner that
    policies see differently."""
    rng = random.Random(seed)
    out = list(docs)
    for doc in docs:
        if doc["kind"] in WORKLOAD_KINDS and rng.random() < 0.2:
            twin = copy.deepcopy(doc)
            labels = (
                twin["metadata"]["labels"]
                if doc["kind"] == "Pod"
                else twin["spec"]["template"]["metadata"]["labels"]
            )
            labels["tier"] = rng.choice(("frontend", "backend", "db"))
            labels.pop("app", None)
            out.append(twin)
    return out


def _cluster(seed: int, workloads: int, density: float, twins: bool) -> Cluster:
    docs = generate(workloads, max(1, workloads // 2), seed=seed, density=density)
    return load_cluster(_with_twins(docs, seed) if twins else docs)


def _plain_workload_map(cluster: Cluster) -> dict[tuple[WorkloadPeer, WorkloadPeer], ConnectionSet]:
    """Every ordered pair of workloads decided on its own, joined per pair of names."""
    prep = prepare(cluster)
    peers = [WorkloadPeer(w.namespace, w.name, w.kind) for w in prep.workloads[: prep.real]]
    out: dict[tuple[WorkloadPeer, WorkloadPeer], ConnectionSet] = {}
    for s in range(prep.real):
        for d in range(prep.real):
            if peers[s] == peers[d]:
                continue
            conn = pair_connections(prep, s, d)
            if conn:
                key = (peers[s], peers[d])
                out[key] = out[key] | conn if key in out else conn
    return out


clusters = st.builds(
    _cluster,
    seed=st.integers(0, 10_000),
    workloads=st.integers(5, 45),
    density=st.sampled_from((0.0, 0.3, 0.7, 1.0)),
    twins=st.booleans(),
)


@settings(max_examples=30, deadline=None)
@given(cluster=clusters)
def test_groups_equal_the_plain_per_pair_decision(cluster: Cluster) -> None:
    rows = map_rows(cluster)
    connections = list(rows.connections())
    keys = [(c.src, c.dst) for c in connections]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # in order, each pair once
    between_workloads = {
        (c.src, c.dst): c.conn
        for c in connections
        if isinstance(c.src, WorkloadPeer) and isinstance(c.dst, WorkloadPeer)
    }
    assert between_workloads == _plain_workload_map(cluster)


@settings(max_examples=20, deadline=None)
@given(cluster=clusters)
def test_streaming_writers_write_what_the_renderers_write(cluster: Cluster) -> None:
    cmap = compute_connectivity(cluster)
    for fmt in STREAM_FORMATS:
        out = io.StringIO()
        write_map(map_rows(cluster), fmt, out)
        assert out.getvalue() == render(cmap, fmt), fmt


@settings(max_examples=20, deadline=None)
@given(cluster=clusters)
def test_summary_from_groups_equals_summary_from_pairs(cluster: Cluster) -> None:
    assert summarize_rows(map_rows(cluster)) == summarize(compute_connectivity(cluster))


@settings(max_examples=10, deadline=None)
@given(cluster=clusters, pick=st.integers(0, 1000))
def test_focus_keeps_the_connections_of_one_workload(cluster: Cluster, pick: int) -> None:
    w = cluster.workloads[pick % len(cluster.workloads)]
    focus = f"{w.namespace}/{w.name}"
    full = compute_connectivity(cluster).connections
    expected = [
        c
        for c in full
        if focus in (f"{p.namespace}/{p.name}" for p in (c.src, c.dst) if isinstance(p, WorkloadPeer))
    ]
    assert list(map_rows(cluster, MapOptions(focus_workload=focus)).connections()) == expected


@pytest.mark.parametrize("fmt", STREAM_FORMATS)
def test_an_empty_map_is_written_as_the_renderer_writes_it(fmt: str) -> None:
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
    ]
    cluster = load_cluster(docs)
    out = io.StringIO()
    write_map(map_rows(cluster), fmt, out)
    assert compute_connectivity(cluster).connections == ()
    assert out.getvalue() == render(compute_connectivity(cluster), fmt)


def test_the_example_is_written_as_the_renderer_writes_it() -> None:
    """The shop example has an ingress controller and addresses."""
    cluster = load_cluster([ROOT / "examples" / "shop"])
    for fmt in STREAM_FORMATS:
        out = io.StringIO()
        write_map(map_rows(cluster), fmt, out)
        assert out.getvalue() == render(compute_connectivity(cluster), fmt)
    assert summarize_rows(map_rows(cluster)) == summarize(compute_connectivity(cluster))


def test_a_format_that_does_not_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="does not stream"):
        write_map(map_rows(Cluster()), "dot", io.StringIO())
