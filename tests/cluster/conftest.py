"""Fixtures for the cluster tests: a test CA made once per run, and started API server emulations."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# lightkube (the cluster extra) and cryptography (the test CA) are dev dependencies: no skipping
from apiserver import ALL_RESOURCES, ApiServer, Behaviour, Resource, StartServer  # noqa: E402
from kube_tls import TestCA, make_ca  # noqa: E402


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def start_server(test_ca: TestCA) -> Iterator[StartServer]:
    """``start_server(objects, resources=..., behaviour=...)``: a running emulation, stopped after."""
    started: list[ApiServer] = []

    def start(
        objects: Iterable[dict[str, Any]] = (),
        *,
        resources: Iterable[Resource] = ALL_RESOURCES,
        behaviour: Behaviour | None = None,
    ) -> ApiServer:
        server = ApiServer(test_ca, objects, resources=resources, behaviour=behaviour).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
