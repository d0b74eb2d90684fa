"""A connectivity graph as inline SVG, laid out without Graphviz so reports work anywhere, offline.

Namespaces are columns (external peers and the ingress controller first), workloads are boxes,
connections are arrows coloured by their change (added green, removed red dashed, changed orange).
The layout is deterministic: same graph, same picture.
"""

from __future__ import annotations

from html import escape

from kubefence.report.view import Edge, Node

_BOX_W, _BOX_H, _GAP_Y, _COL_GAP, _TOP, _LEFT = 210, 30, 14, 110, 56, 20
_COLORS = {"added": "#1a7f37", "removed": "#cf222e", "changed": "#bc4c00", "": "#57606a"}


def _columns(nodes: list[Node]) -> list[tuple[str, list[Node]]]:
    groups: dict[str, list[Node]] = {}
    for n in nodes:
        groups.setdefault(n.group, []).append(n)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] != "", kv[0]))
    return [(g or "outside the cluster", sorted(ns, key=lambda n: n.label)) for g, ns in ordered]


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_svg(nodes: list[Node], edges: list[Edge], title: str = "") -> str:
    """The graph as an ``<svg>`` element (no XML prolog: it is meant to be inlined in HTML)."""
    columns = _columns(nodes)
    pos: dict[str, tuple[int, int]] = {}
    height = _TOP
    for c, (_, col_nodes) in enumerate(columns):
        x = _LEFT + c * (_BOX_W + _COL_GAP)
        for r, n in enumerate(col_nodes):
            y = _TOP + r * (_BOX_H + _GAP_Y)
            pos[n.id] = (x, y)
            height = max(height, y + _BOX_H)
    width = _LEFT * 2 + max(1, len(columns)) * (_BOX_W + _COL_GAP) - _COL_GAP
    height += 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kf-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title or "connectivity graph")}">',
        "<defs>",
    ]
    for style, color in _COLORS.items():
        out.append(
            f'<marker id="arrow-{style or "plain"}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    for c, (group, _) in enumerate(columns):
        x = _LEFT + c * (_BOX_W + _COL_GAP)
        out.append(
            f'<text class="kf-ns" x="{x}" y="{_TOP - 18}" font-family="sans-serif" font-size="13" '
            f'font-weight="bold" fill="#24292f">{escape(_short(group, 34))}</text>'
        )
    for i, e in enumerate(edges):
        if e.src not in pos or e.dst not in pos:
            continue
        (sx, sy), (dx, dy) = pos[e.src], pos[e.dst]
        x1, y1 = sx + _BOX_W, sy + _BOX_H // 2
        x2, y2 = dx, dy + _BOX_H // 2
        if dx <= sx:  # same or earlier column: loop around the right side
            x2 = dx + _BOX_W
            bulge = 60 + 12 * (i % 5)
            path = f"M {x1} {y1} C {x1 + bulge} {y1}, {x2 + bulge} {y2}, {x2} {y2}"
        else:
            mid = (x1 + x2) / 2
            path = f"M {x1} {y1} C {mid:.0f} {y1}, {mid:.0f} {y2}, {x2} {y2}"
        color = _COLORS.get(e.style, _COLORS[""])
        dash = ' stroke-dasharray="6 4"' if e.style == "removed" else ""
        out.append(
            f'<path class="kf-edge {escape(e.style or "unchanged")}" d="{path}" fill="none" stroke="{color}" '
            f'stroke-width="1.6"{dash} marker-end="url(#arrow-{e.style or "plain"})" '
            f'data-src="{escape(e.src)}" data-dst="{escape(e.dst)}">'
            f"<title>{escape(e.src)} → {escape(e.dst)}: {escape(e.label)}</title></path>"
        )
    for n in nodes:
        x, y = pos[n.id]
        rx = 14 if n.shape == "ellipse" else 4
        fill = "#f6f8fa" if n.shape == "ellipse" else "#ddf4ff"
        out.append(
            f'<g class="kf-node" data-id="{escape(n.id)}"><rect x="{x}" y="{y}" width="{_BOX_W}" '
            f'height="{_BOX_H}" rx="{rx}" fill="{fill}" stroke="#54aeff"/>'
            f'<text x="{x + 8}" y="{y + 19}" font-family="sans-serif" font-size="12" fill="#24292f">'
            f"{escape(_short(n.label))}</text><title>{escape(n.id)}</title></g>"
        )
    out.append("</svg>")
    return "\n".join(out)
