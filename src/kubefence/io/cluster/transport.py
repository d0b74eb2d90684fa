"""The Kubernetes API behind a small protocol: GET a path, get JSON back or a Status error.

:class:`LightkubeTransport` is the real one: lightkube reads the kubeconfig (contexts, client
certificates, tokens, in-cluster service accounts) and builds the HTTP client with the cluster's TLS
settings and credentials. Exec credential plugins as EKS, GKE, AKS and kubelogin use them
(client.authentication.k8s.io v1, v1beta1, v1alpha1) are run by :mod:`exec_auth` instead, as
client-go runs them. Only this module and that one import lightkube's HTTP library, and only when
a cluster is read, so the plain CLI starts without them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kubefence.io.cluster import messages
from kubefence.io.cluster.errors import ClusterAccessError, StatusError
from kubefence.io.cluster.kubeconfig import Kubeconfig, kubeconfig_paths, load_kubeconfig, select_context

if TYPE_CHECKING:
    import httpx2

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
IN_CLUSTER = "in-cluster"  # the context name of a service account's configuration


class Transport(Protocol):
    """Reads the API server: one GET, JSON in, JSON out."""

    @property
    def context(self) -> str:
        """The kubeconfig context's name (``in-cluster`` for a service account), for origins."""

    @property
    def server(self) -> str:
        """The API server's URL, for messages."""

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The JSON object at ``path``; raises :class:`StatusError` for an HTTP error status and
        :class:`ClusterAccessError` when the server cannot be reached or does not answer in time."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Connection:
    """Which cluster to read and how: the kubeconfig file (None: the ``$KUBECONFIG`` files merged,
    or ``~/.kube/config``) and context, the request timeout, and where a pod's service account is
    mounted (used when there is no kubeconfig)."""

    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = 30.0
    service_account: str = SERVICE_ACCOUNT


class LightkubeTransport:
    """The real API server, reached with lightkube's configuration and HTTP client."""

    def __init__(self, connection: Connection) -> None:
        try:
            import httpx2
            from lightkube import ConfigError, KubeConfig
            from lightkube.config.client_adapter import AsyncClient, ConnectionParams, ExecAuth
        except ModuleNotFoundError:
            raise ClusterAccessError(messages.EXTRA_MISSING) from None
        self._httpx = httpx2
        self._config_error = ConfigError
        merged = load_kubeconfig(connection.kubeconfig, os.environ)
        where = merged.label if merged else None
        try:
            if merged is None:
                kubeconfig, context = _service_account(KubeConfig, connection), None
            else:
                kubeconfig, context = _lightkube_config(merged), select_context(merged, connection.context)
            config = kubeconfig.get(context)
            if config is None:
                raise ConfigError("no context")
            self._client: httpx2.AsyncClient = AsyncClient(
                config, ConnectionParams(timeout=httpx2.Timeout(connection.timeout))
            )
            if merged is not None and isinstance(self._client.auth, ExecAuth):
                # lightkube's plugin runner knows neither v1 nor KUBERNETES_EXEC_INFO: ours instead
                self._client.auth = _exec_auth(merged, config.context_name)
        except ClusterAccessError:
            raise
        except (ConfigError, OSError, ValueError, KeyError) as exc:
            raise ClusterAccessError(messages.bad_kubeconfig(where, str(exc))) from None
        self._context = IN_CLUSTER if merged is None else config.context_name
        self._server = str(config.cluster.server)
        self._timeout = connection.timeout

    @property
    def context(self) -> str:
        return self._context

    @property
    def server(self) -> str:
        return self._server

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        httpx = self._httpx
        try:
            response = await self._client.get(path, params=dict(params or {}))
        except httpx.TimeoutException:
            raise ClusterAccessError(messages.timed_out(self._server, self._timeout)) from None
        except httpx.HTTPError as exc:
            raise ClusterAccessError(messages.unreachable(self._server, exc)) from None
        except self._config_error as exc:  # a token file that cannot be read
            raise ClusterAccessError(messages.credentials_failed(self._context, str(exc))) from None
        body = response.content
        if response.status_code >= 400:
            raise StatusError.from_response(response.status_code, body)
        try:
            data = _decode(body)
        except ValueError:
            raise ClusterAccessError(messages.not_json(self._server, path)) from None
        if not isinstance(data, dict):
            raise ClusterAccessError(messages.not_json(self._server, path))
        return data

    async def close(self) -> None:
        await self._client.aclose()


def _exec_auth(merged: Kubeconfig, context: str) -> httpx2.Auth:
    """The context's user's exec plugin, run by :mod:`exec_auth` as client-go runs it."""
    from kubefence.io.cluster.exec_auth import ExecCredentialAuth
    from kubefence.io.cluster.exec_plugin import PluginError, exec_plugin

    entry = merged.contexts[context].value
    exec_ = dict(merged.users[str(entry.get("user"))].value["exec"])
    cluster = merged.clusters[str(entry.get("cluster"))].value
    try:
        return ExecCredentialAuth(context, exec_plugin(exec_, cluster))
    except PluginError as exc:
        raise ClusterAccessError(
            messages.exec_plugin_failed(context, str(exec_.get("command")), str(exc))
        ) from None


def _service_account(kube_config: Any, connection: Connection) -> Any:
    """Without a kubeconfig file, inside a pod: its service account (kubectl's in-cluster config)."""
    if not os.environ.get("KUBERNETES_SERVICE_HOST"):
        paths = kubeconfig_paths(connection.kubeconfig, os.environ)
        raise ClusterAccessError(messages.no_kubeconfig([str(p) for p in paths]))
    return kube_config.from_service_account(connection.service_account)


def _lightkube_config(merged: Kubeconfig) -> Any:
    """lightkube's KubeConfig of the merged files. Every path in them is already absolute, so
    lightkube's own resolution (relative to one file) has nothing left to do."""
    import msgspec
    from lightkube import KubeConfig
    from lightkube.config.models import Cluster, Context, User

    named: dict[str, dict[str, Any]] = {}
    for kind, factory in (("clusters", Cluster), ("users", User), ("contexts", Context)):
        named[kind] = {}
        for name, entry in merged.named(kind).items():
            try:
                named[kind][name] = msgspec.convert(dict(entry.value), factory)
            except msgspec.ValidationError as exc:
                detail = f"{kind} {name}: {exc}"
                raise ClusterAccessError(messages.broken_kubeconfig(entry.origin, detail)) from None
    return KubeConfig(
        clusters=named["clusters"],
        users=named["users"],
        contexts=named["contexts"],
        current_context=merged.current_context,
    )


def _decode(body: bytes) -> Any:
    try:
        import msgspec  # lightkube's JSON decoder, several times faster than json on large lists
    except ModuleNotFoundError:  # pragma: no cover - msgspec comes with lightkube
        return json.loads(body)
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
