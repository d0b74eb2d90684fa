"""Writing NetworkPolicies as YAML (``kubefence.io.policy_yaml``) and keeping a directory of them.

- ``policy_dict`` is the inverse of the manifest parser: any NetworkPolicy value written and read
  back is the same value (a property test), with the keys in the order kubectl shows them.
- ``dump_documents`` writes the header, each object's comments and ``---`` between objects.
- ``is_generated``/``plan_directory``/``apply_changes``: files kubefence did not write are never
  replaced, stale generated files are removed, unchanged files are not touched.
- Every object generated for the bundled example and the corpus apps validates against the
  Kubernetes OpenAPI schema (kubernetes-validate, strict), as written to the files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubefence.analysis.generate.synthesize import GenerateOptions
from kubefence.api import generate_policies, load_cluster, policy_files
from kubefence.changes import FileChange
from kubefence.errors import InputError
from kubefence.io.policy_schema import KUBERNETES_VERSION, validate_policies
from kubefence.io.policy_yaml import (
    HEADER,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    apply_changes,
    dump_documents,
    is_generated,
    plan_directory,
    policy_dict,
    selector_dict,
)
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.policies import NetworkPolicy, PolicyPeer, PolicyRule, PortMatch
from kubefence.model.selectors import LabelSelector, Operator, Requirement

ROOT: Final = Path(__file__).resolve().parents[2]
EXAMPLE: Final = ROOT / "examples" / "shop"
CORPUS: Final = ROOT.parent / "shared" / "corpus" / "discover"
MANAGED: Final = {MANAGED_BY_KEY: MANAGED_BY_VALUE}


def _policy(ingress: tuple[PolicyRule, ...] = (), egress: tuple[PolicyRule, ...] = ()) -> NetworkPolicy:
    return NetworkPolicy("shop", "p", LabelSelector.of({"app": "web"}), ingress, egress, True, True)


# -- objects ---------------------------------------------------------------------------------------


def test_selector_dict() -> None:
    assert selector_dict(LabelSelector()) == {}
    assert selector_dict(LabelSelector.of({"b": "2", "a": "1"})) == {"matchLabels": {"a": "1", "b": "2"}}
    sel = LabelSelector.of(
        {"app": "web"},
        Requirement("tier", Operator.IN, ("fe", "be")),
        Requirement("canary", Operator.DOES_NOT_EXIST),
    )
    assert selector_dict(sel) == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "tier", "operator": "In", "values": ["be", "fe"]},
        ],
    }


def test_policy_dict_layout() -> None:
    web = PolicyPeer(pod_selector=LabelSelector.of({"app": "web"}))
    other_ns = PolicyPeer(
        pod_selector=LabelSelector.of({"app": "db"}),
        namespace_selector=LabelSelector.of({"kubernetes.io/metadata.name": "data"}),
    )
    block = PolicyPeer(
        ip_block=IPRangeSet.from_cidr("10.0.0.0/8", ["10.1.0.0/16"]), ip_text="10.0.0.0/8 except 10.1.0.0/16"
    )
    policy = _policy(
        ingress=(PolicyRule((web, block), (PortMatch("TCP", "http"), PortMatch("UDP", 5000, 5010))),),
        egress=(PolicyRule((other_ns,), (PortMatch("SCTP"),)), PolicyRule()),
    )
    obj = policy_dict(policy, {"team": "shop"})
    assert list(obj) == ["apiVersion", "kind", "metadata", "spec"]
    assert obj["apiVersion"] == "networking.k8s.io/v1" and obj["kind"] == "NetworkPolicy"
    assert obj["metadata"] == {"name": "p", "namespace": "shop", "labels": {**MANAGED, "team": "shop"}}
    assert list(obj["spec"]) == ["podSelector", "policyTypes", "ingress", "egress"]
    assert obj["spec"]["ingress"] == [
        {
            "from": [
                {"podSelector": {"matchLabels": {"app": "web"}}},
                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
            ],
            "ports": [
                {"protocol": "TCP", "port": "http"},
                {"protocol": "UDP", "port": 5000, "endPort": 5010},
            ],
        }
    ]
    assert obj["spec"]["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}},
                    "podSelector": {"matchLabels": {"app": "db"}},
                }
            ],
            "ports": [{"protocol": "SCTP"}],
        },
        {},  # any peer, any port
    ]


def test_policy_dict_deny_and_types() -> None:
    deny = NetworkPolicy("shop", "deny", LabelSelector(), (), (), True, True)
    assert policy_dict(deny)["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress_only = NetworkPolicy("shop", "e", LabelSelector(), (PolicyRule(),), (PolicyRule(),), False, True)
    # rules of a direction the policy does not affect are not written: they would mean nothing
    assert policy_dict(egress_only)["spec"] == {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}


# -- policy_dict inverts the parser ----------------------------------------------------------------

LABEL_KEYS: Final = ("app", "tier", "kubernetes.io/metadata.name", "app.kubernetes.io/name")
LABEL_VALUES: Final = ("web", "db", "shop", "a-b.c_d")
CIDRS: Final = ("10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0", "::/0", "fd00::/8")
EXCEPTS: Final = {"10.0.0.0/8": ("10.1.0.0/16", "10.2.3.0/24"), "fd00::/8": ("fd00:1::/32",)}

requirements = st.one_of(
    st.builds(
        Requirement,
        st.sampled_from(LABEL_KEYS),
        st.sampled_from((Operator.IN, Operator.NOT_IN)),
        st.lists(st.sampled_from(LABEL_VALUES), min_size=1, max_size=3).map(tuple),
    ),
    st.builds(
        Requirement, st.sampled_from(LABEL_KEYS), st.sampled_from((Operator.EXISTS, Operator.DOES_NOT_EXIST))
    ),
)
selectors = st.builds(
    lambda labels, exprs: LabelSelector.of(labels, *exprs),
    st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=2),
    st.lists(requirements, max_size=2),
)


@st.composite
def ip_peers(draw: st.DrawFn) -> PolicyPeer:
    cidr = draw(st.sampled_from(CIDRS))
    excepts = draw(st.lists(st.sampled_from(EXCEPTS.get(cidr, ())), unique=True)) if cidr in EXCEPTS else []
    text = cidr + (f" except {', '.join(excepts)}" if excepts else "")
    return PolicyPeer(ip_block=IPRangeSet.from_cidr(cidr, excepts), ip_text=text)


peers = st.one_of(
    st.builds(PolicyPeer, pod_selector=selectors),
    st.builds(PolicyPeer, namespace_selector=selectors),
    st.builds(PolicyPeer, pod_selector=selectors, namespace_selector=selectors),
    ip_peers(),
)
protocols = st.sampled_from(("TCP", "UDP", "SCTP"))
port_matches = st.one_of(
    st.builds(PortMatch, protocols),
    st.builds(PortMatch, protocols, st.integers(1, 65535)),
    st.builds(
        lambda p, lo, n: PortMatch(p, lo, min(lo + n, 65535)),
        protocols,
        st.integers(1, 65535),
        st.integers(0, 99),
    ),
    st.builds(PortMatch, protocols, st.sampled_from(("http", "metrics", "dns-tcp", "p8080"))),
)
rules = st.builds(
    PolicyRule,
    st.none() | st.lists(peers, min_size=1, max_size=3).map(tuple),
    st.none() | st.lists(port_matches, min_size=1, max_size=3).map(tuple),
)


@st.composite
def policies(draw: st.DrawFn) -> NetworkPolicy:
    affects_ingress, affects_egress = draw(st.sampled_from(((True, False), (False, True), (True, True))))
    return NetworkPolicy(
        namespace=draw(st.sampled_from(("default", "shop"))),
        name=draw(st.sampled_from(("p", "kubefence-web", "kubefence-default-deny"))),
        pod_selector=draw(selectors),
        ingress=tuple(draw(st.lists(rules, max_size=3))) if affects_ingress else (),
        egress=tuple(draw(st.lists(rules, max_size=3))) if affects_egress else (),
        affects_ingress=affects_ingress,
        affects_egress=affects_egress,
    )


@given(policy=policies())
@settings(max_examples=300, deadline=None)
def test_written_policy_reads_back_the_same(policy: NetworkPolicy) -> None:
    text = dump_documents([(policy_dict(policy), ["a comment"])])
    (parsed,) = load_cluster([d for d in yaml.safe_load_all(text) if d]).policies
    assert parsed == policy


# -- documents -------------------------------------------------------------------------------------


def test_dump_documents() -> None:
    deny = policy_dict(NetworkPolicy("shop", "deny", LabelSelector(), (), (), True, True))
    web = policy_dict(_policy(egress=(PolicyRule(ports=(PortMatch("TCP", 443),)),)))
    text = dump_documents([(deny, ["Deny all."]), (web, ["Web:", "", "  egress: TCP 443"])])
    assert text.startswith(HEADER)
    assert text.count("\n---\n") == 1
    assert "# Deny all.\napiVersion:" in text
    assert "---\n# Web:\n#\n#   egress: TCP 443\napiVersion:" in text
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(text)] == ["deny", "p"]
    # lists indented under their key, as kubectl writes them
    assert "  policyTypes:\n    - Ingress\n    - Egress\n" in text
    assert "  egress:\n    - ports:\n        - protocol: TCP\n          port: 443\n" in text


def test_dump_documents_quotes_what_yaml_would_misread() -> None:
    odd = NetworkPolicy("shop", "p", LabelSelector.of({"enabled": "true", "zone": "no", "n": "1"}))
    (back,) = yaml.safe_load_all(dump_documents([(policy_dict(odd), [])]))
    assert back["spec"]["podSelector"]["matchLabels"] == {"enabled": "true", "n": "1", "zone": "no"}


# -- files -----------------------------------------------------------------------------------------

GENERATED: Final = dump_documents(
    [(policy_dict(NetworkPolicy("shop", "deny", LabelSelector(), (), (), True, True)), [])]
)
HAND_WRITTEN: Final = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: mine}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GENERATED, True),
        (GENERATED + "---\n" + GENERATED.removeprefix(HEADER), True),
        (HAND_WRITTEN, False),
        (GENERATED + "---\n" + HAND_WRITTEN, False),  # one hand-written object is enough
        (GENERATED.replace(MANAGED_BY_VALUE, "helm"), False),
        ("", False),
        ("# only a comment\n", False),
        ("- a\n- list\n", False),
        ("key: [unclosed\n", False),
    ],
    ids=["generated", "two", "hand-written", "mixed", "other-manager", "empty", "comment", "list", "broken"],
)
def test_is_generated(text: str, expected: bool) -> None:
    assert is_generated(text) is expected


def test_file_change_diff(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    new = FileChange(path, None, "a\n")
    assert new.changed
    rel = str(path).lstrip("/")  # diff headers: a/<path>, never a//<absolute path>
    assert new.unified_diff() == f"--- /dev/null\n+++ b/{rel}\n@@ -0,0 +1 @@\n+a\n"
    same = FileChange(path, "a\n", "a\n")
    assert not same.changed and same.unified_diff() == ""
    edit = FileChange(path, "a\nb\n", "a\nc\n")
    assert edit.unified_diff() == f"--- a/{rel}\n+++ b/{rel}\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    gone = FileChange(path, "a\n", "")
    assert gone.changed and gone.unified_diff() == f"--- a/{rel}\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"


def test_plan_and_apply(tmp_path: Path) -> None:
    out = tmp_path / "policies"
    changes = plan_directory(out, {"shop.yaml": GENERATED, "data.yaml": GENERATED})
    assert [(c.path.name, c.old, c.changed) for c in changes] == [
        ("data.yaml", None, True),
        ("shop.yaml", None, True),
    ]
    apply_changes(changes)
    assert sorted(p.name for p in out.iterdir()) == ["data.yaml", "shop.yaml"]
    assert (out / "shop.yaml").read_text(encoding="utf-8") == GENERATED

    # unchanged files are not rewritten; a generated file no longer wanted is removed; others stay
    (out / "kustomization.yaml").write_text("resources: [shop.yaml]\n", encoding="utf-8")
    (out / "old.yml").write_text(GENERATED, encoding="utf-8")
    mtime = (out / "shop.yaml").stat().st_mtime_ns
    changes = plan_directory(out, {"shop.yaml": GENERATED})
    assert [(c.path.name, c.changed, c.new) for c in changes if c.changed] == [("data.yaml", True, "")]
    apply_changes(changes)
    assert sorted(p.name for p in out.iterdir()) == ["kustomization.yaml", "old.yml", "shop.yaml"]
    assert (out / "shop.yaml").stat().st_mtime_ns == mtime


def test_plan_refuses_a_hand_written_file(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        plan_directory(tmp_path, {"shop.yaml": GENERATED})
    assert caught.value.origin.file == str(tmp_path / "shop.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'shop.yaml'}: exists and was not generated by kubefence: not overwriting it "
        "(move it away or choose another output directory)"
    )
    assert (tmp_path / "shop.yaml").read_text(encoding="utf-8") == HAND_WRITTEN


def test_apply_leaves_no_temporary_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop.yaml").write_text(GENERATED, encoding="utf-8")
    changes = plan_directory(tmp_path, {"shop.yaml": GENERATED + "# more\n"})

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)  # the rename that makes a written file visible
    with pytest.raises(OSError, match="disk full"):
        apply_changes(changes)
    assert [p.name for p in tmp_path.iterdir()] == ["shop.yaml"]
    assert (tmp_path / "shop.yaml").read_text(encoding="utf-8") == GENERATED


# -- the Kubernetes schema -------------------------------------------------------------------------


def _apps() -> list[Any]:
    apps = [pytest.param(EXAMPLE, id="example-shop")]
    if CORPUS.is_dir():
        apps += [
            pytest.param(p / "input", id=p.name) for p in sorted(CORPUS.iterdir()) if (p / "input").is_dir()
        ]
    return apps


@pytest.mark.parametrize("app", _apps())
@pytest.mark.parametrize("named_ports", [True, False], ids=["named-ports", "numeric-ports"])
def test_generated_objects_validate_against_the_schema(app: Path, named_ports: bool) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    generated = generate_policies([app], options=GenerateOptions(named_ports=named_ports))
    assert generated.policies
    assert validate_policies(g.policy for g in generated.policies) == []
    # the objects as written to the files, too
    written = [d for text in policy_files(generated).values() for d in yaml.safe_load_all(text) if d]
    assert len(written) == len(generated.policies)
    for obj in written:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        assert obj["metadata"]["labels"] == MANAGED


def test_validate_reports_what_the_schema_rejects(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("kubernetes_validate")
    generated = generate_policies([EXAMPLE])

    def broken(policy: NetworkPolicy, labels: dict[str, str] | None = None) -> dict[str, Any]:
        obj = policy_dict(policy, labels)
        obj["spec"]["podSelectr"] = {}
        return obj

    monkeypatch.setattr("kubefence.io.policy_schema.policy_dict", broken)
    problems = validate_policies(g.policy for g in generated.policies)
    assert len(problems) == len(generated.policies)
    assert problems[0].startswith("payments/kubefence-default-deny: ")
    assert "podSelectr" in problems[0]
