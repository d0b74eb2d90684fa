"""Report view of explanations: per pair, per direction, which tier, policy and rule decided."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.connectivity.explain import Explanation, PairExplanation, describe
from kubefence.model.connectivity import Connection, Peer, PeerKind
from kubefence.report.view import View, adapter, graph_of


def _verdict(p: PairExplanation) -> str:
    if not p.allowed:
        return "denied"
    if p.allowed == p.query:
        return f"allowed ({describe(p.allowed)})"
    return f"partly allowed: {describe(p.allowed)}"


def pair_lines(p: PairExplanation) -> Iterator[str]:
    yield f"{p.src} => {p.dst} : {_verdict(p)}"
    for d in p.directions:
        yield f"  {d.direction} of {d.subject}:"
        for dec in d.decisions:
            yield f"    {describe(dec.conn)}: {dec.source} [{dec.layer.value}]"


@adapter(Explanation)
def _explanation_view(expl: Explanation) -> View:
    def lines() -> Iterator[str]:
        for i, p in enumerate(expl.pairs):
            if i:
                yield ""
            yield from pair_lines(p)

    def as_json() -> dict[str, Any]:
        return {
            "explanations": [
                {
                    "src": p.src,
                    "dst": p.dst,
                    "query": str(p.query),
                    "allowed": str(p.allowed),
                    "directions": [
                        {
                            "direction": d.direction,
                            "subject": d.subject,
                            "allowed": str(d.allowed),
                            "decisions": [
                                {
                                    "conn": str(dec.conn),
                                    "layer": dec.layer.value,
                                    "allowed": dec.allowed,
                                    "source": dec.source,
                                }
                                for dec in d.decisions
                            ],
                        }
                        for d in p.directions
                    ],
                }
                for p in expl.pairs
            ]
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for p in expl.pairs:
            for d in p.directions:
                for dec in d.decisions:
                    verdict = "allowed" if dec.allowed else "denied"
                    yield (p.src, p.dst, d.direction, str(dec.conn), verdict, dec.layer.value, dec.source)

    def connections() -> list[Connection]:
        return [Connection(_peer(p.src), _peer(p.dst), p.allowed) for p in expl.pairs if p.allowed]

    allowed = sum(1 for p in expl.pairs if p.allowed)
    return View(
        title="Connectivity explained",
        lines=lines,
        json=as_json,
        columns=("src", "dst", "direction", "conn", "verdict", "layer", "decided by"),
        rows=rows,
        nodes=lambda: graph_of(connections())[0],
        edges=lambda: graph_of(connections())[1],
        summary=f"{len(expl.pairs)} pair(s) explained, {allowed} with allowed connections",
    )


def _peer(name: str) -> Peer:
    if name.endswith("[External]"):
        return Peer(name, PeerKind.IP)
    if "/" in name:
        return Peer(name, PeerKind.WORKLOAD, name.split("/", 1)[0])
    return Peer(name, PeerKind.INGRESS_CONTROLLER)
