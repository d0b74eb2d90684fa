"""The library entry points: each CLI command is one call here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kubefence import defaults
from kubefence.analysis.connectivity.engine import MapOptions
from kubefence.analysis.connectivity.networks import (
    MultiNetworkMap,
    compute_any_connectivity,
    compute_network_connectivity,
    uses_multiple_networks,
)
from kubefence.errors import Diagnostic, InputError, Origin, UsageError
from kubefence.io.documents import Document
from kubefence.io.kube import build_cluster, read_application
from kubefence.io.render import ToolRunner, load_inputs
from kubefence.model.cluster import Cluster
from kubefence.model.connectivity import ConnectivityMap
from kubefence.model.exposure import ExposureMap
from kubefence.model.flows import FlowLog
from kubefence.model.guardrails import Guardrail

if TYPE_CHECKING:
    from kubefence.analysis.audit.check import AuditResult
    from kubefence.analysis.connectivity.diff import ConnectivityDiff
    from kubefence.analysis.connectivity.explain import Explanation
    from kubefence.analysis.discover.flows_resolve import ObservedConnectivity, ResolveOptions
    from kubefence.analysis.discover.pipeline import DiscoverOptions
    from kubefence.analysis.generate.deployed import DeployedDrift
    from kubefence.analysis.generate.synthesize import GeneratedPolicies, GenerateOptions
    from kubefence.analysis.guardrails.export import ExportResult
    from kubefence.analysis.guardrails.verify import VerifyResult
    from kubefence.analysis.lint import LintOptions, LintResult
    from kubefence.analysis.review import ReviewOptions, ReviewResult
    from kubefence.io.gitsource import TreeReader
    from kubefence.model.discovery import DiscoveryResult

# Only what mapping needs is imported above; each other entry point imports its analysis when
# called, so that one command line run loads only the modules its command uses.

Inputs = Sequence[str | Path] | Iterable[dict[str, Any]] | Sequence[Document]


def load_input_documents(
    inputs: Inputs,
    *,
    runner: ToolRunner | None = None,
    stdin_text: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    warnings: list[Diagnostic] | None = None,
) -> list[Document]:
    """Documents from paths (files, directories, Helm charts, Kustomize directories, ``-`` for
    stdin) or from parsed objects (dicts). ``progress(done, total)``: bytes of files parsed."""
    items = list(inputs)
    if items and all(isinstance(i, Document) for i in items):  # already read (a live cluster)
        return [i for i in items if isinstance(i, Document)]
    if items and all(isinstance(i, dict) for i in items):
        return [Document(obj, Origin("<objects>", n + 1)) for n, obj in enumerate(items)]  # type: ignore[arg-type]
    paths = [i for i in items if isinstance(i, str | Path)]
    return load_inputs(paths, runner=runner, stdin_text=stdin_text, progress=progress, warnings=warnings)


def load_cluster(
    inputs: Inputs, *, stdin_text: str | None = None, progress: Callable[[int, int], None] | None = None
) -> Cluster:
    """A cluster from paths (files, directories, ``-`` for stdin) or from parsed objects (dicts).
    ``progress(done, total)``: bytes of files parsed."""
    walk_warnings: list[Diagnostic] = []
    docs = load_input_documents(inputs, stdin_text=stdin_text, progress=progress, warnings=walk_warnings)
    cluster = build_cluster(docs)
    if walk_warnings:
        cluster = replace(cluster, warnings=(*walk_warnings, *cluster.warnings))
    return cluster


def map_connectivity(
    inputs: Inputs | Cluster, *, options: MapOptions | None = None, stdin_text: str | None = None
) -> ConnectivityMap:
    """Which workloads and address ranges may talk to which, on which protocols and ports.

    >>> cmap = map_connectivity(["examples/shop"])           # doctest: +SKIP
    >>> print(cmap.connections[0])                            # doctest: +SKIP
    shop-backend/cart[Deployment] => shop-data/redis[StatefulSet] : TCP 6379
    """
    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    return compute_any_connectivity(cluster, options)


def map_exposure(
    inputs: Inputs | Cluster,
    *,
    options: MapOptions | None = None,
    exposure: bool = True,
    stdin_text: str | None = None,
) -> ExposureMap:
    """The connectivity map and, with ``exposure``, what each workload's policies open to pods
    that do not exist yet (the entire cluster, namespaces or pods by labels) and which workloads
    no policy protects; the focus options of ``options`` narrow both.

    >>> emap = map_exposure(["examples/shop"])                 # doctest: +SKIP
    >>> [str(i.peer) for i in emap.items][:1]                  # doctest: +SKIP
    ['entire-cluster']
    """
    from kubefence.analysis.connectivity.exposure import compute_exposure

    options = options or MapOptions()
    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    cmap = compute_any_connectivity(cluster, options)
    if not exposure:
        return ExposureMap(cmap, analyzed=False, focus_conn=options.focus_conn)
    return compute_exposure(cluster, cmap, options)


def map_networks(
    inputs: Inputs | Cluster, *, options: MapOptions | None = None, stdin_text: str | None = None
) -> MultiNetworkMap:
    """The connectivity of each network: the pod network, primary (Cluster)UserDefinedNetworks and
    secondary networks (NetworkAttachmentDefinitions), and the networks each workload is on.
    :func:`map_connectivity` merges them (a pair is allowed what any network it shares allows)."""
    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    return compute_network_connectivity(cluster, options)


def multiple_networks(cluster: Cluster) -> bool:
    """Whether ``cluster`` has networks beyond the pod network (or KubeVirt VMs), so that its map
    is shown per network."""
    return uses_multiple_networks(cluster)


def explain_connectivity(
    inputs: Inputs | Cluster,
    src: str | None = None,
    dst: str | None = None,
    *,
    port: int | None = None,
    protocol: str | None = None,
    options: MapOptions | None = None,
    only: str | None = None,
    stdin_text: str | None = None,
) -> Explanation:
    """Why traffic from ``src`` to ``dst`` is allowed or denied: per direction, the tier, policy and
    rule that decided each part. Without ``src`` and ``dst``, every pair of workloads (narrowed by
    the focus options of ``options``); ``only``: ``allow`` keeps the pairs with something allowed,
    ``deny`` those with something denied.

    >>> explain_connectivity(["examples/shop"], "shop-frontend/web", "shop-data/redis")  # doctest: +SKIP
    """
    from kubefence.analysis.connectivity.explain import explain, explain_all, only_verdict

    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    if cluster.networks:
        raise UsageError(
            "explain does not yet tell which network decided: the input has user-defined or secondary "
            "networks; use `kubefence map` for their connectivity per network"
        )
    if src is None and dst is None:
        return only_verdict(explain_all(cluster, options), only)
    if src is None or dst is None:
        raise UsageError("give both a source and a destination, or neither")
    return only_verdict(explain(cluster, src, dst, port=port, protocol=protocol, options=options), only)


def discover_connections(
    inputs: Inputs,
    *,
    options: DiscoverOptions | None = None,
    stdin_text: str | None = None,
    runner: ToolRunner | None = None,
) -> DiscoveryResult:
    """The connections an application needs, found in its manifests, each with its evidence.

    ``inputs`` are paths (files, directories, Helm charts, Kustomize directories, ``-`` for stdin)
    or parsed objects (dicts). ``runner`` runs ``helm``/``kustomize`` (the real programs by default).

    >>> result = discover_connections(["examples/shop"])      # doctest: +SKIP
    >>> print(result.connections[0])                           # doctest: +SKIP
    shop-backend/cart[Deployment] => shop-data/redis[StatefulSet] : TCP 6379
    """
    from kubefence.analysis.discover.pipeline import discover

    docs = load_input_documents(inputs, runner=runner, stdin_text=stdin_text)
    return discover(build_cluster(docs, read_config=True), options)


def diff_connectivity(
    old: Inputs | Cluster, new: Inputs | Cluster, *, options: MapOptions | None = None
) -> ConnectivityDiff:
    """How connectivity changes from ``old`` to ``new`` (paths, parsed objects or clusters); the
    focus options of ``options`` keep the changes they ask about (a focus workload may be in either
    version)."""
    from kubefence.analysis.connectivity.diff import diff_maps, focus_diff
    from kubefence.analysis.connectivity.engine import focus_names
    from kubefence.analysis.connectivity.focus import check_known, split_names, without_focus
    from kubefence.model.peers import INGRESS_CONTROLLER

    options = options or MapOptions()
    whole = without_focus(options)
    before, after = map_connectivity(old, options=whole), map_connectivity(new, options=whole)
    diff = diff_maps(before, after)
    workloads, peers = focus_names(options), split_names(options.focus_peers)
    if not (workloads or peers or options.focus_conn):
        return diff
    known = [*before.workloads, *after.workloads, INGRESS_CONTROLLER]
    check_known(workloads, known)
    check_known(peers, known, "focus workload peer")
    return focus_diff(diff, workloads, peers, options.focus_direction, options.focus_conn)


def diff_revisions(
    base: str,
    head: str,
    paths: Sequence[str] = (),
    *,
    repo: str | Path = ".",
    reader: TreeReader | None = None,
    options: MapOptions | None = None,
) -> ConnectivityDiff:
    """The connectivity diff between two git revisions of ``repo`` (read from git, no checkout)."""
    from kubefence.io.gitsource import GitTreeReader, load_revision

    reader = reader or GitTreeReader(repo)
    old_docs, new_docs = load_revision(reader, base, paths), load_revision(reader, head, paths)
    _require_objects(old_docs, new_docs, paths, base, head)
    old, new = build_cluster(old_docs), build_cluster(new_docs)
    return diff_connectivity(old, new, options=options)


def generate_policies(
    inputs: Inputs,
    *,
    connections: str | Path | DiscoveryResult | None = None,
    options: GenerateOptions | None = None,
    discover_options: DiscoverOptions | None = None,
    guardrails: Guardrails = (),
    stdin_text: str | None = None,
    runner: ToolRunner | None = None,
) -> GeneratedPolicies:
    """Least-privilege NetworkPolicies for an application: its manifests in ``inputs``, the needed
    connectivity discovered from them or read from ``connections`` (a discover JSON file, or a result).

    With ``guardrails`` (rules or files), needed connections a deny rule forbids are left out and
    connections allow rules require are added (both reported in ``guardrail_notes``): the result
    always passes :func:`verify_guardrails` with the same rules.

    >>> generated = generate_policies(["examples/shop"])          # doctest: +SKIP
    >>> files = policy_files(generated)                           # {"shop-backend.yaml": "...", ...}
    """
    from kubefence.analysis.generate.pipeline import generate_for
    from kubefence.io.connections_file import load_connections_file
    from kubefence.model.discovery import DiscoveryResult

    rules, guard_warnings = _rules(guardrails)
    # policies already in the input are the app's old policies: generation ignores them
    app = read_application(load_input_documents(inputs, runner=runner, stdin_text=stdin_text))
    if connections is None or isinstance(connections, DiscoveryResult):
        needed = connections
    else:
        needed = load_connections_file(connections)
    generated = generate_for(
        app, needed=needed, options=options, discover_options=discover_options, guardrails=rules
    )
    return _with_warnings(generated, guard_warnings)


def policy_files(generated: GeneratedPolicies) -> dict[str, str]:
    """One YAML text per namespace, ``<namespace>.yaml``, ready to commit."""
    from kubefence.io.policy_yaml import namespace_files

    return namespace_files((g.policy, g.comments) for g in generated.policies)


def _require_objects(
    base: Sequence[Document], head: Sequence[Document], paths: Sequence[str], base_ref: str, head_ref: str
) -> None:
    """A path that holds nothing in either revision is a mistake (a typo passes CI otherwise); an app
    that one revision adds or removes is not."""
    if not base and not head:
        raise InputError(
            f"no Kubernetes objects found in {' '.join(paths) or 'the repository'} "
            f"at {base_ref} or {head_ref}",
            hint="check the paths; they are relative to the repository root",
        )


def review_revisions(
    base: str,
    head: str,
    paths: Sequence[str] = (),
    *,
    repo: str | Path = ".",
    guardrails: Sequence[Guardrail] = (),
    policies_dir: str | None = None,
    options: ReviewOptions | None = None,
    reader: TreeReader | None = None,
    flows: FlowLog | None = None,
    flows_min_count: int = 1,
) -> ReviewResult:
    """Review the change from git revision ``base`` to ``head`` of the application in ``repo``.

    Both revisions are read from git (no checkout): their manifests under ``paths`` (the whole tree
    when empty) are discovered, given generated policies and mapped; the maps are diffed, guardrails
    verified on ``head``, and the policy files committed in ``policies_dir`` at ``head`` compared
    with the regenerated ones. With ``flows`` (:func:`read_flow_log`), the observed traffic the
    change would block is reported too.
    """
    from kubefence.analysis.review import review
    from kubefence.io.gitsource import GitTreeReader, load_revision

    reader = reader or GitTreeReader(repo)
    base_docs = load_revision(reader, base, paths)
    head_docs = load_revision(reader, head, paths)
    _require_objects(base_docs, head_docs, paths, base, head)
    base_app, head_app = read_application(base_docs), read_application(head_docs)
    committed = None
    if policies_dir is not None:
        prefix = policies_dir.strip("/")
        committed = {
            name[len(prefix) + 1 :]: text
            for name, text in reader.files(head, [prefix])
            if name.startswith(prefix + "/") and "/" not in name[len(prefix) + 1 :] and name.endswith(".yaml")
        }
    return review(
        (base, base_app),
        (head, head_app),
        policy_files=policy_files,
        committed_policies=committed,
        policies_dir=policies_dir or "",
        app_paths=paths,
        guardrails=tuple(guardrails),
        options=options,
        flows=flows,
        flows_min_count=flows_min_count,
    )


Guardrails = Sequence[Guardrail] | Sequence[str | Path]


def _rules(guardrails: Guardrails) -> tuple[tuple[Guardrail, ...], list[Diagnostic]]:
    """The guardrails, and what walking their directories warned about."""
    warnings: list[Diagnostic] = []
    return load_guardrail_rules(guardrails, warnings=warnings), warnings


_Warned = TypeVar("_Warned", "GeneratedPolicies", "VerifyResult", "ExportResult")


def _with_warnings(result: _Warned, first: Sequence[Diagnostic]) -> _Warned:
    """``result`` with ``first`` (what reading its inputs warned about) before its own warnings."""
    return replace(result, warnings=(*first, *result.warnings)) if first else result


def verify_guardrails(
    inputs: Inputs | Cluster,
    guardrails: Guardrails,
    *,
    options: MapOptions | None = None,
    witnesses: int = defaults.WITNESSES,
    stdin_text: str | None = None,
) -> VerifyResult:
    """Check a policy set (every tier) against guardrails: each rule satisfied or violated, with up
    to ``witnesses`` explained violations per rule. ``guardrails``: rules, or guardrail files
    (kubefence YAML, np-guard baseline rules as YAML or CSV).

    >>> result = verify_guardrails(["examples/shop"], ["examples/guardrails"])   # doctest: +SKIP
    >>> [r.rule.name for r in result.violated]                                    # doctest: +SKIP
    ['storefront-never-reaches-data']
    """
    from kubefence.analysis.guardrails.verify import verify

    rules, guard_warnings = _rules(guardrails)
    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    return _with_warnings(verify(cluster, rules, options=options, witnesses=witnesses), guard_warnings)


def export_guardrails(
    guardrails: Guardrails, *, kind: str = "ClusterNetworkPolicy", priority: int = 0
) -> ExportResult:
    """Guardrails as ClusterNetworkPolicy (v1alpha2, Admin tier) or AdminNetworkPolicy (v1alpha1)
    objects; ``result.policies`` are model values, ``kubefence.report.render(result, "txt")`` is YAML."""
    from kubefence.analysis.guardrails.export import ExportOptions
    from kubefence.analysis.guardrails.export import export_guardrails as _export_guardrails

    rules, guard_warnings = _rules(guardrails)
    return _with_warnings(
        _export_guardrails(rules, ExportOptions(kind=kind, priority=priority)), guard_warnings
    )


# Entry points the command line needs beyond the ones above: each is thin, so that the CLI calls
# only this module and the analysis modules stay free to change.

if TYPE_CHECKING:
    from kubefence.analysis.connectivity.engine import ConnectivityStream
    from kubefence.analysis.connectivity.rows import MapRows
    from kubefence.analysis.connectivity.summary import ConnectivitySummary
    from kubefence.changes import FileChange


def stream_connectivity(
    inputs: Inputs | Cluster, *, options: MapOptions | None = None, stdin_text: str | None = None
) -> ConnectivityStream:
    """The connectivity map one connection at a time, in the order :func:`map_connectivity` lists
    them, so a huge map can be written without holding it; ``warnings`` are complete at once.

    >>> stream = stream_connectivity(["examples/shop"])      # doctest: +SKIP
    >>> for connection in stream.connections: print(connection)  # doctest: +SKIP
    """
    from kubefence.analysis.connectivity.engine import stream_connectivity as _stream

    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    return _stream(cluster, options)


def map_rows(
    inputs: Inputs | Cluster, *, options: MapOptions | None = None, stdin_text: str | None = None
) -> MapRows:
    """The connectivity map source by source, as rows of peer and connection indices (no object per
    pair), in the order :func:`map_connectivity` lists them: what the streaming writers
    (``kubefence.report.map_stream``) and :func:`summarize_connectivity` read. A cluster with several
    networks is mapped on the pod network alone here: see :func:`map_networks`.

    >>> rows = map_rows(["examples/shop"])                   # doctest: +SKIP
    >>> write_map(rows, "json", sys.stdout)                  # doctest: +SKIP
    """
    from kubefence.analysis.connectivity.rows import map_rows as _map_rows

    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    return _map_rows(cluster, options)


def summarize_connectivity(
    inputs: Inputs | Cluster | ConnectivityMap | MapRows,
    *,
    options: MapOptions | None = None,
    stdin_text: str | None = None,
) -> ConnectivitySummary:
    """The connectivity map with sources that reach the same destinations on the same connections
    grouped (exact: expanding the groups gives back the map). From inputs, a cluster or
    :func:`map_rows`, it is computed from the groups of destinations, never pair by pair.

    >>> summary = summarize_connectivity(["examples/shop"])   # doctest: +SKIP
    """
    from kubefence.analysis.connectivity.rows import MapRows
    from kubefence.analysis.connectivity.summary import summarize, summarize_rows

    if isinstance(inputs, ConnectivityMap):
        return summarize(inputs)
    if isinstance(inputs, MapRows):
        return summarize_rows(inputs)
    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    if uses_multiple_networks(cluster):  # the merged map of every network
        return summarize(map_connectivity(cluster, options=options))
    return summarize_rows(map_rows(cluster, options=options))


def discover_options(
    *,
    dns: bool = True,
    dns_namespace: str = defaults.DNS_NAMESPACE,
    dns_selector: str = defaults.DNS_SELECTOR_TEXT,
    dns_port: int = defaults.DNS_PORT,
) -> DiscoverOptions:
    """Discovery options from plain values; ``dns_selector`` is ``key=value[,key=value...]``
    (raises :class:`UsageError` otherwise).

    >>> discover_options(dns_selector="k8s-app=coredns").dns_peer_name   # doctest: +SKIP
    'kube-system/coredns[Deployment]'
    """
    from kubefence.analysis.discover.pipeline import DiscoverOptions, parse_selector_text

    try:
        selector = parse_selector_text(dns_selector)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return DiscoverOptions(dns=dns, dns_namespace=dns_namespace, dns_selector=selector, dns_port=dns_port)


def generate_options(
    *, ingress_controller_namespace: str = defaults.INGRESS_CONTROLLER_NAMESPACE, named_ports: bool = True
) -> GenerateOptions:
    """Options of :func:`generate_policies` (see ``GenerateOptions``)."""
    from kubefence.analysis.generate.synthesize import GenerateOptions

    return GenerateOptions(ingress_controller_namespace=ingress_controller_namespace, named_ports=named_ports)


def review_options(
    *, generate: GenerateOptions | None = None, discover: DiscoverOptions | None = None
) -> ReviewOptions:
    """Options of :func:`review_revisions`: how each revision is discovered and given policies."""
    from kubefence.analysis.review import ReviewOptions

    return ReviewOptions(generate=generate or generate_options(), discover=discover or discover_options())


def load_guardrail_rules(
    guardrails: Guardrails, *, stdin_text: str | None = None, warnings: list[Diagnostic] | None = None
) -> tuple[Guardrail, ...]:
    """Guardrails from files or directories (kubefence YAML, np-guard baseline rules as YAML or CSV,
    ``-`` for stdin), or rules passed through; rule names must be unique. What walking a directory
    skipped (symlink loops, files read twice, ...) is appended to ``warnings``, as for manifests.

    >>> found: list[Diagnostic] = []
    >>> rules = load_guardrail_rules(["security/guardrails"], warnings=found)   # doctest: +SKIP
    """
    from kubefence.io.guardrails import load_guardrails

    items = list(guardrails)
    if all(isinstance(g, Guardrail) for g in items):
        return tuple(g for g in items if isinstance(g, Guardrail))
    paths = [g for g in items if isinstance(g, str | Path)]
    return load_guardrails(paths, stdin_text=stdin_text, warnings=warnings)


def validate_generated(generated: GeneratedPolicies) -> list[str]:
    """One message per generated object the Kubernetes OpenAPI schema rejects (needs the
    ``kubernetes-validate`` package: ``pip install 'kubefence[validate]'``)."""
    from kubefence.io.policy_schema import validate_policies

    return validate_policies(g.policy for g in generated.policies)


def policy_stream(generated: GeneratedPolicies, fmt: str = "yaml") -> str:
    """All generated policies as one text: ``yaml``, a multi-document stream with each namespace's
    file and comments (``kubectl apply -f -``); ``json``, one ``v1/List`` of the objects."""
    if fmt == "json":
        import json

        from kubefence.io.policy_yaml import policy_dict

        items = [policy_dict(g.policy) for g in generated.policies]
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2) + "\n"
    if fmt != "yaml":
        raise UsageError(f"unknown policy format {fmt!r}; use yaml or json")
    return "---\n".join(f"# {name}\n{text}" for name, text in policy_files(generated).items())


def plan_policy_directory(directory: str | Path, files: dict[str, str]) -> list[FileChange]:
    """What writing ``files`` (name -> text, see :func:`policy_files`) into ``directory`` changes,
    including generated files no longer wanted (new text ``""``). Files kubefence did not write
    are never overwritten: planning them is an error. Nothing is written."""
    from kubefence.io.policy_yaml import plan_directory

    return plan_directory(Path(directory), files)


def apply_policy_changes(changes: Sequence[FileChange]) -> None:
    """Write (or remove) every changed file of a :func:`plan_policy_directory` plan, each whole or
    not at all."""
    from kubefence.io.policy_yaml import apply_changes

    apply_changes(changes)


def deployed_policy_drift(generated: GeneratedPolicies, deployed: Iterable[Document]) -> DeployedDrift:
    """Whether the NetworkPolicies in ``deployed`` (documents read from a cluster) that carry
    ``app.kubernetes.io/managed-by: kubefence`` are exactly the ``generated`` ones."""
    from kubefence.analysis.generate.deployed import compare_deployed
    from kubefence.io.policy_yaml import MANAGED_BY_KEY, MANAGED_BY_VALUE

    managed = [
        d
        for d in deployed
        if d.kind == "NetworkPolicy"
        and ((d.obj.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE
    ]
    return compare_deployed((g.policy for g in generated.policies), build_cluster(managed).policies)


def lint_options(
    *,
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
    severities: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    sensitive_ports: Iterable[int] | None = None,
    map_options: MapOptions | None = None,
) -> LintOptions:
    """The options of :func:`lint_policies`: a ``config`` file (YAML: enable, disable, severity,
    sensitive-ports) first, then the arguments, which add to its lists and override its values.
    Unknown check names are errors (at their line, for the file)."""
    from kubefence.analysis.lint import LintOptions, Severity, check_names
    from kubefence.errors import InputError
    from kubefence.io.lint_config import LintConfig, load_lint_config

    known = set(check_names())
    cfg = load_lint_config(config) if config is not None else LintConfig()
    for name, origin in (*cfg.enable, *cfg.disable, *((n, o) for n, _, o in cfg.severities)):
        if name not in known:
            raise InputError(f"unknown check {name!r}", origin, "kubefence lint --list-checks lists them")
    levels = {name: level for name, level, _ in cfg.severities}
    levels.update(severities or {})
    ports = tuple(sensitive_ports) if sensitive_ports is not None else cfg.sensitive_ports
    base = LintOptions()
    try:
        parsed = tuple((name, Severity(level)) for name, level in sorted(levels.items()))
    except ValueError as exc:
        raise UsageError(f"{exc}: severities are error, warning and note") from None
    return LintOptions(
        enable=frozenset(name for name, _ in cfg.enable) | frozenset(enable),
        disable=frozenset(name for name, _ in cfg.disable) | frozenset(disable),
        severities=parsed,
        sensitive_ports=base.sensitive_ports if ports is None else ports,
        map_options=map_options or MapOptions(),
    )


def lint_policies(
    inputs: Inputs | Cluster, *, options: LintOptions | None = None, stdin_text: str | None = None
) -> LintResult:
    """Exact findings about a policy set: unprotected workloads, selectors that match nothing,
    redundant rules and policies (proved by the engine), shadowed admin rules, risky breadth, and
    what the analysis cannot see. ``inputs`` are paths or parsed objects, or a :class:`Cluster`
    from any reader (a live cluster included).

    >>> result = lint_policies(["examples/shop"])              # doctest: +SKIP
    >>> result.findings[0].check                               # doctest: +SKIP
    'sensitive-port-exposed'
    """
    from kubefence.analysis.lint import lint

    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    return lint(cluster, options)


# -- flow logs ---------------------------------------------------------------------------------------

FlowInputs = Sequence[str | Path] | FlowLog


def read_flow_log(
    flows: FlowInputs,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FlowLog:
    """Flow logs (Hubble JSON, Inspektor Gadget events, CSV/Parquet tables; files, directories,
    globs, gzip) aggregated to distinct tuples; records seen outside ``[since, until)`` left out.
    ``progress(done, total)``: bytes of the files read. Needs DuckDB (``pip install 'kubefence[flows]'``)."""
    if isinstance(flows, FlowLog):
        return flows
    from kubefence.io.flows import Window, read_flows

    return read_flows(list(flows), window=Window(since, until), progress=progress)


def observe_flows(
    inputs: Inputs | Cluster,
    flows: FlowInputs,
    *,
    options: ResolveOptions | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ObservedConnectivity:
    """The observed connections between the peers of ``inputs``: flows resolved to workloads (through
    owners, pods, name patterns, labels and Services), address ranges and the ingress controller."""
    from kubefence.analysis.discover.flows_resolve import resolve_flows

    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs)
    return resolve_flows(cluster, read_flow_log(flows, since=since, until=until), options)


def discover_with_flows(
    inputs: Inputs,
    flows: FlowInputs,
    *,
    options: DiscoverOptions | None = None,
    flows_only: bool = False,
    min_count: int = 1,
    since: datetime | None = None,
    until: datetime | None = None,
    ingress_controller_namespace: str = defaults.INGRESS_CONTROLLER_NAMESPACE,
    runner: ToolRunner | None = None,
) -> DiscoveryResult:
    """The connections found in the manifests (none with ``flows_only``) joined with those the flow
    logs show, each with its evidence (records, first and last seen, a sample record's file:line).

    >>> result = discover_with_flows(["examples/shop"], ["hubble.json.gz"])   # doctest: +SKIP
    """
    from kubefence.analysis.discover.flows_discover import merge_observed
    from kubefence.analysis.discover.flows_resolve import ResolveOptions
    from kubefence.analysis.discover.pipeline import DiscoverOptions, discover

    options = options or DiscoverOptions()
    items: Inputs = list(inputs)  # type: ignore[assignment]  # paths or dicts, as load_input_documents takes
    docs = load_input_documents(items, runner=runner) if items else []
    cluster = build_cluster(docs, read_config=not flows_only)
    declared = None if flows_only else discover(cluster, options)
    resolve = ResolveOptions(
        dns_namespace=options.dns_namespace,
        dns_labels=options.dns_selector.match_labels,
        ingress_controller_namespace=ingress_controller_namespace,
        min_count=min_count,
    )
    observed = observe_flows(cluster, flows, options=resolve, since=since, until=until)
    return merge_observed(declared, observed)


def audit_flows(
    inputs: Inputs | Cluster,
    flows: FlowInputs,
    *,
    options: MapOptions | None = None,
    min_count: int = 1,
    since: datetime | None = None,
    until: datetime | None = None,
    stdin_text: str | None = None,
    unused: bool = True,
) -> AuditResult:
    """Observed traffic checked against the policy set of ``inputs`` (every tier): allowed, denied
    (with the rules that deny it), and what the policies allow that was never observed.

    >>> result = audit_flows(["deploy/"], ["hubble/"])      # doctest: +SKIP
    >>> result.ok                                            # doctest: +SKIP
    """
    from kubefence.analysis.audit.check import audit
    from kubefence.analysis.discover.flows_resolve import ResolveOptions

    cluster = inputs if isinstance(inputs, Cluster) else load_cluster(inputs, stdin_text=stdin_text)
    # the ingress controller is whatever its pods are: their labels and namespace decide
    resolve = ResolveOptions(ingress_controller_namespace=None, min_count=min_count)
    observed = observe_flows(cluster, flows, options=resolve, since=since, until=until)
    return audit(cluster, observed, options, unused=unused)
