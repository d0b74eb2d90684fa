"""Conformance: our connectivity map against netpol-analyzer's ``expected.txt`` for every corpus case.

Each directory ``../shared/corpus/connlist/<case>/`` holds ``input/`` (manifests) and ``expected.txt``.
The comparison is semantic (see ``connlist_compare``), so a different line order, port notation or
cut of the address space is not a failure.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
import yaml
from connlist_compare import compare_lines, parse_connlist

try:
    kubefence = importlib.import_module("kubefence")
    importlib.import_module("kubefence.report")
except ModuleNotFoundError as exc:
    # Only a missing package skips; a broken import inside kubefence must fail loudly.
    if exc.name not in {"kubefence", "kubefence.report"}:
        raise
    pytest.skip(f"{exc.name} is not importable yet: corpus conformance skipped", allow_module_level=True)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = REPO_ROOT.parent / "shared" / "corpus" / "connlist"
CORPUS_MISSING: Final = "../shared/corpus not found: conformance cases skipped"

#: Cases with an object of one of these kinds are skipped until kubefence supports the kind.
UNSUPPORTED_KINDS: Final[tuple[str, ...]] = ()

#: netpol-analyzer models IPv4 only (it warns on IPv6 blocks and ignores them), so compare in IPv4;
#: it puts the ingress controller in ingress-controller-ns (kubefence's default is ingress-nginx).
MAP_OPTIONS: Final = kubefence.MapOptions(
    ip_family="ipv4", ingress_controller_namespace="ingress-controller-ns"
)

_MANIFEST_SUFFIXES: Final = frozenset({".yaml", ".yml", ".json"})
_MAX_SHOWN: Final = 200


def _case_params() -> list[object]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    cases = sorted(path for path in CORPUS.iterdir() if path.is_dir())
    return [pytest.param(case, id=case.name) for case in cases]


def _documents(path: Path) -> list[object]:
    text = path.read_text(encoding="utf-8")
    # JSON may be tab-indented, which is not valid YAML.
    loaded: list[object] = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    documents: list[object] = []
    for document in loaded:
        documents.extend(document if isinstance(document, list) else [document])
    return documents


def _kinds(document: object) -> Iterator[str]:
    """Kinds of a document and, for ``List``/``*List`` kinds, of its items (which may omit kind)."""
    if not isinstance(document, dict):
        return
    kind = document.get("kind")
    if not isinstance(kind, str):
        return
    yield kind
    items = document.get("items")
    if not kind.endswith("List") or not isinstance(items, list):
        return
    implied = kind.removesuffix("List")
    for item in items:
        if isinstance(item, dict) and "kind" not in item:
            if implied:
                yield implied
        else:
            yield from _kinds(item)


def _input_kinds(input_dir: Path) -> set[str]:
    manifests = (
        path
        for path in sorted(input_dir.rglob("*"))
        if path.is_file() and path.suffix.lower() in _MANIFEST_SUFFIXES
    )
    return {kind for path in manifests for document in _documents(path) for kind in _kinds(document)}


@pytest.mark.parametrize("case", _case_params())
def test_connlist_matches_netpol_analyzer(case: Path | None) -> None:
    if case is None:
        pytest.skip(CORPUS_MISSING)
    input_dir, expected_file = case / "input", case / "expected.txt"
    assert input_dir.is_dir(), f"{case.name}: no input/ directory"
    assert expected_file.is_file(), f"{case.name}: no expected.txt"
    unsupported = sorted(_input_kinds(input_dir) & set(UNSUPPORTED_KINDS))
    if unsupported:
        pytest.skip(f"unsupported kind(s): {', '.join(unsupported)}")

    cmap = kubefence.map_connectivity([input_dir], options=MAP_OPTIONS)
    ours = kubefence.report.render(cmap, "txt")
    assert isinstance(ours, str), f"render(..., 'txt') returned {type(ours).__name__}, not str"

    expected = parse_connlist(expected_file.read_text(encoding="utf-8"), source=str(expected_file))
    actual = parse_connlist(ours, source="kubefence txt output")
    differences = compare_lines(expected, actual)
    shown = differences[:_MAX_SHOWN]
    if len(differences) > _MAX_SHOWN:
        shown.append(f"... and {len(differences) - _MAX_SHOWN} more")
    assert not differences, f"{case.name}: {len(differences)} difference(s) from expected.txt:\n" + "\n".join(
        shown
    )
