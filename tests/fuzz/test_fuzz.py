"""The mutation fuzzer (``fuzzer.py``) in the test suite: a short seeded run by default (under a
minute), ``pytest --long tests/fuzz`` for a long one (thousands of iterations; ``-s`` shows the
counts). A failure names the seed case, file, mutation and what went wrong."""

from __future__ import annotations

import pytest
from fuzzer import run

SHORT_SECONDS = 45.0  # seeds included: the test stays under a minute
LONG_SECONDS = 3600.0
LONG_ITERATIONS = 4000


def test_mutated_inputs_are_rejected_or_mapped_as_the_reference_does(request: pytest.FixtureRequest) -> None:
    long = bool(request.config.getoption("--long"))
    report = run(
        seed=13,
        seconds=LONG_SECONDS if long else SHORT_SECONDS,
        max_iterations=LONG_ITERATIONS if long else 1_000_000,
    )
    print(report.summary())
    assert report.iterations > 0
    assert report.rejected and report.accepted, report.summary()
    assert not report.failures, "\n".join(report.failures[:20])
