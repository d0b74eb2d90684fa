"""Rendering results: one registry of formats shared by every result type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from kubefence.report.formats import RENDERERS, RESULT_SPECIFIC_FORMATS
from kubefence.report.view import View, view_of

FORMATS: tuple[str, ...] = tuple(f for f in RENDERERS if f not in RESULT_SPECIFIC_FORMATS)


def render_chunks(result: object, fmt: str) -> Iterator[str]:
    """The rendering of ``result`` in ``fmt``, piece by piece (large results stream)."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}") from None
    return renderer(view_of(result))


def render(result: object, fmt: str = "txt") -> str:
    return "".join(render_chunks(result, fmt))


def write(result: object, fmt: str, stream: TextIO) -> None:
    for chunk in render_chunks(result, fmt):
        stream.write(chunk)


__all__ = ["FORMATS", "View", "render", "render_chunks", "view_of", "write"]
