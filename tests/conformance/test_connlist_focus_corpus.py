"""Conformance: ``map`` with netpol-analyzer's focus options (``--focus-workload``,
``--focus-direction``, ``--focus-conn`` ...) for every case of ``../shared/corpus/connlist-focus``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_exposure_corpus import _check, _params


@pytest.mark.parametrize("case", _params("connlist-focus"))
def test_connlist_focus_matches_netpol_analyzer(case: Path | None) -> None:
    _check(case)
