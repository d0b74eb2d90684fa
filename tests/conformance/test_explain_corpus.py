"""Conformance: ``map --explain`` with netpol-analyzer's query options against its explanations for
every case of ``../shared/corpus/explain`` (see ``explain_compare``); cases run with exposure also
compare the exposure section (see ``exposure_compare``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from corpus_args import CORPUS_MISSING, case_args, cases
from explain_compare import compare_explanations, our_explanations, parse_explanations
from exposure_compare import compare_exposure

import kubefence
import kubefence.report


def _params() -> list[object]:
    found = cases("explain")
    if found is None:
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(c, id=c.name) for c in found]


@pytest.mark.parametrize("case", _params())
def test_explain_matches_netpol_analyzer(case: Path | None) -> None:
    if case is None:
        pytest.skip(CORPUS_MISSING)
    args = case_args(case)
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    cluster = kubefence.load_cluster([case / "input"])
    expl = kubefence.explain_connectivity(cluster, options=args.options)
    diffs = compare_explanations(parse_explanations(expected), our_explanations(expl), args.explain_only)
    if args.exposure:
        emap = kubefence.map_exposure(cluster, options=args.options)
        ours = kubefence.report.render(replace(emap, map=replace(emap.map, connections=())), "txt")
        theirs = expected[expected.index("Exposure Analysis Result") :]
        diffs += [f"exposure: {d}" for d in compare_exposure(theirs, ours)]
    assert not diffs, f"{case.name}: {len(diffs)} difference(s):\n" + "\n".join(diffs[:60])
