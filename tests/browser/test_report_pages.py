"""The HTML reports of the bundled example as a person sees them, in a real browser: Debian's Chromium
driven by Playwright. Asserts on what is visible (not on the markup), and keeps screenshots in
test-artifacts/screenshots/ for a reviewer (map.png, review.png, review-namespaces.png,
review-filtered.png, verify.png).

The review is of a two-commit repository of examples/shop where the head makes orders use redis
(an added connection) and cart call the payment gateway (violating payments-only-from-checkout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubefence.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("KUBEFENCE_CHROMIUM", "/usr/bin/chromium")
GUARDRAILS = ROOT / "examples" / "guardrails" / "shop-guardrails.yaml"
ADDED = '[data-src="shop-backend/orders[Deployment]"][data-dst="shop-data/redis[StatefulSet]"]'
NGINX = ["--ingress-controller-namespace", "ingress-nginx"]
VIOLATING = '[data-src="shop-backend/cart[Deployment]"][data-dst="payments/payments-gateway[Deployment]"]'

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _insert_env(path: Path, before: str, name: str, value: str) -> None:
    text = path.read_text()
    line = f"            - name: {before}"
    assert line in text
    path.write_text(
        text.replace(line, f"            - name: {name}\n              value: {value}\n{line}", 1)
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    tmp = tmp_path_factory.mktemp("reports")
    repo = tmp / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(ROOT / "examples" / "shop", repo / "app")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    backend = repo / "app" / "shop-backend"
    _insert_env(
        backend / "orders.yaml", "DATABASE_URL", "REDIS_ADDR", "redis.shop-data.svc.cluster.local:6379"
    )
    _insert_env(
        backend / "cart.yaml", "CATALOG_URL", "PAYMENTS_URL", "https://payments-gateway.payments.svc:8443"
    )
    _git(repo, "commit", "-qam", "head")
    out = {name: tmp / f"{name}.html" for name in ("map", "review", "verify")}
    shop = str(ROOT / "examples" / "shop")
    assert main(["map", shop, *NGINX, "-o", "html", "-f", str(out["map"]), "-q"]) == 0
    code = main(
        [
            "verify",
            "--guardrails",
            str(GUARDRAILS),
            shop,
            *NGINX,
            "-o",
            "html",
            "-f",
            str(out["verify"]),
            "-q",
        ]
    )
    assert code == 1  # the example violates one rule on purpose
    review = [
        "review",
        "--repo",
        str(repo),
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "app",
        "--no-write",
        *NGINX,
    ]
    review += ["--guardrails", str(GUARDRAILS), "--html", str(out["review"]), "-q", "-o", "json"]
    assert main(review) == 1
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(
        "**/*",
        lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_(),
    )
    try:
        yield lambda path: _goto(context, path)
    finally:
        context.close()


def _goto(context: Any, path: Path) -> Any:
    page = context.new_page()
    page.goto(path.as_uri())
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the filter bar is sticky: keep it at the top
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _no_horizontal_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide at a 1280 px window"
    for box in page.eval_on_selector_all(
        "svg.kf-graph", "els => els.map(e => e.getBoundingClientRect().right)"
    ):
        assert box <= 1280


def test_review_names_the_violated_rule_in_the_guardrails_table(
    reports: dict[str, Path], open_page: Any
) -> None:
    page = open_page(reports["review"])
    _shot(page, "review.png")
    row = page.locator("table.kf-guardrails tr.violated")
    assert row.count() == 1
    assert row.is_visible()
    assert "payments-only-from-checkout" in row.locator("td").nth(1).inner_text()
    assert row.locator("td").first.inner_text() == "FAIL"
    details = row.locator("details")
    assert details.is_visible()
    text = details.inner_text()
    assert "shop-backend/cart[Deployment] → payments/payments-gateway[Deployment]" in text
    assert "witness" in text and "allowed by NetworkPolicy shop-backend/kubefence-cart" in text
    body = page.inner_text("body")
    for raw in ("**", "<details", "<summary", "<br", "<code", "&nbsp;", "✅", "❌"):
        assert raw not in body, f"{raw!r} is shown as text"
    assert page.locator("h1 .kf-status").inner_text() == "FAIL"
    assert "Fix guardrail payments-only-from-checkout" in page.locator(".kf-todo").inner_text()
    change = page.locator("table.kf-filterable tr.added", has_text="PAYMENTS_URL")
    assert change.locator("td").last.inner_text() == "payments-only-from-checkout"  # what it breaks
    _no_horizontal_overflow(page)


def test_review_draws_the_added_edge_as_added(reports: dict[str, Path], open_page: Any) -> None:
    page = open_page(reports["review"])
    edge = page.locator(f'.kf-view[data-view="workloads"] g.kf-edge.added{ADDED}')
    assert edge.count() == 1 and edge.is_visible()
    style = edge.locator("path.kf-line").evaluate(
        "p => { const s = getComputedStyle(p); return [s.stroke, s.strokeWidth, s.strokeDasharray] }"
    )
    assert style[0] == "rgb(26, 127, 55)"  # green
    assert float(style[1].rstrip("px")) >= 3  # thick
    assert edge.locator("text").first.text_content() == "+ ADDED"  # the badge
    assert "TCP 6379" in (edge.text_content() or "")  # the port
    plain = page.locator('.kf-view[data-view="workloads"] g.kf-edge.unchanged path.kf-line').first
    assert float(plain.evaluate("p => getComputedStyle(p).strokeWidth").rstrip("px")) < 2
    legend = page.locator(".legend").inner_text()
    assert "+ ADDED" in legend and "unchanged" in legend and "REMOVED" not in legend


_EDGES_AVOID_NODES = """svg => {
  const rects = Array.from(svg.querySelectorAll('g.kf-node')).map(g => {
    const r = g.querySelector('rect');
    return {id: g.dataset.id, x: +r.getAttribute('x'), y: +r.getAttribute('y'),
            w: +r.getAttribute('width'), h: +r.getAttribute('height')};
  });
  const hits = [];
  for (const g of svg.querySelectorAll('g.kf-edge')) {
    const path = g.querySelector('path.kf-line'), length = path.getTotalLength();
    for (let d = 0; d <= length; d += 4) {
      const p = path.getPointAtLength(d);
      for (const r of rects) {
        if (r.id === g.dataset.src || r.id === g.dataset.dst) continue;
        if (p.x > r.x + 1 && p.x < r.x + r.w - 1 && p.y > r.y + 1 && p.y < r.y + r.h - 1)
          hits.push(g.dataset.src + ' -> ' + g.dataset.dst + ' crosses ' + r.id);
      }
    }
  }
  return Array.from(new Set(hits));
}"""


def test_map_is_readable(reports: dict[str, Path], open_page: Any) -> None:
    page = open_page(reports["map"])
    _shot(page, "map.png")
    _no_horizontal_overflow(page)
    graph = page.locator('.kf-view[data-view="workloads"] svg.kf-graph')
    assert graph.evaluate(_EDGES_AVOID_NODES) == []  # no edge runs behind an unrelated node
    # full external names, wrapped rather than cut
    external = graph.locator('g.kf-node[data-id^="0.0.0.0-9.255.255.255,"]')
    assert external.count() == 1
    name = "".join((t.text_content() or "").strip() for t in external.locator("text").all()[:-1])
    ranges = "0.0.0.0-9.255.255.255,11.0.0.0-172.15.255.255,172.32.0.0-192.167.255.255,"
    assert name == ranges + "192.169.0.0-255.255.255.255"
    assert "…" not in page.inner_text("body")
    # traffic flows left to right: the ingress side first, the data stores last
    x = {
        ns: graph.locator(f'g.kf-group[data-ns="{ns}"] rect').evaluate("r => +r.getAttribute('x')")
        for ns in ("shop-frontend", "shop-backend", "shop-data")
    }
    assert x["shop-frontend"] < x["shop-backend"] < x["shop-data"]
    ports = graph.locator('g.kf-edge[data-dst="shop-data/postgres[StatefulSet]"] text.kf-port').all()
    assert "TCP 5432" in [p.text_content() for p in ports]
    assert page.locator(".legend").count() == 0  # no changes, no change legend
    assert page.locator("#kf-filter-changed").count() == 0


def test_review_graph_edges_avoid_nodes(reports: dict[str, Path], open_page: Any) -> None:
    page = open_page(reports["review"])
    for svg in page.locator("svg.kf-graph").all():
        assert svg.evaluate(_EDGES_AVOID_NODES) == []


def test_namespace_view_expands_a_namespace(reports: dict[str, Path], open_page: Any) -> None:
    page = open_page(reports["review"])
    page.locator('.kf-tab[data-view="namespaces"]').click()
    view = page.locator('.kf-view[data-view="namespaces"]')
    assert view.is_visible()
    assert not page.locator('.kf-view[data-view="workloads"]').is_visible()
    detail = page.locator("details#kf-ns-shop-data")
    assert not detail.locator("svg").is_visible()
    view.locator('svg.kf-overview g.kf-node[data-id="shop-data"]').click()
    assert detail.evaluate("d => d.open")
    assert detail.locator('g.kf-node[data-id="shop-data/redis[StatefulSet]"]').is_visible()
    assert detail.locator(f"g.kf-edge.added{ADDED}").is_visible()
    overview_edge = view.locator('svg.kf-overview g.kf-edge[data-src="shop-backend"][data-dst="shop-data"]')
    assert overview_edge.get_attribute("data-change") == "added"
    _shot(page, "review-namespaces.png")


def _visible_edges(page: Any) -> list[tuple[str, str]]:
    return [
        (e.get_attribute("data-src"), e.get_attribute("data-dst"))
        for e in page.locator('.kf-view[data-view="workloads"] g.kf-edge').all()
        if e.is_visible()
    ]


def test_filters_narrow_graph_and_table(reports: dict[str, Path], open_page: Any) -> None:
    page = open_page(reports["review"])
    everything = _visible_edges(page)
    assert len(everything) >= 20
    page.locator("#kf-filter-changed").check()
    assert sorted(_visible_edges(page)) == [
        ("shop-backend/cart[Deployment]", "payments/payments-gateway[Deployment]"),
        ("shop-backend/orders[Deployment]", "shop-data/redis[StatefulSet]"),
    ]
    assert not page.locator('g.kf-node[data-id="shop-frontend/web[Deployment]"]').first.is_visible()
    workloads = page.locator('.kf-view[data-view="workloads"]')
    assert not workloads.locator('g.kf-group[data-ns="shop-frontend"]').is_visible()  # nothing left in it
    assert workloads.locator('g.kf-group[data-ns="payments"]').is_visible()
    page.locator("#kf-filter-changed").uncheck()
    page.locator("#kf-filter-ns").select_option("payments")
    shown = _visible_edges(page)
    assert shown and all("payments/" in s or "payments/" in d for s, d in shown)
    assert len(shown) < len(everything)
    assert page.locator("details#kf-ns-payments").evaluate("d => d.open")
    assert not page.locator("details#kf-ns-shop-data").is_visible()
    page.locator("#kf-filter-ns").select_option("")
    page.locator("#kf-filter-search").fill("6379")
    shown = _visible_edges(page)
    assert shown and all(d == "shop-data/redis[StatefulSet]" for _, d in shown)
    rows = [r for r in page.locator("table.kf-filterable tr[data-text]").all() if r.is_visible()]
    assert len(rows) == 1 and "REDIS_ADDR" in rows[0].inner_text()
    assert page.locator("#kf-filter-count").inner_text() == "1 of 2 rows shown"
    _shot(page, "review-filtered.png")


def test_verify_report_renders_guardrails_as_html(reports: dict[str, Path], open_page: Any) -> None:
    page = open_page(reports["verify"])
    _shot(page, "verify.png")
    violated = page.locator("table.kf-guardrails tr.violated")
    assert violated.count() == 1
    assert "storefront-never-reaches-data" in violated.inner_text()
    assert page.locator("table.kf-guardrails tr.satisfied").count() == 4
    body = page.inner_text("body")
    assert "**" not in body and "<details" not in body
    _no_horizontal_overflow(page)
