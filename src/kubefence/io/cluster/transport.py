"""The Kubernetes API behind a small protocol: GET a path, get JSON back or a Status error.

:class:`LightkubeTransport` is the real one: lightkube reads the kubeconfig (contexts, exec
credential plugins as EKS, GKE and AKS use them, client certificates, in-cluster service accounts)
and builds the HTTP client with the cluster's TLS settings and credentials. Only this module
imports lightkube, and only when a cluster is read, so the plain CLI starts without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kubefence.io.cluster import messages
from kubefence.io.cluster.errors import ClusterAccessError, StatusError

if TYPE_CHECKING:
    import httpx2

DEFAULT_KUBECONFIG = "~/.kube/config"
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
    """Which cluster to read and how: the kubeconfig file and context, the request timeout, and
    where a pod's service account is mounted (used when there is no kubeconfig)."""

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
            from lightkube.config.client_adapter import AsyncClient, ConnectionParams
        except ModuleNotFoundError:
            raise ClusterAccessError(messages.EXTRA_MISSING) from None
        self._httpx = httpx2
        self._config_error = ConfigError
        try:
            kubeconfig, in_cluster = _kubeconfig(KubeConfig, connection)
            config = kubeconfig.get(None if in_cluster else connection.context)
            if config is None:
                raise ConfigError("no context")
            self._client: httpx2.AsyncClient = AsyncClient(
                config, ConnectionParams(timeout=httpx2.Timeout(connection.timeout))
            )
        except (ConfigError, OSError, ValueError, KeyError) as exc:
            raise ClusterAccessError(messages.bad_kubeconfig(connection.kubeconfig, str(exc))) from None
        self._context = IN_CLUSTER if in_cluster else config.context_name
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
        except self._config_error as exc:  # an exec credential plugin failed
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


def _kubeconfig(kube_config: Any, connection: Connection) -> tuple[Any, bool]:
    """The kubeconfig as kubectl finds it: ``--kubeconfig``, then ``$KUBECONFIG`` (the first file of
    the list that exists), then ``~/.kube/config``; else the pod's service account (in-cluster, True)."""
    if connection.kubeconfig:
        return kube_config.from_file(connection.kubeconfig), False
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    for candidate in [*listed, DEFAULT_KUBECONFIG]:
        if Path(candidate).expanduser().is_file():
            return kube_config.from_file(candidate), False
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return kube_config.from_service_account(connection.service_account), True
    raise ValueError(f"no kubeconfig found ({', '.join([*listed, DEFAULT_KUBECONFIG])}) and not in a pod")


def _decode(body: bytes) -> Any:
    try:
        import msgspec  # lightkube's JSON decoder, several times faster than json on large lists
    except ModuleNotFoundError:  # pragma: no cover - msgspec comes with lightkube
        return json.loads(body)
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None
