"""The graph layout of the HTML report: edges never run behind a node, boxes hold their namespace and
do not overlap, traffic flows left to right, and the same graph gives the same picture."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence.report.graph_layout import FROM_OUTSIDE, TO_OUTSIDE, Layout, PlacedNode, layout, wrap
from kubefence.report.html import namespace_graph, neighbourhood
from kubefence.report.svg_graph import render_svg
from kubefence.report.view import Edge, Node

Rect = tuple[float, float, float, float]


def _rect(p: PlacedNode) -> Rect:
    return (p.x, p.y, p.x + p.w, p.y + p.h)


def _inside(r: Rect, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether the box (x0, y0)-(x1, y1) overlaps the inside of ``r`` (touching the border is fine)."""
    return (
        min(x0, x1) < r[2] - 1
        and max(x0, x1) > r[0] + 1
        and min(y0, y1) < r[3] - 1
        and max(y0, y1) > r[1] + 1
    )


def _crossings(lay: Layout) -> list[str]:
    by_id: dict[str, list[PlacedNode]] = {}
    for p in lay.nodes:
        by_id.setdefault(p.node.id, []).append(p)
    found = []
    for pe in lay.edges:
        ends = {pe.edge.src, pe.edge.dst}
        others = [_rect(p) for p in lay.nodes if p.node.id not in ends]
        pieces = [(x0, y, x1, y) for x0, x1, y in pe.runs]  # the straight runs
        # the curves between runs stay inside the box spanned by their ends
        pieces += [(b, y, a, yy) for (_, b, y), (a, _, yy) in itertools.pairwise(pe.runs)]
        for piece in pieces:
            for r in others:
                if _inside(r, *piece):
                    found.append(f"{pe.edge.src} -> {pe.edge.dst} crosses {r}")
    return found


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


names = st.sampled_from(["a", "b", "c", "d", "e", "f"])
spaces = st.sampled_from(["ns1", "ns2", "ns3", "ns4", ""])


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[Node], list[Edge]]:
    nodes: dict[str, Node] = {}
    for _ in range(draw(st.integers(2, 12))):
        ns, name = draw(spaces), draw(names)
        if ns:
            node = Node(f"{ns}/{name}[Deployment]", f"{name}[Deployment]", ns)
        else:
            node = Node(
                f"10.0.0.{ord(name)}-10.0.0.{ord(name) + 1}[External]", f"ip-{name}[External]", "", "ellipse"
            )
        nodes[node.id] = node
    ids = sorted(nodes)
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=25, unique=True))
    edges = [
        Edge(
            a,
            b,
            draw(st.sampled_from(["TCP 80", "TCP 8080,50051", "All Connections"])),
            draw(st.sampled_from(["", "added", "removed"])),
        )
        for a, b in pairs
    ]
    return sorted(nodes.values(), key=lambda n: n.id), edges


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_edges_never_run_behind_a_node(graph: tuple[list[Node], list[Edge]]) -> None:
    nodes, edges = graph
    lay = layout(nodes, edges)
    assert _crossings(lay) == []
    rects = [_rect(p) for p in lay.nodes]
    for a, b in itertools.combinations(rects, 2):
        assert not _overlap(a, b)
    for g1, g2 in itertools.combinations(lay.groups, 2):
        assert not _overlap((g1.x, g1.y, g1.x + g1.w, g1.y + g1.h), (g2.x, g2.y, g2.x + g2.w, g2.y + g2.h))
    for p in lay.nodes:
        box = next(g for g in lay.groups if g.name == p.group)
        assert box.x <= p.x and p.x + p.w <= box.x + box.w and box.y <= p.y and p.y + p.h <= box.y + box.h
        assert p.x >= 0 and p.x + p.w <= lay.width and p.y >= 0 and p.y + p.h <= lay.height
    assert render_svg(nodes, edges) == render_svg(list(nodes), list(edges))  # deterministic


def _shop() -> tuple[list[Node], list[Edge]]:
    def w(ns: str, name: str, kind: str = "Deployment") -> Node:
        return Node(f"{ns}/{name}[{kind}]", f"{name}[{kind}]", ns)

    ingress = Node("{ingress-controller}", "{ingress-controller}", "", "ellipse")
    internet = Node("0.0.0.0-255.255.255.255[External]", "0.0.0.0-255.255.255.255[External]", "", "ellipse")
    web, api = w("front", "web"), w("front", "api")
    orders, pay = w("back", "orders"), w("pay", "gateway")
    db = w("data", "db", "StatefulSet")
    nodes = [ingress, internet, web, api, orders, pay, db]
    pairs = [(ingress, web), (internet, web), (web, api), (api, orders), (orders, pay), (pay, orders)]
    pairs += [(orders, db), (pay, db), (api, internet), (web, db)]
    return nodes, [Edge(a.id, b.id, "TCP 80") for a, b in pairs]


def test_traffic_flows_left_to_right() -> None:
    nodes, edges = _shop()
    lay = layout(nodes, edges)
    x = {g.name: g.x for g in lay.groups}
    assert x[FROM_OUTSIDE] < x["front"] < x["back"] < x["data"] < x[TO_OUTSIDE]
    assert x["back"] < x["pay"] < x["data"]  # called by back (and calling back): after it
    # the internet both sends and receives: drawn on both sides
    internet = [p.group for p in lay.nodes if p.node.id.startswith("0.0.0.0")]
    assert sorted(internet) == [FROM_OUTSIDE, TO_OUTSIDE]
    back = [pe for pe in lay.edges if pe.back]
    assert [(pe.edge.src, pe.edge.dst) for pe in back] == [
        ("pay/gateway[Deployment]", "back/orders[Deployment]")
    ]


def test_long_names_wrap_without_losing_text() -> None:
    name = (
        "0.0.0.0-9.255.255.255,11.0.0.0-172.15.255.255,172.32.0.0-192.167.255.255,192.169.0.0-255.255.255.255"
    )
    lines = wrap(name)
    assert "".join(lines) == name
    assert all(len(line) <= 30 for line in lines)
    assert lines[0] == "0.0.0.0-9.255.255.255,"
    assert "".join(wrap("x" * 75)) == "x" * 75


def test_namespace_graph_counts_connections_and_keeps_changes() -> None:
    nodes, edges = _shop()
    edges = [Edge(e.src, e.dst, e.label, "added" if e.dst.startswith("data/") else "") for e in edges]
    ns_nodes, ns_edges = namespace_graph(nodes, edges)
    assert [n.id for n in ns_nodes] == ["back", "data", "front", "pay", "outside the cluster"]
    assert [n.label for n in ns_nodes][:3] == ["back[1 workload]", "data[1 workload]", "front[2 workloads]"]
    by_pair = {(e.src, e.dst): e for e in ns_edges}
    assert by_pair[("front", "back")].label == "1 connection"
    assert by_pair[("outside the cluster", "front")].label == "2 connections"
    assert by_pair[("back", "data")].style == "added" and by_pair[("front", "back")].style == ""
    assert ("front", "front") not in by_pair  # inside a namespace: in its own graph


def test_svg_marks_changes_three_ways() -> None:
    nodes, edges = _shop()
    edges = [
        Edge(edges[0].src, edges[0].dst, "TCP 3000", "added"),
        Edge(edges[2].src, edges[2].dst, "TCP 1", "removed"),
    ]
    svg = render_svg(nodes, edges)
    added = svg[svg.index('<g class="kf-edge added"') :].split("</g>", 1)[0]
    assert 'stroke="#1a7f37"' in added and 'stroke-width="3.2"' in added and "stroke-dasharray" not in added
    assert ">+ ADDED</text>" in added and ">TCP 3000</text>" in added
    removed = svg[svg.index('<g class="kf-edge removed"') :].split("</g>", 1)[0]
    assert 'stroke-dasharray="8 5"' in removed and ">− REMOVED</text>" in removed


def test_namespace_graph_of_a_busy_namespace_groups_the_peers_of_others() -> None:
    agent = Node("mon/agent[DaemonSet]", "agent[DaemonSet]", "mon")
    apps = [Node(f"apps/a{i}[Deployment]", f"a{i}[Deployment]", "apps") for i in range(12)]
    db = Node("data/db[StatefulSet]", "db[StatefulSet]", "data")
    edges = [Edge(agent.id, a.id, "TCP 9100", "added" if i == 3 else "") for i, a in enumerate(apps)]
    edges.append(Edge(agent.id, db.id, "TCP 9187"))
    edges.append(Edge(apps[0].id, db.id, "TCP 5432"))  # not about mon: left out
    nodes, out = neighbourhood("mon", [agent, *apps, db], edges, max_peers=8)
    assert [n.id for n in nodes] == ["apps/*", "data/db[StatefulSet]", "mon/agent[DaemonSet]"]
    assert nodes[0].label == "apps[12 workloads]" and nodes[0].group == "apps"
    assert sorted((e.src, e.dst, e.label, e.style) for e in out) == [
        ("mon/agent[DaemonSet]", "apps/*", "12 connections", "added"),
        ("mon/agent[DaemonSet]", "data/db[StatefulSet]", "TCP 9187", ""),
    ]
