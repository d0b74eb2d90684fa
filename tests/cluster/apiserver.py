"""A local emulation of the Kubernetes API server, for tests and benchmarks.

It serves what a read-only client uses: discovery (``/api``, ``/apis``, each group version's
resource list), lists of every resource (cluster-wide and per namespace) with ``limit`` and
``continue`` and a ``resourceVersion``, gets of single objects, and ``Status`` objects for 401,
403, 404 and 410, over TLS on 127.0.0.1 with a bearer token. Objects are loaded from manifests.
Items of built-in kinds are listed without ``kind``/``apiVersion``, as the real server lists
typed objects; custom resources keep them. ``kubectl`` runs against it (see test_kubectl.py).

    server = ApiServer(ca, objects).start()
    server.write_kubeconfig(path)
    ...
    server.stop()
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from kube_tls import TestCA

TOKEN = "kubefence-test-token"


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    crd: bool = False

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


_GW = "gateway.networking.k8s.io"
_POL = "policy.networking.k8s.io"
BUILTIN = (
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",)),
    Resource("", "v1", "pods", "Pod", True, ("po",)),
    Resource("", "v1", "services", "Service", True, ("svc",)),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Resource("", "v1", "replicationcontrollers", "ReplicationController", True, ("rc",)),
    Resource("apps", "v1", "deployments", "Deployment", True, ("deploy",)),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",)),
    Resource("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",)),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",)),
    Resource("batch", "v1", "jobs", "Job"),
    Resource("batch", "v1", "cronjobs", "CronJob", True, ("cj",)),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",)),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
)
CRDS = (
    Resource(_POL, "v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", False, ("anp",), True),
    Resource(
        _POL, "v1alpha1", "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", False, ("banp",), True
    ),
    Resource(_POL, "v1alpha2", "clusternetworkpolicies", "ClusterNetworkPolicy", False, ("cnp",), True),
    Resource("route.openshift.io", "v1", "routes", "Route", True, (), True),
    Resource(_GW, "v1", "httproutes", "HTTPRoute", True, (), True),
    Resource(_GW, "v1", "grpcroutes", "GRPCRoute", True, (), True),
    Resource(_GW, "v1alpha2", "tcproutes", "TCPRoute", True, (), True),
    Resource(_GW, "v1alpha2", "udproutes", "UDPRoute", True, (), True),
)
ALL_RESOURCES = BUILTIN + CRDS
_BY_KIND = {r.kind: r for r in ALL_RESOURCES}


@dataclass
class Behaviour:
    """What the emulation should do wrong, for the failure-path tests."""

    #: (plural, namespace or None for cluster-wide) pairs whose lists and gets answer 403
    forbidden: set[tuple[str, str | None]] = field(default_factory=set)
    #: continue tokens older than this many list pages answer 410 Gone (None: never expire)
    expire_continue_after: int | None = None
    #: seconds to wait before each answer (the timeout test)
    delay: float = 0.0
    #: the bearer tokens accepted
    tokens: frozenset[str] = frozenset({TOKEN})


class ApiServer:
    def __init__(
        self,
        ca: TestCA,
        objects: Iterable[dict[str, Any]] = (),
        *,
        resources: Iterable[Resource] = ALL_RESOURCES,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.ca = ca
        self.resources = tuple(resources)
        self.behaviour = behaviour or Behaviour()
        self.store: dict[Resource, list[dict[str, Any]]] = {r: [] for r in self.resources}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._rv = itertools.count(1000)
        self._lock = threading.Lock()
        self._pages = itertools.count(1)
        self.skipped: list[str] = []  # kinds loaded that this server does not serve
        for obj in objects:
            self.add(obj)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- objects ------------------------------------------------------------------------------------

    def add(self, obj: dict[str, Any]) -> None:
        """Store one manifest (List kinds are flattened), as ``kubectl apply`` would create it."""
        kind = str(obj.get("kind") or "")
        if kind.endswith("List") and isinstance(obj.get("items"), list):
            for item in obj["items"]:
                if isinstance(item, dict):
                    self.add({"kind": kind.removesuffix("List"), **item} if "kind" not in item else item)
            return
        resource = _BY_KIND.get(kind)
        if resource is None or resource not in self.store:
            self.skipped.append(kind)
            return
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        if resource.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        meta.setdefault(
            "uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{meta.get('namespace')}/{meta.get('name')}"))
        )
        meta["resourceVersion"] = str(next(self._rv))
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        stored["apiVersion"] = resource.group_version
        stored["kind"] = kind
        self.store[resource].append(stored)

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for o in self.store[_BY_KIND[kind]]]

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> ApiServer:
        server = self

        class Handler(_Handler):
            api = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca.server_cert, self.ca.server_key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    def kubeconfig(self, *, context: str = "emulated", user: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": context,
            "clusters": [
                {
                    "name": context,
                    "cluster": {"server": self.url, "certificate-authority": str(self.ca.ca_cert)},
                }
            ],
            "users": [{"name": context, "user": user if user is not None else {"token": TOKEN}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        }

    def write_kubeconfig(self, path: Path, **kwargs: Any) -> Path:
        path.write_text(yaml.safe_dump(self.kubeconfig(**kwargs)), encoding="utf-8")
        return path

    # -- answers ------------------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        with self._lock:
            self.requests.append((parts.path, query))
        if self.behaviour.delay:
            time.sleep(self.behaviour.delay)
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.behaviour.tokens:
            return _status(401, "Unauthorized", "Unauthorized")
        if method != "GET":
            return _status(405, "MethodNotAllowed", f"the emulation serves GET only, not {method}")
        segments = [s for s in parts.path.split("/") if s]
        if segments in (["version"], ["version", ""]):
            return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-kubefence-emulation"}
        if segments == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if segments == ["apis"]:
            return 200, self._group_list()
        if segments[:1] == ["api"] and len(segments) >= 2:
            group, version, rest = "", segments[1], segments[2:]
        elif segments[:1] == ["apis"] and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            return _not_found()
        served = [r for r in self.resources if r.group == group and r.version == version]
        if not served:
            return _not_found()
        if not rest:
            return 200, _resource_list(group, version, served)
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        by_plural = {r.plural: r for r in served}
        resource = by_plural.get(rest[0])
        if resource is None or len(rest) > 2 or (namespace is not None and not resource.namespaced):
            return _not_found()
        verb = "get" if len(rest) == 2 else "list"
        if (resource.plural, namespace) in self.behaviour.forbidden:
            return _forbidden(resource, verb, namespace)
        if verb == "get":
            return self._get(resource, namespace, rest[1])
        return self._list(resource, namespace, query)

    def _group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for r in self.resources:
            if r.group and r.version not in groups.setdefault(r.group, []):
                groups[r.group].append(r.version)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": name,
                    "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
                    "preferredVersion": {"groupVersion": f"{name}/{versions[0]}", "version": versions[0]},
                }
                for name, versions in groups.items()
            ],
        }

    def _get(self, resource: Resource, namespace: str | None, name: str) -> tuple[int, dict[str, Any]]:
        if resource.plural == "namespaces" and namespace is None:
            # the namespace object: the real server serves it also when no object was loaded for it
            for obj in self.store[resource]:
                if obj["metadata"].get("name") == name:
                    return 200, _served(resource, obj)
            return _status(
                404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"}
            )
        for obj in self.store[resource]:
            meta = obj["metadata"]
            if meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return 200, _served(resource, obj)
        return _status(
            404, "NotFound", f'{resource.plural} "{name}" not found', {"name": name, "kind": resource.plural}
        )

    def _list(
        self, resource: Resource, namespace: str | None, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        items = [
            o
            for o in self.store[resource]
            if namespace is None or o["metadata"].get("namespace") == namespace
        ]
        items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"].get("name") or ""))
        limit = int((query.get("limit") or ["0"])[0] or 0)
        token = (query.get("continue") or [""])[0]
        start = 0
        page_number = next(self._pages)
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                start, issued = int(state["start"]), int(state["page"])
            except (ValueError, KeyError, TypeError):
                return _status(400, "BadRequest", "continue key is not valid")
            expire = self.behaviour.expire_continue_after
            if expire is not None and page_number - issued > expire:
                return _status(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter.",
                )
        end = len(items) if limit <= 0 else min(len(items), start + limit)
        meta: dict[str, Any] = {"resourceVersion": str(next(self._rv))}
        if end < len(items):
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"start": end, "page": page_number}).encode()
            ).decode()
            meta["remainingItemCount"] = len(items) - end
        return 200, {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.group_version,
            "metadata": meta,
            "items": [_listed(resource, o) for o in items[start:end]],
        }


def _served(resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    return obj  # a get always names the kind


def _listed(resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    if resource.crd:
        return obj
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def _resource_list(group: str, version: str, served: list[Resource]) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [
            {
                "name": r.plural,
                "singularName": r.kind.lower(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "list", "watch"],
                **({"shortNames": list(r.short_names)} if r.short_names else {}),
            }
            for r in served
        ],
    }


def _status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return code, body


def _not_found() -> tuple[int, dict[str, Any]]:
    return _status(404, "NotFound", "the server could not find the requested resource")


def _forbidden(resource: Resource, verb: str, namespace: str | None) -> tuple[int, dict[str, Any]]:
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f"{resource.plural}{'.' + resource.group if resource.group else ''} is forbidden: User "
        f'"system:serviceaccount:kubefence:reader" cannot {verb} resource "{resource.plural}" in API group '
        f'"{resource.group}" {where}'
    )
    return _status(403, "Forbidden", message, {"kind": resource.plural, "group": resource.group})


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: do not wait between them

    def do_GET(self) -> None:
        self._reply("GET")

    def do_POST(self) -> None:
        self._reply("POST")

    def _reply(self, method: str) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        code, body = self.api.answer(method, self.path, headers)
        data = json.dumps(body).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up (the timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read ``requests`` instead


#: The ``start_server`` fixture: ``start_server(objects, resources=..., behaviour=...)``.
StartServer = Callable[..., ApiServer]
