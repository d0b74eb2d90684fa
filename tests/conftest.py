"""Shared test setup.

- The helper modules next to the tests (``connlist_compare``, ``reference_evaluator``,
  ``marked_input``, ``guardrail_folder``, ``fuzzer``, ``mutations``) are imported
  by name: ``tests`` is not a package, so their folders go on ``sys.path`` whatever pytest's import
  mode.
- ``pytest --long`` runs the mutation fuzzer (``tests/fuzz``) for thousands of iterations instead
  of under a minute.
- ``pytest --update-goldens`` rewrites golden files (expected outputs kept in the repository) from
  the current output instead of comparing with them; review the diff before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests must not fail because a shared 2-core machine was slow for one example: no
# per-example deadline (the example counts stay as each test sets them).
settings.register_profile("kubefence", deadline=None)
settings.load_profile("kubefence")

_HERE = Path(__file__).resolve().parent
for _folder in ("conformance", "analysis", "io", "fuzz"):
    _path = str(_HERE / _folder)
    if _path not in sys.path:
        sys.path.insert(0, _path)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite golden files from the current output"
    )
    parser.addoption("--long", action="store_true", help="run the mutation fuzzer long (thousands of inputs)")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))
