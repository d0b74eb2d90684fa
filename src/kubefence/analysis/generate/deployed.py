"""Whether the policies deployed in a cluster are the generated ones (``generate --check --cluster``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubefence.model.policies import NetworkPolicy


@dataclass(frozen=True)
class DeployedDrift:
    """Generated policies the cluster lacks, deployed ones that differ from the generated (as policies:
    the API server's defaults do not count), and deployed ones kubefence manages that are no longer
    generated. Each is a ``namespace/name``, sorted."""

    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed or self.stale)


def compare_deployed(generated: Iterable[NetworkPolicy], deployed: Iterable[NetworkPolicy]) -> DeployedDrift:
    """Compare generated policies with the deployed ones that kubefence manages."""
    want = {p.full_name: p for p in generated}
    have = {p.full_name: p for p in deployed}
    return DeployedDrift(
        missing=tuple(sorted(want.keys() - have.keys())),
        changed=tuple(sorted(n for n in want.keys() & have.keys() if want[n] != have[n])),
        stale=tuple(sorted(have.keys() - want.keys())),
    )
