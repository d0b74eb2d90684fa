"""Reading a live cluster: discovery, then every kind listed concurrently, in pages.

The objects come out as plain manifest dicts, as a file would hold them, and go through the same
manifest reader as files (see :func:`cluster_documents`). Their origin is
``cluster:<context>/<Kind>/<namespace>/<name>``.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubefence.errors import Diagnostic, Origin
from kubefence.io.cluster import messages
from kubefence.io.cluster.errors import ClusterAccessError, StatusError
from kubefence.io.cluster.kinds import CONFIG_KINDS, POLICY_ANALYSIS_KINDS, KindSpec
from kubefence.io.cluster.owners import resolve_owners
from kubefence.io.cluster.transport import SERVICE_ACCOUNT, Connection, LightkubeTransport, Transport
from kubefence.io.documents import Document

DEFAULT_PAGE_SIZE = 500  # what kubectl asks for
DEFAULT_TIMEOUT = 30.0
_CONCURRENT_REQUESTS = 8
# what a pod's status says that the analysis keeps (its addresses); other status is left out
_POD_STATUS_KEYS = ("phase", "hostIP", "podIP", "podIPs")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ClusterSource:
    """Which cluster to read: kubeconfig file and context (kubectl's defaults when None), the
    namespaces (all when empty), the request timeout in seconds and the page size of lists (0: no
    pages). ``config_maps``: also read ConfigMaps (``discover`` searches them for addresses).
    Without a kubeconfig, inside a pod, its service account (mounted at ``service_account``)."""

    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    page_size: int = DEFAULT_PAGE_SIZE
    config_maps: bool = False
    service_account: str = SERVICE_ACCOUNT


@dataclass(frozen=True)
class ClusterRead:
    """What a cluster read found: the objects as manifests (pods naming their top owner), the info
    lines (kinds not installed, lists read again) and warnings (optional kinds not readable)."""

    context: str
    objects: tuple[dict[str, Any], ...] = field(repr=False)
    notes: tuple[str, ...] = ()
    warnings: tuple[Diagnostic, ...] = field(default=())

    def documents(self) -> list[Document]:
        """The objects as documents for the manifest reader, each with its cluster origin."""
        return cluster_documents(self.objects, self.context)


def object_origin(obj: dict[str, Any], context: str) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    where = f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))
    return f"cluster:{context}/{obj.get('kind')}/{where}"


def cluster_documents(objects: Iterable[dict[str, Any]], context: str) -> list[Document]:
    """Documents from manifest dicts read from the cluster ``context``: the one hand-over to the
    manifest reader that files go through too."""
    return [Document(obj, Origin(object_origin(obj, context))) for obj in objects]


_CLUSTER_SCOPED = frozenset(s.kind for s in POLICY_ANALYSIS_KINDS if not s.namespaced)


def _identity(doc: Document) -> tuple[str, str, str]:
    meta = doc.obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    namespace = "" if doc.kind in _CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return doc.kind, namespace, str(meta.get("name") or "")


def overlay_documents(cluster: Sequence[Document], files: Sequence[Document]) -> list[Document]:
    """The cluster's documents with those of ``files`` on top: an object in the files replaces the
    cluster's object of the same kind, namespace and name (a branch's version of a policy)."""
    replaced = {_identity(d) for d in files}
    return [d for d in cluster if _identity(d) not in replaced] + list(files)


def read_cluster(
    source: ClusterSource | None = None,
    *,
    transport: Transport | None = None,
    progress: Progress | None = None,
) -> ClusterRead:
    """Read the cluster ``source`` names (the current kubeconfig context by default).

    Raises :class:`~kubefence.io.cluster.errors.ClusterAccessError` (one line: what, and what to do)
    when the cluster cannot be reached or a kind the analysis needs may not be listed.

    >>> read = read_cluster(ClusterSource(context="prod", namespaces=("shop",)))  # doctest: +SKIP
    >>> cluster = build_cluster(read.documents())                                  # doctest: +SKIP
    """
    source = source or ClusterSource()
    # not asyncio.run: on Python 3.11 its SIGINT handling formats the finished task's repr, which
    # holds the whole result (seconds for a large cluster)
    loop = asyncio.new_event_loop()
    saved = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)  # decoding builds millions of objects: collect less often
    try:
        return loop.run_until_complete(_read(source, transport, progress))
    finally:
        gc.set_threshold(*saved)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _read(source: ClusterSource, transport: Transport | None, progress: Progress | None) -> ClusterRead:
    owned = transport is None
    connection = Connection(source.kubeconfig, source.context, source.timeout, source.service_account)
    api = transport or LightkubeTransport(connection)
    try:
        return await _Reader(api, source, progress).run()
    finally:
        if owned:
            await api.close()


@dataclass(frozen=True)
class _Task:
    spec: KindSpec
    version: str
    namespace: str | None  # None: every namespace (or cluster-scoped)


class _Reader:
    def __init__(self, api: Transport, source: ClusterSource, progress: Progress | None) -> None:
        self.api = api
        self.source = source
        self.progress = progress
        self.context = api.context
        self.notes: list[str] = []
        self.warnings: list[Diagnostic] = []
        self.limit = asyncio.Semaphore(_CONCURRENT_REQUESTS)
        self.done = 0
        self.total = 0

    async def run(self) -> ClusterRead:
        specs = POLICY_ANALYSIS_KINDS + (CONFIG_KINDS if self.source.config_maps else ())
        served = await self._discover(specs)
        tasks: list[_Task] = []
        missing = [spec for spec in specs if spec.kind not in served]
        if missing:
            self.notes.append(messages.not_installed(self.context, missing))
        for spec in specs:
            version = served.get(spec.kind)
            if version is None:
                continue
            if spec.namespaced and self.source.namespaces:
                tasks.extend(_Task(spec, version, ns) for ns in self.source.namespaces)
            else:
                tasks.append(_Task(spec, version, None))
        self.total = len(tasks)
        self._tick(0)
        results = await asyncio.gather(*(self._run_task(t) for t in tasks), return_exceptions=True)
        objects: list[dict[str, Any]] = []
        for result in results:  # the first failure in the order of the kinds: the same error each run
            if isinstance(result, BaseException):
                raise result
            objects.extend(result)
        objects.sort(key=_order_key({s.kind: i for i, s in enumerate(specs)}))
        return ClusterRead(
            self.context, tuple(resolve_owners(objects)), tuple(self.notes), tuple(self.warnings)
        )

    def _tick(self, step: int) -> None:
        self.done += step
        if self.progress is not None:
            self.progress(self.done, self.total)

    # -- discovery ---------------------------------------------------------------------------------

    async def _discover(self, specs: Sequence[KindSpec]) -> dict[str, str]:
        """Kind -> the version of it to read, for each kind the API server serves."""
        groups = {s.group for s in specs}
        served_groups: dict[str, list[str]] = {"": ["v1"]}
        if groups - {""}:
            group_list = await self._get("/apis")
            for g in group_list.get("groups") or []:
                if isinstance(g, dict) and g.get("name") in groups:
                    versions = [str(v.get("version")) for v in g.get("versions") or [] if isinstance(v, dict)]
                    served_groups[str(g["name"])] = versions
        wanted = sorted(
            {(s.group, v) for s in specs for v in s.versions if v in served_groups.get(s.group, [])}
        )
        lists = await asyncio.gather(*(self._resources(g, v) for g, v in wanted))
        resources = dict(zip(wanted, lists, strict=True))
        out: dict[str, str] = {}
        for spec in specs:
            for version in spec.versions:
                if spec.plural in resources.get((spec.group, version), set()):
                    out[spec.kind] = version
                    break
        return out

    async def _resources(self, group: str, version: str) -> set[str]:
        path = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        try:
            found = await self._get(path)
        except _NotFound:
            return set()
        return {str(r.get("name")) for r in found.get("resources") or [] if isinstance(r, dict)}

    # -- lists ------------------------------------------------------------------------------------

    async def _run_task(self, task: _Task) -> list[dict[str, Any]]:
        try:
            if task.spec.kind == "Namespace" and self.source.namespaces:
                return await self._get_namespaces(task)
            return await self._list(task)
        finally:
            self._tick(1)

    async def _get_namespaces(self, task: _Task) -> list[dict[str, Any]]:
        out = []
        for name in self.source.namespaces:
            try:
                obj = await self._get(f"/api/v1/namespaces/{name}", task=task, verb="get")
            except _NotFound:
                raise ClusterAccessError(messages.namespace_missing(self.context, name)) from None
            if obj is not None:
                out.append(_clean(obj, task))
        return out

    def _list_path(self, task: _Task) -> str:
        spec = task.spec
        base = f"/api/{task.version}" if not spec.group else f"/apis/{spec.group}/{task.version}"
        if task.namespace is not None:
            base += f"/namespaces/{task.namespace}"
        return f"{base}/{spec.plural}"

    async def _list(self, task: _Task) -> list[dict[str, Any]]:
        path = self._list_path(task)
        items: list[dict[str, Any]] = []
        token = ""
        paged = self.source.page_size > 0
        while True:
            params = {"limit": str(self.source.page_size)} if paged else {}
            if token:
                params["continue"] = token
            try:
                page = await self._get(path, params, task=task, verb="list")
            except _Gone:
                if not token:
                    raise ClusterAccessError(messages.api_error(self.context, path, "410 Gone")) from None
                # the continue token expired (the server compacted its history): start over, whole
                self.notes.append(messages.continue_expired(self.context, task.spec))
                items, token, paged = [], "", False
                continue
            except _NotFound:  # removed since discovery: as if it had not been installed
                self.notes.append(messages.not_installed(self.context, [task.spec]))
                return []
            if page is None:  # an optional kind that may not be read
                return []
            items.extend(_clean(o, task) for o in page.get("items") or [] if isinstance(o, dict))
            token = str((page.get("metadata") or {}).get("continue") or "")
            if not token:
                return items

    async def _get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        task: _Task | None = None,
        verb: str = "get",
    ) -> Any:
        """GET ``path``; a 403 on an optional kind gives None (and a warning), on others an error."""
        async with self.limit:
            try:
                return await self.api.get(path, params)
            except StatusError as exc:
                if exc.code == 404:
                    raise _NotFound() from None
                if exc.code == 410:
                    raise _Gone() from None
                if exc.code == 401:
                    raise ClusterAccessError(messages.unauthorized(self.context, exc.message)) from None
                if exc.code == 403 and task is not None:
                    if task.spec.needed:
                        raise ClusterAccessError(
                            messages.forbidden(self.context, task.spec, verb, task.namespace, exc.message)
                        ) from None
                    warning = messages.optional_forbidden(self.context, task.spec, verb, task.namespace)
                    self.warnings.append(Diagnostic(Origin(), warning))
                    return None
                raise ClusterAccessError(messages.api_error(self.context, path, str(exc))) from None


class _NotFound(Exception):
    pass


class _Gone(Exception):
    pass


def _clean(obj: dict[str, Any], task: _Task) -> dict[str, Any]:
    """A listed item as a manifest: kind and apiVersion set (typed lists leave them out), without
    the server's bookkeeping (managedFields, status; a pod keeps its phase and addresses)."""
    out = {**obj, "apiVersion": task.spec.api_version(task.version), "kind": task.spec.kind}
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    status = out.pop("status", None)
    if task.spec.kind == "Pod" and isinstance(status, dict):
        kept = {k: status[k] for k in _POD_STATUS_KEYS if k in status}
        if kept:
            out["status"] = kept
    return out


def _order_key(rank: dict[str, int]) -> Callable[[dict[str, Any]], tuple[int, str, str]]:
    def key(obj: dict[str, Any]) -> tuple[int, str, str]:
        meta = obj.get("metadata") or {}
        return (
            rank.get(str(obj.get("kind")), len(rank)),
            str(meta.get("namespace") or ""),
            str(meta.get("name")),
        )

    return key
