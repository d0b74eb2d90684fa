"""Exec credential plugins (kubectl's ``users[].user.exec``), as client-go runs them.

The contract (client.authentication.k8s.io v1, v1beta1 and v1alpha1): the command runs with its
args, the process environment plus the entry's ``env``, and ``KUBERNETES_EXEC_INFO`` holding an
ExecCredential that says whether stdin is passed (never here: a cluster read is not interactive)
and, with ``provideClusterInfo: true`` (v1 and v1beta1), the cluster. It prints an ExecCredential
of the same apiVersion whose ``status.token`` is the bearer token, valid until
``status.expirationTimestamp`` when that is given. Every failure is a :class:`PluginError`, one
line; the plugin itself runs behind :class:`PluginRunner`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

GROUP = "client.authentication.k8s.io"
VERSIONS = (f"{GROUP}/v1", f"{GROUP}/v1beta1", f"{GROUP}/v1alpha1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
EXEC_INFO = "KUBERNETES_EXEC_INFO"
CLUSTER_CONFIG_EXTENSION = (
    f"{GROUP}/exec"  # a cluster's extension handed to the plugin as spec.cluster.config
)


class PluginError(Exception):
    """The plugin could not be configured, run, or understood; the text is one line."""


@dataclass(frozen=True)
class PluginResult:
    returncode: int
    stdout: bytes
    stderr: bytes


class PluginRunner(Protocol):
    """Runs a plugin: ``FileNotFoundError``/``PermissionError`` when it cannot be started."""

    async def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> PluginResult: ...


async def run_subprocess(argv: Sequence[str], env: Mapping[str, str]) -> PluginResult:
    """The real runner: stdin is not passed (no terminal), stdout and stderr are captured."""
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        *argv, env=dict(env), stdin=asyncio.subprocess.DEVNULL, stdout=pipe, stderr=pipe
    )
    stdout, stderr = await proc.communicate()
    return PluginResult(proc.returncode or 0, stdout, stderr)


@dataclass(frozen=True)
class ExecPlugin:
    """One user's exec entry, checked: what to run and what to tell it."""

    api_version: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    install_hint: str = ""
    cluster: Mapping[str, Any] | None = None  # spec.cluster, when provideClusterInfo is set

    def argv(self) -> list[str]:
        return [self.command, *self.args]

    def exec_info(self) -> str:
        """KUBERNETES_EXEC_INFO: client-go's ExecCredential request (v1alpha1 omits interactive:
        false and has no cluster)."""
        spec: dict[str, Any] = {}
        if self.api_version != f"{GROUP}/v1alpha1":
            spec["interactive"] = False
            if self.cluster is not None:
                spec["cluster"] = dict(self.cluster)
        return json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec})

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        env = {**environ, **dict(self.env)}
        env[EXEC_INFO] = self.exec_info()
        return env


@dataclass(frozen=True)
class Credential:
    token: str
    expires: datetime | None  # None: valid until the server rejects it

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


def exec_plugin(exec_: Mapping[str, Any], cluster: Mapping[str, Any]) -> ExecPlugin:
    """The user's ``exec`` mapping (paths already absolute) checked; ``cluster`` is the context's
    cluster entry, for provideClusterInfo."""
    api_version = exec_.get("apiVersion")
    if api_version not in VERSIONS:
        raise PluginError(f"exec apiVersion {api_version} is not one of {', '.join(VERSIONS)}")
    command = exec_.get("command")
    if not isinstance(command, str) or not command:
        raise PluginError("exec has no command")
    mode = exec_.get("interactiveMode") or "IfAvailable"  # v1 requires it; kubectl's default otherwise
    if mode not in INTERACTIVE_MODES:
        raise PluginError(f"exec interactiveMode {mode} is not one of {', '.join(INTERACTIVE_MODES)}")
    if mode == "Always":
        raise PluginError(
            "exec interactiveMode Always needs a terminal for the plugin, and kubefence runs plugins "
            "without one (log in with the plugin first, or set interactiveMode: IfAvailable)"
        )
    args = tuple(str(a) for a in exec_.get("args") or ())
    env = tuple((str(e["name"]), str(e["value"])) for e in exec_.get("env") or ())
    hint = str(exec_.get("installHint") or "").strip().splitlines()
    provide = exec_.get("provideClusterInfo") is True and api_version != f"{GROUP}/v1alpha1"
    return ExecPlugin(
        api_version=api_version,
        command=command,
        args=args,
        env=env,
        install_hint=hint[0] if hint else "",
        cluster=_cluster_info(cluster) if provide else None,
    )


def _cluster_info(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """spec.cluster as client-go fills it: CA data always as base64 bytes, read from the file when
    the kubeconfig names one."""
    info: dict[str, Any] = {"server": str(cluster.get("server", ""))}
    if cluster.get("tls-server-name"):
        info["tls-server-name"] = cluster["tls-server-name"]
    if cluster.get("insecure-skip-tls-verify") is True:
        info["insecure-skip-tls-verify"] = True
    ca_data = cluster.get("certificate-authority-data")
    if not ca_data and cluster.get("certificate-authority"):
        try:
            ca_data = base64.b64encode(Path(str(cluster["certificate-authority"])).read_bytes()).decode()
        except OSError as exc:
            raise PluginError(f"cannot read the cluster's certificate-authority: {exc}") from None
    if ca_data:
        info["certificate-authority-data"] = ca_data
    if cluster.get("proxy-url"):
        info["proxy-url"] = cluster["proxy-url"]
    for ext in cluster.get("extensions") or ():
        if isinstance(ext, dict) and ext.get("name") == CLUSTER_CONFIG_EXTENSION:
            info["config"] = ext.get("extension")
    return info


async def obtain(plugin: ExecPlugin, runner: PluginRunner, environ: Mapping[str, str]) -> Credential:
    """Runs the plugin once and reads its credential."""
    try:
        result = await runner(plugin.argv(), plugin.environment(environ))
    except FileNotFoundError:
        hint = f" ({plugin.install_hint})" if plugin.install_hint else ""
        raise PluginError(f"the command was not found{hint}") from None
    except PermissionError:
        raise PluginError("the command is not executable") from None
    except OSError as exc:
        raise PluginError(f"the command could not be started: {exc.strerror or exc}") from None
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        why = f": {lines[0].strip()}" if lines else ""
        raise PluginError(f"it exited with code {result.returncode}{why}")
    return parse_credential(plugin.api_version, result.stdout)


def parse_credential(api_version: str, output: bytes) -> Credential:
    """The ExecCredential a plugin printed, checked as client-go checks it."""
    try:
        data = json.loads(output)
    except ValueError:
        raise PluginError("its output is not an ExecCredential in JSON") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise PluginError("its output is not an ExecCredential in JSON")
    if data.get("apiVersion") != api_version:
        raise PluginError(
            f"it printed apiVersion {data.get('apiVersion')}, the kubeconfig asks for {api_version}"
        )
    status = data.get("status")
    if not isinstance(status, dict):
        raise PluginError("its ExecCredential has no status")
    token = status.get("token")
    if not isinstance(token, str) or not token:
        if status.get("clientCertificateData") or status.get("clientKeyData"):
            raise PluginError(
                "it returned a client certificate, and client certificates from exec plugins are not "
                "supported (make the plugin return a token)"
            )
        raise PluginError("its ExecCredential has no status.token")
    stamp = status.get("expirationTimestamp")
    if stamp is None:
        return Credential(token, None)
    try:
        expires = datetime.fromisoformat(str(stamp))
    except ValueError:
        expires = None
    if expires is None or expires.tzinfo is None:
        raise PluginError(f"its status.expirationTimestamp {stamp} is not an RFC 3339 time")
    return Credential(token, expires)


def process_environ() -> Mapping[str, str]:
    """The environment a plugin starts from: ours, as kubectl passes its own."""
    return os.environ
