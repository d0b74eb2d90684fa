"""Review of a change to an application: how the connectivity it would get changes, and why.

Both versions go through the same pipeline — discover the needed connectivity, generate the
policies, map the application with them — and the two maps are diffed. Each change carries the
evidence (the env var, ConfigMap key or Service that caused it), committed policies are checked
against the regenerated ones (drift), and guardrails, when given, are verified on the new version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubefence import defaults
from kubefence.analysis.audit.impact import ObservedImpact, observed_impact
from kubefence.analysis.connectivity.diff import Change, ConnectivityDiff, diff_maps
from kubefence.analysis.connectivity.engine import MapOptions
from kubefence.analysis.connectivity.networks import compute_any_connectivity
from kubefence.analysis.discover.pipeline import DiscoverOptions, discover
from kubefence.analysis.generate.pipeline import generate_for
from kubefence.analysis.generate.synthesize import GeneratedPolicies, GenerateOptions
from kubefence.analysis.guardrails.verify import VerifyResult, verify
from kubefence.changes import FileChange
from kubefence.errors import Diagnostic
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import ConnectivityMap, ExternalPeer
from kubefence.model.discovery import DiscoveryResult, Evidence
from kubefence.model.flows import FlowLog
from kubefence.model.guardrails import Guardrail

#: The policy files of generated policies (name -> text): the writer, given by the caller.
PolicyFiles = Callable[[GeneratedPolicies], Mapping[str, str]]


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
    generated: GeneratedPolicies  # for what the application needs
    files: dict[str, str]  # the policy files to commit (within the guardrails, if any), name -> text
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
    observed: ObservedImpact | None = None  # with flow logs: observed traffic the change would block

    @property
    def violated(self) -> bool:
        return self.guardrails is not None and not self.guardrails.ok


def run_side(
    ref: str,
    app: Cluster,
    options: ReviewOptions,
    policy_files: PolicyFiles,
    guardrails: Sequence[Guardrail] = (),
) -> Side:
    """One version through the pipeline of ``generate``: discover, generate, map with the policies.

    The map shows what the application needs (policies generated without guardrails, so that a
    change asking for a forbidden connection shows it); the files are what ``generate`` writes, with
    the same guardrails.
    """
    needed = discover(app, options.discover)
    generated = generate_for(app, needed=needed, options=options.generate)
    committed = (
        generate_for(app, needed=needed, options=options.generate, guardrails=guardrails)
        if guardrails
        else generated
    )
    allowed = compute_any_connectivity(
        app.with_policies(g.policy for g in generated.policies), options.map_options
    )
    return Side(ref, app, needed, generated, dict(policy_files(committed)), allowed)


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


def drift(
    committed: Mapping[str, str], generated: Mapping[str, str], policies_dir: str
) -> tuple[FileChange, ...]:
    """Files whose committed text differs from the generated one (missing or extra files included)."""
    out = []
    for name in sorted(committed.keys() | generated.keys()):
        old = committed.get(name)
        new = generated.get(name, "")
        if old != new:
            out.append(FileChange(Path(policies_dir) / name, old, new))
    return tuple(out)


def review(
    base: tuple[str, Cluster],
    head: tuple[str, Cluster],
    *,
    policy_files: PolicyFiles,
    committed_policies: Mapping[str, str] | None = None,
    policies_dir: str = "",
    app_paths: Sequence[str] = (),
    guardrails: Sequence[Guardrail] = (),
    options: ReviewOptions | None = None,
    flows: FlowLog | None = None,
    flows_min_count: int = 1,
) -> ReviewResult:
    """Review the change from ``base`` to ``head``: each a ref and its application (read with
    ``read_application``, without policies).

    ``policy_files``: writes generated policies as files (name -> text), as ``generate`` does.
    ``committed_policies``: the policy files at head (name -> text) to check for drift.
    ``guardrails``: verified on the head application with its generated policies; the regenerated
    files are generated within them, as ``generate --guardrails`` writes them.
    ``flows``: observed traffic, audited against both versions' generated policies.
    """
    options = options or ReviewOptions()
    old = run_side(base[0], base[1], options, policy_files, guardrails)
    new = run_side(head[0], head[1], options, policy_files, guardrails)
    diff = diff_maps(old.allowed, new.allowed)
    changes = tuple(ExplainedChange(c, _evidence(old if not c.new else new, c)) for c in diff.changes)
    drifted = drift(committed_policies, new.files, policies_dir) if committed_policies is not None else ()
    checked = None
    if guardrails:
        enforced = new.app.with_policies(g.policy for g in new.generated.policies)
        checked = verify(enforced, guardrails, options=options.map_options, witnesses=defaults.WITNESSES)
    warnings = tuple(new.generated.warnings)
    observed = None
    if flows is not None:
        sides = [(s.app, tuple(g.policy for g in s.generated.policies)) for s in (old, new)]
        observed = observed_impact(sides[0], sides[1], flows, options.map_options, flows_min_count)
    return ReviewResult(
        old, new, diff, changes, drifted, policies_dir, tuple(app_paths), checked, warnings, observed
    )
