"""Report view of a review: the PR comment (markdown) and the HTML report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from html import escape
from typing import Any

from kubefence.analysis.connectivity.diff import ChangeType
from kubefence.analysis.review import ExplainedChange, ReviewResult
from kubefence.model.connectivity import Connection
from kubefence.model.peers import Peer
from kubefence.report.audit_view import audited_json, impact_headline, impact_html, impact_markdown
from kubefence.report.diff_view import diff_summary
from kubefence.report.evidence_text import evidence_json, evidence_text
from kubefence.report.guardrails_view import first_witness, guardrails_html, markdown_body
from kubefence.report.html import filter_bar, graph_section, status_badge, table
from kubefence.report.label_hints_view import label_hints_markdown
from kubefence.report.peers_text import peer_text
from kubefence.report.view import Edge, Node, View, adapter, graph_of, view_of

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


def _violated_names(r: ReviewResult) -> list[str]:
    return [] if r.guardrails is None else [x.rule.name for x in r.guardrails.violated]


def headline(r: ReviewResult) -> str:
    parts = [diff_summary(r.diff).rstrip(".")]
    if r.guardrails is not None:
        names = _violated_names(r)
        if names:
            parts.append(f"guardrail{'s' if len(names) != 1 else ''} violated: {', '.join(names)}")
        else:
            parts.append("guardrails hold")
    if r.drift:
        parts.append(f"{len(r.drift)} policy file(s) out of date")
    elif r.policies_dir:
        parts.append("committed policies up to date")
    if r.observed is not None:
        parts.append(impact_headline(r.observed))
    return "; ".join(parts)


def _regenerate_command(r: ReviewResult) -> str:
    return f"kubefence generate {' '.join(r.app_paths) or '.'} -d {r.policies_dir}"


def todo(r: ReviewResult) -> list[str]:
    """What a reviewer has to do, one plain sentence each (empty when there is nothing to do)."""
    out = []
    if r.guardrails is not None:
        for x in r.guardrails.violated:
            out.append(f"Fix guardrail {x.rule.name}: {first_witness(x)}.")
    counts = {t: len(r.diff.of_type(t)) for t in ChangeType}
    if r.changes:
        what = ", ".join(f"{n} {t.value}" for t, n in counts.items() if n)
        out.append(f"Check the connectivity changes ({what}): each row says what caused it.")
    if r.observed is not None and r.observed.blocked:
        out.append(
            f"Check the observed traffic this change would block: {impact_headline(r.observed)} "
            "that the current policies allow."
        )
    if r.drift:
        out.append(
            f"Commit the regenerated policies: {len(r.drift)} file(s) in {r.policies_dir} are out of date "
            f"(`{_regenerate_command(r)}`)."
        )
    hints = r.head.generated.label_hints
    if hints:
        out.append(
            f"Consider the suggested labels: {len(hints)} workload(s) have no label that tells them apart, "
            "so their policies also select other pods."
        )
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(r: ReviewResult) -> str:
    blocked = r.observed is not None and r.observed.blocked
    status = "❌" if r.violated else ("⚠️" if r.diff.changes or r.drift or blocked else "✅")
    out = [
        COMMENT_MARKER,
        f"## {status} kubefence review: {headline(r)}",
        "",
    ]
    actions = todo(r)
    if actions:
        out += ["**To do before merging:**", ""] + [f"- {_md_cell(a)}" for a in actions]
    else:
        out.append(
            "**Nothing to do:** no connectivity change, guardrails hold, committed policies up to date."
        )
    out += [
        "",
        f"Comparing `{r.base.ref}` → `{r.head.ref}`: the connectivity the application gets with its "
        "generated least-privilege policies.",
        "",
        "### Connectivity changes",
        "",
    ]
    if r.changes:
        out += ["| change | source | destination | before | after | why |", "|---|---|---|---|---|---|"]
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
    if r.observed is not None:
        out += ["", *impact_markdown(r.observed)]
    if r.guardrails is not None:
        out += ["", "### Guardrails", "", markdown_body(r.guardrails).rstrip("\n")]
    if r.policies_dir:
        out += ["", "### Committed policies", ""]
        if not r.drift:
            out.append(f"✅ `{r.policies_dir}` matches the generated policies.")
        else:
            out.append(
                f"⚠️ {len(r.drift)} file(s) in `{r.policies_dir}` differ from the generated policies: "
                f"regenerate with `{_regenerate_command(r)}` "
                "and commit (kubefence review has written them unless run with --no-write)."
            )
            for ch in r.drift:
                out += ["", f"<details><summary><code>{ch.path}</code></summary>", "", "```diff"]
                out.append(ch.unified_diff().rstrip("\n"))
                out += ["```", "", "</details>"]
    out += label_hints_markdown(r.head.generated.label_hints)
    return "\n".join(out) + "\n"


def _styles(r: ReviewResult) -> dict[tuple[Peer, Peer], str]:
    return {(ec.change.src, ec.change.dst): ec.change.type.value for ec in r.changes}


def review_graph(r: ReviewResult) -> tuple[list[Node], list[Edge]]:
    """The head's connectivity with what changed marked (removed edges drawn from the base)."""
    conns = list(r.head.allowed.connections) + [
        Connection(ec.change.src, ec.change.dst, ec.change.old)
        for ec in r.changes
        if ec.change.type is ChangeType.REMOVED
    ]
    return graph_of(conns, _styles(r))


def changed_graph(r: ReviewResult) -> tuple[list[Node], list[Edge]]:
    """Only what changed (for ``-o dot`` and ``-o svg``): each change with its new (or old) ports."""
    conns = [Connection(ec.change.src, ec.change.dst, ec.change.new or ec.change.old) for ec in r.changes]
    return graph_of(conns, _styles(r))


def _status(r: ReviewResult) -> str:
    if r.violated:
        return status_badge("bad", "FAIL")
    if r.diff.changes or r.drift:
        return status_badge("warn", "REVIEW")
    return status_badge("ok", "PASS")


def html_body(r: ReviewResult) -> list[str]:
    body = [
        f'<p class="summary">{escape(headline(r))} — <code>{escape(r.base.ref)}</code> → '
        f"<code>{escape(r.head.ref)}</code></p>"
    ]
    actions = todo(r)
    if actions:
        body.append('<div class="kf-todo"><strong>To do before merging:</strong><ul>')
        body += [f"<li>{escape(a)}</li>" for a in actions]
        body.append("</ul></div>")
    else:
        body.append(
            '<p class="ok">Nothing to do: no connectivity change, guardrails hold, policies up to date.</p>'
        )
    nodes, edges = review_graph(r)
    body.append(filter_bar(nodes, changes=bool(r.changes)))
    body.append("<h2>Connectivity</h2>")
    body += graph_section(nodes, edges, "connectivity")
    body.append("<h2>Changes</h2>")
    if r.changes:
        breaks: dict[tuple[Peer, Peer], list[str]] = defaultdict(list)  # the changes guardrails forbid
        for x in r.guardrails.violated if r.guardrails is not None else ():
            for v in x.violations:
                breaks[(v.src, v.dst)].append(x.rule.name)
        rows = [
            (
                ec.change.type.value,
                peer_text(ec.change.src),
                peer_text(ec.change.dst),
                str(ec.change.old),
                str(ec.change.new),
                "; ".join(evidence_text(e) for e in ec.evidence) or "policy or topology change",
                ", ".join(breaks.get((ec.change.src, ec.change.dst), [])),
            )
            for ec in r.changes
        ]
        columns = ("type", "source", "destination", "before", "after", "why", "violates")
        body.append(table(columns, rows, row_class=0))
    else:
        body.append("<p>No connectivity changes.</p>")
    if r.observed is not None:
        body += impact_html(r.observed)
    if r.guardrails is not None:
        body.append("<h2>Guardrails</h2>")
        body += guardrails_html(r.guardrails)
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
        for x in r.guardrails.violated if r.guardrails is not None else ():
            yield f"guardrail violated: {x.rule.name}: {first_witness(x)}"
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
            **(
                {}
                if r.observed is None
                else {"observed_blocked": [audited_json(a) for a in r.observed.blocked]}
            ),
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
        nodes=lambda: changed_graph(r)[0],
        edges=lambda: changed_graph(r)[1],
        summary=headline(r),
        markdown=lambda: markdown(r),
        html_body=lambda: html_body(r),
        html_status=_status(r),
    )
