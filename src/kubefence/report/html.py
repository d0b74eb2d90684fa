"""The one HTML report design shared by map, diff, review and guardrails: a self-contained page (inline
CSS, SVG and a small script; nothing fetched, readable offline).

A page has a header (title, status, summary), a filter bar (namespace, changed only, search), the
graph in two views (workloads; namespaces, each expanding to its own graph), and tables whose rows
the filters narrow. Status marks are text badges, so they show without an emoji font.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from html import escape
from importlib import resources

from kubefence.report.graph_layout import flow_order
from kubefence.report.svg_graph import STYLES, render_svg
from kubefence.report.view import Edge, Node, View

#: Above this, the workload graph is left out and the namespace view is the only one.
FULL_GRAPH_NODES = 120
FULL_GRAPH_EDGES = 400
#: The namespace view is offered from this many namespaces on (two are clear in the workload view).
NAMESPACE_VIEW_FROM = 3
#: The namespace overview stands for the outside world with this node.
OUTSIDE = "outside the cluster"


def _asset(name: str) -> str:
    return resources.files("kubefence.report").joinpath("assets", name).read_text(encoding="utf-8")


def status_badge(kind: str, text: str) -> str:
    """A status mark as a coloured text badge (``kind``: ok, bad or warn); needs no emoji font."""
    return f'<span class="kf-status {escape(kind)}">{escape(text)}</span>'


def page(title: str, body: Iterable[str], *, status: str = "") -> str:
    """A whole page; ``status`` is a badge (see :func:`status_badge`) shown beside the title."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_asset('report.css')}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}{' ' + status if status else ''}</h1>\n"
        + "\n".join(body)
        + f"\n<script>{_asset('report.js')}</script>\n</body>\n</html>\n"
    )


def _namespace_of(peer: str) -> str:
    return peer.split("/", 1)[0] if "/" in peer and not peer.startswith("{") else ""


_PEER_COLUMNS = ("src", "dst", "source", "destination")


def breakable(text: str) -> str:
    """``text`` escaped, with line-break opportunities after commas and slashes (long peer names)."""
    return escape(text).replace(",", ",<wbr>").replace("/", "/<wbr>")


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    row_class: int | None = None,
    *,
    filterable: bool = True,
) -> str:
    """An HTML table; ``row_class`` names the column whose value becomes each row's class (a change).

    Filterable rows carry their namespaces (from the src/dst columns), change and text for the filters.
    """
    peer_cols = [i for i, c in enumerate(columns) if c in _PEER_COLUMNS]
    cls_attr = ' class="kf-filterable"' if filterable else ""
    out = [f"<table{cls_attr}>", "<tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>"]
    for row in rows:
        attrs = ""
        if row_class is not None:
            attrs += f' class="{escape(row[row_class])}" data-change="{escape(row[row_class])}"'
        if filterable:
            spaces = sorted({_namespace_of(row[i]) for i in peer_cols} - {""})
            attrs += f' data-ns="{escape(" ".join(spaces))}" data-text="{escape(" ".join(row).lower())}"'
        cells = "".join(
            f'<td class="kind">{escape(v)}</td>' if i == row_class else f"<td>{breakable(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr{attrs}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def legend(edges: Sequence[Edge]) -> str:
    """The legend of the change styles present in ``edges``; none for a graph without changes."""
    present = {e.style for e in edges}
    if present <= {""}:
        return ""
    names = {"added": "added", "removed": "removed", "changed": "changed", "": "unchanged"}
    items = []
    for style in ("added", "removed", "changed", ""):
        if style not in present:
            continue
        color, width, dash, badge = STYLES[style]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        line = (
            '<svg width="44" height="10" aria-hidden="true">'
            f'<line x1="2" y1="5" x2="42" y2="5" stroke="{color}" '
            f'stroke-width="{width}"{dash_attr} stroke-linecap="round"/></svg>'
        )
        items.append(f"<span>{line} {escape(badge or names[style])}</span>")
    return '<p class="legend">' + "".join(items) + "</p>"


def _merge_styles(styles: Iterable[str]) -> str:
    found = set(styles) - {""}
    if not found:
        return ""
    return found.pop() if len(found) == 1 else "changed"


def namespace_graph(nodes: Sequence[Node], edges: Sequence[Edge]) -> tuple[list[Node], list[Edge]]:
    """The graph of namespaces: one node per namespace, one edge per pair that talks (with a count)."""
    group = {n.id: n.group or OUTSIDE for n in nodes}
    workloads = Counter(n.group for n in nodes if n.group)
    pairs: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in edges:
        a, b = group.get(e.src, OUTSIDE), group.get(e.dst, OUTSIDE)
        if a != b:
            pairs[(a, b)].append(e)
    ns_nodes = [
        Node(ns, f"{ns}[{k} workload{'s' if k != 1 else ''}]", ns) for ns, k in sorted(workloads.items())
    ]
    if any(a == OUTSIDE or b == OUTSIDE for a, b in pairs):
        ns_nodes.append(Node(OUTSIDE, OUTSIDE, "", "ellipse"))
    ns_edges = [
        Edge(a, b, f"{len(es)} connection{'s' if len(es) != 1 else ''}", _merge_styles(e.style for e in es))
        for (a, b), es in sorted(pairs.items())
    ]
    return ns_nodes, ns_edges


#: In a namespace's own graph, the peers of another namespace are drawn one by one up to this many;
#: beyond it they become one node for that namespace (a monitoring agent talks to everything).
MAX_PEERS_SHOWN = 8


def neighbourhood(
    ns: str, nodes: Sequence[Node], edges: Sequence[Edge], max_peers: int = MAX_PEERS_SHOWN
) -> tuple[list[Node], list[Edge]]:
    """The graph of namespace ``ns``: its workloads, their connections, and the peers at the other end
    (grouped into one node per namespace when a namespace has more than ``max_peers`` of them)."""
    by_id = {n.id: n for n in nodes}
    mine = [e for e in edges if ns in (by_id[e.src].group, by_id[e.dst].group)]
    peers: dict[str, set[str]] = defaultdict(set)
    for e in mine:
        for end in (e.src, e.dst):
            group = by_id[end].group
            if group != ns:
                peers[group].add(end)
    collapsed = {g for g, ids in peers.items() if g and len(ids) > max_peers}

    def key(node_id: str) -> str:
        group = by_id[node_id].group
        return f"{group}/*" if group in collapsed else node_id

    out_nodes = {n.id: n for n in nodes if n.group == ns}
    for g, ids in peers.items():
        if g in collapsed:
            out_nodes[f"{g}/*"] = Node(f"{g}/*", f"{g}[{len(ids)} workloads]", g)
        else:
            out_nodes.update((i, by_id[i]) for i in ids)
    merged: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in mine:
        merged[(key(e.src), key(e.dst))].append(e)
    out_edges = [
        es[0] if len(es) == 1 else Edge(a, b, f"{len(es)} connections", _merge_styles(e.style for e in es))
        for (a, b), es in merged.items()
    ]
    return sorted(out_nodes.values(), key=lambda n: n.id), out_edges


def _namespace_details(nodes: Sequence[Node], edges: Sequence[Edge]) -> list[str]:
    by_id = {n.id: n for n in nodes}
    spaces = sorted({n.group for n in nodes if n.group})
    arcs: dict[tuple[str, str], int] = defaultdict(int)
    for e in edges:
        a, b = by_id[e.src].group if e.src in by_id else "", by_id[e.dst].group if e.dst in by_id else ""
        if a and b and a != b:
            arcs[(a, b)] += 1
    out = []
    for ns in flow_order(spaces, arcs):
        mine = [e for e in edges if ns in (by_id[e.src].group, by_id[e.dst].group)]
        k = sum(1 for n in nodes if n.group == ns)
        changes = Counter(e.style for e in mine if e.style)
        extra = "".join(f", {n} {style}" for style, n in sorted(changes.items()))
        graph = '<p class="note">No connections.</p>'
        if mine:
            graph = render_svg(*neighbourhood(ns, nodes, edges), f"namespace {ns}")
        out.append(
            f'<details class="kf-ns" id="kf-ns-{escape(ns)}" data-ns="{escape(ns)}">'
            f"<summary>namespace {escape(ns)}: {k} workload{'s' if k != 1 else ''}, {len(mine)} "
            f"connection{'s' if len(mine) != 1 else ''}{escape(extra)}</summary>{graph}</details>"
        )
    return out


def filter_bar(nodes: Sequence[Node], *, changes: bool) -> str:
    spaces = sorted({n.group for n in nodes if n.group})
    options = '<option value="">all namespaces</option>' + "".join(
        f'<option value="{escape(ns)}">{escape(ns)}</option>' for ns in spaces
    )
    changed = '<label><input type="checkbox" id="kf-filter-changed"> changed only</label>' if changes else ""
    return (
        '<div class="kf-bar" role="search">'
        f'<label>Namespace <select id="kf-filter-ns">{options}</select></label>{changed}'
        '<label>Search <input type="search" id="kf-filter-search" '
        'placeholder="workload, port, rule…"></label>'
        '<span id="kf-filter-count" class="note"></span></div>'
    )


def graph_section(nodes: Sequence[Node], edges: Sequence[Edge], title: str = "connectivity") -> list[str]:
    """The graph views: workloads (unless too large) and namespaces (when there are several)."""
    if not nodes:
        return ['<p class="note">No connections to draw.</p>']
    spaces = {n.group for n in nodes if n.group}
    full = len(nodes) <= FULL_GRAPH_NODES and len(edges) <= FULL_GRAPH_EDGES
    views: list[tuple[str, str, str]] = []  # (key, tab label, content)
    dim = any(e.style for e in edges)
    if full:
        svg = render_svg(list(nodes), list(edges), title)
        if dim:
            svg = svg.replace('class="kf-graph"', 'class="kf-graph kf-dim"', 1)
        views.append(("workloads", "Workloads", svg))
    if len(spaces) >= NAMESPACE_VIEW_FROM or not full:
        ns_nodes, ns_edges = namespace_graph(nodes, edges)
        overview = render_svg(ns_nodes, ns_edges, "namespaces", boxes=False)
        overview = overview.replace('class="kf-graph"', 'class="kf-graph kf-overview"', 1)
        note = (
            ""
            if full
            else (
                f'<p class="note">{len(nodes)} workloads and {len(edges)} connections are too many to '
                "draw at "
                "once: open a namespace to see its graph.</p>"
            )
        )
        hint = '<p class="note">Click a namespace (or open it below) to see its workloads.</p>'
        content = note + overview + hint + "".join(_namespace_details(nodes, edges))
        views.append(("namespaces", "Namespaces", content))
    tabs = "".join(
        f'<button type="button" class="kf-tab" data-view="{key}" aria-selected="{str(i == 0).lower()}">'
        f"{label}</button>"
        for i, (key, label, _) in enumerate(views)
    )
    out = [f'<div class="kf-tabs" role="tablist">{tabs}</div>'] if len(views) > 1 else []
    for i, (key, _, content) in enumerate(views):
        hidden = " kf-hidden" if i else ""
        zoom = '<button type="button" class="kf-zoom">actual size</button>'
        out.append(f'<div class="kf-view{hidden}" data-view="{key}">{zoom}{content}</div>')
    out.append(legend(edges))
    return out


def html(view: View) -> Iterator[str]:
    """The renderer for ``-o html``: title, summary, filters, graph views and the table."""
    if view.html_body is not None:
        yield page(view.title, view.html_body(), status=view.html_status)
        return
    nodes, edges = view.nodes(), view.edges()
    body = []
    if view.summary:
        body.append(f'<p class="summary">{escape(view.summary)}</p>')
    body.append(filter_bar(nodes, changes=any(e.style for e in edges)))
    body += graph_section(nodes, edges, view.title)
    if view.columns:
        kind_col = view.columns.index("type") if "type" in view.columns else None
        body.append(table(view.columns, view.rows(), kind_col))
    yield page(view.title, body)
