"""A layered layout of a connectivity graph, computed in Python (no Graphviz needed, so the HTML report
looks the same on any machine, a CI runner included).

Namespaces are groups placed in columns by traffic flow: what comes from outside the cluster (the
ingress controller, external sources) on the left, then each namespace after the namespaces that
call it, and external destinations on the right. Inside a group, workloads are layered the same way.
An edge that spans columns passes through *lanes*: free slots between the boxes of the columns it
crosses, so it never runs behind a node. Everything is deterministic: same graph, same picture.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kubefence.report.view import Edge, Node

FROM_OUTSIDE = "from outside the cluster"
TO_OUTSIDE = "to outside the cluster"

_CHAR_W, _LINE_H, _PAD_Y = 7.0, 15.0, 10.0  # text metrics for 12 px sans-serif, generous
_MIN_W, _MAX_CHARS = 104.0, 30  # longer names wrap (external address ranges break at commas)
_NODE_GAP, _LANE_H, _ITEM_GAP, _LANE_GAP = 14.0, 12.0, 26.0, 6.0
_INNER_GAP, _COLUMN_GAP, _BOX_PAD, _BOX_HEAD = 96.0, 124.0, 12.0, 26.0
_MAX_GAP = 280.0  # a wider label takes another free place along its edge
_LABEL_CHAR_W = _CHAR_W * 0.95  # edge labels are 11 px
#: the badge drawn before the ports of a changed edge
BADGES = {"added": "+ ADDED", "removed": "− REMOVED", "changed": "~ CHANGED"}
_LEFT, _TOP = 16.0, 16.0


@dataclass
class PlacedNode:
    node: Node
    key: str  # unique in the layout: an outside peer may be drawn twice (as a source and a destination)
    group: str
    lines: list[str]
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class PlacedGroup:
    name: str
    namespace: str  # "" for the two outside groups
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class PlacedEdge:
    edge: Edge
    #: horizontal runs (x0, x1, y) from source to destination; consecutive runs are joined by a curve
    #: in the gap between two columns, where no node is
    runs: list[tuple[float, float, float]]
    back: bool  # drawn against the flow (right to left)


@dataclass
class Layout:
    nodes: list[PlacedNode]
    groups: list[PlacedGroup]
    edges: list[PlacedEdge]
    width: float
    height: float


def port_label_width(text: str) -> float:
    return _LABEL_CHAR_W * len(text) + 10


def edge_label_width(edge: Edge) -> float:
    """The width of an edge's label: its ports, after its change badge if it has one."""
    badge = BADGES.get(edge.style, "")
    return port_label_width(edge.label) + (port_label_width(badge) if badge else 0.0)


def wrap(text: str, limit: int = _MAX_CHARS) -> list[str]:
    """``text`` in lines of at most ``limit`` characters, broken after commas where possible."""
    lines: list[str] = []
    current = ""
    for piece in text.replace(",", ",\x00").split("\x00"):
        while len(piece) > limit:  # a piece longer than a line: hard break
            if current:
                lines.append(current)
                current = ""
            lines.append(piece[:limit])
            piece = piece[limit:]
        if len(current) + len(piece) > limit and current:
            lines.append(current)
            current = ""
        current += piece
    if current or not lines:
        lines.append(current)
    return lines


def node_lines(node: Node) -> list[str]:
    """The node's text: its name (wrapped), then its kind on its own line."""
    name, kind = node.label, ""
    if node.label.endswith("]") and "[" in node.label:
        name, kind = node.label[:-1].split("[", 1)
    return [*wrap(name), *([kind] if kind else [])]


def flow_order(items: Iterable[str], arcs: dict[tuple[str, str], int]) -> list[str]:
    """Items in traffic-flow order: a greedy feedback-arc ordering (Eades, Lin and Smyth), ties by name.

    Sources go first and sinks last; in a cycle, the item sending the most traffic comes first.
    """
    remaining = set(items)
    succ: dict[str, dict[str, int]] = defaultdict(dict)
    pred: dict[str, dict[str, int]] = defaultdict(dict)
    for (a, b), w in arcs.items():
        if a != b and a in remaining and b in remaining:
            succ[a][b] = w
            pred[b][a] = w
    head: list[str] = []
    tail: list[str] = []
    while remaining:
        progress = True
        while progress:
            progress = False
            for v in sorted(remaining):
                if not any(s in remaining for s in succ[v]):
                    tail.append(v)
                    remaining.discard(v)
                    progress = True
            for v in sorted(remaining):
                if not any(p in remaining for p in pred[v]):
                    head.append(v)
                    remaining.discard(v)
                    progress = True
        if remaining:

            def score(v: str) -> tuple[int, int, str]:
                out = sum(w for s, w in succ[v].items() if s in remaining)
                into = sum(w for p, w in pred[v].items() if p in remaining)
                called = sum(w for p, w in pred[v].items() if p not in remaining)  # by what is placed
                return (into - out, -called, v)

            best = min(remaining, key=score)
            head.append(best)
            remaining.discard(best)
    return head + tail[::-1]


def _layers(order: list[str], arcs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layers, every arc pointing forward in ``order`` (back arcs are reversed)."""
    rank = {v: i for i, v in enumerate(order)}
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b in arcs:
        if a == b or a not in rank or b not in rank:
            continue
        u, v = (a, b) if rank[a] < rank[b] else (b, a)
        preds[v].append(u)
    layer: dict[str, int] = {}
    for v in order:
        layer[v] = max((layer[u] + 1 for u in preds[v]), default=0)
    return layer


@dataclass
class _Route:
    """An edge as laid out: forward in the layout (from ``a`` to ``b``), with its intermediate slots."""

    edge: Edge
    a: str
    b: str
    back: bool
    slots: list[tuple[str, int]] = field(default_factory=list)  # ("slot", id) or ("lane", id)


@dataclass
class _Slot:
    """A place an edge passes through: inside a group at one of its layers, or a lane through a column."""

    id: int
    group: str  # for an intra-group slot; "" for a lane
    column: int
    layer: int  # inside the group; -1 for a lane
    y: float = 0.0


def group_label(group: str) -> str:
    """The title of a group's box."""
    return group if group in (FROM_OUTSIDE, TO_OUTSIDE) else f"namespace {group}"


def group_label_w(group: str) -> float:
    return _CHAR_W * len(group_label(group)) + 20


def layout(nodes: list[Node], edges: list[Edge], *, boxes: bool = True) -> Layout:
    """Place ``nodes`` (grouped by namespace) and route ``edges``; see the module docstring.

    With ``boxes=False`` the groups are not drawn (a graph whose nodes are namespaces).
    """
    # 1. nodes with their group; a peer outside the cluster on the side(s) its traffic is on
    sources = {e.src for e in edges}
    targets = {e.dst for e in edges}
    placed: dict[str, PlacedNode] = {}
    for n in nodes:
        if n.group:
            placed[n.id] = PlacedNode(n, n.id, n.group, node_lines(n))
            continue
        if n.id in sources or n.id not in targets:
            placed["<" + n.id] = PlacedNode(n, "<" + n.id, FROM_OUTSIDE, node_lines(n))
        if n.id in targets:
            placed[">" + n.id] = PlacedNode(n, ">" + n.id, TO_OUTSIDE, node_lines(n))

    def src_key(e: Edge) -> str:
        return e.src if e.src in placed else "<" + e.src

    def dst_key(e: Edge) -> str:
        return e.dst if e.dst in placed else ">" + e.dst

    drawn = [e for e in edges if src_key(e) in placed and dst_key(e) in placed]
    for p in placed.values():
        p.w = max(_MIN_W, _CHAR_W * max(len(line) for line in p.lines) + 20)
        p.h = _PAD_Y * 2 + _LINE_H * len(p.lines)

    # 2. groups in columns by flow; the outside groups pinned to the first and the last column
    members: dict[str, list[str]] = defaultdict(list)
    for key, p in placed.items():
        members[p.group].append(key)
    group_arcs: dict[tuple[str, str], int] = defaultdict(int)
    for e in drawn:
        ga, gb = placed[src_key(e)].group, placed[dst_key(e)].group
        if ga != gb:
            group_arcs[(ga, gb)] += 1
    inside = sorted(g for g in members if g not in (FROM_OUTSIDE, TO_OUTSIDE))
    order = flow_order(inside, group_arcs)
    order = ([FROM_OUTSIDE] if FROM_OUTSIDE in members else []) + order
    order += [TO_OUTSIDE] if TO_OUTSIDE in members else []
    column = _layers(order, group_arcs)
    if TO_OUTSIDE in column:
        column[TO_OUTSIDE] = max(column.values()) + (1 if len(column) > 1 else 0)
    group_rank = {g: i for i, g in enumerate(order)}

    # 3. inside each group: workloads layered by flow
    node_arcs: dict[tuple[str, str], int] = defaultdict(int)
    for e in drawn:
        node_arcs[(src_key(e), dst_key(e))] += 1
    layer: dict[str, int] = {}
    node_rank: dict[str, int] = {}
    for g, keys in members.items():
        intra = {(a, b): w for (a, b), w in node_arcs.items() if placed[a].group == g == placed[b].group}
        g_order = flow_order(keys, intra)
        node_rank.update({k: i for i, k in enumerate(g_order)})
        layer.update(_layers(g_order, intra))
    depth = {g: 1 + max(layer[k] for k in keys) for g, keys in members.items()}

    def position(key: str) -> tuple[int, int, int]:
        g = placed[key].group
        return (column[g], layer[key], group_rank[g])

    # 4. routes: each edge forward in the layout, with a slot in every layer it passes
    slots: list[_Slot] = []
    routes: list[_Route] = []
    for e in drawn:
        a, b = src_key(e), dst_key(e)
        back = position(b) < position(a) if a != b else False
        if back:
            a, b = b, a
        route = _Route(e, a, b, back)
        ga, gb = placed[a].group, placed[b].group
        if a != b:
            if ga == gb:
                for lay in range(layer[a] + 1, layer[b]):
                    slots.append(_Slot(len(slots), ga, column[ga], lay))
                    route.slots.append(("slot", slots[-1].id))
            else:
                for lay in range(layer[a] + 1, depth[ga]):
                    slots.append(_Slot(len(slots), ga, column[ga], lay))
                    route.slots.append(("slot", slots[-1].id))
                for col in range(column[ga] + 1, column[gb]):
                    slots.append(_Slot(len(slots), "", col, -1))
                    route.slots.append(("lane", slots[-1].id))
                for lay in range(layer[b]):
                    slots.append(_Slot(len(slots), gb, column[gb], lay))
                    route.slots.append(("slot", slots[-1].id))
        routes.append(route)

    # 5. vertical order: groups and lanes per column, nodes and slots per group layer; barycentres
    n_cols = 1 + max(column.values(), default=0)
    col_items: list[list[str]] = [[] for _ in range(n_cols)]  # "g:NAME" or "l:ID"
    for g in order:
        col_items[column[g]].append("g:" + g)
    for s in slots:
        if s.layer < 0:
            col_items[s.column].append(f"l:{s.id}")
    layer_items: dict[tuple[str, int], list[str]] = defaultdict(list)  # "n:KEY" or "s:ID"
    for key in sorted(placed, key=lambda k: node_rank[k]):
        layer_items[(placed[key].group, layer[key])].append("n:" + key)
    for s in slots:
        if s.layer >= 0:
            layer_items[(s.group, s.layer)].append(f"s:{s.id}")
    lane_routes: dict[str, list[_Route]] = defaultdict(list)
    slot_of = {s.id: s for s in slots}
    for r in routes:
        for kind, sid in r.slots:
            lane_routes[("l:" if kind == "lane" else "s:") + str(sid)].append(r)

    ys: dict[str, float] = {}  # centre y of every node ("n:KEY"), slot and lane
    heights: dict[str, float] = {}  # height of every column item
    x_of_col: list[float] = []
    col_w: list[float] = []
    inner_x: dict[tuple[str, int], float] = {}
    inner_w: dict[tuple[str, int], float] = {}

    def item_h(item: str) -> float:
        if item.startswith("n:"):
            return placed[item[2:]].h
        return _LANE_H

    def gap(a: str, b: str, nodes_gap: float) -> float:
        """Space between two stacked items: edges passing side by side need less than boxes."""
        return _LANE_GAP if a[0] in "ls" and b[0] in "ls" else nodes_gap

    def stack_h(items: list[str], h_of: Callable[[str], float], nodes_gap: float) -> float:
        return sum(h_of(it) for it in items) + sum(gap(a, b, nodes_gap) for a, b in itertools.pairwise(items))

    def place() -> float:
        """Coordinates for the current orders; returns the total height."""
        # group sizes
        for g in order:
            lays = [layer_items[(g, i)] for i in range(depth[g])]
            inner = max((stack_h(items, item_h, _NODE_GAP) for items in lays), default=0.0)
            heights["g:" + g] = inner + _BOX_HEAD + _BOX_PAD
        for items in col_items:
            for it in items:
                if it.startswith("l:"):
                    heights[it] = _LANE_H
        stacks = [stack_h(items, heights.__getitem__, _ITEM_GAP) for items in col_items]
        total = max(stacks, default=0.0)
        for c, items in enumerate(col_items):
            y = _TOP + (total - stacks[c]) / 2
            for k, it in enumerate(items):
                if k:
                    y += gap(items[k - 1], it, _ITEM_GAP)
                if it.startswith("l:"):
                    ys[it] = y + _LANE_H / 2
                else:
                    g = it[2:]
                    top, inner_h = y + _BOX_HEAD, heights[it] - _BOX_HEAD - _BOX_PAD
                    heights["top:" + g] = y
                    for i in range(depth[g]):
                        items_i = layer_items[(g, i)]
                        yy = top + (inner_h - stack_h(items_i, item_h, _NODE_GAP)) / 2
                        for j, x in enumerate(items_i):
                            if j:
                                yy += gap(items_i[j - 1], x, _NODE_GAP)
                            ys[x] = yy + item_h(x) / 2
                            yy += item_h(x)
                y += heights[it]
        return total

    # what each group and node connects to, for ordering by barycentre
    neighbours: dict[str, list[str]] = defaultdict(list)
    for r in routes:
        if r.a == r.b:
            continue
        neighbours["n:" + r.a].append("n:" + r.b)
        neighbours["n:" + r.b].append("n:" + r.a)
        ga, gb = placed[r.a].group, placed[r.b].group
        if ga != gb:
            neighbours["g:" + ga].append("n:" + r.b)
            neighbours["g:" + gb].append("n:" + r.a)

    def neighbour_ys(item: str) -> list[float]:
        """The y of what an item connects to (for ordering by barycentre)."""
        if item[0] in "gn":
            return [ys[other] for other in neighbours[item]]
        return [(ys["n:" + r.a] + ys["n:" + r.b]) / 2 for r in lane_routes[item]]

    def reorder(items: list[str]) -> None:
        current = {it: ys.get(it, 0.0) for it in items}

        def key(it: str) -> tuple[float, float, str]:
            near = neighbour_ys(it)
            return (sum(near) / len(near) if near else current[it], current[it], it)

        items.sort(key=key)

    total = place()
    for _ in range(4):
        for items in col_items:
            if any(it.startswith("g:") for it in items):
                for it in items:
                    if it.startswith("g:"):
                        ys[it] = heights["top:" + it[2:]] + heights[it] / 2
            reorder(items)
        for items in layer_items.values():
            reorder(items)
        total = place()

    # 6. x: column widths from the widest group in them; layers inside groups. A gap is widened to
    # hold the labels of the edges that end right after it (a label goes on an edge's last curve).
    need_inner: dict[tuple[str, int], float] = defaultdict(float)
    need_column: dict[int, float] = defaultdict(float)
    for r in routes:
        if r.a != r.b:
            g, lay_b, w = placed[r.b].group, layer[r.b], edge_label_width(r.edge) + 24
            if lay_b:
                need_inner[(g, lay_b)] = max(need_inner[(g, lay_b)], w)
            else:
                need_column[column[g]] = max(need_column[column[g]], w + 2 * _BOX_PAD)
    x = _LEFT + _BOX_PAD
    for c in range(n_cols):
        if c:
            x += min(max(_COLUMN_GAP, need_column[c]), _MAX_GAP)
        width = 0.0
        for g in (g for g in order if column[g] == c):
            xx = x
            for i in range(depth[g]):
                if i:
                    xx += min(max(_INNER_GAP, need_inner[(g, i)]), _MAX_GAP)
                widths = [placed[it[2:]].w for it in layer_items[(g, i)] if it.startswith("n:")]
                w = max(widths, default=40.0)
                inner_x[(g, i)], inner_w[(g, i)] = xx, w
                xx += w
            width = max(width, xx - x, group_label_w(g) - 2 * _BOX_PAD)
        x_of_col.append(x)
        col_w.append(max(width, 40.0))
        x += col_w[-1]

    groups: list[PlacedGroup] = []
    for g in order:
        gx = x_of_col[column[g]]
        last = (g, depth[g] - 1)
        groups.append(
            PlacedGroup(
                g,
                "" if g in (FROM_OUTSIDE, TO_OUTSIDE) else g,
                gx - _BOX_PAD,
                heights["top:" + g],
                max(inner_x[last] + inner_w[last] - gx + 2 * _BOX_PAD, group_label_w(g)),
                heights["g:" + g],
            )
        )
    for key, p in placed.items():
        where = (p.group, layer[key])
        p.w = inner_w[where]
        p.x = inner_x[where]
        p.y = ys["n:" + key] - p.h / 2

    # 7. runs; edges leave and enter a node spread over its side, in the order of where they go
    out_edges: dict[str, list[_Route]] = defaultdict(list)
    in_edges: dict[str, list[_Route]] = defaultdict(list)
    for r in routes:
        if r.a != r.b:
            out_edges[r.a].append(r)
            in_edges[r.b].append(r)

    def first_y(r: _Route) -> float:
        return slot_of[r.slots[0][1]].y if r.slots else ys["n:" + r.b]

    def last_y(r: _Route) -> float:
        return slot_of[r.slots[-1][1]].y if r.slots else ys["n:" + r.a]

    for s in slots:
        s.y = ys[("l:" if s.layer < 0 else "s:") + str(s.id)]
    attach_out: dict[int, float] = {}
    attach_in: dict[int, float] = {}
    for key, rs in out_edges.items():
        p = placed[key]
        for i, r in enumerate(sorted(rs, key=lambda r: (first_y(r), r.b))):
            attach_out[id(r)] = p.y + p.h * (i + 1) / (len(rs) + 1)
    for key, rs in in_edges.items():
        p = placed[key]
        for i, r in enumerate(sorted(rs, key=lambda r: (last_y(r), r.a))):
            attach_in[id(r)] = p.y + p.h * (i + 1) / (len(rs) + 1)

    placed_edges: list[PlacedEdge] = []
    for r in routes:
        pa, pb = placed[r.a], placed[r.b]
        if r.a == r.b:  # a loop: drawn by the renderer beside the node
            placed_edges.append(PlacedEdge(r.edge, [(pa.x + pa.w, pa.x + pa.w, pa.y + pa.h / 2)], False))
            continue
        runs = [(pa.x + pa.w, pa.x + pa.w, attach_out[id(r)])]
        ga, gb = pa.group, pb.group
        for kind, sid in r.slots:
            s = slot_of[sid]
            if kind == "lane":
                runs.append(
                    (x_of_col[s.column] - _BOX_PAD, x_of_col[s.column] + col_w[s.column] + _BOX_PAD, s.y)
                )
            else:
                runs.append(
                    (
                        inner_x[(s.group, s.layer)],
                        inner_x[(s.group, s.layer)] + inner_w[(s.group, s.layer)],
                        s.y,
                    )
                )
        if ga != gb:
            # leave the source's column at the height of the last run inside its group
            idx = 1 + sum(1 for kind, sid in r.slots if kind == "slot" and slot_of[sid].group == ga)
            x0, x1, y = runs[idx - 1]
            runs[idx - 1] = (x0, max(x1, x_of_col[column[ga]] + col_w[column[ga]] + _BOX_PAD), y)
        runs.append((pb.x, pb.x, attach_in[id(r)]))
        if r.back:
            runs = [(x1, x0, y) for x0, x1, y in reversed(runs)]
        placed_edges.append(PlacedEdge(r.edge, runs, r.back))

    width = x + _BOX_PAD + _LEFT
    height = total + 2 * _TOP
    return Layout(list(placed.values()), groups if boxes else [], placed_edges, width, height)
