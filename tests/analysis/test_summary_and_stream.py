"""--summary is exact (expanding it gives back the map) and the streamed map equals the built one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence import load_cluster, map_connectivity
from kubefence.analysis.connectivity.engine import MapOptions, stream_connectivity
from kubefence.analysis.connectivity.summary import summarize
from kubefence.cli import main
from kubefence.report import render

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from gen_cluster import generate  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), workloads=st.integers(5, 60))
def test_summary_expands_to_the_map(seed: int, workloads: int) -> None:
    docs = generate(workloads, max(1, workloads // 2), seed=seed)
    cmap = map_connectivity(docs)
    summary = summarize(cmap)
    assert summary.expand() == sorted(cmap.connections, key=lambda c: c.sort_key)
    assert len(summary.lines) <= len(cmap.connections)
    # each line is a full cross product: no connection twice
    assert sum(len(line.srcs) * len(line.dsts) for line in summary.lines) == len(cmap.connections)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_streamed_map_equals_built_map(seed: int) -> None:
    docs = generate(40, 20, seed=seed)
    cluster = load_cluster(docs)
    seen: list[tuple[int, int]] = []
    stream = stream_connectivity(cluster, MapOptions(progress=lambda done, total: seen.append((done, total))))
    streamed = list(stream.connections)
    built = map_connectivity(cluster)
    assert streamed == list(built.connections)
    assert seen[-1][0] == seen[-1][1]  # progress reaches the end


def test_summary_groups_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The lines themselves are in tests/goldens/map/shop_summary.txt."""
    args = ["map", str(ROOT / "examples" / "shop"), "-q"]
    assert main([*args, "--summary"]) == 0
    grouped = capsys.readouterr().out.splitlines()
    assert main(args) == 0
    full = capsys.readouterr().out.splitlines()
    assert len(grouped) < len(full)
    assert full == render(map_connectivity([ROOT / "examples" / "shop"]), "txt").splitlines()


def test_summary_and_explain_do_not_combine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(ROOT / "examples" / "shop"), "--summary", "--explain"]) == 2
    assert "do not go together" in capsys.readouterr().err


def test_progress_bars_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "map.txt")
    shop = str(ROOT / "examples" / "shop")
    assert main(["map", shop, "-f", out]) == 0
    assert "[#" not in capsys.readouterr().err  # not a terminal (CI logs): no bars
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["map", shop, "-f", out]) == 0
    err = capsys.readouterr().err
    bars = [part.split("\n")[0] for part in err.split("\r")]
    reading = [bar for bar in bars if bar.startswith("reading [")]
    mapping = [bar for bar in bars if bar.startswith("mapping [")]
    assert reading[-1].startswith("reading [" + "#" * 30 + "] ") and reading[-1].endswith(" kB")
    size = sum(p.stat().st_size for p in (ROOT / "examples" / "shop").rglob("*.yaml")) / 1e3
    assert reading[-1].endswith(f"{size:.1f}/{size:.1f} kB")
    assert mapping[-1].startswith("mapping [" + "#" * 30 + "]")
    assert main(["map", shop, "-f", out, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
