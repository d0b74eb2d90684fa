"""Review of a change to an application: how the connectivity it would get changes, and why.

Both versions go through the same pipeline — discover the needed connectivity, generate the
policies, map the application with them — and the two maps are diffed. Each change carries the
evidence (the env var, ConfigMap key or Service that caused it), committed policies are checked
against the regenerated ones (drift), and guardrails, when given, are verified on the new version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubefence.analysis.connectivity.diff import Change, ConnectivityDiff, diff_maps
from kubefence.analysis.connectivity.engine import MapOptions
from kubefence.analysis.connectivity.networks import compute_any_connectivity
from kubefence.analysis.discover.pipeline import DiscoverOptions, discover_documents
from kubefence.analysis.discover.results import DiscoveryResult, Evidence
from kubefence.analysis.generate.synthesize import GeneratedPolicies, GenerateOptions, synthesize
from kubefence.analysis.guardrails.verify import VerifyResult
from kubefence.errors import Diagnostic, Origin
from kubefence.io.documents import Document
from kubefence.io.kube import build_cluster
from kubefence.io.policy_yaml import FileChange, namespace_files, policy_dict
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import ConnectivityMap, ExternalPeer

POLICY_KINDS = frozenset(
    {
        "NetworkPolicy",
        "NetworkPolicyList",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "ClusterNetworkPolicy",
    }
)


@dataclass(frozen=True)
class ReviewOptions:
    generate: GenerateOptions = field(default_factory=GenerateOptions)
    discover: DiscoverOptions = field(default_factory=DiscoverOptions)

    @property
    def map_options(self) -> MapOptions:
        # discover speaks IPv4 for exposures; the controller is where generate lets it in from
        return MapOptions(
            ip_family="ipv4", ingress_controller_namespace=self.generate.ingress_controller_namespace
        )


@dataclass(frozen=True)
class Side:
    """One version of the application, through the pipeline."""

    ref: str
    app: Cluster
    needed: DiscoveryResult
    generated: GeneratedPolicies
    files: dict[str, str]  # the generated policy files, name -> text
    allowed: ConnectivityMap  # the application with its generated policies


@dataclass(frozen=True)
class ExplainedChange:
    change: Change
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class ReviewResult:
    base: Side
    head: Side
    diff: ConnectivityDiff
    changes: tuple[ExplainedChange, ...]
    drift: tuple[FileChange, ...]  # committed policy files that differ from the regenerated ones
    policies_dir: str = ""
    app_paths: tuple[str, ...] = ()  # what the application's manifests are, for the hints we print
    guardrails: VerifyResult | None = None  # when guardrails were given
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def violated(self) -> bool:
        return self.guardrails is not None and not self.guardrails.ok


def run_side(ref: str, docs: Sequence[Document], options: ReviewOptions) -> Side:
    app_docs = [d for d in docs if d.kind not in POLICY_KINDS]
    needed = discover_documents(app_docs, options.discover)
    app = build_cluster(app_docs)
    generated = synthesize(app, needed, options.generate)
    policy_docs = [Document(policy_dict(g.policy), Origin(f"{ref}:<generated>")) for g in generated.policies]
    allowed = compute_any_connectivity(build_cluster(app_docs + policy_docs), options.map_options)
    return Side(
        ref,
        app,
        needed,
        generated,
        namespace_files((g.policy, g.comments) for g in generated.policies),
        allowed,
    )


def _evidence(side: Side, change: Change) -> tuple[Evidence, ...]:
    src, dst = change.src, change.dst
    for nc in side.needed.connections:
        if nc.src == src and nc.dst == dst:
            return nc.evidence
        # exposures: the map cuts the outside at the policies' address blocks
        if isinstance(src, ExternalPeer) and isinstance(nc.src, ExternalPeer) and nc.dst == dst:
            return nc.evidence
        if isinstance(dst, ExternalPeer) and isinstance(nc.dst, ExternalPeer) and nc.src == src:
            return nc.evidence
    return ()


def drift(committed: dict[str, str], generated: dict[str, str], policies_dir: str) -> tuple[FileChange, ...]:
    """Files whose committed text differs from the generated one (missing or extra files included)."""
    out = []
    for name in sorted(committed.keys() | generated.keys()):
        old = committed.get(name)
        new = generated.get(name, "")
        if old != new:
            out.append(FileChange(Path(policies_dir) / name, old, new))
    return tuple(out)


def review(
    base: tuple[str, Sequence[Document]],
    head: tuple[str, Sequence[Document]],
    *,
    committed_policies: dict[str, str] | None = None,
    policies_dir: str = "",
    app_paths: Sequence[str] = (),
    verify: Callable[[Cluster], VerifyResult] | None = None,
    options: ReviewOptions | None = None,
) -> ReviewResult:
    """Review the change from ``base`` to ``head`` (each a ref and its documents).

    ``committed_policies``: the policy files at head (name -> text) to check for drift.
    ``verify``: checks guardrails on the head application with its generated policies.
    """
    options = options or ReviewOptions()
    old = run_side(base[0], base[1], options)
    new = run_side(head[0], head[1], options)
    diff = diff_maps(old.allowed, new.allowed)
    changes = tuple(ExplainedChange(c, _evidence(old if not c.new else new, c)) for c in diff.changes)
    drifted = drift(committed_policies, new.files, policies_dir) if committed_policies is not None else ()
    guardrails = None
    if verify is not None:
        head_docs = [d for d in head[1] if d.kind not in POLICY_KINDS]
        policy_docs = [
            Document(policy_dict(g.policy), Origin(f"{head[0]}:<generated>")) for g in new.generated.policies
        ]
        guardrails = verify(build_cluster(head_docs + policy_docs))
    warnings = tuple(new.generated.warnings)
    return ReviewResult(
        old, new, diff, changes, drifted, policies_dir, tuple(app_paths), guardrails, warnings
    )
