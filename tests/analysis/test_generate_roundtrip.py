"""Generated policies allow exactly the needed connectivity: map(app + policies) == discover(app).

Checked on the bundled example and every app of ../shared/corpus/discover. The comparison ignores
DNS connections to a DNS server that is not in the input (no map can show a peer it does not have)
and works in IPv4, the family discover speaks for exposures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from kubefence.analysis.connectivity.engine import MapOptions, compute_connectivity
from kubefence.analysis.generate.synthesize import GenerateOptions, synthesize
from kubefence.api import discover_connections, load_input_documents
from kubefence.errors import Origin
from kubefence.io.documents import Document
from kubefence.io.kube import build_cluster
from kubefence.io.policy_yaml import policy_dict
from kubefence.model.connectivity import ConnectivityMap
from kubefence.model.discovery import DiscoveryResult

ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = ROOT.parent / "shared" / "corpus" / "discover"
APPS: Final = (
    sorted(p / "input" for p in CORPUS.iterdir() if (p / "input").is_dir()) if CORPUS.is_dir() else []
)
CONTROLLER_NS: Final = "ingress-nginx"
POLICY_KINDS: Final = {
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
}


def _triples(pairs: object) -> set[tuple[str, str, str]]:
    out = set()
    for c in pairs:  # type: ignore[attr-defined]
        src, dst = str(c.src), str(c.dst)
        out.add((src, dst, str(c.conn)))
    return out


def roundtrip(paths: list[Path]) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(needed, allowed by the generated policies) for an app, as (src, dst, conn) triples."""
    docs = [d for d in load_input_documents(paths) if d.kind not in POLICY_KINDS]
    needed: DiscoveryResult = discover_connections(paths)
    app = build_cluster(docs)
    generated = synthesize(app, needed, GenerateOptions(ingress_controller_namespace=CONTROLLER_NS))
    policy_docs = [Document(policy_dict(g.policy), Origin("<generated>")) for g in generated.policies]
    cmap: ConnectivityMap = compute_connectivity(
        build_cluster(docs + policy_docs),
        MapOptions(ip_family="ipv4", ingress_controller_namespace=CONTROLLER_NS),
    )
    present = {w.peer_name for w in app.workloads}
    want = {t for t in _triples(needed.connections) if "/" not in t[1] or t[1] in present or "[" not in t[1]}
    return want, _triples(cmap.connections)


def test_bundled_example_roundtrip() -> None:
    want, got = roundtrip([ROOT / "examples" / "shop"])
    assert want, "discovery found nothing on the bundled example"
    assert got == want, f"missing: {sorted(want - got)}\nextra: {sorted(got - want)}"


def test_corpus_present_or_skipped() -> None:
    if not APPS:
        pytest.skip("../shared/corpus/discover not found: corpus round trips skipped")
    assert len(APPS) >= 1


@pytest.mark.parametrize("app", APPS, ids=[a.parent.name for a in APPS])
def test_corpus_app_roundtrip(app: Path) -> None:
    want, got = roundtrip([app])
    assert want
    assert got == want, f"missing: {sorted(want - got)}\nextra: {sorted(got - want)}"
