"""Discovery from manifests: where addresses are read, how they resolve to workloads and ports,
exposure, DNS and the evidence of each connection."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubefence import DiscoverOptions, discover_connections
from kubefence.analysis.discover.pipeline import parse_selector_text
from kubefence.model.connectivity import INGRESS_CONTROLLER as CONTROLLER_PEER
from kubefence.model.connectivity import PeerKind
from kubefence.model.discovery import ANYWHERE, DiscoveryResult, Evidence, Reason
from kubefence.model.selectors import LabelSelector

INGRESS_CONTROLLER = str(CONTROLLER_PEER)

Obj = dict[str, Any]
NO_DNS = DiscoverOptions(dns=False)


def container(name: str = "app", **fields: Any) -> Obj:
    return {"name": name, "image": "example/app:1", **fields}


def deployment(
    name: str,
    ns: str = "shop",
    *,
    containers: list[Obj] | None = None,
    volumes: list[Obj] | None = None,
    ports: list[Obj] | None = None,
    labels: dict[str, str] | None = None,
    kind: str = "Deployment",
) -> Obj:
    cs = containers if containers is not None else [container()]
    if ports is not None:
        cs[0] = {**cs[0], "ports": ports}
    spec: Obj = {"containers": cs}
    if volumes:
        spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"metadata": {"labels": labels or {"app": name}}, "spec": spec}},
    }


def service(
    name: str,
    ns: str = "shop",
    *,
    ports: list[Obj] | None = None,
    selector: dict[str, str] | None = None,
    type_: str | None = None,
    **spec: Any,
) -> Obj:
    body: Obj = {"ports": ports if ports is not None else [{"port": 80, "targetPort": 8080}], **spec}
    body["selector"] = selector if selector is not None else {"app": name}
    if type_:
        body["type"] = type_
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": body}


def configmap(name: str, data: dict[str, str], ns: str = "shop") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }


def secret(name: str, data: dict[str, str] | None = None, string_data: dict[str, str] | None = None) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "shop"}}
    if data is not None:
        obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


def env(**values: str) -> list[Obj]:
    return [{"name": k, "value": v} for k, v in values.items()]


def api(ns: str = "shop", port: int = 8080) -> list[Obj]:
    """The destination used by most tests: Deployment ``api`` behind Service ``api`` (80 -> port)."""
    return [
        deployment("api", ns, ports=[{"containerPort": port}]),
        service("api", ns, ports=[{"port": 80, "targetPort": port}]),
    ]


Objs = Obj | Sequence["Objs"]


def _flatten(objects: Objs) -> list[Obj]:
    if isinstance(objects, dict):
        return [objects]
    return [o for item in objects for o in _flatten(item)]


def run(*objects: Objs, options: DiscoverOptions = NO_DNS) -> DiscoveryResult:
    return discover_connections(_flatten(list(objects)), options=options)


def pairs(result: DiscoveryResult) -> dict[tuple[str, str], str]:
    return {(str(c.src), str(c.dst)): str(c.conn) for c in result.connections}


WEB = "shop/web[Deployment]"
API = "shop/api[Deployment]"


def web(**fields: Any) -> Obj:
    return deployment("web", containers=[container("web", **fields)])


# -- address forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "api:80",
        "api.shop:80",
        "api.shop.svc:80",
        "api.shop.svc.cluster.local:80",
        "http://api:80/path",
        "http://api.shop.svc.cluster.local:80/v1/items?x=1",
        "grpc://user@api:80",
        "api:80,other:1234",
    ],
)
def test_service_address_forms_with_port(value: str) -> None:
    assert pairs(run(api(), web(env=env(API=value)))) == {(WEB, API): "TCP 8080"}


@pytest.mark.parametrize("value", ["api", "api.shop", "api.shop.svc.cluster.local", "http://api/"])
def test_address_without_port_means_every_service_port(value: str) -> None:
    objs = [
        deployment("api", ports=[{"containerPort": 8080}, {"containerPort": 9090, "name": "metrics"}]),
        service("api", ports=[{"port": 80, "targetPort": 8080}, {"port": 9090, "targetPort": "metrics"}]),
    ]
    assert pairs(run(objs, web(env=env(API=value)))) == {(WEB, API): "TCP 8080,9090"}


def test_connection_strings() -> None:
    data = [
        deployment("redis", ports=[{"containerPort": 6379}]),
        service("redis", ports=[{"port": 6379}]),
        deployment("pg", "data", ports=[{"containerPort": 5432}]),
        service("pg", "data", ports=[{"port": 5432}]),
    ]
    result = run(
        data,
        web(env=env(CACHE="redis://redis:6379/0", DB="postgres://user@pg.data:5432/db")),
        deployment("worker", containers=[container(env=env(DSN="host=pg.data port=5432 dbname=x"))]),
    )
    assert pairs(result) == {
        (WEB, "shop/redis[Deployment]"): "TCP 6379",
        (WEB, "data/pg[Deployment]"): "TCP 5432",
        ("shop/worker[Deployment]", "data/pg[Deployment]"): "TCP 5432",
    }


def test_flag_arguments_and_host_lists() -> None:
    kafka = [
        deployment("kafka", kind="StatefulSet", ports=[{"containerPort": 9092}]),
        service("kafka", ports=[{"port": 9092}], clusterIP="None"),
    ]
    result = run(
        api(),
        kafka,
        web(args=["-api=api:80", "--brokers", "kafka-0.kafka:9092,kafka-1.kafka.shop.svc:9092"]),
    )
    assert pairs(result) == {(WEB, API): "TCP 8080", (WEB, "shop/kafka[StatefulSet]"): "TCP 9092"}


def test_command_is_searched_too() -> None:
    result = run(api(), web(command=["/bin/wait-for", "api:80", "--", "/app"]))
    (conn,) = result.connections
    assert conn.evidence[0].via == "command[1]"


def test_var_expansion_in_args_and_env() -> None:
    result = run(
        api(),
        web(
            env=env(
                API_HOST="api",
                API_PORT="80",
                API_URL="http://$(API_HOST):$(API_PORT)/x",
                ESC="$$(API_HOST):1",
            ),
            args=["-connect", "$(API_HOST):$(API_PORT)"],
        ),
    )
    (conn,) = result.connections
    assert str(conn.conn) == "TCP 8080"
    vias = {e.via: e.value for e in conn.evidence}
    assert vias["args[1]"] == "api:80"
    assert vias["env API_URL"] == "http://api:80"
    assert vias["env API_HOST, port from env API_PORT"] == "api (port 80)"
    assert not any("ESC" in v for v in vias)  # $$ escapes the reference: "$(API_HOST):1" is no address


def test_expansion_only_sees_earlier_variables() -> None:
    # Kubernetes expands env values against variables defined before them; later ones stay literal
    result = run(api(), web(env=env(URL="http://$(HOST):80", HOST="api")))
    (conn,) = result.connections
    assert {e.via for e in conn.evidence} == {"env HOST"}


def test_sibling_host_and_port_variables_give_the_port() -> None:
    objs = [
        deployment("api", ports=[{"containerPort": 8080}, {"containerPort": 9090}]),
        service("api", ports=[{"port": 80, "targetPort": 8080}, {"port": 90, "targetPort": 9090}]),
    ]
    result = run(objs, web(env=env(API_HOST="api", API_PORT="90")))
    assert pairs(result) == {(WEB, API): "TCP 9090"}


def test_sibling_flags_give_the_port() -> None:
    objs = [
        deployment("api", ports=[{"containerPort": 8080}, {"containerPort": 9090}]),
        service("api", ports=[{"port": 80, "targetPort": 8080}, {"port": 90, "targetPort": 9090}]),
    ]
    result = run(objs, web(args=["--api-host", "api", "--api-port=90"]))
    assert pairs(result) == {(WEB, API): "TCP 9090"}


def test_config_map_key_ref() -> None:
    result = run(
        api(),
        configmap("cfg", {"API": "api:80"}),
        web(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "API"}}}]),
    )
    (conn,) = result.connections
    assert conn.evidence[0].via == "env A from ConfigMap shop/cfg key API"


def test_secret_key_ref_reads_base64_data_and_string_data() -> None:
    result = run(
        api(),
        deployment("db", ports=[{"containerPort": 5432}]),
        service("db", ports=[{"port": 5432}]),
        secret("creds", data={"url": "postgres://u:p@db:5432/x"}, string_data={"api": "http://api:80"}),
        web(
            env=[
                {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "url"}}},
                {"name": "API", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "api"}}},
            ]
        ),
    )
    assert pairs(result) == {(WEB, API): "TCP 8080", (WEB, "shop/db[Deployment]"): "TCP 5432"}
    assert result.get(WEB, "shop/db[Deployment]").evidence[0].via == "env DB from Secret shop/creds key url"  # type: ignore[union-attr]


def test_string_data_wins_over_data() -> None:
    s = secret("s", data={"k": "nothing"}, string_data={"k": "api:80"})
    result = run(api(), s, web(env=[{"name": "K", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]))
    assert pairs(result) == {(WEB, API): "TCP 8080"}


def test_env_from_config_maps_and_secrets_with_prefix() -> None:
    result = run(
        api(),
        deployment("db", ports=[{"containerPort": 5432}]),
        service("db", ports=[{"port": 5432}]),
        configmap("cfg", {"API_ADDR": "api", "API_PORT": "80"}),
        secret("sec", data={"HOST": "db", "PORT": "5432"}),
        web(envFrom=[{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "sec"}, "prefix": "DB_"}]),
    )
    assert pairs(result) == {(WEB, API): "TCP 8080", (WEB, "shop/db[Deployment]"): "TCP 5432"}
    db = result.get(WEB, "shop/db[Deployment]")
    assert db is not None
    assert db.evidence[0].via == "envFrom Secret shop/sec key HOST, port from env DB_PORT"


def test_env_from_values_are_used_by_args() -> None:
    result = run(
        api(),
        configmap("cfg", {"ADDR": "api", "PORT": "80"}),
        web(envFrom=[{"configMapRef": {"name": "cfg"}}], args=["-connect", "$(ADDR):$(PORT)"]),
    )
    (conn,) = result.connections
    assert {e.via for e in conn.evidence} == {
        "envFrom ConfigMap shop/cfg key ADDR, port from env PORT",
        "args[1]",
    }


def test_config_map_volumes() -> None:
    files = {
        "app.properties": "# backends\napi.host=api\napi.port=80\nlog.level=debug\n",
        "nginx.conf": "location / { proxy_pass http://other:1234; }\n",
        "unused.yaml": "api: api:80\n",
    }
    objs: list[Objs] = [
        api(),
        deployment("other", ports=[{"containerPort": 1234}]),
        service("other", ports=[{"port": 1234}]),
        configmap("files", files),
    ]
    vol = {
        "name": "conf",
        "configMap": {
            "name": "files",
            "items": [{"key": "app.properties", "path": "a"}, {"key": "nginx.conf", "path": "n"}],
        },
    }
    result = run(
        objs,
        deployment(
            "web",
            containers=[container("web", volumeMounts=[{"name": "conf", "mountPath": "/etc/app"}])],
            volumes=[vol],
        ),
    )
    assert pairs(result) == {(WEB, API): "TCP 8080", (WEB, "shop/other[Deployment]"): "TCP 1234"}
    ev = result.get(WEB, API).evidence[0]  # type: ignore[union-attr]
    assert ev.container == "web"
    assert (
        ev.via == "volume conf ConfigMap shop/files key app.properties line api.host, port from key api.port"
    )


def test_projected_and_unmounted_config_map_volumes() -> None:
    vols = [
        {"name": "p", "projected": {"sources": [{"configMap": {"name": "a"}}]}},
        {"name": "loose", "configMap": {"name": "b"}},
    ]
    result = run(
        api(),
        deployment("other", ports=[{"containerPort": 1234}]),
        service("other", ports=[{"port": 1234}]),
        configmap("a", {"URL": "http://api:80"}),
        configmap("b", {"ADDR": "other:1234"}),
        deployment(
            "web",
            containers=[container("web", volumeMounts=[{"name": "p", "mountPath": "/p"}])],
            volumes=vols,
        ),
    )
    assert pairs(result) == {(WEB, API): "TCP 8080", (WEB, "shop/other[Deployment]"): "TCP 1234"}
    loose = result.get(WEB, "shop/other[Deployment]")
    assert loose is not None and loose.evidence[0].container == ""  # the pod's, no container mounts it


def test_init_containers_are_searched() -> None:
    spec = deployment("web")
    spec["spec"]["template"]["spec"]["initContainers"] = [container("wait", args=["api:80"])]
    assert pairs(run(api(), spec)) == {(WEB, API): "TCP 8080"}


# -- resolution ------------------------------------------------------------------------------------


def test_named_target_port_is_resolved_per_workload() -> None:
    objs = [
        deployment(
            "api-v1", labels={"app": "api", "v": "1"}, ports=[{"containerPort": 8080, "name": "http"}]
        ),
        deployment(
            "api-v2", labels={"app": "api", "v": "2"}, ports=[{"containerPort": 9000, "name": "http"}]
        ),
        service("api", ports=[{"port": 80, "targetPort": "http"}], selector={"app": "api"}),
    ]
    assert pairs(run(objs, web(env=env(API="api:80")))) == {
        (WEB, "shop/api-v1[Deployment]"): "TCP 8080",
        (WEB, "shop/api-v2[Deployment]"): "TCP 9000",
    }


def test_udp_service_port() -> None:
    objs = [
        deployment("stats", ports=[{"containerPort": 8125, "protocol": "UDP"}]),
        service("stats", ports=[{"port": 8125, "protocol": "UDP"}]),
    ]
    assert pairs(run(objs, web(env=env(STATSD="stats:8125")))) == {
        (WEB, "shop/stats[Deployment]"): "UDP 8125"
    }


def test_short_name_resolves_in_the_workloads_own_namespace() -> None:
    result = run(api("other"), web(env=env(API="api:80")))
    assert result.connections == ()


def test_wrong_port_is_a_warning_not_a_connection() -> None:
    result = run(api(), web(env=env(API="api:81")))
    assert result.connections == ()
    assert any("Service shop/api has no port 81 (its ports: 80)" in w.message for w in result.warnings)


def test_unknown_cluster_name_is_a_warning() -> None:
    result = run(
        api(), web(env=env(TRACING="zipkin.tracing.svc.cluster.local:9411", OTHER="example.com:443"))
    )
    assert result.connections == ()
    messages = [w.message for w in result.warnings]
    assert any("zipkin.tracing.svc.cluster.local:9411 names no Service in the input" in m for m in messages)
    assert not any("example.com" in m for m in messages)


def test_service_without_selector_is_a_warning() -> None:
    svc = service("ext", ports=[{"port": 80}])
    del svc["spec"]["selector"]
    result = run(svc, web(env=env(EXT="ext:80")))
    assert result.connections == ()
    assert any("Service shop/ext has no selector" in w.message for w in result.warnings)


def test_missing_config_map_is_a_warning_unless_optional() -> None:
    result = run(
        web(
            envFrom=[
                {"configMapRef": {"name": "gone"}},
                {"configMapRef": {"name": "maybe", "optional": True}},
            ]
        )
    )
    messages = [w.message for w in result.warnings]
    assert any("ConfigMap shop/gone is not in the input" in m for m in messages)
    assert not any("maybe" in m for m in messages)


def test_headless_service_pod_names_and_direct_ports() -> None:
    objs = [
        deployment("db", kind="StatefulSet", ports=[{"containerPort": 5432}, {"containerPort": 8008}]),
        service("db", ports=[{"port": 5432}], clusterIP="None"),
    ]
    result = run(objs, web(env=env(PRIMARY="db-0.db.shop.svc.cluster.local:5432", PATRONI="db-1.db:8008")))
    assert pairs(result) == {(WEB, "shop/db[StatefulSet]"): "TCP 5432,8008"}


def test_a_bare_self_reference_is_not_a_connection() -> None:
    objs = [
        deployment(
            "api", ports=[{"containerPort": 8080}], containers=[container(env=env(SERVICE_NAME="api"))]
        )
    ]
    assert run(objs, service("api", ports=[{"port": 80, "targetPort": 8080}])).connections == ()
    # with a port it is explicit: replicas talking to each other
    objs = [
        deployment("api", ports=[{"containerPort": 8080}], containers=[container(env=env(PEERS="api:80"))])
    ]
    assert pairs(run(objs, service("api", ports=[{"port": 80, "targetPort": 8080}]))) == {
        (API, API): "TCP 8080"
    }


def test_words_in_free_text_are_not_service_names() -> None:
    result = run(api(), web(env=env(MOTD="the api is great", FLAG="true")))
    assert result.connections == ()


# -- evidence --------------------------------------------------------------------------------------


def test_evidence_points_at_file_line_object_container_and_variable(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        env:
        - name: LOG_LEVEL
          value: info
        - name: API_URL
          value: http://api:80/v1
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data:
  OTHER: nothing
  REDIS: redis:6379
""",
        encoding="utf-8",
    )
    (tmp_path / "api.yaml").write_text(
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: api:1
        ports: [{containerPort: 8080}]
        envFrom: [{configMapRef: {name: cfg}}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis, namespace: shop}
spec:
  template:
    metadata: {labels: {app: redis}}
    spec: {containers: [{name: redis, image: redis, ports: [{containerPort: 6379}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: shop}
spec: {selector: {app: redis}, ports: [{port: 6379}]}
""",
        encoding="utf-8",
    )
    result = discover_connections([str(tmp_path)], options=NO_DNS)
    web_api = result.get(WEB, API)
    assert web_api is not None
    assert web_api.evidence == (
        Evidence(
            str(tmp_path / "app.yaml"), 14, "Deployment shop/web", "web", "env API_URL", "http://api:80"
        ),
    )
    api_redis = result.get(API, "shop/redis[StatefulSet]")
    assert api_redis is not None
    assert api_redis.evidence == (
        Evidence(
            str(tmp_path / "app.yaml"),
            22,
            "Deployment shop/api",
            "api",
            "envFrom ConfigMap shop/cfg key REDIS",
            "redis:6379",
        ),
    )
    assert web_api.reasons == frozenset({Reason.SERVICE})


def test_evidence_is_merged_and_sorted_per_pair() -> None:
    result = run(api(), web(env=env(B="api:80", A="http://api:80")))
    (conn,) = result.connections
    assert [e.via for e in conn.evidence] == ["env A", "env B"]


# -- exposure --------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", ["LoadBalancer", "NodePort"])
def test_load_balancer_and_node_port_are_exposed_to_everyone(type_: str) -> None:
    result = run(deployment("web", ports=[{"containerPort": 8080}]), service("web", type_=type_))
    (conn,) = result.connections
    assert (conn.src, str(conn.dst), str(conn.conn)) == (ANYWHERE, WEB, "TCP 8080")
    assert str(conn.src) == "0.0.0.0-255.255.255.255[External]"  # named as the map names it
    assert conn.src.type is PeerKind.IP
    assert conn.evidence == (Evidence("<objects>", 2, "Service shop/web", "", f"type: {type_}", ""),)
    assert conn.reasons == frozenset({Reason.EXPOSURE})


def test_cluster_ip_service_is_not_exposed() -> None:
    assert run(deployment("web", ports=[{"containerPort": 8080}]), service("web")).connections == ()


def ingress_v1(backend_port: Obj) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "front", "namespace": "shop"},
        "spec": {
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {"path": "/api", "backend": {"service": {"name": "api", "port": backend_port}}}
                        ]
                    },
                }
            ]
        },
    }


@pytest.mark.parametrize("port", [{"number": 80}, {"name": "http"}])
def test_ingress_exposes_its_backends_to_the_ingress_controller(port: Obj) -> None:
    objs = [
        deployment("api", ports=[{"containerPort": 8080}, {"containerPort": 9090}]),
        service(
            "api", ports=[{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 90, "targetPort": 9090}]
        ),
    ]
    result = run(objs, ingress_v1(port))
    (conn,) = result.connections
    assert (str(conn.src), str(conn.dst), str(conn.conn)) == (INGRESS_CONTROLLER, API, "TCP 8080")
    assert conn.src.type is PeerKind.INGRESS_CONTROLLER
    assert conn.evidence[0].object == "Ingress shop/front"
    assert conn.evidence[0].via == "rule shop.example.com/api"


def test_old_ingress_and_default_backend() -> None:
    old = {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "old", "namespace": "shop"},
        "spec": {"backend": {"serviceName": "api", "servicePort": 80}},
    }
    assert pairs(run(api(), old)) == {(INGRESS_CONTROLLER, API): "TCP 8080"}


def test_route_target_port_by_name_or_number() -> None:
    def route(target: int | str | None) -> Obj:
        spec: Obj = {"to": {"kind": "Service", "name": "api"}}
        if target is not None:
            spec["port"] = {"targetPort": target}
        return {
            "apiVersion": "route.openshift.io/v1",
            "kind": "Route",
            "metadata": {"name": "r", "namespace": "shop"},
            "spec": spec,
        }

    objs = [
        deployment("api", ports=[{"containerPort": 8080, "name": "web"}, {"containerPort": 9090}]),
        service(
            "api", ports=[{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 90, "targetPort": 9090}]
        ),
    ]
    assert pairs(run(objs, route("http"))) == {(INGRESS_CONTROLLER, API): "TCP 8080"}  # Service port name
    assert pairs(run(objs, route("web"))) == {(INGRESS_CONTROLLER, API): "TCP 8080"}  # container port name
    assert pairs(run(objs, route(9090))) == {(INGRESS_CONTROLLER, API): "TCP 9090"}
    assert pairs(run(objs, route(None))) == {(INGRESS_CONTROLLER, API): "TCP 8080,9090"}


@pytest.mark.parametrize("kind", ["HTTPRoute", "GRPCRoute"])
def test_gateway_routes(kind: str) -> None:
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": "r", "namespace": "gw"},
        "spec": {
            "rules": [
                {
                    "backendRefs": [
                        {"name": "api", "namespace": "shop", "port": 80},
                        {"name": "x", "kind": "Other"},
                    ]
                }
            ]
        },
    }
    result = run(api(), route)
    assert pairs(result) == {(INGRESS_CONTROLLER, API): "TCP 8080"}
    assert result.connections[0].evidence[0].object == f"{kind} gw/r"


def test_exposing_a_missing_service_is_a_warning() -> None:
    result = run(ingress_v1({"number": 80}))
    assert result.connections == ()
    assert any("Service shop/api is not in the input" in w.message for w in result.warnings)


# -- DNS -------------------------------------------------------------------------------------------


DNS = "kube-system/kube-dns[Deployment]"


def test_workloads_that_resolve_names_need_dns() -> None:
    result = run(api(), web(env=env(API="api:80")), deployment("idle"), options=DiscoverOptions())
    assert pairs(result) == {(WEB, API): "TCP 8080", (WEB, DNS): "TCP 53,UDP 53"}
    dns = result.get(WEB, DNS)
    assert dns is not None and dns.reasons == frozenset({Reason.DNS})
    assert dns.evidence[0].via == "resolves Service names"
    assert dns.evidence[0].value == "api"
    info = {str(p.peer): p for p in result.peers}[DNS]
    assert (info.namespace, info.labels) == ("kube-system", (("k8s-app", "kube-dns"),))


def test_dns_goes_to_the_matching_workload_when_it_is_in_the_input() -> None:
    coredns = deployment("coredns", "kube-system", labels={"k8s-app": "kube-dns"})
    result = run(api(), web(env=env(API="api:80")), coredns, options=DiscoverOptions())
    assert result.conn(WEB, "kube-system/coredns[Deployment]") == result.conn(WEB, DNS) | result.conn(
        WEB, "kube-system/coredns[Deployment]"
    )
    assert str(result.conn(WEB, "kube-system/coredns[Deployment]")) == "TCP 53,UDP 53"
    assert not result.conn(WEB, DNS)


def test_dns_options() -> None:
    options = DiscoverOptions(
        dns_namespace="openshift-dns",
        dns_selector=parse_selector_text("dns.operator.openshift.io/daemonset-dns=default"),
        dns_port=5353,
    )
    result = run(api(), web(env=env(API="api:80")), options=options)
    assert pairs(result)[(WEB, "openshift-dns/default[Deployment]")] == "TCP 5353,UDP 5353"


def test_no_dns_for_exposure_only_apps() -> None:
    result = run(
        deployment("web", ports=[{"containerPort": 8080}]),
        service("web", type_="NodePort"),
        options=DiscoverOptions(),
    )
    assert [str(c.dst) for c in result.connections] == [WEB]


def test_parse_selector_text() -> None:
    assert parse_selector_text("a=b, c=d") == LabelSelector.of({"a": "b", "c": "d"})
    with pytest.raises(ValueError, match="key=value"):
        parse_selector_text("nope")


# -- the whole result ------------------------------------------------------------------------------


def test_result_is_sorted_and_stable() -> None:
    objs: list[Objs] = [api(), web(env=env(API="api:80")), service("web", type_="LoadBalancer")]
    objs.append(deployment("a-first", containers=[container(env=env(X="api:80"))]))
    first = run(*objs, options=DiscoverOptions())
    again = run(*reversed(objs), options=DiscoverOptions())
    keys = [(str(c.src), str(c.dst)) for c in first.connections]
    assert keys == sorted(keys)
    assert [str(c) for c in first.connections] == [str(c) for c in again.connections]
    assert [p.peer for p in first.peers] == sorted(p.peer for p in first.peers)


def test_peers_describe_how_to_select_each_workload() -> None:
    result = run(api(), web(env=env(API="api:80")))
    assert {str(p.peer): dict(p.labels) for p in result.peers} == {API: {"app": "api"}, WEB: {"app": "web"}}


def test_secret_data_that_is_not_text_or_not_base64() -> None:
    s = secret("s", data={"url": "http://api:80"})
    s["data"]["cert"] = "//79/A=="  # valid base64 of bytes that are not UTF-8: skipped silently
    s["data"]["broken"] = "not base64!"
    env_from = [{"secretRef": {"name": "s"}}]
    result = run(api(), s, web(envFrom=env_from))
    assert pairs(result) == {(WEB, API): "TCP 8080"}
    assert [w.message for w in result.warnings] == [
        "Secret shop/s: data key 'broken' is not valid base64; it is not searched"
    ]


def test_exposure_evidence_points_at_the_rule(tmp_path: Path) -> None:
    (tmp_path / "ingress.yaml").write_text(
        """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: front, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - path: /a
        pathType: Prefix
        backend: {service: {name: api, port: {number: 80}}}
      - path: /b
        pathType: Prefix
        backend: {service: {name: api, port: {number: 80}}}
""",
        encoding="utf-8",
    )
    result = discover_connections([str(tmp_path)], options=NO_DNS)
    assert result.connections == ()  # no Service api in the input
    (tmp_path / "api.yaml").write_text(yaml.safe_dump_all(api()), encoding="utf-8")
    (conn,) = discover_connections([str(tmp_path)], options=NO_DNS).connections
    assert [(e.line, e.via) for e in conn.evidence] == [(8, "rule */a"), (11, "rule */b")]
