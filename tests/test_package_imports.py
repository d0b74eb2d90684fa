"""The package loads lazily: the public API is all there, and a ``map`` run imports only what it uses."""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
from pathlib import Path

import kubefence
from kubefence.report import view

SRC = Path(kubefence.__file__).parent
SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"


def modules_after(code: str) -> set[str]:
    """The kubefence modules a fresh interpreter has loaded after running ``code``."""
    report = "import sys, json\nprint(json.dumps([m for m in sys.modules if m.startswith('kubefence')]))"
    script = f"{code}\n{report}"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_every_public_name_resolves() -> None:
    for name in kubefence.__all__:
        assert getattr(kubefence, name) is not None, name
    assert set(kubefence.__all__) <= set(dir(kubefence))


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        kubefence.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_loads_nothing_else() -> None:
    assert modules_after("import kubefence") == {"kubefence"}


def test_the_command_line_does_not_load_other_commands_analysis() -> None:
    loaded = modules_after("import kubefence.cli")
    heavy_modules = (
        "analysis.connectivity.diff",
        "analysis.review",
        "analysis.discover.pipeline",
        "analysis.generate.synthesize",
        "analysis.guardrails.verify",
        "analysis.connectivity.explain",
        "report.html",
        "io.gitsource",
    )
    for heavy in heavy_modules:
        assert f"kubefence.{heavy}" not in loaded, heavy


def test_a_map_run_renders_without_other_views(tmp_path: Path) -> None:
    code = (
        "from kubefence.cli import main\n"
        f"main(['map', {str(SHOP)!r}, '-o', 'json', '-f', " + repr(str(tmp_path / "m.json")) + ", '-q'])"
    )
    loaded = modules_after(code)
    assert json.loads((tmp_path / "m.json").read_text())["connections"]
    assert "kubefence.analysis.connectivity.diff" not in loaded
    assert "kubefence.report.review_view" not in loaded


def test_every_module_with_a_view_adapter_is_known_to_view_of() -> None:
    registering = {
        f"kubefence.report.{path.stem}"
        for path in (SRC / "report").glob("*.py")
        if re.search(r"^@adapter\(", path.read_text(), re.MULTILINE)
    }
    assert registering - {"kubefence.report.view"} == set(view._ADAPTER_MODULES)


def test_the_command_line_restores_the_collector_thresholds(tmp_path: Path) -> None:
    from kubefence.cli import main

    before = gc.get_threshold()
    assert main(["map", str(SHOP), "-q", "-f", str(tmp_path / "map.txt")]) == 0
    assert gc.get_threshold() == before
