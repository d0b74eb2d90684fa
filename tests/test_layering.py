"""The layers, checked on the source: analysis/ and model/ import neither io/ nor what sits above
them (report/, cli, api), and the model holds no raw manifest content (``Mapping[str, Any]``)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

import pytest

SRC: Final = Path(__file__).resolve().parents[1] / "src" / "kubefence"
FORBIDDEN: Final = ("kubefence.io", "kubefence.report", "kubefence.cli", "kubefence.api")
LOWER_LAYERS: Final = ("analysis", "model")


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


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


@pytest.mark.parametrize("path", _modules(*LOWER_LAYERS), ids=lambda p: str(p.relative_to(SRC)))
def test_lower_layers_import_no_upper_layer(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bad = sorted({f"{path.relative_to(SRC)}:{line}: {m}" for line, m in _imports(tree) if _forbidden(m)})
    assert not bad, "analysis/ and model/ import model only:\n" + "\n".join(bad)


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
    assert [m for _, m in imports if _forbidden(m)] == [
        "kubefence.io.documents",
        "kubefence.io.documents.Document",
        "kubefence.api",
    ]
    assert not _forbidden("kubefence.iox") and not _forbidden("kubefence.model.io")
    (cls,) = ast.parse("class W:\n    spec: Mapping[str, Any]\n    n: dict[str, int]\n").body
    assert isinstance(cls, ast.ClassDef)
    found = [_raw_mapping(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)]
    assert found == [True, False]
