"""The bundled example maps to the connectivity worked out by hand in examples/shop.expected.txt."""

from __future__ import annotations

from pathlib import Path

import kubefence
from kubefence.report import render

ROOT = Path(__file__).resolve().parents[1]


def test_shop_example_matches_its_hand_computed_map(update_goldens: bool) -> None:
    """A golden file: worked out by hand once; `pytest --update-goldens` rewrites it."""
    cmap = kubefence.map_connectivity([ROOT / "examples" / "shop"])  # the controller in ingress-nginx
    golden = ROOT / "examples" / "shop.expected.txt"
    if update_goldens:
        golden.write_text(render(cmap, "txt"), encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    assert render(cmap, "txt").splitlines() == sorted(line for line in expected.splitlines() if line)


def test_shop_example_other_controller_namespace_is_blocked_with_a_hint() -> None:
    options = kubefence.MapOptions(ingress_controller_namespace="ingress-controller-ns")
    cmap = kubefence.map_connectivity([ROOT / "examples" / "shop"], options=options)
    assert not [c for c in cmap.connections if str(c.src) == "{ingress-controller}"]
    assert any("--ingress-controller-namespace" in w.message for w in cmap.warnings)
