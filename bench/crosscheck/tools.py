"""The two analyzers behind one small interface: a cluster directory in, a :class:`Connlist` out.

kubefence runs in-process through its library entry point. network-config-analyzer (NCA) runs as a
subprocess from a virtual environment of its own (``.venv-nca`` beside this file), created on first
use and never mixed with the project's environment. Its connectivity map comes from::

    nca --connectivity --resource_list DIR --output_format txt_no_fw_rules --file_out FILE

``--resource_list`` reads pods, namespaces and policies from the same directory (``--connectivity
DIR`` alone would take the pods from a live cluster). ``txt_no_fw_rules`` prints one
``SRC => DST : CONNS`` line per peer pair and per group of connections, with workloads named as
ours (``ns/name[Kind]``, Pods grouped by owner) and addresses as ``first-last`` ranges.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import kubefence
from crosscheck.compare import PROTOCOLS, Connlist, Conns, parse_addresses
from kubefence.model.peers import ExternalPeer

__all__ = [
    "NCA_VENV",
    "NCA_VERSION",
    "Analyzer",
    "AnalyzerError",
    "Kubefence",
    "Nca",
    "ensure_nca",
    "parse_nca_conns",
    "parse_nca_output",
]

NCA_VERSION = "2.1.0"
NCA_VENV = Path(__file__).resolve().with_name(".venv-nca")
NCA_TIMEOUT = 600.0
# The np-guard tools put the ingress controller in ingress-controller-ns (kubefence: ingress-nginx).
NP_GUARD_OPTIONS = kubefence.MapOptions(ingress_controller_namespace="ingress-controller-ns")


class AnalyzerError(RuntimeError):
    """An analyzer failed on a cluster: it rejected the input or crashed."""


class Analyzer(Protocol):
    name: str

    def connlist(self, cluster_dir: Path) -> tuple[Connlist, str]:
        """The connectivity of the cluster in ``cluster_dir``, and the tool's raw output text."""
        ...


class Kubefence:
    name = "kubefence"

    def connlist(self, cluster_dir: Path) -> tuple[Connlist, str]:
        try:
            cmap = kubefence.map_connectivity([cluster_dir], options=NP_GUARD_OPTIONS)
        except kubefence.KubefenceError as exc:
            raise AnalyzerError(f"kubefence rejected the input: {exc}") from exc
        except Exception as exc:  # a crash is a finding, not the end of the run
            raise AnalyzerError(f"kubefence crashed: {type(exc).__name__}: {exc}") from exc
        out = Connlist()
        for c in cmap.connections:
            conns = Conns.build((proto, ports.intervals) for proto, ports in c.conn.items())
            if isinstance(c.src, ExternalPeer):
                out.add_from_ips(parse_addresses(str(c.src.ips)), str(c.dst), conns)
            elif isinstance(c.dst, ExternalPeer):
                out.add_to_ips(str(c.src), parse_addresses(str(c.dst.ips)), conns)
            else:
                out.add_pair(str(c.src), str(c.dst), conns)
        return out, "\n".join(str(c) for c in cmap.connections) + "\n"


def ensure_nca(venv: Path = NCA_VENV, *, quiet: bool = True) -> Path:
    """The ``nca`` executable of ``venv``, creating the environment and installing NCA if needed."""
    exe = venv / "bin" / "nca"
    marker = venv / "crosscheck-nca-version"
    if exe.exists() and marker.exists() and marker.read_text().strip() == NCA_VERSION:
        return exe
    print(f"creating {venv} with network-config-analyzer {NCA_VERSION} ...", file=sys.stderr)
    # the base interpreter, not the project's venv: NCA must not see kubefence's packages
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, *(["--quiet"] if quiet else []), f"network-config-analyzer=={NCA_VERSION}"], check=True
    )
    marker.write_text(NCA_VERSION + "\n")
    return exe


@dataclass
class Nca:
    """network-config-analyzer, run as a subprocess per cluster."""

    exe: Path
    name: str = "nca"
    timeout: float = NCA_TIMEOUT
    last_seconds: float = 0.0

    def run(self, cluster_dir: Path) -> str:
        """NCA's ``txt_no_fw_rules`` connectivity map of ``cluster_dir``."""
        with tempfile.TemporaryDirectory(prefix="nca-out-") as tmp:
            out_file = Path(tmp) / "connlist.txt"
            cmd = [
                str(self.exe),
                "--connectivity",
                "--resource_list",
                str(cluster_dir),
                "--output_format",
                "txt_no_fw_rules",
                "--file_out",
                str(out_file),
            ]
            start = time.perf_counter()
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=self.timeout, env=_clean_env(), check=False
            )
            self.last_seconds = time.perf_counter() - start
            if not out_file.exists():
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                raise AnalyzerError(f"nca exited {proc.returncode} without output:\n{tail}")
            return out_file.read_text(encoding="utf-8")

    def connlist(self, cluster_dir: Path) -> tuple[Connlist, str]:
        text = self.run(cluster_dir)
        return parse_nca_output(text), text


def _clean_env() -> dict[str, str]:
    # keep the project's venv out of NCA's way
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return env


_LIVESIM = "-livesim[Pod]"
_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conns>.+)$")
_CUBE = re.compile(r"\{(?:protocols:(?P<protocols>[^{}]+?))?(?:,?dst_ports:(?P<ports>[0-9,-]+))?\}")


def _is_address(peer: str) -> bool:
    return "/" not in peer and "[" not in peer


def parse_nca_output(text: str) -> Connlist:
    """Read NCA's ``txt_no_fw_rules`` connectivity map. Raises ValueError on a line it cannot read."""
    out = Connlist()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.endswith("Connections:"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"unreadable nca line: {line!r}")
        src, dst, conns = m["src"], m["dst"], parse_nca_conns(m["conns"])
        if src.endswith(_LIVESIM) or dst.endswith(_LIVESIM):
            continue  # a pod NCA made up (kube-dns, ingress controller) for policies that name one
        if _is_address(src) and _is_address(dst):
            raise ValueError(f"nca line between two addresses: {line!r}")
        if _is_address(src):
            out.add_from_ips(parse_addresses(src), dst, conns)
        elif _is_address(dst):
            out.add_to_ips(src, parse_addresses(dst), conns)
        else:
            out.add_pair(src, dst, conns)
    return out


def parse_nca_conns(text: str) -> Conns:
    """``All connections``, ``No connections``, ``All but X`` or cubes ``{protocols:TCP, UDP,dst_ports:53}``.

    NCA's protocol space has 256 protocols; NetworkPolicy only speaks of TCP, UDP and SCTP, so every
    set is cut down to those three.

    >>> str(parse_nca_conns("{protocols:TCP, UDP,dst_ports:53,80-81},{protocols:SCTP}"))
    'SCTP 1-65535,TCP 53,80-81,UDP 53,80-81'
    """
    text = text.strip()
    if text == "All connections":
        return Conns.all()
    if text == "No connections":
        return Conns()
    if text.startswith("All but "):
        return Conns.all() - parse_nca_conns(text.removeprefix("All but "))
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"unreadable nca connections: {text!r}")
    out = Conns()
    for cube in text[1:-1].split("},{"):
        m = _CUBE.fullmatch("{" + cube + "}")
        if m is None:
            raise ValueError(f"unreadable nca connection cube: {cube!r} in {text!r}")
        ports = [(1, 65535)]
        if m["ports"]:
            ports = []
            for part in m["ports"].split(","):
                lo, _, hi = part.partition("-")
                ports.append((int(lo), int(hi or lo)))
        out = out | Conns.build((p, ports) for p in _protocols(m["protocols"]))
    return out


def _protocols(text: str | None) -> list[str]:
    if text is None or text.strip() == "*":
        return list(PROTOCOLS)
    text = text.strip()
    negate = text.startswith("all but ")
    names = {n.strip().upper() for n in text.removeprefix("all but ").split(",")}
    return [p for p in PROTOCOLS if (p in names) != negate]
