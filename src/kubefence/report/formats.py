"""One renderer per output format; all of them take a :class:`View`."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator

import yaml

from kubefence.errors import ToolMissingError, UsageError
from kubefence.report.view import View


def txt(view: View) -> Iterator[str]:
    for line in view.lines():
        yield line + "\n"


def as_json(view: View) -> Iterator[str]:
    yield json.dumps(view.json(), indent=2, sort_keys=False) + "\n"


def as_yaml(view: View) -> Iterator[str]:
    """The JSON form as YAML (block style, keys in the JSON's order)."""
    yield yaml.safe_dump(view.json(), sort_keys=False, default_flow_style=False, allow_unicode=True)


def as_csv(view: View) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(view.columns)
    yield buf.getvalue()
    for row in view.rows():
        buf.seek(0)
        buf.truncate()
        writer.writerow(row)
        yield buf.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md(view: View) -> Iterator[str]:
    if view.markdown is not None:
        yield view.markdown()
        return
    yield f"## {view.title}\n\n"
    if view.summary:
        yield f"{view.summary}\n\n"
    yield "| " + " | ".join(view.columns) + " |\n"
    yield "|" + "---|" * len(view.columns) + "\n"
    for row in view.rows():
        yield "| " + " | ".join(_md_cell(c) for c in row) + " |\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_EDGE_COLORS = {"added": "darkgreen", "removed": "red", "changed": "darkorange"}


def dot(view: View) -> Iterator[str]:
    yield "digraph kubefence {\n"
    yield f"  label={_dot_id(view.title)};\n  labelloc=t;\n  rankdir=LR;\n"
    yield '  node [fontname="Helvetica", fontsize=10];\n  edge [fontname="Helvetica", fontsize=9];\n'
    by_group: dict[str, list[str]] = {}
    for node in view.nodes():
        style = ', style=filled, fillcolor="#e8f0fe"' if node.shape == "box" else ', color="#888888"'
        line = f"    {_dot_id(node.id)} [label={_dot_id(node.label)}, shape={node.shape}{style}];\n"
        by_group.setdefault(node.group, []).append(line)
    for i, (group, lines) in enumerate(sorted(by_group.items())):
        if group:
            yield f"  subgraph cluster_{i} {{\n    label={_dot_id(group)};\n    style=rounded;\n"
            yield from lines
            yield "  }\n"
        else:
            yield from (line[2:] for line in lines)
    for edge in view.edges():
        color = _EDGE_COLORS.get(edge.style)
        extra = f", color={color}, fontcolor={color}" if color else ""
        if edge.style == "removed":
            extra += ", style=dashed"
        yield f"  {_dot_id(edge.src)} -> {_dot_id(edge.dst)} [label={_dot_id(edge.label)}{extra}];\n"
    yield "}\n"


def svg(view: View) -> Iterator[str]:
    exe = shutil.which("dot")
    if exe is None:
        raise ToolMissingError(
            "svg output needs Graphviz's `dot` on PATH: install graphviz "
            "(apt-get install graphviz, brew install graphviz) or use -o dot"
        )
    proc = subprocess.run(
        [exe, "-Tsvg"], input="".join(dot(view)), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise ToolMissingError(f"graphviz failed: {proc.stderr.strip().splitlines()[-1:]}")
    yield proc.stdout


def sarif(view: View) -> Iterator[str]:
    """A SARIF 2.1.0 log, for the results that have one (lint findings)."""
    if view.sarif is None:
        raise UsageError(f"-o sarif is for lint findings; {view.title} has no SARIF form")
    yield json.dumps(view.sarif(), indent=2) + "\n"


def html(view: View) -> Iterator[str]:
    from kubefence.report.html import html as render_html  # the page template is large: load on use

    return render_html(view)


RENDERERS: dict[str, Callable[[View], Iterator[str]]] = {
    "txt": txt,
    "json": as_json,
    "yaml": as_yaml,
    "csv": as_csv,
    "md": md,
    "dot": dot,
    "svg": svg,
    "html": html,
    "sarif": sarif,
}

#: Formats only some results have: not offered by the commands whose results lack them.
RESULT_SPECIFIC_FORMATS = frozenset({"sarif"})
