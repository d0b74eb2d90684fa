"""Finding addresses in configuration text: every form the discover issue lists, and what is not one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubefence.analysis.discover.addresses import (
    config_lines,
    expand,
    find_addresses,
    flag_values,
    sibling_port,
)


def hosts(text: str) -> list[tuple[str, int | None]]:
    return [(a.host, a.port) for a in find_addresses(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("svc", [("svc", None)]),
        ("svc:8080", [("svc", 8080)]),
        ("svc.ns", [("svc.ns", None)]),
        ("svc.ns.svc", [("svc.ns.svc", None)]),
        ("svc.ns.svc.cluster.local:6379", [("svc.ns.svc.cluster.local", 6379)]),
        ("http://svc:8080/path", [("svc", 8080)]),
        ("https://api.shop.svc.cluster.local/v1?x=1", [("api.shop.svc.cluster.local", None)]),
        ("redis://svc:6379/0", [("svc", 6379)]),
        ("redis://:s3cret@svc:6379", [("svc", 6379)]),
        ("postgres://user@svc.ns:5432/db", [("svc.ns", 5432)]),
        ("postgresql://user:pw@db:5432/app?sslmode=disable", [("db", 5432)]),
        ("jdbc:mysql://mysql.data:3306/shop", [("mysql.data", 3306)]),
        ("mongodb://a:27017,b.ns:27017/db?replicaSet=rs0", [("a", 27017), ("b.ns", 27017)]),
        ("host=svc port=5432", [("svc", 5432)]),
        ("host=svc port=5432 user=app dbname=shop sslmode=disable", [("svc", 5432)]),
        ("Server=tcp:mssql,1433;Database=shop;User Id=sa", [("mssql", 1433)]),
        ("-flag=svc:9000", [("svc", 9000)]),
        ("--redis-addr=redis.cache:6379", [("redis.cache", 6379)]),
        ("--backend=api", [("api", None)]),
        ("kafka-0.kafka:9092,kafka-1.kafka:9092", [("kafka-0.kafka", 9092), ("kafka-1.kafka", 9092)]),
        ("zk-0, zk-1, zk-2", [("zk-0", None), ("zk-1", None), ("zk-2", None)]),
        ("connect to cart:7070 and then http://ads:9555", [("cart", 7070), ("ads", 9555)]),
        ("proxy_pass http://backend:8080;", [("backend", 8080)]),
        ("'quoted:1234'", [("quoted", 1234)]),
    ],
)
def test_address_forms(text: str, expected: list[tuple[str, int | None]]) -> None:
    assert hosts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "true",  # a bare word is an address only as a whole value; the caller matches it to Services
        "hello world",
        "/tmp/logs",
        "-Xms64m -Xmx128m -Djava.security.egd=file:/dev/urandom",
        ":8080",
        "10.0.0.1:80",
        "svc:99999",
        "$(UNSET)",
        "no_such_svc:4040",  # "_" is not allowed in a host name
    ],
)
def test_not_addresses(text: str) -> None:
    found = find_addresses(text)
    assert all(a.whole for a in found)
    assert [a.host for a in found] in ([], ["true"])


def test_bare_names_only_count_as_whole_values() -> None:
    assert [a.whole for a in find_addresses("redis")] == [True]
    assert find_addresses("use the redis cache") == []
    # a dotted or ported name in free text is specific enough
    assert hosts("use the redis.cache service") == [("redis.cache", None)]


def test_address_keeps_its_text_for_evidence() -> None:
    (addr,) = find_addresses("postgres://user@db:5432/shop")
    assert addr.text == "postgres://user@db:5432"
    (addr,) = find_addresses("host=db port=5432 user=x")
    assert addr.text == "host=db port=5432"


def test_duplicates_are_removed() -> None:
    assert hosts("a:1 a:1 http://a:1/") == [("a", 1)]


def test_expand_follows_kubernetes() -> None:
    env = {"HOST": "db", "PORT": "5432"}
    assert expand("$(HOST):$(PORT)", env) == "db:5432"
    assert expand("$$(HOST)", env) == "$(HOST)"  # $$ escapes
    assert expand("$(MISSING)-x", env) == "$(MISSING)-x"  # undefined stays as written
    assert expand("cost $5 $(HOST", env) == "cost $5 $(HOST"
    assert expand("plain", env) == "plain"


@given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
def test_expand_without_references_is_identity(text: str) -> None:
    assert expand(text, {"A": "b"}) == text


@given(st.text(max_size=60))
def test_find_addresses_never_fails(text: str) -> None:
    for addr in find_addresses(text):
        assert addr.host == addr.host.lower()
        assert addr.port is None or 1 <= addr.port <= 65535


@pytest.mark.parametrize(
    ("name", "scope", "expected"),
    [
        ("REDIS_HOST", {"REDIS_PORT": "6379"}, ("REDIS_PORT", 6379)),
        ("MYSQL_DB_HOST", {"MYSQL_DB_PORT": "3306"}, ("MYSQL_DB_PORT", 3306)),
        ("CATALOG_ADDR", {"CATALOG_PORT": "8080"}, ("CATALOG_PORT", 8080)),
        ("redis.host", {"redis.port": "6379"}, ("redis.port", 6379)),
        ("dbHost", {"dbPort": "5432"}, ("dbPort", 5432)),
        ("REDIS_SERVICE_HOST", {"REDIS_SERVICE_PORT": "6379"}, ("REDIS_SERVICE_PORT", 6379)),
        ("HOST", {"PORT": "80"}, ("PORT", 80)),
        ("REDIS_HOST", {"REDIS_PORT": "$(X)"}, None),
        ("REDIS_HOST", {"CACHE_PORT": "6379"}, None),
        ("REDIS_PASSWORD", {"REDIS_PORT": "6379"}, None),
    ],
)
def test_sibling_port(name: str, scope: dict[str, str], expected: tuple[str, int] | None) -> None:
    assert sibling_port(name, scope) == expected


def test_flag_values() -> None:
    flags, flag_of = flag_values(["-listen", ":8080", "--db-host=db", "--db-port", "5432", "-v"])
    assert flags == {"listen": ":8080", "db-host": "db", "db-port": "5432"}
    assert flag_of == {1: "listen", 2: "db-host", 4: "db-port"}


def test_config_lines() -> None:
    text = "# comment\nredis.host = redis\nurl: http://api:80/x\nplain words here\n\n"
    assert list(config_lines(text)) == [
        ("redis.host", "redis", "redis.host = redis"),
        ("url", "http://api:80/x", "url: http://api:80/x"),
        ("", "plain words here", "plain words here"),
    ]
