"""Conformance: ``map --exposure`` (and the focus options) against netpol-analyzer for every case of
``../shared/corpus/exposure`` and ``../shared/corpus/connlist-focus``, compared semantically
(see ``exposure_compare``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_args import CORPUS_MISSING, case_args, cases
from exposure_compare import compare_exposure

import kubefence
import kubefence.report


def _params(group: str) -> list[object]:
    found = cases(group)
    if found is None:
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(c, id=c.name) for c in found]


def _check(case: Path | None) -> None:
    if case is None:
        pytest.skip(CORPUS_MISSING)
    args = case_args(case)
    result = kubefence.map_exposure([case / "input"], options=args.options, exposure=args.exposure)
    ours = kubefence.report.render(result, "txt")
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    diffs = compare_exposure(expected, ours)
    assert not diffs, f"{case.name}: {len(diffs)} difference(s):\n" + "\n".join(diffs[:100])


@pytest.mark.parametrize("case", _params("exposure"))
def test_exposure_matches_netpol_analyzer(case: Path | None) -> None:
    _check(case)
