"""Report view of explanations: per pair, per direction, which tier, policy and rule decided."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubefence.analysis.connectivity.explain import Explanation, PairExplanation
from kubefence.model.connectivity import Connection
from kubefence.report.peers_text import peer_text
from kubefence.report.rules_text import decision_json, decision_text, describe, tier_text
from kubefence.report.view import View, adapter, graph_of


def _verdict(p: PairExplanation) -> str:
    if not p.allowed:
        return "denied"
    if p.allowed == p.query:
        return f"allowed ({describe(p.allowed)})"
    return f"partly allowed: {describe(p.allowed)}"


def pair_lines(p: PairExplanation) -> Iterator[str]:
    yield f"{peer_text(p.src)} => {peer_text(p.dst)} : {_verdict(p)}"
    for d in p.directions:
        yield f"  {d.direction} of {peer_text(d.subject)}:"
        for dec in d.decisions:
            yield f"    {describe(dec.conn)}: {decision_text(dec)} [{tier_text(dec.layer)}]"
    for r in p.routes:
        routed = describe(r.conn)
        yield f"  {r.kind} {r.namespace}/{r.name} sends the ingress controller's traffic on {routed}"


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
                    "src": peer_text(p.src),
                    "dst": peer_text(p.dst),
                    "query": str(p.query),
                    "allowed": str(p.allowed),
                    "directions": [
                        {
                            "direction": d.direction,
                            "subject": peer_text(d.subject),
                            "allowed": str(d.allowed),
                            "decisions": [decision_json(dec) for dec in d.decisions],
                        }
                        for d in p.directions
                    ],
                    **(
                        {
                            "routes": [
                                {
                                    "kind": r.kind,
                                    "namespace": r.namespace,
                                    "name": r.name,
                                    "conn": str(r.conn),
                                }
                                for r in p.routes
                            ]
                        }
                        if p.routes
                        else {}
                    ),
                }
                for p in expl.pairs
            ]
        }

    def rows() -> Iterator[tuple[str, ...]]:
        for p in expl.pairs:
            for d in p.directions:
                for dec in d.decisions:
                    verdict = "allowed" if dec.allowed else "denied"
                    yield (
                        peer_text(p.src),
                        peer_text(p.dst),
                        d.direction,
                        str(dec.conn),
                        verdict,
                        tier_text(dec.layer),
                        decision_text(dec),
                    )

    def connections() -> list[Connection]:
        return [Connection(p.src, p.dst, p.allowed) for p in expl.pairs if p.allowed]

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
