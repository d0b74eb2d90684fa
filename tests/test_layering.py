"""The layers, checked on the source: imports flow model <- io, analysis <- report <- cli (api.py
wires io to analysis), and the model holds no raw manifest content (``Mapping[str, Any]``).

report/ may use io's writers: an exported or generated object is spelled in one place (io/), and a
renderer that shows such objects calls that writer rather than spelling them again."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

import pytest

SRC: Final = Path(__file__).resolve().parents[1] / "src" / "kubefence"
_ABOVE: Final = ("kubefence.cli", "kubefence.api")
#: What each layer may not import.
FORBIDDEN: Final = {
    "model": ("kubefence.io", "kubefence.analysis", "kubefence.report", *_ABOVE),
    "io": ("kubefence.analysis", "kubefence.report", *_ABOVE),
    "analysis": ("kubefence.io", "kubefence.report", *_ABOVE),
    "report": _ABOVE,
}


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (SRC / folder).rglob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` names (typing-only imports included)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def _forbidden(module: str, layer: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN[layer])


@pytest.mark.parametrize("path", _modules(*FORBIDDEN), ids=lambda p: str(p.relative_to(SRC)))
def test_layers_import_only_what_is_below_them(path: Path) -> None:
    layer = path.relative_to(SRC).parts[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = path.relative_to(SRC)
    bad = sorted({f"{where}:{line}: {m}" for line, m in _imports(tree) if _forbidden(m, layer)})
    assert not bad, f"{layer}/ may not import {', '.join(FORBIDDEN[layer])}:\n" + "\n".join(bad)


def _raw_mapping(annotation: ast.expr) -> bool:
    """``Mapping[str, Any]``, ``dict[str, Any]`` (any spelling, nested anywhere in the annotation)."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            base = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            args = node.slice.elts
            if base in ("Mapping", "dict", "Dict", "MutableMapping") and len(args) == 2:
                value = args[1]
                name = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
                if name == "Any":
                    return True
    return False


@pytest.mark.parametrize("path", _modules("model"), ids=lambda p: str(p.relative_to(SRC)))
def test_model_holds_no_raw_mappings(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bad = [
        f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node.annotation)}"
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and _raw_mapping(node.annotation)
    ]
    assert not bad, "model values are typed, not raw manifest content:\n" + "\n".join(bad)


def test_the_checks_can_fail() -> None:
    """The two detectors find what they are meant to find."""
    imports = _imports(ast.parse("from kubefence.io.documents import Document\nimport kubefence.api\n"))
    assert [m for _, m in imports if _forbidden(m, "analysis")] == [
        "kubefence.io.documents",
        "kubefence.io.documents.Document",
        "kubefence.api",
    ]
    assert not _forbidden("kubefence.iox", "analysis") and not _forbidden("kubefence.model.io", "analysis")
    assert _forbidden("kubefence.analysis.engine", "io") and _forbidden("kubefence.io.kube", "model")
    (cls,) = ast.parse("class W:\n    spec: Mapping[str, Any]\n    n: dict[str, int]\n").body
    assert isinstance(cls, ast.ClassDef)
    found = [_raw_mapping(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)]
    assert found == [True, False]
