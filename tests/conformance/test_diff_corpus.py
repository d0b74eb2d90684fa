"""Conformance: `kubefence diff` against netpol-analyzer's semantic diffs (../shared/corpus/diff).

A diff line says, for one pair, what the old and the new version allow. Both sides' lines are turned
into an "old" and a "new" connectivity list restricted to the changed pairs and compared with the
connlist comparator, so IP ranges are compared per address whatever way each tool cut them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest
from connlist_compare import compare_connlists

import kubefence
from kubefence.report import render

CORPUS: Final = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "diff"
CASES: Final = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
# netpol-analyzer models IPv4 only, and puts the ingress controller in ingress-controller-ns
MAP_OPTIONS: Final = kubefence.MapOptions(
    ip_family="ipv4", ingress_controller_namespace="ingress-controller-ns"
)

_LINE = re.compile(
    r"^diff-type: (?P<type>\w+), source: (?P<src>.+?), destination: (?P<dst>.+?), "
    r"ref1: (?P<old>.+?), ref2: (?P<new>.+?)(?:, workloads-diff-info: (?P<info>.+))?$"
)


def _sides(text: str) -> tuple[str, str, set[tuple[str, str, str]]]:
    """(old connlist, new connlist, {(type, src, dst)} for workload pairs) of a diff text."""
    old, new, kinds = [], [], set()
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        old.append(f"{m['src']} => {m['dst']} : {m['old']}")
        new.append(f"{m['src']} => {m['dst']} : {m['new']}")
        if "[External]" not in m["src"] + m["dst"]:
            kinds.add((m["type"], m["src"], m["dst"]))
    return "\n".join(old), "\n".join(new), kinds


def test_diff_line_parser_handles_commas_inside_fields() -> None:
    text = (
        "diff-type: changed, source: a/x[Deployment], destination: 0.0.0.0-9.255.255.255,"
        "11.0.0.0-11.0.0.1[External], ref1: TCP 80,UDP 53, ref2: All Connections, "
        "workloads-diff-info: workload a/x[Deployment] added"
    )
    old, new, _ = _sides(text)
    assert old == "a/x[Deployment] => 0.0.0.0-9.255.255.255,11.0.0.0-11.0.0.1[External] : TCP 80,UDP 53"
    assert new.endswith(": All Connections")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_diff_case(case: Path) -> None:
    result = kubefence.diff_connectivity([case / "old"], [case / "new"], options=MAP_OPTIONS)
    exp_old, exp_new, exp_kinds = _sides((case / "expected.txt").read_text(encoding="utf-8"))
    our_old, our_new, our_kinds = _sides(render(result, "txt"))
    problems = [f"old side: {d}" for d in compare_connlists(exp_old, our_old)]
    problems += [f"new side: {d}" for d in compare_connlists(exp_new, our_new)]
    problems += [f"diff type differs: {k}" for k in sorted(exp_kinds ^ our_kinds)]
    assert not problems, f"{case.name}:\n" + "\n".join(problems[:100])


def test_corpus_present_or_skipped() -> None:
    if not CASES:
        pytest.skip("../shared/corpus not found: diff conformance cases skipped")
    assert len(CASES) >= 1
