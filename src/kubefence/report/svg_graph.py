"""A connectivity graph as inline SVG, from the layout of :mod:`kubefence.report.graph_layout`.

Namespaces are boxes, workloads are boxes inside them, peers outside the cluster are pills in the
first column (sources) and the last (destinations). Every edge carries its ports; a change is
unmistakable without colour too: added edges are thick and solid with an ``ADDED`` badge, removed
ones dashed with ``REMOVED``, changed ones dotted with ``CHANGED``, and unchanged edges step back.
Every element carries data attributes (namespace, change, text) that the report's filters use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from html import escape

from kubefence.report.graph_layout import (
    _LINE_H,
    _PAD_Y,
    BADGES,
    FROM_OUTSIDE,
    TO_OUTSIDE,
    Layout,
    PlacedEdge,
    group_label,
    layout,
    port_label_width,
)
from kubefence.report.view import Edge, Node

#: colour, width, dash pattern and badge of each change style ("" is unchanged)
STYLES: dict[str, tuple[str, float, str, str]] = {
    "added": ("#1a7f37", 3.2, "", BADGES["added"]),
    "removed": ("#cf222e", 2.6, "8 5", BADGES["removed"]),
    "changed": ("#9a6700", 3.0, "2 5", BADGES["changed"]),
    "": ("#8c959f", 1.3, "", ""),
}
_LABEL_FONT = 11.0


def _namespace(node: Node) -> str:
    return node.group


def _path(runs: list[tuple[float, float, float]]) -> str:
    (x0, x1, y) = runs[0]
    d = [f"M {x0:.1f} {y:.1f}"]
    if x1 != x0:
        d.append(f"L {x1:.1f} {y:.1f}")
    px, py = x1, y
    for a, b, yy in runs[1:]:
        mid = (px + a) / 2
        if abs(yy - py) < 0.5:
            d.append(f"L {a:.1f} {yy:.1f}")
        else:
            d.append(f"C {mid:.1f} {py:.1f}, {mid:.1f} {yy:.1f}, {a:.1f} {yy:.1f}")
        if b != a:
            d.append(f"L {b:.1f} {yy:.1f}")
        px, py = b, yy
    return " ".join(d)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


class _Taken:
    """The boxes already drawn (nodes, labels), bucketed on a grid so a large graph stays fast."""

    _CELL = 120.0

    def __init__(self, boxes: Iterable[Box] = ()) -> None:
        self._cells: dict[tuple[int, int], list[Box]] = defaultdict(list)
        for box in boxes:
            self.add(box)

    def _keys(self, box: Box) -> Iterator[tuple[int, int]]:
        for cx in range(int(box[0] // self._CELL), int(box[2] // self._CELL) + 1):
            for cy in range(int(box[1] // self._CELL), int(box[3] // self._CELL) + 1):
                yield (cx, cy)

    def add(self, box: Box) -> None:
        for key in self._keys(box):
            self._cells[key].append(box)

    def hits(self, box: Box) -> bool:
        return any(
            box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3]
            for key in self._keys(box)
            for t in self._cells.get(key, ())
        )


def _label_spot(pe: PlacedEdge, width: float, taken: _Taken) -> tuple[float, float]:
    """Where the edge's label goes: the first free place along the edge, nearest its target first."""
    runs = pe.runs if not pe.back else pe.runs[::-1]
    spots: list[tuple[float, float]] = []
    curves = list(zip(runs[-2::-1], runs[:0:-1], strict=False))  # from the target backwards
    for t in (0.5, 0.3, 0.7):
        for (_, b, y), (a, _, yy) in curves:
            ease = 3 * t * t - 2 * t * t * t  # the curve's height at t (its tangents are horizontal)
            spots.append((b + (a - b) * t, y + (yy - y) * ease))
    for x0, x1, y in runs:
        if abs(x1 - x0) > width + 10:
            spots.append(((x0 + x1) / 2, y))
    if not spots:
        x0, _, y = runs[0]
        spots.append((x0 + 40, y))
    h = _LABEL_FONT + 6
    for x, y in spots:
        box = (x - width / 2, y - h / 2, x + width / 2, y + h / 2)
        if not taken.hits(box):
            taken.add(box)
            return x, y
    x, y = spots[0]
    taken.add((x - width / 2, y - h / 2, x + width / 2, y + h / 2))
    return spots[0]


def _edge_svg(pe: PlacedEdge, ns_of: dict[str, str], taken: _Taken) -> str:
    e = pe.edge
    color, stroke, dash, badge = STYLES.get(e.style, STYLES[""])
    namespaces = " ".join(sorted({ns_of.get(e.src, ""), ns_of.get(e.dst, "")} - {""}))
    if len(pe.runs) == 1:  # a loop on the node's right side
        x, _, y = pe.runs[0]
        d = f"M {x:.1f} {y - 6:.1f} C {x + 40:.1f} {y - 30:.1f}, {x + 40:.1f} {y + 30:.1f}, "
        d += f"{x:.1f} {y + 6:.1f}"
    else:
        d = _path(pe.runs)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    cap = ' stroke-linecap="round"' if e.style == "changed" else ""
    text = f"{e.src} → {e.dst}: {e.label}"
    label_w = port_label_width(e.label)
    badge_w = port_label_width(badge) if badge else 0.0
    lx, ly = _label_spot(pe, label_w + badge_w, taken)
    left = lx - (label_w + badge_w) / 2
    h = _LABEL_FONT + 6
    parts = [
        f'<g class="kf-edge {escape(e.style or "unchanged")}" data-src="{escape(e.src)}" '
        f'data-dst="{escape(e.dst)}" data-ns="{escape(namespaces)}" data-change="{escape(e.style)}" '
        f'data-text="{escape(text.lower())}">',
        f"<title>{escape(text)}</title>",
        f'<path class="kf-line" d="{d}" fill="none" stroke="{color}" stroke-width="{stroke}"{dash_attr}{cap} '
        f'marker-end="url(#kf-arrow-{e.style or "plain"})"/>',
    ]
    if badge:
        parts.append(
            f'<rect class="kf-badge" x="{left:.1f}" y="{ly - h / 2:.1f}" width="{badge_w:.1f}" '
            f'height="{h:.1f}" '
            f'rx="3" fill="{color}"/><text x="{left + 5:.1f}" y="{ly + 4:.1f}" font-size="{_LABEL_FONT - 1}" '
            f'font-weight="bold" fill="#ffffff">{escape(badge)}</text>'
        )
    parts.append(
        f'<rect class="kf-port-bg" x="{left + badge_w:.1f}" y="{ly - h / 2:.1f}" width="{label_w:.1f}" '
        f'height="{h:.1f}" rx="3" fill="#ffffff" stroke="{color}" stroke-width="0.8"/>'
        f'<text class="kf-port" x="{left + badge_w + 5:.1f}" y="{ly + 4:.1f}" font-size="{_LABEL_FONT}" '
        f'fill="#24292f">{escape(e.label)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def render_layout(lay: Layout, title: str = "", *, css_class: str = "kf-graph") -> str:
    """The laid-out graph as an ``<svg>`` element (no XML prolog: it is meant to be inlined in HTML)."""
    w, h = round(lay.width), round(lay.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title or "connectivity graph")}" '
        'font-family="Helvetica, Arial, sans-serif">',
        "<defs>",
    ]
    for style, (color, *_rest) in STYLES.items():
        out.append(
            f'<marker id="kf-arrow-{style or "plain"}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    for g in lay.groups:
        outside = g.namespace == ""
        label = group_label(g.name)
        dash = ' stroke-dasharray="4 4"' if outside else ""
        out.append(
            f'<g class="kf-group" data-ns="{escape(g.namespace)}" data-group="{escape(g.name)}">'
            f'<rect x="{g.x:.1f}" y="{g.y:.1f}" '
            f'width="{g.w:.1f}" height="{g.h:.1f}" rx="8" fill="{"#ffffff" if outside else "#f6f8fa"}" '
            f'stroke="#afb8c1"{dash}/>'
            f'<text x="{g.x + 10:.1f}" y="{g.y + 17:.1f}" font-size="12" font-weight="bold" '
            f'fill="#57606a">{escape(label)}</text></g>'
        )
    ns_of = {p.node.id: _namespace(p.node) for p in lay.nodes}
    taken = _Taken((p.x, p.y, p.x + p.w, p.y + p.h) for p in lay.nodes)
    # unchanged edges first, so that changes are drawn on top
    for pe in sorted(lay.edges, key=lambda pe: pe.edge.style != ""):
        out.append(_edge_svg(pe, ns_of, taken))
    for p in lay.nodes:
        n = p.node
        outside = p.group in (FROM_OUTSIDE, TO_OUTSIDE)
        fill, stroke, rx = ("#fff8c5", "#d4a72c", 14) if outside else ("#ddf4ff", "#54aeff", 5)
        parts = [
            f'<g class="kf-node" data-id="{escape(n.id)}" data-ns="{escape(n.group)}" '
            f'data-group="{escape(p.group)}" '
            f'data-text="{escape(n.id.lower())}"><title>{escape(n.id)}</title>'
            f'<rect x="{p.x:.1f}" y="{p.y:.1f}" width="{p.w:.1f}" height="{p.h:.1f}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}"/>'
        ]
        kind_line = len(p.lines) - 1 if n.label.endswith("]") and "[" in n.label else -1
        for i, line in enumerate(p.lines):
            y = p.y + _PAD_Y + _LINE_H * (i + 1) - 3
            style = 'font-size="10.5" fill="#57606a"' if i == kind_line else 'font-size="12" fill="#24292f"'
            weight = ' font-weight="bold"' if i != kind_line and not outside else ""
            parts.append(f'<text x="{p.x + 10:.1f}" y="{y:.1f}" {style}{weight}>{escape(line)}</text>')
        parts.append("</g>")
        out.append("".join(parts))
    out.append("</svg>")
    return "\n".join(out)


def render_svg(nodes: list[Node], edges: list[Edge], title: str = "", *, boxes: bool = True) -> str:
    """The graph as an ``<svg>`` element, laid out by :func:`kubefence.report.graph_layout.layout`."""
    return render_layout(layout(nodes, edges, boxes=boxes), title)
