"""The suggested label changes of a generation, as a markdown section (the review's PR comment).

Each workload that no label of its own selects alone gets the label to add to its pod template,
written as a diff of the manifest's nesting, so the author can copy it into the chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.analysis.generate.separating import LabelHint


def _why(hint: LabelHint) -> str:
    if hint.shared_with:
        others = ", ".join(f"`{w}`" for w in hint.shared_with)
        return f"has the same labels as {others}: they share their policies"
    if hint.selector.is_empty:
        return "has no labels: its policy selects every pod of its namespace"
    return f"is selected by the labels it lacks (`{hint.selector}`)"


def _diff(hint: LabelHint) -> list[str]:
    """The label as an addition under the pod template's labels, with the nesting as context."""
    lines = [f" {'  ' * depth}{step}:" for depth, step in enumerate(hint.template_path)]
    lines.append(f"+{'  ' * len(hint.template_path)}{hint.label}")
    return lines


def label_hints_markdown(hints: Sequence[LabelHint]) -> list[str]:
    """The "Suggested label changes" section: empty when every workload has a label of its own."""
    if not hints:
        return []
    out = [
        "",
        "### Suggested label changes",
        "",
        "These workloads have no label of their own that tells them apart in their namespace. Adding "
        "the label to the pod template lets the generated policies select each by it:",
    ]
    for hint in hints:
        where = f" (`{hint.origin}`)" if hint.origin.file else ""
        out += ["", f"- `{hint.workload}`{where} {_why(hint)}.", "", "  ```diff"]
        out += [f"  {line}" for line in _diff(hint)]
        out.append("  ```")
    return out
