"""Parsing AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy objects.

Good objects become :class:`~kubefence.model.admin.AdminPolicy` values; bad ones raise
:class:`InputError` naming the file and the line of the mistake. Each bad manifest marks that line
with ``# <-- here``; the expected line number comes from the marker, never from the text the loader
searches for.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from marked_input import MARK, check, load_error, write_marked  # next to this file

from kubefence import IPRangeSet, LabelSelector, load_cluster
from kubefence.model.admin import Action, AdminPeer, AdminPolicy, AdminPort, PodsSelector, Tier


def write(tmp_path: Path, body: str, name: str = "admin.yaml") -> tuple[Path, int]:
    """Write ``body``; return the path and the marked line (0 when nothing is marked)."""
    path = tmp_path / name
    return path, write_marked(path, textwrap.dedent(body).lstrip("\n"))


def only_policy(path: Path) -> AdminPolicy:
    (policy,) = load_cluster([path]).admin_policies
    return policy


# -- good objects -------------------------------------------------------------------------------------


def test_admin_network_policy(tmp_path: Path) -> None:
    path, _ = write(
        tmp_path,
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata:
          name: guard
        spec:
          priority: 0
          subject:
            pods:
              namespaceSelector: {matchLabels: {team: red}}
              podSelector: {matchLabels: {app: db}}
          ingress:
          - name: dns
            action: Allow
            from: [{namespaces: {}}]
            ports:
            - portNumber: {port: 53, protocol: UDP}
            - portRange: {start: 8000, end: 8100}
            - namedPort: metrics
          - action: Pass
            from:
            - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}
          egress:
          - name: out
            action: Deny
            to:
            - networks: [10.0.0.0/8, "fd00::/8"]
        """,
    )
    policy = only_policy(path)
    assert (policy.kind, policy.name, policy.tier, policy.priority) == (
        "AdminNetworkPolicy",
        "guard",
        Tier.ADMIN,
        0,
    )
    assert policy.label == "AdminNetworkPolicy guard"
    assert policy.subject == PodsSelector(LabelSelector.of({"team": "red"}), LabelSelector.of({"app": "db"}))
    assert policy.origin.line == 1
    dns, passing = policy.ingress
    assert (dns.name, dns.action) == ("dns", Action.ALLOW)
    assert dns.peers == (AdminPeer(pods=PodsSelector(LabelSelector())),)
    assert dns.ports == (
        AdminPort("UDP", 53, 53),
        AdminPort("TCP", 8000, 8100),
        AdminPort("", name="metrics"),
    )
    assert (passing.name, passing.action, passing.ports) == ("ingress rule #2", Action.PASS, None)
    assert passing.peers == (AdminPeer(pods=PodsSelector(LabelSelector(), LabelSelector.of({"app": "web"}))),)
    (out,) = policy.egress
    assert out.action is Action.DENY
    (peer,) = out.peers
    assert peer.networks == IPRangeSet.from_cidr("10.0.0.0/8") | IPRangeSet.from_cidr("fd00::/8")
    assert str(peer) == "networks 10.0.0.0/8, fd00::/8"


def test_baseline_admin_network_policy(tmp_path: Path) -> None:
    path, _ = write(
        tmp_path,
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: BaselineAdminNetworkPolicy
        metadata:
          name: default
        spec:
          subject:
            namespaces: {matchExpressions: [{key: team, operator: Exists}]}
          ingress:
          - name: deny
            action: Deny
            from: [{namespaces: {}}]
        """,
    )
    cluster = load_cluster([path])
    (policy,) = cluster.admin_policies
    assert (policy.kind, policy.tier) == ("BaselineAdminNetworkPolicy", Tier.BASELINE)
    assert policy.subject.pod_selector is None  # every pod of the namespaces
    assert policy.ingress[0].action is Action.DENY
    assert cluster.warnings == ()


def test_baseline_admin_network_policy_not_named_default_is_an_error(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: BaselineAdminNetworkPolicy
        metadata:
          name: strict  # <-- here
        spec:
          subject: {namespaces: {}}
        """,
    )
    # the CRD's CEL rule: self.metadata.name == 'default'
    check(load_error(path), path, line, "BaselineAdminNetworkPolicy strict: metadata.name: only one")


@pytest.mark.parametrize(("tier", "expected"), [("Admin", Tier.ADMIN), ("Baseline", Tier.BASELINE)])
def test_cluster_network_policy(tmp_path: Path, tier: str, expected: Tier) -> None:
    path, _ = write(
        tmp_path,
        f"""
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata:
          name: cnp
        spec:
          tier: {tier}
          priority: 1000
          subject: {{namespaces: {{}}}}
          ingress:
          - name: web
            action: Accept
            from: [{{namespaces: {{}}}}]
            protocols:
            - tcp: {{destinationPort: {{number: 443}}}}
            - udp: {{destinationPort: {{range: {{start: 5000, end: 5010}}}}}}
            - sctp: {{destinationPort: {{number: 9}}}}
            - destinationNamedPort: http
          egress:
          - name: apis
            action: Pass
            to:
            - domainNames: [api.example.com]
        """,
    )
    cluster = load_cluster([path])
    (policy,) = cluster.admin_policies
    assert (policy.tier, policy.priority) == (expected, 1000)
    (web,) = policy.ingress
    assert web.action is Action.ALLOW  # Accept
    assert web.ports == (
        AdminPort("TCP", 443, 443),
        AdminPort("UDP", 5000, 5010),
        AdminPort("SCTP", 9, 9),
        AdminPort("", name="http"),
    )
    (apis,) = policy.egress
    assert (apis.action, apis.peers) == (Action.PASS, (AdminPeer(domains=("api.example.com",)),))
    (warning,) = cluster.warnings
    assert "domain names cannot be resolved statically" in warning.message


def test_admin_policies_are_ordered_by_tier_then_priority(tmp_path: Path) -> None:
    docs = []
    for kind, name, priority, tier in [
        ("AdminNetworkPolicy", "b", 20, None),
        ("ClusterNetworkPolicy", "base", 1, "Baseline"),
        ("AdminNetworkPolicy", "a", 30, None),
        ("ClusterNetworkPolicy", "early", 10, "Admin"),
    ]:
        spec: dict[str, object] = {"priority": priority, "subject": {"namespaces": {}}}
        if tier:
            spec["tier"] = tier
        version = "v1alpha2" if tier else "v1alpha1"
        docs.append(
            {
                "apiVersion": f"policy.networking.k8s.io/{version}",
                "kind": kind,
                "metadata": {"name": name},
                "spec": spec,
            }
        )
    cluster = load_cluster(docs)
    assert [p.name for p in cluster.admin_policies] == ["early", "b", "a", "base"]


# -- bad objects --------------------------------------------------------------------------------------


ANP_HEAD = """
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: AdminNetworkPolicy
    metadata:
      name: p
    spec:
"""


@pytest.mark.parametrize(
    ("priority", "phrase"),
    [
        ("1001", "priority 1001 is out of range (use a whole number from 0 to 1000)"),
        ("-1", "priority -1 is out of range (use a whole number from 0 to 1000)"),
        ("1.5", "must be integer, got a number"),
        ('"high"', "must be integer, got a string"),
    ],
)
def test_priority_out_of_range(tmp_path: Path, priority: str, phrase: str) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: {priority}  {MARK}
      subject: {{namespaces: {{}}}}
    """,
    )
    check(load_error(path), path, line, "AdminNetworkPolicy p: spec.priority: ", phrase)


def test_priority_out_of_range_in_a_later_document(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: ok}
        spec:
          priority: 1000
          subject: {namespaces: {}}
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: late}
        spec:
          tier: Admin
          priority: 1000
          subject: {namespaces: {}}
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: bad}
        spec:
          tier: Admin
          priority: 10000  # <-- here
          subject: {namespaces: {}}
        """,
    )
    check(
        load_error(path),
        path,
        line,
        "ClusterNetworkPolicy bad: spec.priority: priority 10000 is out of range",
    )


def test_missing_priority(tmp_path: Path) -> None:
    path, _ = write(tmp_path, ANP_HEAD + "      subject: {namespaces: {}}\n")
    err = load_error(path)
    assert err.origin.file == str(path)
    assert "AdminNetworkPolicy p: spec: missing required field 'priority'" in str(err)


@pytest.mark.parametrize(
    ("kind", "version", "action", "allowed"),
    [
        ("AdminNetworkPolicy", "v1alpha1", "Accept", "Allow, Deny, Pass"),
        ("AdminNetworkPolicy", "v1alpha1", "allow", "Allow, Deny, Pass"),
        ("BaselineAdminNetworkPolicy", "v1alpha1", "Pass", "Allow, Deny"),
        ("ClusterNetworkPolicy", "v1alpha2", "Allow", "Accept, Deny, Pass"),
    ],
)
def test_unknown_action(tmp_path: Path, kind: str, version: str, action: str, allowed: str) -> None:
    extra = "priority: 3\n  tier: Admin" if kind == "ClusterNetworkPolicy" else "priority: 3"
    if kind == "BaselineAdminNetworkPolicy":
        extra = "subject: {namespaces: {}}"
    else:
        extra += "\n  subject: {namespaces: {}}"
    text = f"""\
apiVersion: policy.networking.k8s.io/{version}
kind: {kind}
metadata:
  name: default
spec:
  {extra}
  egress:
  - name: first
    action: Deny
    to: [{{namespaces: {{}}}}]
  - name: second
    action: {action}  {MARK}
    to: [{{namespaces: {{}}}}]
"""
    path, line = write(tmp_path, text)
    check(
        load_error(path),
        path,
        line,
        f"{kind} default: spec.egress[1].action: '{action}' is not one of {allowed}",
    )


def test_missing_action(tmp_path: Path) -> None:
    path, _ = write(
        tmp_path,
        ANP_HEAD
        + """
      priority: 3
      subject: {namespaces: {}}
      ingress:
      - name: nothing
        from: [{namespaces: {}}]
    """,
    )
    err = load_error(path)
    assert err.origin.file == str(path)
    assert "spec.ingress[0]: missing required field 'action'" in str(err)


def test_subject_with_namespaces_and_pods(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: 3
      subject:  {MARK}
        namespaces: {{}}
        pods:
          namespaceSelector: {{}}
          podSelector: {{}}
    """,
    )
    check(
        load_error(path),
        path,
        line,
        "AdminNetworkPolicy p: spec.subject: give exactly one of namespaces, pods",
    )


def test_subject_with_neither(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: 3
      subject: {{}}  {MARK}
    """,
    )
    check(load_error(path), path, line, "spec.subject: give at least 1 of namespaces, pods")


def test_subject_error_points_at_the_subject_field(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        f"""
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata:
          name: p
          annotations:
            description: the subject namespaces may not talk to the internet
        spec:
          priority: 3
          subject:  {MARK}
            namespaces: {{}}
            pods: {{namespaceSelector: {{}}, podSelector: {{}}}}
        """,
    )
    check(
        load_error(path),
        path,
        line,
        "spec.subject: give exactly one of namespaces, pods (it has namespaces and pods)",
    )


def test_missing_subject_is_reported_in_its_own_document(tmp_path: Path) -> None:
    path, _ = write(
        tmp_path,
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata:
          name: first
        spec:
          priority: 3
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata:
          name: second
        spec:
          priority: 4
          subject:
            namespaces: {}
        """,
    )
    err = load_error(path)
    assert "AdminNetworkPolicy first" in str(err)
    assert 1 <= err.origin.line <= 7, str(err)  # the first document spans lines 1-7


def test_unknown_cnp_tier(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        f"""
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata:
          name: c
        spec:
          tier: Platform  {MARK}
          priority: 3
          subject: {{namespaces: {{}}}}
        """,
    )
    check(
        load_error(path),
        path,
        line,
        "ClusterNetworkPolicy c: spec.tier: 'Platform' is not one of Admin, Baseline",
    )


def test_invalid_network_cidr(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: 3
      subject: {{namespaces: {{}}}}
      egress:
      - name: out
        action: Deny
        to:
        - networks:
          - 10.0.0.0/8
          - 10.0.0.0/33  {MARK}
    """,
    )
    check(
        load_error(path),
        path,
        line,
        "AdminNetworkPolicy p: spec.egress[0].to[0].networks[1]: invalid CIDR '10.0.0.0/33'",
    )


def test_networks_in_an_ingress_rule(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: 3
      subject: {{namespaces: {{}}}}
      ingress:
      - name: in
        action: Deny
        from:
        - networks: [10.0.0.0/8]  {MARK}
    """,
    )
    check(load_error(path), path, line, "spec.ingress[0].from[0].networks: unknown field")


def test_port_range_ending_before_it_starts(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: 3
      subject: {{namespaces: {{}}}}
      ingress:
      - name: in
        action: Deny
        from: [{{namespaces: {{}}}}]
        ports:
        - portRange:
            start: 9000
            end: 8000  {MARK}
    """,
    )
    check(load_error(path), path, line, "portRange: start 9000 must be less than end 8000")


def test_port_number_out_of_range(tmp_path: Path) -> None:
    path, line = write(
        tmp_path,
        ANP_HEAD
        + f"""
      priority: 3
      subject: {{namespaces: {{}}}}
      ingress:
      - name: in
        action: Deny
        from: [{{namespaces: {{}}}}]
        ports:
        - portNumber:
            port: 70000  {MARK}
    """,
    )
    check(load_error(path), path, line, "port 70000 is out of range")


def test_error_line_in_a_json_file(tmp_path: Path) -> None:
    obj = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": "p"},
        "spec": {"priority": 2000, "subject": {"namespaces": {}}},
    }
    text = json.dumps(obj, indent=2)
    path = tmp_path / "anp.json"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"priority"' in t)
    check(load_error(path), path, line, "priority 2000 is out of range")
