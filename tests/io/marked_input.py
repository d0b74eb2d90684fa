"""Bad manifests for error tests: each marks its bad line with ``# <-- here``, so the expected line
number comes from the marker, never from the text the loader searches for."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubefence import InputError, load_cluster

MARK = "# <-- here"


def write_marked(path: Path, text: str) -> int:
    """Write ``text`` to ``path``; return the marked line (0 when nothing is marked, at most one)."""
    path.write_text(text, encoding="utf-8")
    marked = [n for n, line in enumerate(text.splitlines(), 1) if MARK in line]
    assert len(marked) <= 1, "mark at most one line"
    return marked[0] if marked else 0


def load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_cluster([path])
    return info.value


def check(err: InputError, path: Path, line: int, *phrases: str) -> None:
    """The error is one line, starts with ``path:line: `` and says every phrase."""
    assert err.origin.file == str(path)
    assert err.origin.line == line, str(err)
    text = str(err)
    assert text.startswith(f"{path}:{line}: "), text
    assert "\n" not in text
    for phrase in phrases:
        assert phrase in text, text
