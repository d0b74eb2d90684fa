"""Command line: argument parsing only. Every command is one library call and one renderer.

Exit codes (a contract for CI): 0 clean, 1 findings (where a command has them), 2 usage or input error.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

import click

from kubefence import MapOptions, __version__, defaults
from kubefence.api import (
    apply_policy_changes,
    audit_flows,
    diff_connectivity,
    diff_revisions,
    discover_connections,
    discover_options,
    discover_with_flows,
    explain_connectivity,
    export_guardrails,
    generate_options,
    generate_policies,
    lint_options,
    lint_policies,
    load_cluster,
    load_guardrail_rules,
    map_connectivity,
    map_exposure,
    map_networks,
    map_rows,
    multiple_networks,
    plan_policy_directory,
    policy_files,
    policy_stream,
    read_flow_log,
    review_options,
    review_revisions,
    summarize_connectivity,
    validate_generated,
    verify_guardrails,
)
from kubefence.errors import Diagnostic, KubefenceError, UsageError
from kubefence.io.atomic import atomic_writer
from kubefence.report import FORMATS, render_chunks

if TYPE_CHECKING:
    from kubefence import DiscoverOptions
    from kubefence.io.cluster import ClusterRead, ClusterSource
    from kubefence.model.cluster import Cluster
    from kubefence.model.discovery import DiscoveryResult
    from kubefence.model.flows import FlowLog

# Start-up time matters (a pre-commit hook runs kubefence on every commit): each kubefence.api entry
# point imports the analysis it needs when called, so a run loads only its command's modules.

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_PIPE = 128 + 13  # stdout closed early: what a shell reports for a tool ended by SIGPIPE

EXIT_CODES_HELP = "Exit codes: 0 success, 1 findings (where the command has them), 2 usage or input error."

F = TypeVar("F", bound=Callable[..., Any])


class Findings(Exception):
    """Raised by a command to end with exit code 1 after its output is written."""


# The options several commands share are declared here, once each: same spelling, same default,
# same help in every command.


def output_options(formats: Sequence[str] = FORMATS, default: str = "txt") -> Callable[[F], F]:
    """-o/--output FORMAT, -f/--file FILE and -q/--quiet."""

    def decorate(fn: F) -> F:
        fn = click.option("--quiet", "-q", is_flag=True, help="Do not print warnings.")(fn)
        fn = click.option(
            "-f",
            "--file",
            "out_file",
            type=click.Path(dir_okay=False, allow_dash=True),
            help="Write the output to FILE instead of stdout (written whole or not at all).",
        )(fn)
        return click.option(
            "-o",
            "--output",
            "fmt",
            type=click.Choice(list(formats)),
            default=default,
            show_default=True,
            help="Output format.",
        )(fn)

    return decorate


def ingress_controller_option(fn: F) -> F:
    """--ingress-controller-namespace NS: one default for analysing and generating alike."""
    return click.option(
        "--ingress-controller-namespace",
        metavar="NS",
        default=defaults.INGRESS_CONTROLLER_NAMESPACE,
        show_default=True,
        help="Namespace the ingress controller runs in: workloads behind an Ingress, Route or HTTPRoute "
        "get traffic from it (netpol-analyzer's examples assume ingress-controller-ns).",
    )(fn)


def ip_family_option(fn: F) -> F:
    """--ip-family: the address space of external peers."""
    return click.option(
        "--ip-family",
        type=click.Choice(["auto", "ipv4", "ipv6", "dual"]),
        default="auto",
        show_default=True,
        help="Address space of external peers; auto is IPv4, plus IPv6 when a policy names an IPv6 block.",
    )(fn)


def guardrails_option(purpose: str, required: bool = False) -> Callable[[F], F]:
    """-g/--guardrails PATH, repeatable; ``purpose`` says what the command does with them."""
    return click.option(
        "-g",
        "--guardrails",
        "guardrail_paths",
        multiple=True,
        required=required,
        type=click.Path(allow_dash=True),
        metavar="PATH",
        help=f"{purpose} A guardrails file (kubefence YAML, np-guard baseline rules as YAML or CSV) or "
        "a directory of them; repeatable.",
    )


def _rfc3339(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time (2024-05-01T12:00:00Z)") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FlowArgs:
    """The flow options as given: ``paths`` is empty without --flows."""

    paths: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    min_count: int

    def log(self, quiet: bool) -> FlowLog:
        """The flow logs read and aggregated, with a progress bar on a terminal."""
        bar = None if quiet else progress_bar("reading flows", in_bytes=True)
        return read_flow_log(list(self.paths), since=self.since, until=self.until, progress=bar)

    def require_unused(self, flows_only: bool = False) -> None:
        """Without --flows, the options that only go with it are errors."""
        if flows_only or self.since or self.until or self.min_count != 1:
            raise UsageError("--flows-only, --since, --until and --min-count go with --flows")


def flow_options(fn: F) -> F:
    """--flows PATH (repeatable), --since/--until TIME, --min-count N: observed traffic.

    The command receives one ``flows`` argument, a :class:`FlowArgs`."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        flow_paths: tuple[str, ...],
        since: datetime | None,
        until: datetime | None,
        min_count: int,
        **kwargs: Any,
    ) -> Any:
        return fn(*args, flows=FlowArgs(flow_paths, since, until, min_count), **kwargs)

    out: Any = wrapper
    out = click.option(
        "--min-count",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="Ignore observed connections seen in fewer records.",
    )(out)
    out = click.option(
        "--until", metavar="TIME", callback=_rfc3339, help="Only flows seen before TIME (RFC 3339)."
    )(out)
    out = click.option(
        "--since", metavar="TIME", callback=_rfc3339, help="Only flows seen from TIME on (RFC 3339)."
    )(out)
    out = click.option(
        "--flows",
        "flow_paths",
        multiple=True,
        metavar="PATH",
        help="Flow logs (repeatable; a file, directory or glob, gzip or not): Hubble JSON "
        "(hubble observe -o json), Inspektor Gadget trace_tcp JSON, or a CSV/Parquet table. "
        "See docs/flows.md.",
    )(out)
    return cast(F, out)


def explain_only_option(fn: F) -> F:
    """--explain-only allow|deny."""
    return click.option(
        "--explain-only",
        type=click.Choice(["allow", "deny"]),
        help="With explanations: only the pairs with allowed, or with denied, connections.",
    )(fn)


def focus_options(fn: F) -> F:
    """netpol-analyzer's query options: --focus-workload, --focus-workload-peer, --focus-direction,
    --focus-conn and --explain-only."""
    return focus_query_options(explain_only_option(fn))


def focus_query_options(fn: F) -> F:
    """--focus-workload, --focus-workload-peer, --focus-direction and --focus-conn."""
    fn = click.option(
        "--focus-conn",
        metavar="PROTO-PORT",
        help="Only pairs that allow this connection, like tcp-8080 (shown without their other ports).",
    )(fn)
    fn = click.option(
        "--focus-direction",
        type=click.Choice(["ingress", "egress"]),
        help="With --focus-workload: only what the focus workloads receive (ingress) or send (egress).",
    )(fn)
    fn = click.option(
        "--focus-workload-peer",
        "focus_workload_peers",
        multiple=True,
        metavar="NAME",
        help="With --focus-workload: only pairs with these workloads on the other side (repeatable or "
        "comma-separated).",
    )(fn)
    return click.option(
        "--focus-workload",
        "focus_workloads",
        multiple=True,
        metavar="NAME",
        help="Only connections from or to these workloads (ns/name or name; repeatable or "
        "comma-separated). An unknown name is an error.",
    )(fn)


def _dns_options(dns_namespace: str, dns_selector: str, dns_port: int, no_dns: bool) -> DiscoverOptions:
    """The discovery options of the DNS options (see :func:`dns_options`)."""
    try:
        return discover_options(
            dns=not no_dns, dns_namespace=dns_namespace, dns_selector=dns_selector, dns_port=dns_port
        )
    except UsageError as exc:
        raise UsageError(f"--dns-selector: {exc}") from None


def analysis_options(fn: F) -> F:
    """The options of the commands that evaluate policies.

    The command receives one ``map_options`` argument: a call that gives the MapOptions of these
    options and the focus and quiet arguments it is given (see :func:`_map_options`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, ip_family: str, ingress_controller_namespace: str, **kwargs: Any) -> Any:
        build = functools.partial(_map_options, ip_family, ingress_controller_namespace)
        return fn(*args, map_options=build, **kwargs)

    return ingress_controller_option(ip_family_option(cast(F, wrapper)))


@contextlib.contextmanager
def _output_stream(out_file: str | None) -> Iterator[TextIO]:
    """stdout, or a temporary file renamed over ``out_file`` only when all was written."""
    if not out_file or out_file == "-":
        yield sys.stdout
        return
    target = Path(out_file)
    if not target.parent.is_dir():
        raise KubefenceError(f"{out_file}: directory {target.parent} does not exist")
    with atomic_writer(target) as stream:
        yield stream


def emit(result: object, fmt: str, out_file: str | None) -> None:
    chunks = render_chunks(result, fmt)
    first = next(chunks, "")  # renderers that fail (svg without graphviz) fail before any file is made
    with _output_stream(out_file) as stream:
        stream.write(first)
        for chunk in chunks:
            stream.write(chunk)


def show_warnings(warnings: Sequence[Diagnostic], quiet: bool) -> None:
    if quiet:
        return
    for w in warnings:
        click.echo(str(w), err=True)


def report(result: Any, fmt: str, out_file: str | None, quiet: bool) -> None:
    """A command's result: its warnings on stderr (unless quiet), then the result in ``fmt``."""
    show_warnings(result.warnings, quiet)
    emit(result, fmt, out_file)


class _WorkflowOrder(click.Group):
    """Lists commands in the order of the workflow, not alphabetically."""

    ORDER = (
        "map",
        "explain",
        "lint",
        "discover",
        "generate",
        "verify",
        "guardrails",
        "audit",
        "diff",
        "review",
    )

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: self.ORDER.index(n) if n in self.ORDER else len(self.ORDER))


@click.group(
    cls=_WorkflowOrder,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="kubefence")
def cli() -> None:
    """kubefence: discover, generate, govern and analyze Kubernetes network policies.

    PATH arguments are manifest files or directories (searched recursively for .yaml, .yml and
    .json), or - for stdin.
    """


def dns_options(fn: F) -> F:
    """Where the cluster DNS runs: workloads that resolve names need it (discover, generate).

    The command receives one ``dns`` argument: a call that gives the DiscoverOptions (made when
    called, so that a bad --dns-selector is reported where the command first needs it)."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any, dns_namespace: str, dns_selector: str, dns_port: int, no_dns: bool, **kwargs: Any
    ) -> Any:
        dns = functools.partial(_dns_options, dns_namespace, dns_selector, dns_port, no_dns)
        return fn(*args, dns=dns, **kwargs)

    out: Any = wrapper
    out = click.option("--no-dns", is_flag=True, help="Do not record the DNS connections.")(out)
    out = click.option(
        "--dns-port",
        type=click.IntRange(1, 65535),
        default=defaults.DNS_PORT,
        show_default=True,
        help="DNS port, needed on UDP and TCP.",
    )(out)
    out = click.option(
        "--dns-selector",
        metavar="KEY=VALUE[,...]",
        default=defaults.DNS_SELECTOR_TEXT,
        show_default=True,
        help="Labels of the cluster DNS server's pods.",
    )(out)
    out = click.option(
        "--dns-namespace",
        metavar="NS",
        default=defaults.DNS_NAMESPACE,
        show_default=True,
        help="Namespace of the cluster DNS server.",
    )(out)
    return cast(F, out)


def _map_options(
    ip_family: str,
    ingress_controller_namespace: str,
    focus: Sequence[str] = (),
    quiet: bool = True,
    *,
    peers: Sequence[str] = (),
    direction: str | None = None,
    conn: str | None = None,
) -> MapOptions:
    from kubefence.analysis.connectivity.focus import parse_focus_conn, split_names

    if (peers or direction) and not focus:
        raise UsageError("--focus-workload-peer and --focus-direction need --focus-workload")
    return MapOptions(
        ip_family=ip_family,  # type: ignore[arg-type]  # click.Choice guarantees the literal
        focus_workloads=split_names(focus),
        focus_peers=split_names(peers),
        focus_direction=direction,  # type: ignore[arg-type]  # click.Choice guarantees the literal
        focus_conn=parse_focus_conn(conn) if conn else None,
        ingress_controller_namespace=ingress_controller_namespace,
        progress=None if quiet else progress_bar("mapping"),
    )


def progress_bar(label: str, in_bytes: bool = False) -> Callable[[int, int], None] | None:
    """A progress bar on stderr when it is a terminal (nothing otherwise, e.g. in CI logs);
    ``in_bytes``: the counts are bytes, shown in kB or MB."""
    if not sys.stderr.isatty():
        return None

    def counts(done: int, total: int) -> str:
        if not in_bytes:
            return f"{done}/{total}"
        scale, unit = (1e6, "MB") if total >= 1e6 else (1e3, "kB")
        return f"{done / scale:.1f}/{total / scale:.1f} {unit}"

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {counts(done, total)}{end}")
        sys.stderr.flush()

    return show


def cluster_options(fn: F) -> F:
    """--cluster, --kubeconfig, --context, -n/--namespace, --request-timeout: read a live cluster.

    The command receives one ``cluster`` argument: a ClusterSource, or None without --cluster."""

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        cluster: bool,
        kubeconfig: str | None,
        context: str | None,
        namespaces: tuple[str, ...],
        request_timeout: float,
        **kwargs: Any,
    ) -> Any:
        if not cluster:
            if kubeconfig or context or namespaces:
                raise UsageError("--kubeconfig, --context and -n/--namespace go with --cluster")
            return fn(*args, cluster=None, **kwargs)
        from kubefence.io.cluster import ClusterSource

        source = ClusterSource(
            kubeconfig=kubeconfig, context=context, namespaces=tuple(namespaces), timeout=request_timeout
        )
        return fn(*args, cluster=source, **kwargs)

    out: Any = wrapper
    out = click.option(
        "--request-timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="With --cluster: give up on an API server request after this long.",
    )(out)
    out = click.option(
        "-n",
        "--namespace",
        "namespaces",
        multiple=True,
        metavar="NS",
        help="With --cluster: read only this namespace (repeatable; default: all namespaces).",
    )(out)
    out = click.option("--context", metavar="NAME", help="With --cluster: the kubeconfig context to use.")(
        out
    )
    out = click.option(
        "--kubeconfig",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        help="With --cluster: the kubeconfig file, only this one (default: the $KUBECONFIG files merged "
        "as kubectl does, else ~/.kube/config, else the pod's service account).",
    )(out)
    out = click.option(
        "--cluster",
        is_flag=True,
        help="Read the live cluster of the current kubeconfig context too (needs kubefence[cluster]); "
        "PATHs add to it, an object in a PATH replacing the cluster's of the same kind, namespace and "
        "name. See docs/gitops.md.",
    )(out)
    return cast(F, out)


def read_live_cluster(source: ClusterSource, quiet: bool, *, config_maps: bool = False) -> ClusterRead:
    """Read the cluster, showing a progress bar on a terminal and the read's info lines and warnings."""
    from dataclasses import replace

    from kubefence.io.cluster import read_cluster

    read = read_cluster(
        replace(source, config_maps=config_maps), progress=None if quiet else progress_bar("reading cluster")
    )
    if not quiet:
        for note in read.notes:
            click.echo(f"info: {note}", err=True)
    show_warnings(read.warnings, quiet)
    return read


def load_model(
    paths: Sequence[str], cluster: ClusterSource | None, quiet: bool, *, progress: bool = False
) -> Cluster:
    """The cluster model of :func:`manifest_inputs`; ``progress``: a reading bar on a terminal."""
    inputs = manifest_inputs(paths, cluster, quiet)
    return load_cluster(
        inputs, progress=progress_bar("reading", in_bytes=True) if progress and not quiet else None
    )


def manifest_inputs(
    paths: Sequence[str], cluster: ClusterSource | None, quiet: bool, *, config_maps: bool = False
) -> list[Any]:
    """The PATHs, or with --cluster the cluster's documents and those of the PATHs on top (an object
    in a PATH replaces the cluster's object of the same kind, namespace and name)."""
    if cluster is None:
        if not paths:
            raise UsageError("give at least one PATH (or --cluster to read a live cluster)")
        return list(paths)
    from kubefence.api import load_input_documents
    from kubefence.io.cluster.reader import overlay_documents

    docs = read_live_cluster(cluster, quiet, config_maps=config_maps).documents()
    if not paths:
        return docs
    return overlay_documents(docs, load_input_documents(list(paths)))


@cli.command("map", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@output_options()
@focus_options
@click.option(
    "--explain", is_flag=True, help="Explain every pair of workloads: which tier, policy and rule decided."
)
@click.option(
    "--exposure",
    is_flag=True,
    help="Also show what each workload's policies open to pods that do not exist yet (the entire "
    "cluster, namespaces or pods matching labels) and which workloads no policy protects.",
)
@click.option(
    "--summary",
    is_flag=True,
    help="Group sources that reach the same destinations with the same connections (exact: expanding "
    "the groups gives back the map).",
)
@analysis_options
def map_cmd(
    paths: tuple[str, ...],
    fmt: str,
    out_file: str | None,
    quiet: bool,
    focus_workloads: tuple[str, ...],
    focus_workload_peers: tuple[str, ...],
    focus_direction: str | None,
    focus_conn: str | None,
    explain_only: str | None,
    explain: bool,
    exposure: bool,
    summary: bool,
    map_options: Callable[..., MapOptions],
    cluster: ClusterSource | None,
) -> None:
    """Which workloads and external addresses may talk to which, and on which ports.

    Reads workloads (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, ...),
    Namespaces, NetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies,
    ClusterNetworkPolicies, Services, Ingresses and Routes, and prints one line per allowed pair:

    \b
      frontend/web[Deployment] => backend/api[Deployment] : TCP 8080
      0.0.0.0-255.255.255.255[External] => frontend/web[Deployment] : All Connections
      {ingress-controller} => frontend/web[Deployment] : TCP 8080
    """
    options = map_options(
        focus_workloads,
        quiet,
        peers=focus_workload_peers,
        direction=focus_direction,
        conn=focus_conn,
    )
    if explain and summary:
        raise UsageError("--explain and --summary do not go together")
    if explain_only and not explain:
        raise UsageError("--explain-only needs --explain")
    if summary and (exposure or focus_conn):
        raise UsageError("--summary does not go with --exposure or --focus-conn")
    model = load_model(paths, cluster, quiet, progress=True)
    if explain:
        expl = explain_connectivity(model, options=options, only=explain_only)
        show_warnings(expl.warnings, quiet)
        if exposure:
            from kubefence.analysis.connectivity.exposure import ExplainedExposure

            emit(ExplainedExposure(expl, map_exposure(model, options=options)), fmt, out_file)
        else:
            emit(expl, fmt, out_file)
        return
    if exposure or focus_conn:
        emap = map_exposure(model, options=options, exposure=exposure)
        report(emap, fmt, out_file, quiet)
        return
    if summary and not multiple_networks(model):  # from the groups: no pair by pair
        rows = map_rows(model, options=options)
        show_warnings(rows.warnings, quiet)
        emit(summarize_connectivity(rows), fmt, out_file)
        return
    if multiple_networks(model) and not summary:  # one section per network
        networks = map_networks(model, options=options)
        report(networks, fmt, out_file, quiet)
        return
    from kubefence.report.map_stream import STREAM_FORMATS, write_map

    if fmt in STREAM_FORMATS and not summary:  # a huge map is written as it is computed
        rows = map_rows(model, options=options)
        show_warnings(rows.warnings, quiet)
        with _output_stream(out_file) as out:
            write_map(rows, fmt, out)
        return
    cmap = map_connectivity(model, options=options)
    show_warnings(cmap.warnings, quiet)
    emit(summarize_connectivity(cmap) if summary else cmap, fmt, out_file)


SEVERITIES = ("error", "warning", "note")


@cli.command("lint", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@click.option(
    "--enable", "enabled", multiple=True, metavar="CHECK", help="Run only these checks (repeatable)."
)
@click.option(
    "--disable", "disabled", multiple=True, metavar="CHECK", help="Do not run this check (repeatable)."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="YAML file with enable, disable, severity (check: level) and sensitive-ports; the options "
    "above add to its lists.",
)
@click.option(
    "--fail-on-severity",
    type=click.Choice(SEVERITIES),
    default="warning",
    show_default=True,
    help="Exit 1 when there are findings of this severity or worse.",
)
@click.option(
    "--sensitive-port",
    "sensitive_ports",
    multiple=True,
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="TCP port that must not face the entire cluster or the outside (repeatable; replaces the "
    "default list: 22, 3306, 5432, 6379, 27017, 9200, ...).",
)
@click.option("--list-checks", is_flag=True, help="List the checks with their severities, and exit.")
@output_options(formats=("txt", "json", "md", "sarif"))
@analysis_options
def lint_cmd(
    paths: tuple[str, ...],
    enabled: tuple[str, ...],
    disabled: tuple[str, ...],
    config_file: str | None,
    fail_on_severity: str,
    sensitive_ports: tuple[int, ...],
    list_checks: bool,
    fmt: str,
    out_file: str | None,
    quiet: bool,
    map_options: Callable[..., MapOptions],
    cluster: ClusterSource | None,
) -> None:
    """Exact findings about a policy set, for people (-o txt, md) and code scanning (-o sarif).

    Checks: workloads no policy protects, namespaces without a default deny; policies, peers and
    named ports that select nothing; rules and policies whose removal leaves the connectivity map
    unchanged (computed by the engine, with the rules that cover them); admin rules shadowed by
    earlier ones and admin priority ties; rules admitting the entire cluster, every address, every
    port or a sensitive port; egress isolation without DNS; and, as notes, what the analysis cannot
    see (hostNetwork pods, nodes peers, domainNames). Each finding names its policy, rule, file and
    line; many carry a witness connection explained tier by tier. See docs/lint.md.

    \b
      kubefence lint deploy/
      kubefence lint deploy/ -o sarif -f kubefence.sarif --fail-on-severity error
      kubefence lint deploy/ --disable unprotected-egress --config lint.yaml
      kubefence lint --cluster                            # the live cluster of the current context
    """
    options = lint_options(
        enable=enabled,
        disable=disabled,
        config=config_file,
        sensitive_ports=sensitive_ports or None,
        map_options=map_options(),
    )
    if list_checks:
        from kubefence.analysis.lint import selected_checks

        for info in selected_checks(options):
            click.echo(f"{info.name:32} {info.severity.value:8} {info.summary}")
        return
    model = load_model(paths, cluster, quiet, progress=True)
    result = lint_policies(model, options=options)
    report(result, fmt, out_file, quiet)
    from kubefence.analysis.lint import Severity

    if result.at_or_above(Severity(fail_on_severity)):
        raise Findings()


@cli.command("discover", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@output_options()
@dns_options
@flow_options
@click.option("--flows-only", is_flag=True, help="Only the observed connections (PATH still resolves pods).")
@ingress_controller_option
def discover_cmd(
    paths: tuple[str, ...],
    fmt: str,
    out_file: str | None,
    quiet: bool,
    dns: Callable[[], DiscoverOptions],
    flows: FlowArgs,
    flows_only: bool,
    ingress_controller_namespace: str,
    cluster: ClusterSource | None,
) -> None:
    """Which connections the application needs, found in its own manifests, with the evidence.

    Searches every container's env, envFrom, ConfigMap and Secret keys, ConfigMap volumes, command
    and args (after $(VAR) expansion) for Service addresses (svc, svc.ns, svc.ns.svc.cluster.local,
    URLs, connection strings, host lists, -flag=svc:port, REDIS_HOST with REDIS_PORT). Services of
    type LoadBalancer or NodePort, and those behind an Ingress, Route, HTTPRoute or GRPCRoute, are
    exposed; workloads that resolve names need DNS. PATH may also be a Helm chart (needs helm) or a
    Kustomize directory (needs kustomize or kubectl). The JSON form (-o json) is the input of generate.

    \b
      frontend/web[Deployment] => backend/api[Deployment] : TCP 8080
          frontend/web.yaml:31 Deployment frontend/web container web env API_URL: http://api.backend:8080
      {ingress-controller} => frontend/web[Deployment] : TCP 8080

    With --flows, the connections flow logs show are added, each with its evidence (records, first
    and last seen, a sample record's file:line); see docs/flows.md.
    """
    options = dns()
    if not flows.paths:
        flows.require_unused(flows_only)
        result = discover_connections(
            manifest_inputs(paths, cluster, quiet, config_maps=True), options=options
        )
    else:
        # flows alone need no manifests (their owners and labels name the workloads)
        inputs = manifest_inputs(paths, cluster, quiet, config_maps=True) if paths or cluster else []
        result = discover_with_flows(
            inputs,
            flows.log(quiet),
            options=options,
            flows_only=flows_only,
            min_count=flows.min_count,
            ingress_controller_namespace=ingress_controller_namespace,
        )
    report(result, fmt, out_file, quiet)


@cli.command("explain", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@click.option(
    "--src", required=True, metavar="PEER", help="Source: ns/name, ns/name[Kind], an IP address or CIDR."
)
@click.option(
    "--dst",
    required=True,
    metavar="PEER",
    help="Destination, in the same forms, or a domain name as admin policies' domainNames match it "
    "(api.example.com, *.example.com).",
)
@click.option("--port", type=click.IntRange(1, 65535), help="Only this destination port.")
@click.option(
    "--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), help="Only this protocol."
)
@explain_only_option
@output_options()
@analysis_options
def explain_cmd(
    paths: tuple[str, ...],
    src: str,
    dst: str,
    port: int | None,
    protocol: str | None,
    explain_only: str | None,
    fmt: str,
    out_file: str | None,
    quiet: bool,
    map_options: Callable[..., MapOptions],
    cluster: ClusterSource | None,
) -> None:
    """Why a connection is allowed or denied.

    For each direction (the source's egress, the destination's ingress) tells which tier
    (Admin, NetworkPolicy, Baseline, default), which policy and which rule decided, for which
    ports. A denied connection names what denied it, or that nothing allowed it under isolation.

    \b
      kubefence explain examples/shop --src shop-frontend/web --dst shop-data/redis --port 6379
    """
    options = map_options()
    inputs = load_model(paths, cluster, quiet)
    expl = explain_connectivity(
        inputs, src, dst, port=port, protocol=protocol, options=options, only=explain_only
    )
    report(expl, fmt, out_file, quiet)


@cli.command("generate", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@click.option(
    "--connections",
    type=click.Path(dir_okay=False),
    help="The needed connectivity as a discover JSON file (kubefence discover -o json), instead of "
    "discovering it from PATH.",
)
@click.option(
    "-d",
    "--out-dir",
    "out_dir",
    metavar="DIR",
    help="Write one YAML file per namespace into DIR (never overwriting files kubefence did not "
    "write); without it, all policies go to stdout (or -f FILE).",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 and show the difference when DIR is not up to date."
)
@ingress_controller_option
@click.option(
    "--numeric-ports", is_flag=True, help="Write ports by number even where the destination names them."
)
@click.option(
    "--validate", is_flag=True, help="Validate every generated object against the Kubernetes schema."
)
@guardrails_option(
    "Generate within these guardrails: needed connections a deny rule forbids are left out and "
    "reported, connections allow rules require are added."
)
@dns_options
@flow_options
@output_options(formats=("yaml", "json"), default="yaml")
def generate_cmd(
    paths: tuple[str, ...],
    connections: str | None,
    out_dir: str | None,
    check: bool,
    ingress_controller_namespace: str,
    numeric_ports: bool,
    validate: bool,
    guardrail_paths: tuple[str, ...],
    dns: Callable[[], DiscoverOptions],
    flows: FlowArgs,
    fmt: str,
    out_file: str | None,
    quiet: bool,
    cluster: ClusterSource | None,
) -> None:
    """Least-privilege NetworkPolicies for exactly the connectivity the application needs.

    PATH are the application's manifests (as for discover). Per namespace a default deny of ingress
    and egress, then per workload one policy allowing its needed ingress and egress: peers by their
    smallest stable label set, other namespaces by kubernetes.io/metadata.name, DNS only to
    kube-dns. Every object carries app.kubernetes.io/managed-by: kubefence. Without -d, one YAML
    stream (each policy with comments saying which connections it serves), or -o json one v1 List.

    \b
      kubefence generate deploy/ | kubectl apply -f -
      kubefence generate deploy/ -d policies/
      kubefence generate deploy/ -d policies/ --check     # CI: fail when policies/ is stale
      kubefence generate deploy/ --check --cluster        # are the deployed policies the generated ones?

    With --cluster and --check, the NetworkPolicies deployed in the cluster that carry the label
    above are compared with the generated ones (PATH, or the cluster's own workloads without PATH).
    With --flows, the connectivity is what the manifests declare and what the flow logs show.
    """
    read = None
    if cluster is not None:
        if not check:
            raise UsageError(
                "--cluster goes with --check (generate writes files; it never changes a cluster)"
            )
        if out_dir is not None:
            raise UsageError("--check --cluster compares with the cluster: -d goes without it")
        read = read_live_cluster(cluster, quiet, config_maps=not paths)
    elif not paths:
        raise UsageError("give at least one PATH (or --check --cluster)")
    if out_dir is None and check and read is None:
        raise UsageError("--check needs an output directory (-d DIR)")
    if out_dir is not None and (out_file or fmt != "yaml"):
        raise UsageError("-d DIR writes one YAML file per namespace: -f and -o go without it")
    app = list(paths) if paths or read is None else read.documents()
    needed: str | DiscoveryResult | None = connections
    if flows.paths:
        if connections:
            raise UsageError(
                "--connections and --flows do not go together: use discover -o json with --flows"
            )
        needed = discover_with_flows(
            app,
            flows.log(quiet),
            options=dns(),
            min_count=flows.min_count,
            ingress_controller_namespace=ingress_controller_namespace,
        )
    else:
        flows.require_unused()
    generated = generate_policies(
        app,
        connections=needed,
        options=generate_options(
            ingress_controller_namespace=ingress_controller_namespace, named_ports=not numeric_ports
        ),
        guardrails=list(guardrail_paths),
        discover_options=dns(),
    )
    show_warnings(generated.warnings, quiet)
    for note in generated.guardrail_notes:  # what guardrails changed is a result, shown even with --quiet
        click.echo(str(note).replace("warning: ", "guardrail: ", 1), err=True)
    if read is not None and cluster is not None:
        _check_deployed(generated, read, cluster, quiet)
        return
    if validate:
        problems = validate_generated(generated)
        if problems:
            raise KubefenceError("generated objects fail schema validation: " + "; ".join(problems))
    if out_dir is None:
        text = policy_stream(generated, fmt)
        with _output_stream(out_file) as out:
            out.write(text)
        return
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise UsageError(f"-d {out_dir}: not a directory (give a directory for the policy files)")
    files = policy_files(generated)
    changes = plan_policy_directory(out_dir, files)
    stale = [c for c in changes if c.changed]
    if check:
        for c in stale:
            click.echo(c.unified_diff(), nl=False)
        if stale:
            click.echo(f"{len(stale)} file(s) in {out_dir} differ from the generated policies", err=True)
            raise Findings()
        return
    apply_policy_changes(changes)
    if not quiet:
        removed = sum(1 for c in stale if c.new == "")
        gone = f", removed {removed} no longer needed" if removed else ""
        click.echo(f"wrote {len(stale) - removed} of {len(files)} file(s) in {out_dir}{gone}", err=True)


def _check_deployed(generated: Any, read: ClusterRead, cluster: ClusterSource, quiet: bool) -> None:
    """``generate --check --cluster``: one line per deployed policy that is not the generated one."""
    from dataclasses import replace

    from kubefence.api import deployed_policy_drift

    if cluster.namespaces:  # only the namespaces read can be compared
        kept = tuple(g for g in generated.policies if g.policy.namespace in cluster.namespaces)
        generated = replace(generated, policies=kept)
    drift = deployed_policy_drift(generated, read.documents())
    for name in drift.missing:
        click.echo(f"missing: {name} is generated but not deployed in cluster:{read.context}")
    for name in drift.changed:
        click.echo(f"changed: {name} in cluster:{read.context} differs from the generated policy")
    for name in drift.stale:
        click.echo(f"stale: {name} in cluster:{read.context} is managed by kubefence but no longer generated")
    count = len(drift.missing) + len(drift.changed) + len(drift.stale)
    if count:
        click.echo(f"{count} deployed policies are not the generated ones", err=True)
        raise Findings()
    if not quiet:
        click.echo(f"the {len(generated.policies)} generated policies are deployed as generated", err=True)


FAIL_ON = ("added", "removed", "changed", "any")


@cli.command("diff", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="OLD NEW | [PATH...]")
@click.option(
    "--git",
    "git_repo",
    is_flag=False,
    flag_value=".",
    default=None,
    metavar="[REPO]",
    help="Compare two revisions of a git repository (default: the current directory), read from git "
    "without a checkout; PATHs then limit the files compared.",
)
@click.option("--base", metavar="REF", help="With --git: the old revision.")
@click.option("--head", metavar="REF", help="With --git: the new revision.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    multiple=True,
    help="Exit 1 when there are changes of this type (repeatable; any = every type).",
)
@output_options()
@focus_query_options
@analysis_options
@cluster_options
def diff_cmd(
    paths: tuple[str, ...],
    git_repo: str | None,
    base: str | None,
    head: str | None,
    fail_on: tuple[str, ...],
    fmt: str,
    out_file: str | None,
    quiet: bool,
    focus_workloads: tuple[str, ...],
    focus_workload_peers: tuple[str, ...],
    focus_direction: str | None,
    focus_conn: str | None,
    map_options: Callable[..., MapOptions],
    cluster: ClusterSource | None,
) -> None:
    """How connectivity changes between two versions: added, removed and changed pairs.

    With --cluster, the old version is the live cluster and PATHs are the new one (what Git would
    deploy): drift between the cluster and Git, with --fail-on any for a CI gate.

    \b
      kubefence diff old/ new/
      kubefence diff --git --base origin/main --head HEAD deploy/
      kubefence diff --cluster deploy/ --fail-on any      # GitOps drift: cluster -> Git
    """
    options = map_options(
        focus_workloads,
        peers=focus_workload_peers,
        direction=focus_direction,
        conn=focus_conn,
    )
    if cluster is not None:
        if git_repo is not None or base or head:
            raise UsageError("--cluster compares the cluster with PATHs; it does not go with --git")
        if not paths:
            raise UsageError("give the manifests to compare the cluster with (PATH...)")
        live = read_live_cluster(cluster, quiet).documents()
        result = diff_connectivity(live, list(paths), options=options)
    elif git_repo is not None:
        if not base or not head:
            raise UsageError("--git needs --base REF and --head REF")
        result = diff_revisions(base, head, list(paths), repo=git_repo, options=options)
    else:
        if base or head:
            raise UsageError("--base and --head go with --git")
        if len(paths) != 2:
            raise UsageError("give two inputs, OLD and NEW (a file or directory each), or use --git")
        result = diff_connectivity([paths[0]], [paths[1]], options=options)
    report(result, fmt, out_file, quiet)
    wanted = set(FAIL_ON) if "any" in fail_on else set(fail_on)
    if any(c.type.value in wanted for c in result.changes):
        raise Findings()


REVIEW_FAIL_ON = ("added", "removed", "changed", "any", "drift", "blocked")


@cli.command("review", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@click.option(
    "--base", required=True, metavar="REF", help="The revision before the change (e.g. origin/main)."
)
@click.option(
    "--head", default="HEAD", show_default=True, metavar="REF", help="The revision after the change."
)
@click.option(
    "--repo", default=".", show_default=True, type=click.Path(file_okay=False), help="The git repository."
)
@guardrails_option("Guardrails to verify on the new version.")
@click.option(
    "--policies",
    "policies_dir",
    metavar="DIR",
    help="Where the application's generated policies are committed: checked for drift, and rewritten "
    "with the regenerated ones (unless --no-write).",
)
@click.option("--no-write", is_flag=True, help="Do not write the regenerated policy files.")
@click.option(
    "--markdown", "markdown_file", type=click.Path(dir_okay=False), help="Write the PR comment here."
)
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write the HTML report here.")
@click.option(
    "--fail-on",
    type=click.Choice(REVIEW_FAIL_ON),
    multiple=True,
    help="Also exit 1 on connectivity changes of this type, or on drift of the committed policies.",
)
@ingress_controller_option
@dns_options
@flow_options
@output_options()
def review_cmd(
    paths: tuple[str, ...],
    base: str,
    head: str,
    repo: str,
    guardrail_paths: tuple[str, ...],
    policies_dir: str | None,
    no_write: bool,
    markdown_file: str | None,
    html_file: str | None,
    fail_on: tuple[str, ...],
    ingress_controller_namespace: str,
    dns: Callable[[], DiscoverOptions],
    flows: FlowArgs,
    fmt: str,
    out_file: str | None,
    quiet: bool,
) -> None:
    """Review a pull request: how the application's connectivity changes, and whether it is allowed.

    Run inside the application's git repository (or pass --repo). Both revisions are read from git:
    connectivity is discovered, least-privilege policies generated and the resulting connectivity
    diffed, each change with the evidence that caused it; guardrails are verified on the new version
    and the committed policies compared with the regenerated ones. With --flows, the observed traffic
    the change would block is listed with its record counts (--fail-on blocked makes it fail). Exit 1
    when a guardrail is violated (or on --fail-on), 2 on errors.

    \b
      kubefence review --base origin/main --head HEAD deploy/ --guardrails security/guardrails.yaml \\
          --policies deploy/policies --markdown comment.md --html report.html
    """
    guard_warnings: list[Diagnostic] = []
    rules = load_guardrail_rules(list(guardrail_paths), warnings=guard_warnings) if guardrail_paths else ()
    options = review_options(
        generate=generate_options(ingress_controller_namespace=ingress_controller_namespace),
        discover=dns(),
    )
    observed = None
    if flows.paths:
        observed = flows.log(quiet)
    else:
        flows.require_unused()
    result = review_revisions(
        base,
        head,
        list(paths),
        repo=repo,
        guardrails=rules,
        policies_dir=policies_dir,
        options=options,
        flows=observed,
        flows_min_count=flows.min_count,
    )
    show_warnings([*guard_warnings, *result.warnings], quiet)
    if markdown_file:
        emit(result, "md", markdown_file)
    if html_file:
        emit(result, "html", html_file)
    emit(result, fmt, out_file)
    if policies_dir and not no_write:
        apply_policy_changes(plan_policy_directory(Path(repo) / policies_dir, result.head.files))
    wanted = set(fail_on)
    kinds = {c.change.type.value for c in result.changes}
    if (
        result.violated
        or ("any" in wanted and kinds)
        or (wanted & kinds)
        or ("drift" in wanted and result.drift)
        or ("blocked" in wanted and result.observed is not None and result.observed.blocked)
    ):
        raise Findings()


@cli.command("audit", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@flow_options
@click.option(
    "--no-unused", is_flag=True, help="Do not list what the policies allow that was never observed."
)
@output_options()
@analysis_options
def audit_cmd(
    paths: tuple[str, ...],
    flows: FlowArgs,
    no_unused: bool,
    fmt: str,
    out_file: str | None,
    quiet: bool,
    map_options: Callable[..., MapOptions],
    cluster: ClusterSource | None,
) -> None:
    """Check observed traffic (flow logs) against a policy set: what would break if it were enforced.

    PATH are the workloads and policies (every tier), or --cluster reads them. Each observed
    connection is allowed, or denied with the rules that deny it: "denied" traffic flows now and
    these policies would stop it; "denied (dropped now)" is already dropped. "unused" lists what the
    policies allow that no flow used in the window: candidates to tighten. Exit 1 when observed
    traffic would be denied.

    \b
      kubefence audit deploy/ policies/ --flows hubble/ --since 2024-05-01T00:00:00Z
      kubefence audit --cluster policies/ --flows hubble/   # the running workloads, these policies
    """
    if not flows.paths:
        raise UsageError("audit needs flow logs: --flows PATH (see docs/flows.md)")
    options = map_options()
    inputs = load_model(paths, cluster, quiet)
    result = audit_flows(
        inputs, flows.log(quiet), options=options, min_count=flows.min_count, unused=not no_unused
    )
    report(result, fmt, out_file, quiet)
    if not result.ok:
        raise Findings()


@cli.command("verify", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@cluster_options
@guardrails_option("The rules to check.", required=True)
@click.option(
    "--witnesses",
    type=click.IntRange(0, 100),
    default=defaults.WITNESSES,
    show_default=True,
    help="Violations explained per violated rule (source, destination, port, and the policy decisions).",
)
@output_options(formats=("txt", "json", "md", "html"))
@analysis_options
def verify_cmd(
    paths: tuple[str, ...],
    guardrail_paths: tuple[str, ...],
    witnesses: int,
    fmt: str,
    out_file: str | None,
    quiet: bool,
    map_options: Callable[..., MapOptions],
    cluster: ClusterSource | None,
) -> None:
    """Check a policy set (NetworkPolicy and the admin tiers) against guardrails.

    A deny rule is violated when the policies allow a connection it forbids; an allow rule when they
    do not allow every connection it requires. For each violated rule, a few witnesses: a concrete
    source, destination and port, and the policies and rules that allow it (or fail to). -o md is a
    pull-request comment. Exit 1 when a rule is violated. See docs/guardrails.md.

    \b
      kubefence verify --guardrails examples/guardrails examples/shop
    """
    options = map_options()
    inputs = load_model(paths, cluster, quiet)
    result = verify_guardrails(inputs, list(guardrail_paths), options=options, witnesses=witnesses)
    report(result, fmt, out_file, quiet)
    if not result.ok:
        raise Findings()


@cli.group("guardrails", epilog=EXIT_CODES_HELP)
def guardrails_group() -> None:
    """Guardrail files: human-authored rules that every policy set must respect."""


@guardrails_group.command("export", epilog=EXIT_CODES_HELP)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--as",
    "as_kind",
    type=click.Choice(sorted(defaults.EXPORT_KINDS), case_sensitive=False),
    default="clusternetworkpolicy",
    show_default=True,
    help="ClusterNetworkPolicy v1alpha2 (Admin tier) or AdminNetworkPolicy v1alpha1 objects.",
)
@click.option(
    "--priority",
    type=click.IntRange(0, 1000),
    default=0,
    show_default=True,
    help="Priority of the first object; each next one gets the next number (deny rules come first).",
)
@output_options(formats=("yaml", "json"), default="yaml")
def guardrails_export_cmd(
    files: tuple[str, ...], as_kind: str, priority: int, fmt: str, out_file: str | None, quiet: bool
) -> None:
    """Turn guardrails into cluster-admin policies, so the cluster enforces them whatever namespaces do.

    Deny rules become Deny rules, allow rules Accept/Allow rules that override NetworkPolicies.
    Traffic from addresses into pods cannot be expressed (these APIs have no ingress networks
    peers): it is left out with a warning, and a rule with nothing else is an error. -o yaml is a
    multi-document YAML stream, -o json one List.

    \b
      kubefence guardrails export --as adminnetworkpolicy guardrails.yaml -f guardrails-anp.yaml
    """
    result = export_guardrails(list(files), kind=defaults.EXPORT_KINDS[as_kind.lower()], priority=priority)
    show_warnings(result.warnings, quiet)
    emit(result, "txt" if fmt == "yaml" else fmt, out_file)


@cli.command("snapshot", epilog=EXIT_CODES_HELP)
@cluster_options
@click.option(
    "-d",
    "--out-dir",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write the manifests here: a new or empty directory, or an earlier snapshot (replaced whole).",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print warnings.")
def snapshot_cmd(out_dir: str, quiet: bool, cluster: ClusterSource | None) -> None:
    """Write what a live cluster holds, as kubefence reads it, as manifests: one file per namespace
    and kind (DIR/NAMESPACE/KIND.json, a JSON List as kubectl get -o json writes it; cluster-scoped
    kinds in DIR/_cluster/).

    `kubefence map DIR` on the snapshot gives the map `kubefence map --cluster` gave, offline: for a
    review, a bug report or a record. Pods name their top owner (a Deployment, a CronJob, ...); status
    is left out but for pods' phase and addresses. The directory is written whole or not at all.

    \b
      kubefence snapshot --cluster --context prod -d snapshots/prod
      kubefence map snapshots/prod
    """
    from kubefence.io.cluster import write_snapshot

    if cluster is None:
        raise UsageError("snapshot reads a live cluster: add --cluster (and --context, -n as needed)")
    read = read_live_cluster(cluster, quiet)
    written = write_snapshot(read, out_dir)
    if not quiet:
        click.echo(f"wrote {len(read.objects)} objects in {len(written)} file(s) in {out_dir}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting (tests call this directly)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate from the input must not crash output
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    with _few_garbage_collections():
        code = _run(args)
    try:
        sys.stdout.flush()  # output a pipe reader did not take fails here, after the command
    except BrokenPipeError:
        return _closed_stdout()
    return code


def _closed_stdout() -> int:
    """The reader went away (``| head``): end quietly, with the shell's code for SIGPIPE."""
    with contextlib.suppress(Exception):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
    return EXIT_PIPE


@contextlib.contextmanager
def _few_garbage_collections() -> Iterator[None]:
    """Run the cycle collector less often: a command builds millions of long-lived objects, and the
    default thresholds make Python walk them again and again (a third of a large map's time)."""
    saved = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _run(args: list[str]) -> int:
    try:
        cli.main(args=args, prog_name="kubefence", standalone_mode=False)
    except Findings:
        return EXIT_FINDINGS
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except click.Abort:
        click.echo("kubefence: aborted", err=True)
        return EXIT_ERROR
    except KubefenceError as exc:
        click.echo(f"kubefence: error: {exc}", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        return _closed_stdout()
    except SystemExit:
        if type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):  # click's answer to EPIPE: exit 1
            return _closed_stdout()
        raise
    except Exception as exc:  # a bug of ours: one line, the traceback only on request
        if os.environ.get("KUBEFENCE_DEBUG"):
            raise
        click.echo(
            f"kubefence: internal error: {type(exc).__name__}: {exc} "
            "(set KUBEFENCE_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        return EXIT_ERROR
    return EXIT_OK
