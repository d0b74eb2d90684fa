"""Rendering Helm charts and Kustomize directories into manifests, behind a small interface.

The outside programs (``helm template``, ``kustomize build`` or ``kubectl kustomize``) are reached
only through a :class:`ToolRunner`: :class:`SubprocessRunner` runs them for real, and
:class:`FakeRunner` answers from a table in unit tests. :func:`load_inputs` is
:func:`~kubefence.io.documents.load_documents` that renders charts and Kustomize directories first:

>>> docs = load_inputs(["charts/shop", "k8s/overlays/prod", "plain.yaml"])   # doctest: +SKIP

A directory is a Helm chart when it holds ``Chart.yaml``, a Kustomize directory when it holds
``kustomization.yaml``, ``kustomization.yml`` or ``Kustomization``. Inside a plain directory, a
sub-directory that is a chart is rendered too (its templates are not YAML before rendering).
Rendered documents keep the template's path (Helm's ``# Source:`` comments) with line 0: a line in
the rendered text is nowhere the user can open.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kubefence.errors import Diagnostic, InputError, Origin, ToolMissingError
from kubefence.io.documents import MANIFEST_SUFFIXES, STDIN, Document, parse_text
from kubefence.io.parallel import parse_files
from kubefence.io.walk import Walker

CHART_FILE = "Chart.yaml"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_SOURCE_RE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: str
    stderr: str = ""


class ToolRunner(Protocol):
    """Finds and runs outside programs. The real one uses PATH and subprocess; tests use a fake."""

    def which(self, program: str) -> str | None:
        """The program's path, or None when it is not installed."""

    def run(self, argv: Sequence[str]) -> ToolResult:
        """Run ``argv`` (``argv[0]`` as returned by :meth:`which`) and capture its output."""


class SubprocessRunner:
    """The real programs, found on PATH."""

    def which(self, program: str) -> str | None:
        return shutil.which(program)

    def run(self, argv: Sequence[str]) -> ToolResult:
        try:
            proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        except OSError as exc:
            return ToolResult(127, "", str(exc))
        return ToolResult(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class FakeRunner:
    """A :class:`ToolRunner` for tests: ``programs`` are installed; ``outputs`` maps a command line
    (program name and arguments, joined by spaces) to its result. ``calls`` records what ran."""

    programs: frozenset[str] = frozenset()
    outputs: Mapping[str, ToolResult] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def which(self, program: str) -> str | None:
        return program if program in self.programs else None

    def run(self, argv: Sequence[str]) -> ToolResult:
        self.calls.append(tuple(argv))
        key = " ".join(argv)
        if key not in self.outputs:
            return ToolResult(1, "", f"fake: no output for {key!r}")
        return self.outputs[key]


def is_chart(path: Path) -> bool:
    return path.is_dir() and (path / CHART_FILE).is_file()


def is_kustomization(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in KUSTOMIZATION_FILES)


def _failure(tool: str, path: Path, result: ToolResult) -> InputError:
    lines = [ln.strip() for ln in result.stderr.strip().splitlines() if ln.strip()]
    detail = lines[-1] if lines else f"exit code {result.returncode}"
    return InputError(f"{tool} failed: {detail}", Origin(str(path)), "fix the chart or kustomization")


def render_helm(path: Path, runner: ToolRunner) -> list[Document]:
    """``helm template`` of the chart at ``path``; each document keeps its template path."""
    helm = runner.which("helm")
    if helm is None:
        raise ToolMissingError(
            f"{path} is a Helm chart: rendering it needs `helm` on PATH "
            "(install Helm, or pipe `helm template` output into kubefence with -)"
        )
    result = runner.run([helm, "template", str(path)])
    if result.returncode != 0:
        raise _failure("helm template", path, result)
    return _with_sources(parse_text(result.stdout, f"{path} (helm template)"), path)


def render_kustomize(path: Path, runner: ToolRunner) -> list[Document]:
    """``kustomize build`` of ``path`` (``kubectl kustomize`` when only kubectl is installed)."""
    kustomize = runner.which("kustomize")
    if kustomize is not None:
        argv, tool = [kustomize, "build", str(path)], "kustomize build"
    else:
        kubectl = runner.which("kubectl")
        if kubectl is None:
            raise ToolMissingError(
                f"{path} is a Kustomize directory: rendering it needs `kustomize` or `kubectl` on PATH "
                "(install one, or pipe `kustomize build` output into kubefence with -)"
            )
        argv, tool = [kubectl, "kustomize", str(path)], "kubectl kustomize"
    result = runner.run(argv)
    if result.returncode != 0:
        raise _failure(tool, path, result)
    name = f"{path} ({tool})"
    return [dataclasses.replace(d, origin=Origin(name, 0)) for d in parse_text(result.stdout, name)]


def _with_sources(docs: list[Document], chart: Path) -> list[Document]:
    """Point each rendered document at its template: Helm writes ``# Source: chart/templates/x.yaml``.

    A document without the comment comes from the same template as the one before it.
    """
    out = []
    origin = Origin(docs[0].origin.file, 0) if docs else Origin()
    head_start = 0  # the comments before a document's content follow the previous document's end
    for doc in docs:
        sources = _SOURCE_RE.findall(doc._text, head_start, doc._offset)
        if sources:
            rel = sources[-1].split("/", 1)[1] if "/" in sources[-1] else sources[-1]
            origin = Origin(f"{chart / rel} (helm template)", 0)
        head_start = max(head_start, doc._end)
        out.append(dataclasses.replace(doc, origin=origin))
    return out


def render_path(path: Path, runner: ToolRunner) -> list[Document] | None:
    """The rendered documents of a chart or Kustomize directory; None for anything else."""
    if is_chart(path):
        return render_helm(path, runner)
    if is_kustomization(path):
        return render_kustomize(path, runner)
    return None


def _walk(path: Path, runner: ToolRunner, walker: Walker) -> Iterator[Path | list[Document]]:
    """A plain directory's manifest files, sorted, and the documents of the charts found below it."""
    for child in walker.walk(path, _is_manifest, lambda d: not is_chart(d)):
        yield render_helm(child, runner) if child.is_dir() else child


def _is_manifest(path: Path) -> bool:
    return path.suffix.lower() in MANIFEST_SUFFIXES


def load_inputs(
    paths: Sequence[str | Path],
    *,
    runner: ToolRunner | None = None,
    stdin_text: str | None = None,
    read_stdin: Callable[[], str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    warnings: list[Diagnostic] | None = None,
) -> list[Document]:
    """Every Kubernetes object in ``paths``: files, directories, charts, Kustomize directories, ``-``.

    Directories are walked with symlinks followed, each real file once; symlink loops and files
    seen twice are skipped with a warning appended to ``warnings``.

    Raises :class:`~kubefence.errors.InputError` for a missing path or bad manifest, and
    :class:`~kubefence.errors.ToolMissingError` when a chart or kustomization needs a program that is
    not installed. ``progress(done, total)`` follows the parsing of the files, in bytes.
    """
    tools = runner or SubprocessRunner()
    walker = Walker()
    repeated: set[str] = set()
    parts: list[tuple[str, Path | list[Document]]] = []  # (argument, file to parse or documents read)
    for raw in paths:
        if str(raw) == STDIN:
            text = stdin_text if stdin_text is not None else (read_stdin or sys.stdin.read)()
            parts.append((STDIN, parse_text(text, "<stdin>")))
            continue
        path = Path(raw)
        if path.is_dir():
            rendered = render_path(path, tools)
            parts.extend(
                (str(raw), p) for p in ([rendered] if rendered is not None else _walk(path, tools, walker))
            )
        elif path.is_file():
            if walker.first_visit(path):
                parts.append((str(raw), path))
            else:
                repeated.add(str(raw))  # its objects are read once, under its first name
        else:
            raise InputError(f"no such file or directory: {raw}", hint="check the path")
    parsed = iter(parse_files([p for _, p in parts if isinstance(p, Path)], progress=progress))
    docs: list[Document] = []
    found: dict[str, int] = {str(raw): 0 for raw in paths}
    for raw, part in parts:
        got = next(parsed) if isinstance(part, Path) else part
        found[raw] += len(got)
        docs.extend(got)
    # a mistyped path or an empty pipe must not pass CI as "no connections"
    for raw, count in found.items():
        if not count and raw not in repeated:
            where = "stdin" if raw == STDIN else raw
            raise InputError(
                f"no Kubernetes objects found in {where}",
                hint="check the path; manifests are .yaml, .yml or .json files with apiVersion and kind",
            )
    if warnings is not None:
        warnings.extend(walker.warnings)
    return docs
