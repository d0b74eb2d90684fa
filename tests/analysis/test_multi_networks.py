"""Multi-network semantics: primary (C)UDNs isolate, secondary NADs carry what MultiNetworkPolicies
allow, and the rules for which objects take part, on small inline clusters."""

from __future__ import annotations

from typing import Any

import pytest

import kubefence
from kubefence.errors import InputError
from kubefence.report import render

UDN_LABEL = {"k8s.ovn.org/primary-user-defined-network": ""}


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(ns: str, name: str, networks: str | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels}
    if networks is not None:
        meta["annotations"] = {"k8s.v1.cni.cncf.io/networks": networks}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [{"name": "c"}]}}


def udn(ns: str, name: str = "net", role: str = "Primary") -> dict[str, Any]:
    return {
        "apiVersion": "k8s.ovn.org/v1",
        "kind": "UserDefinedNetwork",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"topology": "Layer2", "layer2": {"role": role}},
    }


def cudn(name: str, match: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.ovn.org/v1",
        "kind": "ClusterUserDefinedNetwork",
        "metadata": {"name": name},
        "spec": {
            "namespaceSelector": {"matchLabels": match},
            "network": {"topology": "Layer3", "layer3": {"role": "Primary"}},
        },
    }


def nad(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"config": '{"cniVersion": "0.3.1", "type": "macvlan"}'},
    }


def mnp(ns: str, name: str, policy_for: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1beta1",
        "kind": "MultiNetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": ns,
            "annotations": {"k8s.v1.cni.cncf.io/policy-for": policy_for},
        },
        "spec": spec,
    }


def pairs(objects: list[dict[str, Any]], network: str) -> set[tuple[str, str, str]]:
    result = kubefence.map_networks(objects)
    section = next(s for s in result.sections if s.network.name == network)
    return {(str(c.src), str(c.dst), str(c.conn)) for c in section.connectivity.connections}


def test_a_primary_udn_isolates_its_namespace_from_the_pod_network() -> None:
    objects = [
        namespace("blue", **UDN_LABEL),
        udn("blue"),
        namespace("red"),
        pod("blue", "a"),
        pod("red", "b"),
    ]
    result = kubefence.map_networks(objects)
    assert [s.network.name for s in result.sections] == ["pod-network", "blue"]
    everything = {(str(c.src), str(c.dst)) for s in result.sections for c in s.connectivity.connections}
    assert ("blue/a[Pod]", "red/b[Pod]") not in everything
    assert ("red/b[Pod]", "blue/a[Pod]") not in everything
    merged = kubefence.map_connectivity(objects)
    assert not merged.conn("blue/a[Pod]", "red/b[Pod]")


def test_a_udn_tags_its_peers_in_text() -> None:
    objects = [namespace("blue", **UDN_LABEL), udn("blue"), pod("blue", "a"), pod("blue", "b")]
    text = render(kubefence.map_networks(objects), "txt")
    assert "blue[udn]/a[Pod] => blue[udn]/b[Pod] : All Connections" in text
    assert "\tPrimary Network: blue[UDN]" in text


def test_a_udn_needs_its_namespace_label_and_the_primary_role() -> None:
    no_label = kubefence.map_networks([namespace("blue"), udn("blue"), pod("blue", "a")])
    assert [s.network.name for s in no_label.sections] == ["pod-network"]
    assert any("lacks the label" in w.message for w in no_label.warnings)
    secondary = kubefence.map_networks([namespace("blue", **UDN_LABEL), udn("blue", role="Secondary")])
    assert any("only Primary networks" in w.message for w in secondary.warnings)


def test_two_primary_networks_for_one_namespace_are_an_error() -> None:
    objects = [namespace("blue", **UDN_LABEL, tier="x"), udn("blue"), cudn("wide", {"tier": "x"})]
    with pytest.raises(InputError, match="two primary networks"):
        kubefence.map_networks(objects)


def test_a_udn_may_not_take_over_default() -> None:
    with pytest.raises(InputError, match="may not take over namespace default"):
        kubefence.map_networks([namespace("default", **UDN_LABEL), udn("default")])


def test_a_cudn_joins_the_namespaces_it_selects() -> None:
    objects = [
        namespace("a", **UDN_LABEL, team="x"),
        namespace("b", **UDN_LABEL, team="x"),
        namespace("c", **UDN_LABEL),
        cudn("shared", {"team": "x"}),
        pod("a", "p"),
        pod("b", "q"),
        pod("c", "r"),
    ]
    shared = pairs(objects, "shared")
    assert ("a/p[Pod]", "b/q[Pod]", "All Connections") in shared
    assert not any("c/r[Pod]" in (s, d) for s, d, _ in shared)


def test_secondary_network_joins_workloads_whose_namespace_defines_it() -> None:
    objects = [
        nad("ns", "net1"),
        pod("ns", "a", "net1"),
        pod("ns", "b", "ns/net1@eth1"),
        pod("other", "c", "net1"),  # no net1 in namespace other
    ]
    assert pairs(objects, "net1") == {
        ("ns/a[Pod]", "ns/b[Pod]", "All Connections"),
        ("ns/b[Pod]", "ns/a[Pod]", "All Connections"),
    }


def test_a_multi_network_policy_isolates_only_on_its_network() -> None:
    deny_ingress = {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]}
    objects = [
        nad("ns", "net1"),
        pod("ns", "db", "net1", app="db"),
        pod("ns", "web", "net1", app="web"),
        mnp("ns", "deny", "net1", deny_ingress),
    ]
    assert pairs(objects, "net1") == {("ns/db[Pod]", "ns/web[Pod]", "All Connections")}
    assert ("ns/web[Pod]", "ns/db[Pod]", "All Connections") in pairs(objects, "pod-network")


def test_multi_network_policy_rules_allow_ports_by_selector_and_by_address() -> None:
    allow = {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [
            {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]},
            {"from": [{"ipBlock": {"cidr": "10.1.0.0/24"}}], "ports": [{"port": 22}]},
        ],
    }
    ips = '[{"name": "net1", "ips": ["10.1.0.7/24"]}]'
    objects = [
        nad("ns", "net1"),
        pod("ns", "db", "net1", app="db"),
        pod("ns", "web", "net1", app="web"),
        pod("ns", "admin", ips, app="admin"),
        mnp("ns", "allow", "ns/net1", allow),
    ]
    into_db = {(s, c) for s, d, c in pairs(objects, "net1") if d == "ns/db[Pod]"}
    assert into_db == {("ns/web[Pod]", "TCP 5432"), ("ns/admin[Pod]", "TCP 22")}


def test_a_policy_selecting_by_address_warns_about_unknown_addresses() -> None:
    spec = {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}
    objects = [
        nad("ns", "net1"),
        pod("ns", "a", "net1"),
        pod("ns", "b", "net1"),
        mnp("ns", "p", "net1", spec),
    ]
    result = kubefence.map_networks(objects)
    assert any(
        "addresses of ns/a[Pod], ns/b[Pod] there are not in the input" in w.message for w in result.warnings
    )


def test_a_multi_network_policy_needs_policy_for() -> None:
    bad = mnp("ns", "p", "", {"podSelector": {}})
    del bad["metadata"]["annotations"]
    with pytest.raises(InputError, match="policy-for"):
        kubefence.load_cluster([bad])


def test_virtual_machines_are_workloads_and_launcher_pods_are_skipped() -> None:
    vm = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": "vm1", "namespace": "ns"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "vm"}},
                "spec": {
                    "networks": [
                        {"name": "default", "pod": {}},
                        {"name": "n", "multus": {"networkName": "net1"}},
                    ]
                },
            }
        },
    }
    launcher = pod("ns", "virt-launcher-vm1-abcde", app="vm")
    cluster = kubefence.load_cluster([vm, launcher, nad("ns", "net1")])
    assert [w.peer_name for w in cluster.workloads] == ["ns/vm1[VirtualMachine]"]
    assert [a.name for a in cluster.workloads[0].networks] == ["net1"]
    assert any("launcher pod" in w.message for w in cluster.warnings)


def test_json_and_csv_carry_the_network() -> None:
    objects = [nad("ns", "net1"), pod("ns", "a", "net1"), pod("ns", "b", "net1")]
    data = kubefence.report.render(kubefence.map_networks(objects), "json")
    assert '"network": "net1"' in data and '"network_kind": "NAD"' in data
    csv = kubefence.report.render(kubefence.map_networks(objects), "csv")
    assert csv.splitlines()[0] == "network,src,dst,conn"
    assert "net1[NAD],ns/a[Pod],ns/b[Pod],All Connections" in csv


def test_explain_refuses_multi_network_input() -> None:
    objects = [nad("ns", "net1"), pod("ns", "a", "net1"), pod("ns", "b", "net1")]
    with pytest.raises(kubefence.KubefenceError, match="network"):
        kubefence.explain_connectivity(objects, "ns/a", "ns/b")


def test_inputs_without_networks_keep_the_single_network_map() -> None:
    objects = [pod("ns", "a"), pod("ns", "b")]
    from kubefence.api import multiple_networks

    assert not multiple_networks(kubefence.load_cluster(objects))


def test_the_focus_options_apply_to_every_network() -> None:
    objects = [nad("ns", "net1"), pod("ns", "a", "net1"), pod("ns", "b", "net1"), pod("ns", "c", "net1")]
    options = kubefence.MapOptions(focus_workloads=("ns/a",), focus_direction="egress")
    result = kubefence.map_networks(objects, options=options)
    for section in result.sections:
        assert section.connectivity.connections, section.network
        assert all(str(c.src) == "ns/a[Pod]" for c in section.connectivity.connections), section.network
    with pytest.raises(kubefence.KubefenceError, match="not in the input"):
        kubefence.map_networks(objects, options=kubefence.MapOptions(focus_workload="ns/zzz"))
