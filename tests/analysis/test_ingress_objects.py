"""Ingress (networking.k8s.io/v1) and Route (route.openshift.io/v1) in the connectivity map.

Traffic comes from ``{ingress-controller}`` — a pod without labels in the namespace given by
``MapOptions(ingress_controller_namespace=...)`` — to the workloads behind the Service ports an
object names, as far as the policies of every tier let that pod reach them.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubefence import ConnectivityMap, MapOptions, map_connectivity

Obj = dict[str, Any]

CTL = "{ingress-controller}"
WEB = "shop/web[Deployment]"
API = "shop/api[Deployment]"


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deploy(name: str, ns: str = "shop", ports: tuple[tuple[int, str], ...] = (), **labels: str) -> Obj:
    """A Deployment labelled ``app: name`` (plus ``labels``), with TCP ports (number, name)."""
    container: Obj = {
        "name": "main",
        "image": "img",
        "ports": [{"containerPort": n, "name": pn} for n, pn in ports],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "template": {"metadata": {"labels": {"app": name, **labels}}, "spec": {"containers": [container]}}
        },
    }


def service(name: str, app: str, *ports: Obj, ns: str = "shop") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": app}, "ports": list(ports)},
    }


def backend(svc: str, port: Obj) -> Obj:
    return {"service": {"name": svc, "port": port}}


def ingress(*paths: Obj, default: Obj | None = None, name: str = "shop") -> Obj:
    spec: Obj = {}
    if default is not None:
        spec["defaultBackend"] = default
    if paths:
        spec["rules"] = [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {"path": f"/{i}", "pathType": "Prefix", "backend": b} for i, b in enumerate(paths)
                    ]
                },
            }
        ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec,
    }


def route(to: str, target_port: int | str | None = None, *alternates: str) -> Obj:
    spec: Obj = {"host": "shop.example.com", "to": {"kind": "Service", "name": to, "weight": 100}}
    if target_port is not None:
        spec["port"] = {"targetPort": target_port}
    if alternates:
        spec["alternateBackends"] = [{"kind": "Service", "name": a, "weight": 10} for a in alternates]
    return {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": spec,
    }


def netpol(name: str, ns: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": {}, **spec},
    }


def from_controller(cmap: ConnectivityMap) -> dict[str, str]:
    return {str(c.dst): str(c.conn) for c in cmap.connections if str(c.src) == CTL}


def messages(cmap: ConnectivityMap) -> list[str]:
    return [d.message for d in cmap.warnings]


SHOP = [
    namespace("shop"),
    deploy("web", ports=((8080, "http"), (9090, "metrics"))),
    deploy("api", ports=((7000, "grpc"),)),
    service(
        "web", "web", {"name": "http", "port": 80, "targetPort": "http"}, {"name": "metrics", "port": 9090}
    ),
    service("api", "api", {"name": "grpc", "port": 7000, "targetPort": 7000}),
]


# -- Ingress ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [{"number": 80}, {"name": "http"}], ids=["number", "name"])
def test_ingress_names_a_service_port_by_number_or_name(port: Obj) -> None:
    cmap = map_connectivity([*SHOP, ingress(backend("web", port))])
    assert from_controller(cmap) == {WEB: "TCP 8080"}  # the named target port, resolved on the pod


def test_ingress_default_backend_and_every_path() -> None:
    cmap = map_connectivity(
        [
            *SHOP,
            ingress(backend("api", {"number": 7000}), default=backend("web", {"name": "metrics"})),
        ]
    )
    assert from_controller(cmap) == {WEB: "TCP 9090", API: "TCP 7000"}


def test_two_ingresses_to_one_workload_add_up() -> None:
    cmap = map_connectivity(
        [
            *SHOP,
            ingress(backend("web", {"number": 80}), name="site"),
            ingress(backend("web", {"number": 9090}), name="metrics"),
        ]
    )
    assert from_controller(cmap) == {WEB: "TCP 8080,9090"}


def test_only_pods_the_service_selects_in_its_namespace() -> None:
    cmap = map_connectivity(
        [
            *SHOP,
            namespace("other"),
            deploy("web", ns="other", ports=((8080, "http"),)),  # same labels, other namespace
            deploy("web-canary", ports=((8080, "http"),)),  # same namespace, other labels
            ingress(backend("web", {"number": 80})),
        ]
    )
    assert from_controller(cmap) == {WEB: "TCP 8080"}


def test_ingress_port_number_is_the_service_port_not_a_target_port() -> None:
    """ServiceBackendPort.number: "the numerical port number (e.g. 80) on the Service"."""
    cmap = map_connectivity(
        [
            namespace("shop"),
            deploy("web", ports=((8080, "http"), (9090, "admin"))),
            service(
                "web",
                "web",
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "admin", "port": 8080, "targetPort": 9090},
            ),
            ingress(backend("web", {"number": 8080})),
        ]
    )
    assert from_controller(cmap) == {WEB: "TCP 9090"}


# -- Route ---------------------------------------------------------------------------------------------


def test_route_target_port_by_service_port_name() -> None:
    """A named targetPort is looked up among the Service's (endpoints') port names; the Service
    port's own targetPort is a name too, resolved on each pod."""
    cmap = map_connectivity([*SHOP, route("web", "http")])
    assert from_controller(cmap) == {WEB: "TCP 8080"}


def test_route_target_port_number_is_the_port_on_the_pods() -> None:
    cmap = map_connectivity([*SHOP, route("web", 9090)])
    assert from_controller(cmap) == {WEB: "TCP 9090"}


def test_route_without_port_reaches_every_service_port() -> None:
    cmap = map_connectivity([*SHOP, route("web")])
    assert from_controller(cmap) == {WEB: "TCP 8080,9090"}


def test_route_alternate_backends() -> None:
    cmap = map_connectivity([*SHOP, route("web", None, "api")])
    assert from_controller(cmap) == {WEB: "TCP 8080,9090", API: "TCP 7000"}


def test_route_target_port_number_behind_a_named_service_target() -> None:
    """RoutePort.targetPort: "The target port on pods selected by the service this route points to."
    Pod port 8080 is the Service's ``http`` target; the Service port numbered 8080 targets 9090."""
    cmap = map_connectivity(
        [
            namespace("shop"),
            deploy("web", ports=((8080, "http"), (9090, "admin"))),
            service(
                "web",
                "web",
                {"name": "http", "port": 80, "targetPort": "http"},
                {"name": "admin", "port": 8080, "targetPort": 9090},
            ),
            route("web", 8080),
        ]
    )
    assert from_controller(cmap) == {WEB: "TCP 8080"}


# -- unknown Services and ports -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "label"),
    [
        (ingress(backend("nope", {"number": 80})), "Ingress shop/shop"),
        (route("nope", 8080), "Route shop/shop"),
    ],
    ids=["ingress", "route"],
)
def test_unknown_service_is_a_warning(obj: Obj, label: str) -> None:
    cmap = map_connectivity([*SHOP, obj])
    assert from_controller(cmap) == {}
    assert messages(cmap) == [
        f"{label} sends traffic to Service 'nope', which is not in namespace shop of the input"
    ]


def test_unknown_service_port_is_a_warning() -> None:
    cmap = map_connectivity([*SHOP, ingress(backend("web", {"name": "grpc"}))])
    assert from_controller(cmap) == {}
    assert messages(cmap) == ["Ingress shop/shop: Service shop/web has no port 'grpc'"]


def test_service_in_another_namespace_is_unknown() -> None:
    cmap = map_connectivity(
        [
            *SHOP,
            namespace("edge"),
            service("gw", "web", {"port": 80, "targetPort": 8080}, ns="edge"),
            route("gw"),
        ]
    )
    assert from_controller(cmap) == {}
    assert any("Service 'gw'" in m for m in messages(cmap))


# -- policies between the controller and the backends -------------------------------------------------


NGINX_ONLY = netpol(
    "from-nginx",
    "shop",
    ingress=[
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]}
    ],
)


def test_blocked_ingress_is_a_warning_naming_the_controller_namespace() -> None:
    options = MapOptions(ingress_controller_namespace="ingress-controller-ns")
    cmap = map_connectivity([*SHOP, NGINX_ONLY, ingress(backend("web", {"number": 80}))], options=options)
    assert from_controller(cmap) == {}
    (warning,) = messages(cmap)
    assert warning.startswith(
        "Ingress shop/shop: policies block the ingress controller's traffic to "
        "shop/web[Deployment] on TCP 8080"
    )
    assert "namespace ingress-controller-ns" in warning
    assert "--ingress-controller-namespace" in warning


def test_controller_namespace_option() -> None:
    options = MapOptions(ingress_controller_namespace="ingress-nginx")
    cmap = map_connectivity([*SHOP, NGINX_ONLY, ingress(backend("web", {"number": 80}))], options=options)
    assert from_controller(cmap) == {WEB: "TCP 8080"}
    assert messages(cmap) == []


def test_controller_has_no_labels() -> None:
    policy = netpol(
        "from-nginx-pods",
        "shop",
        ingress=[{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "nginx"}}}]}],
    )
    options = MapOptions(ingress_controller_namespace="ingress-nginx")
    cmap = map_connectivity([*SHOP, policy, ingress(backend("web", {"number": 80}))], options=options)
    assert from_controller(cmap) == {}
    assert any("policies block" in m for m in messages(cmap))


def test_declared_controller_namespace_keeps_its_labels() -> None:
    policy = netpol(
        "from-edge", "shop", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"zone": "edge"}}}]}]
    )
    objs = [*SHOP, namespace("ingress-nginx", zone="edge"), policy, route("web", "http")]
    cmap = map_connectivity(objs, options=MapOptions(ingress_controller_namespace="ingress-nginx"))
    assert from_controller(cmap) == {WEB: "TCP 8080"}


def test_controller_egress_policies_count() -> None:
    closed = netpol("no-egress", "ingress-nginx", policyTypes=["Egress"])
    objs = [*SHOP, namespace("ingress-nginx"), closed, route("web", "http")]
    cmap = map_connectivity(objs, options=MapOptions(ingress_controller_namespace="ingress-nginx"))
    assert from_controller(cmap) == {}
    assert any("policies block" in m for m in messages(cmap))


def test_admin_tier_rules_govern_the_controller() -> None:
    deny = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "no-metrics-from-outside"},
        "spec": {
            "priority": 10,
            "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
            "ingress": [
                {
                    "name": "metrics",
                    "action": "Deny",
                    "from": [
                        {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
                    ],
                    "ports": [{"portNumber": {"protocol": "TCP", "port": 9090}}],
                }
            ],
        },
    }
    cmap = map_connectivity([*SHOP, deny, route("web")])  # the controller in ingress-nginx, the default
    assert from_controller(cmap) == {WEB: "TCP 8080"}  # the Admin tier denies 9090


def test_controller_appears_only_as_the_source_of_ingress_traffic() -> None:
    cmap = map_connectivity([*SHOP, ingress(backend("web", {"number": 80}))])
    names = {str(c.src) for c in cmap.connections} | {str(c.dst) for c in cmap.connections}
    assert CTL in names
    assert not [n for n in names if "ingress-controller" in n and n != CTL]
    assert not [c for c in cmap.connections if str(c.dst) == CTL]


def test_no_ingress_objects_no_controller() -> None:
    cmap = map_connectivity(SHOP)
    assert from_controller(cmap) == {}
    assert messages(cmap) == []
