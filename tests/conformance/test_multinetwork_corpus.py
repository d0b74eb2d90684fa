"""Conformance on multi-network clusters: ``kubefence map`` and ``diff`` against netpol-analyzer.

Cases in ``../shared/corpus/connlist-multinetwork/<case>/`` (UDN, CUDN, NAD, MultiNetworkPolicy,
KubeVirt VMs) hold netpol-analyzer's text output: one section per network, then the mapping of
workloads to networks. Each network's section is compared semantically, as the single-network
connlist test compares whole outputs; the headers of the sections present and the mapping must be
the same. ``diff-multinetwork`` cases are compared as the diff corpus test does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import pytest
from connlist_compare import compare_connlists
from test_diff_corpus import _sides

import kubefence
from kubefence.report import render

_SHARED: Final = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CONNLIST: Final = _SHARED / "connlist-multinetwork"
DIFF: Final = _SHARED / "diff-multinetwork"
MAP_OPTIONS: Final = kubefence.MapOptions(
    ip_family="ipv4", ingress_controller_namespace="ingress-controller-ns"
)
_HEADER: Final = re.compile(r"^Permitted connectivity analyzed in (?P<network>.+):$")
_MAPPING: Final = "Workload-to-Networks Mapping:"
_NOTES: Final = (
    "all input workloads are configured with (C)UDN as their primary network interface",
    "All connections are not allowed for the workloads in the pod-network",
)


def _cases(root: Path) -> list[object]:
    if not root.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(p, id=p.name) for p in sorted(root.iterdir()) if p.is_dir()]


def split_sections(text: str) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """({network header: connection lines}, notes, mapping lines) of a per-network text output.

    Output without section headers is all one pod-network section. ``[udn]`` tags are kept: they
    are part of what a section says about its peers.
    """
    sections: dict[str, list[str]] = {}
    notes: list[str] = []
    mapping: list[str] = []
    current: list[str] | None = sections.setdefault("Pod network", [])
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            continue
        if line == _MAPPING:
            current = None
            continue
        if current is None:
            mapping.append(line.strip())
        elif header := _HEADER.match(line):
            current = sections.setdefault(header["network"], [])
        elif line in _NOTES:
            notes.append(line)
        else:
            current.append(line.replace("[udn]/", "/"))
    return {k: v for k, v in sections.items() if v or k == "Pod network"}, notes, mapping


def test_section_splitter_reads_headers_notes_and_mapping() -> None:
    text = (
        "Permitted connectivity analyzed in Pod network:\n"
        + _NOTES[0]
        + "\n\nPermitted connectivity analyzed in primary UDN blue:\n"
        "blue[udn]/a[Pod] => blue[udn]/b[Pod] : All Connections\n\n"
        "Workload-to-Networks Mapping:\nblue/a[Pod]: \n\tPrimary Network: blue[UDN]\n"
    )
    sections, notes, mapping = split_sections(text)
    assert sections == {
        "Pod network": [],
        "primary UDN blue": ["blue/a[Pod] => blue/b[Pod] : All Connections"],
    }
    assert notes == [_NOTES[0]]
    assert mapping == ["blue/a[Pod]:", "Primary Network: blue[UDN]"]


@pytest.mark.parametrize("case", _cases(CONNLIST))
def test_map_per_network_matches_netpol_analyzer(case: Path | None) -> None:
    if case is None:
        pytest.skip("../shared/corpus not found: multi-network conformance skipped")
    result = kubefence.map_networks([case / "input"], options=MAP_OPTIONS)
    ours = render(result, "txt")
    expected_text = (case / "expected.txt").read_text(encoding="utf-8")
    exp_sections, exp_notes, exp_mapping = split_sections(expected_text)
    our_sections, our_notes, our_mapping = split_sections(ours)
    assert sorted(our_sections) == sorted(exp_sections), f"{case.name}: sections differ"
    problems = [
        f"{network}: {d}"
        for network, lines in exp_sections.items()
        for d in compare_connlists("\n".join(lines), "\n".join(our_sections[network]))
    ]
    assert not problems, f"{case.name}:\n" + "\n".join(problems[:100])
    assert our_notes == exp_notes, case.name
    assert our_mapping == exp_mapping, case.name


@pytest.mark.parametrize("case", _cases(DIFF))
def test_diff_across_networks_matches_netpol_analyzer(case: Path | None) -> None:
    if case is None:
        pytest.skip("../shared/corpus not found: multi-network diff conformance skipped")
    result = kubefence.diff_connectivity([case / "old"], [case / "new"], options=MAP_OPTIONS)
    exp_old, exp_new, exp_kinds = _sides((case / "expected.txt").read_text(encoding="utf-8"))
    our_old, our_new, our_kinds = _sides(render(result, "txt"))
    problems = [f"old side: {d}" for d in compare_connlists(exp_old, our_old)]
    problems += [f"new side: {d}" for d in compare_connlists(exp_new, our_new)]
    problems += [f"diff type differs: {k}" for k in sorted(exp_kinds ^ our_kinds)]
    assert not problems, f"{case.name}:\n" + "\n".join(problems)
