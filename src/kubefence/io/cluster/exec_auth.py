"""The HTTP client's authentication by an exec credential plugin (imports httpx2: loaded only
when a cluster is read).

The token is reused until its expirationTimestamp; a 401 runs the plugin again once (the token may
have been revoked) and repeats the request. One lock: concurrent requests run the plugin once, and
a plugin that failed is not run again by the requests still waiting (the read stops anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from datetime import UTC, datetime

import httpx2

from kubefence.io.cluster import messages
from kubefence.io.cluster.errors import ClusterAccessError
from kubefence.io.cluster.exec_plugin import (
    Credential,
    ExecPlugin,
    PluginError,
    PluginRunner,
    obtain,
    process_environ,
    run_subprocess,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ExecCredentialAuth(httpx2.Auth):
    def __init__(
        self,
        context: str,
        plugin: ExecPlugin,
        *,
        runner: PluginRunner = run_subprocess,
        environ: Callable[[], Mapping[str, str]] = process_environ,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._context = context
        self._plugin = plugin
        self._runner = runner
        self._environ = environ
        self._clock = clock
        self._credential: Credential | None = None
        self._failure: ClusterAccessError | None = None  # a plugin that failed is not run again
        self._lock = asyncio.Lock()

    async def _token(self, rejected: str | None = None) -> str:
        async with self._lock:
            if self._failure is not None:
                raise self._failure
            held = self._credential
            if held is None or held.token == rejected or held.expired(self._clock()):
                try:
                    held = await obtain(self._plugin, self._runner, self._environ())
                except PluginError as exc:
                    detail = messages.exec_plugin_failed(self._context, self._plugin.command, str(exc))
                    self._failure = ClusterAccessError(detail)
                    raise self._failure from None
                self._credential = held
            return held.token

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        token = await self._token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        token = await self._token(rejected=token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        raise TypeError("exec credential plugins are run for the async client only")
