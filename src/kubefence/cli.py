"""Command line: argument parsing only. Every command is one library call and one renderer.

Exit codes (a contract for CI): 0 clean, 1 findings (where a command has them), 2 usage or input error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from kubefence import __version__
from kubefence.analysis.engine import DEFAULT_INGRESS_CONTROLLER_NAMESPACE, MapOptions
from kubefence.api import explain_connectivity, map_connectivity
from kubefence.errors import Diagnostic, KubefenceError
from kubefence.report import FORMATS, render_chunks

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

EXIT_CODES_HELP = "Exit codes: 0 success, 1 findings (where the command has them), 2 usage or input error."

F = TypeVar("F", bound=Callable[..., Any])


class Findings(Exception):
    """Raised by a command to end with exit code 1 after its output is written."""


def output_options(formats: Sequence[str] = FORMATS, default: str = "txt") -> Callable[[F], F]:
    """The options every command shares: -o FORMAT, -f FILE, --quiet."""

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


@contextlib.contextmanager
def _output_stream(out_file: str | None) -> Iterator[TextIO]:
    """stdout, or a temporary file renamed over ``out_file`` only when all was written."""
    if not out_file or out_file == "-":
        yield sys.stdout
        return
    target = Path(out_file)
    if target.parent and not target.parent.exists():
        raise KubefenceError(f"{out_file}: directory {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            yield stream
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="kubefence")
def cli() -> None:
    """kubefence: discover, generate, govern and analyze Kubernetes network policies.

    PATH arguments are manifest files or directories (searched recursively for .yaml, .yml and
    .json), or - for stdin.
    """


def analysis_options(fn: F) -> F:
    """Options shared by the commands that evaluate policies."""
    fn = click.option(
        "--ingress-controller-namespace",
        metavar="NS",
        default=DEFAULT_INGRESS_CONTROLLER_NAMESPACE,
        show_default=True,
        help="Namespace the ingress controller runs in (it is modelled as a pod without labels there).",
    )(fn)
    return click.option(
        "--ip-family",
        type=click.Choice(["auto", "ipv4", "ipv6", "dual"]),
        default="auto",
        show_default=True,
        help="Address space of external peers; auto is IPv4, plus IPv6 when a policy names an IPv6 block.",
    )(fn)


def _map_options(ip_family: str, ingress_controller_namespace: str, focus: str | None = None) -> MapOptions:
    return MapOptions(
        ip_family=ip_family,  # type: ignore[arg-type]  # click.Choice guarantees the literal
        focus_workload=focus,
        ingress_controller_namespace=ingress_controller_namespace,
    )


@cli.command("map", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@output_options()
@click.option(
    "--focus-workload", metavar="NAME", help="Only connections from or to this workload (ns/name or name)."
)
@click.option(
    "--explain", is_flag=True, help="Explain every pair of workloads: which tier, policy and rule decided."
)
@analysis_options
def map_cmd(
    paths: tuple[str, ...],
    fmt: str,
    out_file: str | None,
    quiet: bool,
    focus_workload: str | None,
    explain: bool,
    ip_family: str,
    ingress_controller_namespace: str,
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
    options = _map_options(ip_family, ingress_controller_namespace, focus_workload)
    if explain:
        expl = explain_connectivity(list(paths), options=options)
        show_warnings(expl.warnings, quiet)
        emit(expl, fmt, out_file)
        return
    cmap = map_connectivity(list(paths), options=options)
    show_warnings(cmap.warnings, quiet)
    emit(cmap, fmt, out_file)


@cli.command("explain", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--src", required=True, metavar="PEER", help="Source: ns/name, ns/name[Kind], an IP address or CIDR."
)
@click.option("--dst", required=True, metavar="PEER", help="Destination, in the same forms.")
@click.option("--port", type=click.IntRange(1, 65535), help="Only this destination port.")
@click.option(
    "--protocol", type=click.Choice(["TCP", "UDP", "SCTP"], case_sensitive=False), help="Only this protocol."
)
@output_options()
@analysis_options
def explain_cmd(
    paths: tuple[str, ...],
    src: str,
    dst: str,
    port: int | None,
    protocol: str | None,
    fmt: str,
    out_file: str | None,
    quiet: bool,
    ip_family: str,
    ingress_controller_namespace: str,
) -> None:
    """Why a connection is allowed or denied.

    For each direction (the source's egress, the destination's ingress) tells which tier
    (Admin, NetworkPolicy, Baseline, default), which policy and which rule decided, for which
    ports. A denied connection names what denied it, or that nothing allowed it under isolation.

    \b
      kubefence explain examples/shop --src shop-frontend/web --dst shop-data/redis --port 6379
    """
    options = _map_options(ip_family, ingress_controller_namespace)
    expl = explain_connectivity(list(paths), src, dst, port=port, protocol=protocol, options=options)
    show_warnings(expl.warnings, quiet)
    emit(expl, fmt, out_file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of exiting (tests call this directly)."""
    args = list(sys.argv[1:] if argv is None else argv)
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
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        return EXIT_OK
    return EXIT_OK
