"""Self-contained HTML reports: inline CSS and SVG, no scripts from anywhere, readable offline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from html import escape

from kubefence.report.svg_graph import render_svg
from kubefence.report.view import View

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #24292f; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.summary { color: #57606a; margin: 4px 0 16px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr.added td.kind { color: #1a7f37; font-weight: bold; }
tr.removed td.kind { color: #cf222e; font-weight: bold; }
tr.changed td.kind { color: #bc4c00; font-weight: bold; }
.ok { color: #1a7f37; } .bad { color: #cf222e; } code, pre { font-size: 12px; }
.graph { overflow-x: auto; border: 1px solid #d0d7de; padding: 8px; background: #fff; }
.legend span { margin-right: 14px; font-size: 12px; }
details { margin: 6px 0; } summary { cursor: pointer; }
"""


def page(title: str, body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def table(columns: Sequence[str], rows: Iterable[Sequence[str]], row_class: int | None = None) -> str:
    """An HTML table; ``row_class`` names the column whose value becomes each row's class."""
    out = ["<table>", "<tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>"]
    for row in rows:
        cls = f' class="{escape(row[row_class])}"' if row_class is not None else ""
        cells = "".join(
            f'<td class="kind">{escape(v)}</td>' if i == row_class else f"<td>{escape(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


LEGEND = (
    '<p class="legend"><span style="color:#1a7f37">━ added</span><span style="color:#cf222e">┅ removed</span>'
    '<span style="color:#bc4c00">━ changed</span><span style="color:#57606a">━ unchanged</span></p>'
)


def graph_section(view: View) -> str:
    nodes, edges = view.nodes(), view.edges()
    if not nodes:
        return "<p>No connections to draw.</p>"
    return f'<div class="graph">{render_svg(nodes, edges, view.title)}</div>{LEGEND}'


def html(view: View) -> Iterator[str]:
    """The renderer for ``-o html``: title, summary, graph, and the table."""
    body = [f"<h1>{escape(view.title)}</h1>"]
    if view.html_body is not None:
        yield page(view.title, body + view.html_body())
        return
    if view.summary:
        body.append(f'<p class="summary">{escape(view.summary)}</p>')
    body.append(graph_section(view))
    if view.columns:
        kind_col = view.columns.index("type") if "type" in view.columns else None
        body.append(table(view.columns, view.rows(), kind_col))
    yield page(view.title, body)
