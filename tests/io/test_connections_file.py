"""The JSON form of discovered connectivity: written by the view, read back by the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubefence import DiscoverOptions, discover_connections, load_connections_file
from kubefence.errors import InputError
from kubefence.io.connections_file import parse_connections, parse_connections_text
from kubefence.model.connectivity import PeerKind, WorkloadPeer
from kubefence.model.discovery import Evidence, Reason
from kubefence.report import render

APP = [
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "web",
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "API", "value": "http://api:80"}],
                        }
                    ]
                },
            }
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "api", "tier": "be"}},
                "spec": {"containers": [{"name": "api", "image": "api", "ports": [{"containerPort": 8080}]}]},
            }
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": "web"},
            "ports": [{"port": 80, "targetPort": 8080}],
        },
    },
]


def test_json_shape() -> None:
    data = json.loads(render(discover_connections(APP), "json"))
    assert list(data) == ["connections", "peers"]
    assert [list(c) for c in data["connections"]] == [["src", "dst", "conn", "reason", "evidence"]] * 3
    assert [(c["src"], c["dst"], c["conn"], c["reason"]) for c in data["connections"]] == [
        ("0.0.0.0-255.255.255.255[External]", "shop/web[Deployment]", "TCP 8080", "exposure"),
        ("shop/web[Deployment]", "kube-system/kube-dns[Deployment]", "TCP 53,UDP 53", "dns"),
        ("shop/web[Deployment]", "shop/api[Deployment]", "TCP 8080", "service"),
    ]
    assert data["connections"][2]["evidence"] == [
        {
            "file": "<objects>",
            "line": 1,
            "object": "Deployment shop/web",
            "container": "web",
            "via": "env API",
            "value": "http://api:80",
        }
    ]
    assert data["peers"] == {
        "kube-system/kube-dns[Deployment]": {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
        "shop/api[Deployment]": {"namespace": "shop", "labels": {"app": "api", "tier": "be"}},
        "shop/web[Deployment]": {"namespace": "shop", "labels": {"app": "web"}},
    }


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_round_trip(tmp_path: Path, fmt: str) -> None:
    result = discover_connections(APP)
    path = tmp_path / f"needed.{fmt}"
    path.write_text(render(result, fmt), encoding="utf-8")
    loaded = load_connections_file(path)
    assert loaded.connections == result.connections
    assert loaded.peers == result.peers
    assert render(loaded, "json") == render(result, "json")


def test_output_is_stable() -> None:
    assert render(discover_connections(APP), "json") == render(discover_connections(APP), "json")
    # the input order does not matter (only the evidence lines, here object numbers, change)
    forward, backward = discover_connections(APP), discover_connections(list(reversed(APP)))
    assert [str(c) for c in forward.connections] == [str(c) for c in backward.connections]


def test_hand_written_file(tmp_path: Path) -> None:
    path = tmp_path / "hand.json"
    path.write_text(
        json.dumps(
            {
                "connections": [
                    {"src": "b/y[Deployment]", "dst": "a/x[StatefulSet]", "conn": "TCP 5432"},
                    {"src": "{ingress-controller}", "dst": "a/x[StatefulSet]", "conn": "TCP 80"},
                    {
                        "src": "b/y[Deployment]",
                        "dst": "a/x[StatefulSet]",
                        "conn": "UDP 53",
                        "evidence": ["I know"],
                    },
                    {"src": "10.0.0.0-10.255.255.255", "dst": "a/x[StatefulSet]", "conn": "All Connections"},
                ]
            }
        ),
        encoding="utf-8",
    )
    result = load_connections_file(path)
    assert [str(c) for c in result.connections] == [
        "10.0.0.0-10.255.255.255[External] => a/x[StatefulSet] : All Connections",
        "b/y[Deployment] => a/x[StatefulSet] : TCP 5432,UDP 53",  # entries of one pair merge
        "{ingress-controller} => a/x[StatefulSet] : TCP 80",
    ]
    kinds = [(c.src.type, c.dst.type) for c in result.connections]
    assert kinds == [
        (PeerKind.IP, PeerKind.WORKLOAD),
        (PeerKind.WORKLOAD, PeerKind.WORKLOAD),
        (PeerKind.INGRESS_CONTROLLER, PeerKind.WORKLOAD),
    ]
    assert result.connections[1].evidence == (Evidence(via="I know"),)
    assert result.connections[1].src == WorkloadPeer("b", "y", "Deployment")
    assert result.peers == ()


def test_reasons_are_read_back() -> None:
    result = parse_connections(
        {"connections": [{"src": "a/x[Pod]", "dst": "a/y[Pod]", "conn": "TCP 1", "reason": "service,dns"}]}
    )
    assert result.connections[0].reasons == frozenset({Reason.SERVICE, Reason.DNS})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], 'expected an object with a "connections" list, got list'),
        ({}, '"connections" is missing'),
        ({"connections": {}}, '"connections" is a object, not a list'),
        ({"connections": [1]}, "connections[0] is a number, not an object"),
        ({"connections": [{"dst": "a/b[Pod]", "conn": "TCP 1"}]}, 'connections[0]: "src" is missing'),
        (
            {"connections": [{"src": "", "dst": "a/b[Pod]", "conn": "TCP 1"}]},
            '"src" is not a non-empty string',
        ),
        (
            {"connections": [{"src": "web", "dst": "a/b[Pod]", "conn": "TCP 1"}]},
            "connections[0].src: bad peer 'web'",
        ),
        ({"connections": [{"src": "a/x[Pod]", "dst": "a/b[Pod]", "conn": "TCP x"}]}, "bad conn 'TCP x'"),
        ({"connections": [{"src": "a/x[Pod]", "dst": "a/b[Pod]", "conn": "ICMP 1"}]}, "unknown protocol"),
        (
            {"connections": [{"src": "a/x[Pod]", "dst": "a/b[Pod]", "conn": "TCP 1", "evidence": "x"}]},
            '"evidence" is a string, not a list',
        ),
        (
            {
                "connections": [
                    {"src": "a/x[Pod]", "dst": "a/b[Pod]", "conn": "TCP 1", "evidence": [{"line": "3"}]}
                ]
            },
            'connections[0].evidence[0]: "line" must be a number',
        ),
        (
            {"connections": [{"src": "a/x[Pod]", "dst": "a/b[Pod]", "conn": "TCP 1", "reason": "why"}]},
            "unknown reason 'why'",
        ),
        ({"connections": [], "peers": []}, '"peers" is a list, not an object'),
        (
            {"connections": [], "peers": {"a/x[Pod]": {"labels": {"a": {}}}}},
            '"labels" must map names to strings',
        ),
    ],
)
def test_malformed_entries(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_connections_file(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"connections": [\n  {"src": "a/x[Pod]",\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_connections_file(path)
    assert str(err.value).startswith(f"{path}:3: malformed JSON: ")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_connections_file(tmp_path / "nope.json")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        load_connections_file(binary)


def test_yaml_of_the_same_shape_is_accepted() -> None:
    result = parse_connections_text("connections:\n- src: a/x[Pod]\n  dst: a/y[Pod]\n  conn: TCP 80\n")
    assert str(result.connections[0]) == "a/x[Pod] => a/y[Pod] : TCP 80"


def test_no_connections_entries_are_dropped() -> None:
    result = parse_connections(
        {"connections": [{"src": "a/x[Pod]", "dst": "a/y[Pod]", "conn": "No Connections"}]}
    )
    assert result.connections == ()


def test_loaded_result_renders_in_every_text_format() -> None:
    result = discover_connections(APP, options=DiscoverOptions(dns=False))
    for fmt in ("txt", "csv", "md", "dot", "yaml"):
        assert "shop/api[Deployment]" in render(result, fmt)
