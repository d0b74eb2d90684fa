"""Report view of a review: the PR comment (markdown) and the HTML report."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from kubefence.analysis.connectivity.diff import ChangeType
from kubefence.analysis.review import ExplainedChange, ReviewResult
from kubefence.model.connectivity import Connection
from kubefence.report.diff_view import diff_summary
from kubefence.report.evidence_text import evidence_json, evidence_text
from kubefence.report.formats import md
from kubefence.report.html import LEGEND, table
from kubefence.report.label_hints_view import label_hints_markdown
from kubefence.report.peers_text import peer_text
from kubefence.report.svg_graph import render_svg
from kubefence.report.view import View, adapter, graph_of, view_of

COMMENT_MARKER = "<!-- kubefence-review -->"
_ICONS = {ChangeType.ADDED: "🟢 added", ChangeType.REMOVED: "🔴 removed", ChangeType.CHANGED: "🟠 changed"}
_MAX_ROWS = 200


def _why(ec: ExplainedChange) -> str:
    if not ec.evidence:
        return "policy or topology change"
    first = ec.evidence[0]
    text = evidence_text(first)
    more = f" (+{len(ec.evidence) - 1} more)" if len(ec.evidence) > 1 else ""
    return text + more


def headline(r: ReviewResult) -> str:
    parts = [diff_summary(r.diff).rstrip(".")]
    if r.guardrails is not None:
        parts.append("guardrails violated" if r.violated else "guardrails hold")
    if r.drift:
        parts.append(f"{len(r.drift)} policy file(s) out of date")
    elif r.policies_dir:
        parts.append("committed policies up to date")
    return "; ".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(r: ReviewResult) -> str:
    status = "❌" if r.violated else ("⚠️" if r.diff.changes or r.drift else "✅")
    out = [
        COMMENT_MARKER,
        f"## {status} kubefence review: {headline(r)}",
        "",
        f"Comparing `{r.base.ref}` → `{r.head.ref}`: the connectivity the application gets with its "
        "generated least-privilege policies.",
        "",
    ]
    if r.changes:
        out += ["### Connectivity changes", "", "| change | source | destination | before | after | why |"]
        out.append("|---|---|---|---|---|---|")
        for ec in r.changes[:_MAX_ROWS]:
            c = ec.change
            cells = [_ICONS[c.type], peer_text(c.src), peer_text(c.dst), str(c.old), str(c.new), _why(ec)]
            out.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
        if len(r.changes) > _MAX_ROWS:
            out.append(f"\n…and {len(r.changes) - _MAX_ROWS} more (see the HTML report).")
        if r.diff.added_workloads or r.diff.removed_workloads:
            out.append("")
            out += [f"- workload added: `{peer_text(w)}`" for w in r.diff.added_workloads]
            out += [f"- workload removed: `{peer_text(w)}`" for w in r.diff.removed_workloads]
        evidence = [ec for ec in r.changes if len(ec.evidence) > 1]
        if evidence:
            out += ["", "<details><summary>All evidence</summary>", ""]
            for ec in evidence:
                out.append(f"- `{peer_text(ec.change.src)} => {peer_text(ec.change.dst)}`")
                out += [f"  - {_md_cell(evidence_text(e))}" for e in ec.evidence]
            out += ["", "</details>"]
    else:
        out.append("No connectivity changes.")
    if r.guardrails is not None:
        out += ["", "### Guardrails", "", "".join(md(view_of(r.guardrails)))]
    if r.policies_dir:
        out += ["", "### Committed policies", ""]
        if not r.drift:
            out.append(f"✅ `{r.policies_dir}` matches the generated policies.")
        else:
            out.append(
                f"⚠️ {len(r.drift)} file(s) in `{r.policies_dir}` differ from the generated policies: "
                f"regenerate with `kubefence generate {' '.join(r.app_paths) or '.'} -o {r.policies_dir}` "
                "and commit (kubefence review has written them unless run with --no-write)."
            )
            for ch in r.drift:
                out += ["", f"<details><summary><code>{ch.path}</code></summary>", "", "```diff"]
                out.append(ch.unified_diff().rstrip("\n"))
                out += ["```", "", "</details>"]
    out += label_hints_markdown(r.head.generated.label_hints)
    return "\n".join(out) + "\n"


def html_body(r: ReviewResult) -> list[str]:
    body = [
        f'<p class="summary">{escape(headline(r))} — <code>{escape(r.base.ref)}</code> → '
        f"<code>{escape(r.head.ref)}</code></p>"
    ]
    # the head's connectivity, with what changed highlighted (removed edges drawn from the base)
    styles = {(ec.change.src, ec.change.dst): ec.change.type.value for ec in r.changes}
    conns = list(r.head.allowed.connections) + [
        Connection(ec.change.src, ec.change.dst, ec.change.old)
        for ec in r.changes
        if ec.change.type is ChangeType.REMOVED
    ]
    nodes, edges = graph_of(conns, styles)
    body += [
        "<h2>Connectivity</h2>",
        f'<div class="graph">{render_svg(nodes, edges, "connectivity")}</div>',
        LEGEND,
    ]
    body.append("<h2>Changes</h2>")
    if r.changes:
        rows = [
            (
                ec.change.type.value,
                peer_text(ec.change.src),
                peer_text(ec.change.dst),
                str(ec.change.old),
                str(ec.change.new),
                "; ".join(evidence_text(e) for e in ec.evidence) or "policy or topology change",
            )
            for ec in r.changes
        ]
        body.append(table(("type", "source", "destination", "before", "after", "why"), rows, row_class=0))
    else:
        body.append("<p>No connectivity changes.</p>")
    if r.guardrails is not None:
        gv = view_of(r.guardrails)
        body += [
            "<h2>Guardrails</h2>",
            f'<p class="{"bad" if r.violated else "ok"}">{escape(gv.summary)}</p>',
        ]
        body.append(table(gv.columns, gv.rows()))
    if r.policies_dir:
        body.append("<h2>Committed policies</h2>")
        if not r.drift:
            body.append(f'<p class="ok">{escape(r.policies_dir)} matches the generated policies.</p>')
        for ch in r.drift:
            body.append(
                f"<details><summary>{escape(str(ch.path))}</summary><pre>{escape(ch.unified_diff())}</pre></details>"
            )
    return body


@adapter(ReviewResult)
def _review_view(r: ReviewResult) -> View:
    def lines() -> Iterator[str]:
        yield headline(r)
        for ec in r.changes:
            c = ec.change
            yield (
                f"{c.type.value}: {peer_text(c.src)} => {peer_text(c.dst)} : {c.old} -> {c.new}  ({_why(ec)})"
            )
        for ch in r.drift:
            yield f"out of date: {ch.path}"

    def as_json() -> dict[str, Any]:
        return {
            "base": r.base.ref,
            "head": r.head.ref,
            "summary": headline(r),
            "changes": [
                {
                    "type": ec.change.type.value,
                    "src": peer_text(ec.change.src),
                    "dst": peer_text(ec.change.dst),
                    "old": str(ec.change.old),
                    "new": str(ec.change.new),
                    "evidence": [evidence_json(e) for e in ec.evidence],
                }
                for ec in r.changes
            ],
            "guardrails": None if r.guardrails is None else view_of(r.guardrails).json(),
            "drift": [str(ch.path) for ch in r.drift],
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for ec in r.changes:
            c = ec.change
            yield (c.type.value, peer_text(c.src), peer_text(c.dst), str(c.old), str(c.new), _why(ec))

    return View(
        title="kubefence review",
        lines=lines,
        json=as_json,
        columns=("type", "src", "dst", "old", "new", "why"),
        rows=rows,
        summary=headline(r),
        markdown=lambda: markdown(r),
        html_body=lambda: html_body(r),
    )
