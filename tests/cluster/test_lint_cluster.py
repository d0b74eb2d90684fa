"""`kubefence lint --cluster` reads the live cluster: the same findings as linting a snapshot of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apiserver import StartServer
from objects import small_shop

from kubefence.cli import main


def _findings(path: Path) -> list[tuple[str, str]]:
    return sorted((f["check"], f["message"]) for f in json.loads(path.read_text())["findings"])


def test_lint_cluster_equals_lint_of_its_snapshot(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    kc = ["--cluster", "--kubeconfig", str(server.write_kubeconfig(tmp_path / "kubeconfig"))]
    live, offline = tmp_path / "live.json", tmp_path / "offline.json"
    code = main(["lint", *kc, "-o", "json", "-f", str(live), "-q", "--fail-on-severity", "error"])
    assert code in (0, 1), capsys.readouterr().err
    assert main(["snapshot", *kc, "-d", str(tmp_path / "snap"), "-q"]) == 0
    code_offline = main(["lint", str(tmp_path / "snap"), "-o", "json", "-f", str(offline), "-q",
                         "--fail-on-severity", "error"])  # fmt: skip
    assert code_offline == code
    assert _findings(live) == _findings(offline)
    assert _findings(live), "the small shop has findings"
