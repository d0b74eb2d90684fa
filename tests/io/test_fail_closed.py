"""Invalid input is an error, never a wider map: one test per class of invalid input.

Each class is rejected with one line naming the file, line and field, or — where the API server
accepts the input — read as the server would.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from marked_input import MARK, check, load_error, write_marked

from kubefence import InputError, load_cluster
from kubefence.cli import main

NP_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  namespace: shop
"""
ANP_HEAD = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: p
spec:
  priority: 3
  subject: {namespaces: {}}
"""


def bad(tmp_path: Path, text: str, name: str = "bad.yaml") -> tuple[Path, int]:
    path = tmp_path / name
    return path, write_marked(path, textwrap.dedent(text).lstrip("\n"))


# -- misspelled or unknown fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "hint"),
    [
        ("  ingress:\n  - form:  {MARK}\n    - podSelector: {{}}\n", "spec.ingress[0].form", "'from'"),
        ("  egress:\n  - port:  {MARK}\n    - port: 80\n", "spec.egress[0].port", "'ports'"),
        ("  podselector: {{}}  {MARK}\n", "spec.podselector", "'podSelector'"),
        (
            "  ingress:\n  - from:\n    - ipBlock: {{cidr: 10.0.0.0/8, exept: [10.1.0.0/16]}}  {MARK}\n",
            "spec.ingress[0].from[0].ipBlock.exept",
            "'except'",
        ),
    ],
)
def test_unknown_network_policy_fields(tmp_path: Path, body: str, field: str, hint: str) -> None:
    path, line = bad(tmp_path, NP_HEAD + "spec:\n" + body.format(MARK=MARK))
    check(load_error(path), path, line, f"NetworkPolicy shop/np: {field}: unknown field", hint)


def test_unknown_top_level_field(tmp_path: Path) -> None:
    path, line = bad(tmp_path, NP_HEAD + f"specs: {{}}  {MARK}\n")
    check(load_error(path), path, line, "specs: unknown field", "'spec'")


def test_admin_rule_without_its_peers(tmp_path: Path) -> None:
    path, _ = bad(tmp_path, ANP_HEAD + "  egress:\n  - name: x\n    action: Deny\n")
    assert "spec.egress[0]: missing required field 'to'" in str(load_error(path))


def test_admin_networks_empty_list(tmp_path: Path) -> None:
    path, line = bad(
        tmp_path,
        ANP_HEAD + f"  egress:\n  - name: x\n    action: Allow\n    to:\n    - networks: []  {MARK}\n",
    )
    check(load_error(path), path, line, "spec.egress[0].to[0].networks: needs at least 1 item(s)")


# -- names, namespaces, labels ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "namespace", ["Shop", "shop ns", "shop.ns", "[shop]", "42", "true", '"a\\nb"', "../../x", "'-shop'"]
)
def test_invalid_namespace(tmp_path: Path, namespace: str) -> None:
    text = NP_HEAD.replace("namespace: shop", f"namespace: {namespace}  {MARK}") + "spec: {podSelector: {}}\n"
    path, line = bad(tmp_path, text)
    err = load_error(path)
    check(err, path, line, "metadata.namespace")


@pytest.mark.parametrize("name", ["[np]", "42", "false", '"a\\nb"', "' np'"])
def test_invalid_policy_name(tmp_path: Path, name: str) -> None:
    path, line = bad(tmp_path, NP_HEAD.replace("name: np", f"name: {name}  {MARK}") + "spec: {}\n")
    check(load_error(path), path, line, "metadata.name")


def test_a_policy_name_the_api_would_refuse_is_a_warning(tmp_path: Path) -> None:
    """A name changes nothing a policy allows, and netpol-analyzer's cases use such names."""
    path, _ = bad(tmp_path, NP_HEAD.replace("name: np", "name: My_Policy") + "spec: {}\n")
    (warning,) = load_cluster([path]).warnings
    assert "metadata.name must be lower case" in warning.message


@pytest.mark.parametrize("name", ["Shop", "shop_x", "a.b"])
def test_invalid_namespace_object_name(tmp_path: Path, name: str) -> None:
    path, line = bad(tmp_path, f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}  {MARK}\n")
    check(load_error(path), path, line, "Namespace", "metadata.name")


@pytest.mark.parametrize(
    ("labels", "phrase"),
    [
        ("{app: true}", "labels.app: must be string, got a boolean"),
        ("{app: 3}", "labels.app: must be string, got a number"),
        ("{app: [a]}", "labels.app: must be string, got a list"),
        ("{'app x': a}", "invalid label key"),
        ("{app: 'a b'}", "invalid label value"),
        ("{app: ' a'}", "invalid label value"),
        ('{app: "a\\nb"}', "invalid label value"),
        ("{'Example.com/app': a}", "invalid label key"),
    ],
)
def test_invalid_labels(tmp_path: Path, labels: str, phrase: str) -> None:
    text = f"""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web, namespace: shop}}
    spec:
      template:
        metadata:
          labels: {labels}  {MARK}
        spec: {{containers: [{{name: c, image: i}}]}}
    """
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, "Deployment shop/web", phrase)


def test_odd_label_values_and_stray_metadata_on_objects_are_warnings(tmp_path: Path) -> None:
    """netpol-analyzer's cases have such objects; what they allow does not change."""
    text = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop, app: web}
    spec:
      template:
        metadata:
          labels: {app: web, net: ns-a/udn-a}
        spec: {containers: [{name: c, image: i}]}
    """
    path, _ = bad(tmp_path, text)
    cluster = load_cluster([path])
    assert cluster.workloads[0].label_map == {"app": "web", "net": "ns-a/udn-a"}
    messages = sorted(w.message for w in cluster.warnings)
    assert any("metadata.app: unknown field, ignored" in m for m in messages)
    assert any("labels.net: a label value is empty or" in m for m in messages)


def test_a_misspelled_metadata_field_is_an_error(tmp_path: Path) -> None:
    text = f"""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: web, namespace: shop}}
    spec:
      template:
        metadata:
          lables: {{app: web}}  {MARK}
        spec: {{containers: [{{name: c, image: i}}]}}
    """
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, "spec.template.metadata.lables: unknown field", "'labels'")


def test_invalid_selector_value(tmp_path: Path) -> None:
    text = NP_HEAD + f"spec:\n  podSelector:\n    matchLabels: {{app: 'web server'}}  {MARK}\n"
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, "spec.podSelector.matchLabels.app: invalid label value")


# -- duplicate keys -----------------------------------------------------------------------------------


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = NP_HEAD + f"spec:\n  podSelector: {{}}\n  podSelector:  {MARK}\n    matchLabels: {{app: x}}\n"
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, "malformed YAML: duplicate key 'podSelector' (first at line 7)")


def test_duplicate_yaml_key_beside_a_merge_key(tmp_path: Path) -> None:
    text = f"""\
    base: &base {{app: x}}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {{name: c}}
    data:
      <<: {{k: v}}
      a: "1"
      a: "2"  {MARK}
    """
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, "duplicate key 'a'")


def test_duplicate_json_key(tmp_path: Path) -> None:
    path = tmp_path / "np.json"
    path.write_text(
        '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",\n'
        ' "metadata": {"name": "np"},\n "spec": {"podSelector": {},\n "podSelector": {"matchLabels": {}}}}\n',
        encoding="utf-8",
    )
    check(load_error(path), path, 4, "duplicate key podSelector")


# -- admin peers and the CRDs' rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "phrase"),
    [
        ("{namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}", "give exactly one of"),
        ("{}", "give at least 1 of"),
        ("{networks: [10.0.0.1]}", "invalid CIDR '10.0.0.1'"),
        ("{networks: [' 10.0.0.0/8']}", "invalid CIDR ' 10.0.0.0/8'"),
    ],
)
def test_admin_peers_breaking_crd_rules(tmp_path: Path, peer: str, phrase: str) -> None:
    path, line = bad(
        tmp_path, ANP_HEAD + f"  egress:\n  - name: x\n    action: Allow\n    to:\n    - {peer}  {MARK}\n"
    )
    err = load_error(path)
    # a list item's error points at the list's key when the item's own line is not found
    check(err, path, line if "CIDR" in phrase else line - 1, "spec.egress[0].to[0]", phrase)


@pytest.mark.parametrize("action", ["allow", "1", "true", "[Allow]"])
def test_admin_action_of_the_wrong_value_or_type(tmp_path: Path, action: str) -> None:
    text = (
        ANP_HEAD + f"  egress:\n  - name: x\n    action: {action}  {MARK}\n    to: [{{namespaces: {{}}}}]\n"
    )
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, "AdminNetworkPolicy p: spec.egress[0].action: ")


def test_missing_pod_selector_in_a_pods_peer_warns_and_reads_as_empty(tmp_path: Path) -> None:
    path, _ = bad(
        tmp_path,
        ANP_HEAD + "  egress:\n  - name: x\n    action: Deny\n    to:\n    - pods: {namespaceSelector: {}}\n",
    )
    cluster = load_cluster([path])
    assert any("has no podSelector: read as empty" in w.message for w in cluster.warnings)
    (rule,) = cluster.admin_policies[0].egress
    assert rule.peers[0].pods is not None and rule.peers[0].pods.pod_selector is not None


# -- kinds and apiVersions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "api", "phrase"),
    [
        ("Networkpolicy", "networking.k8s.io/v1", "unknown kind 'Networkpolicy'"),
        ("' NetworkPolicy'", "networking.k8s.io/v1", "unknown kind ' NetworkPolicy'"),
        ("NetworkPolicies", "networking.k8s.io/v1", "did you mean 'NetworkPolicy'"),
        ("AdminNetworkPolcy", "policy.networking.k8s.io/v1alpha1", "did you mean 'AdminNetworkPolicy'"),
        ("namespace", "v1", "did you mean 'Namespace'"),
        ("NetworkPolicy", "networking.k8s.io/v9", "'networking.k8s.io/v9' is not the apiVersion"),
        (
            "AdminNetworkPolicy",
            "policy.networking.k8s.io/v1alpha2",
            "use apiVersion: policy.networking.k8s.io/v1alpha1",
        ),
        ("NetworkPolicyList", "networking.k8s.io/v1", "NetworkPolicyList without an items list"),
    ],
)
def test_misspelled_kinds_and_api_versions_are_errors(
    tmp_path: Path, kind: str, api: str, phrase: str
) -> None:
    path, _ = bad(
        tmp_path, f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x, namespace: shop}}\nspec: {{}}\n"
    )
    err = load_error(path)
    assert phrase in str(err) and str(err).startswith(f"{path}:")


def test_a_policy_without_kind_is_an_error(tmp_path: Path) -> None:
    path, _ = bad(tmp_path, "apiVersion: networking.k8s.io/v1\nmetadata: {name: np}\nspec: {}\n")
    assert "without a kind" in str(load_error(path))


def test_other_groups_policy_kinds_are_not_mistaken_for_ours(tmp_path: Path) -> None:
    path, _ = bad(tmp_path, "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n")
    assert load_cluster([path]).policies == ()  # Role is not a misspelled Route: another group
    path, _ = bad(
        tmp_path, "apiVersion: k8s.cni.cncf.io/v1beta1\nkind: MultiNetworkPolicy\nmetadata: {name: m}\n"
    )
    with pytest.raises(InputError) as info:  # read by its own reader, which needs its annotation
        load_cluster([path])
    assert "unknown kind" not in str(info.value)


def test_misspelled_kinds_of_the_core_group_are_errors(tmp_path: Path) -> None:
    path, _ = bad(tmp_path, "apiVersion: v1\nkind: Namespce\nmetadata: {name: n, labels: {env: prod}}\n")
    assert "unknown kind 'Namespce' (did you mean 'Namespace'?" in str(load_error(path))
    path, _ = bad(tmp_path, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n")
    load_cluster([path])  # a real kind of the group, not a misspelling


def test_other_documents_with_bad_metadata_get_one_warning(tmp_path: Path) -> None:
    path, _ = bad(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: Bad_NS}\n")
    warnings = [w for w in load_cluster([path]).warnings if "metadata.namespace" in w.message]
    assert len(warnings) == 1


# -- lenient scalars ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "phrase"),
    [
        ('"80"', "'80' is not a port number or name"),
        ('"٨٠"', "is not a port number or name"),
        ('" 80"', "is not a port number or name"),
        ("80.5", "must be string or integer, got a number"),
    ],
)
def test_lenient_port_scalars(tmp_path: Path, port: str, phrase: str) -> None:
    text = NP_HEAD + f"spec:\n  podSelector: {{}}\n  ingress:\n  - ports:\n    - port: {port}  {MARK}\n"
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, phrase)


@pytest.mark.parametrize("cidr", ["10.0.0.1", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/ 8", "10.0.0.0/٨"])
def test_lenient_cidrs(tmp_path: Path, cidr: str) -> None:
    text = (
        NP_HEAD
        + f"spec:\n  podSelector: {{}}\n  egress:\n  - to:\n    - ipBlock: {{cidr: '{cidr}'}}  {MARK}\n"
    )
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, f"invalid CIDR {cidr!r}")


@pytest.mark.parametrize("protocol", [" TCP", "tcp", "TCP "])
def test_lenient_protocols(tmp_path: Path, protocol: str) -> None:
    text = (
        NP_HEAD + f"spec:\n  podSelector: {{}}\n  egress:\n  - ports:\n    - protocol: '{protocol}'  {MARK}\n"
    )
    path, line = bad(tmp_path, text)
    check(load_error(path), path, line, f"unknown protocol {protocol!r}")


def test_except_equal_to_its_cidr_is_an_error(tmp_path: Path) -> None:
    text = NP_HEAD + "spec:\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}\n"
    path, _ = bad(tmp_path, text)
    assert "strict subset" in str(load_error(path))


# -- duplicate objects --------------------------------------------------------------------------------


def test_duplicate_objects_keep_the_last_and_warn(tmp_path: Path) -> None:
    first = NP_HEAD + "spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n"
    second = NP_HEAD + "spec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"
    (tmp_path / "a.yaml").write_text(first, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(second, encoding="utf-8")
    cluster = load_cluster([tmp_path])
    (policy,) = cluster.policies
    assert policy.pod_selector.match_labels == (("app", "web"),)
    (warning,) = [w for w in cluster.warnings if "defined again" in w.message]
    assert warning.origin.file == str(tmp_path / "b.yaml")
    assert f"first at {tmp_path / 'a.yaml'}:1" in warning.message


def test_a_replaced_duplicate_must_still_be_valid(tmp_path: Path) -> None:
    first = NP_HEAD + "spec:\n  podSelector: {}\n  policyTypes: [Ingres]\n"
    second = NP_HEAD + "spec:\n  podSelector: {}\n"
    path = tmp_path / "np.yaml"
    path.write_text(first + "---\n" + second, encoding="utf-8")
    assert "unknown policyType 'Ingres'" in str(load_error(path))


def test_same_name_in_two_namespaces_is_not_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "np.yaml"
    other = NP_HEAD.replace("namespace: shop", "namespace: data")
    path.write_text(NP_HEAD + "spec: {}\n---\n" + other + "spec: {}\n", encoding="utf-8")
    assert len(load_cluster([path]).policies) == 2


# -- no internal errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: .inf}]}\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, nodePort: [1]}]}\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
        "spec: {template: {spec: {containers: 3}}}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, ownerReferences: [{name: 3}]}\n",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{http: 5}]}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: 5}\n",
    ],
)
def test_malformed_values_are_input_errors(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["map", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kubefence: error: {path}:") and "internal error" not in err
    assert err.count("\n") == 1


def test_a_lone_surrogate_does_not_crash_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cm.json"
    path.write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c\\udc80"}}')
    assert main(["map", str(path), "-q"]) == 0


# -- bounded resources --------------------------------------------------------------------------------


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n" + "".join(
        f"    {line}\n" for line in lines
    )
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(text) < 600
    with pytest.raises(InputError, match="excessive aliasing"):
        load_cluster([path])


def test_modest_aliases_are_fine(tmp_path: Path) -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n, labels: &l {app: d}}\n"
        "spec: {template: {metadata: {labels: *l}, spec: {containers: [{name: c, image: i}]}}}\n"
    )
    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_cluster([path]).workloads[0].label_map == {"app": "d"}


def test_recursive_alias_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: c, x: [*m]}\n", encoding="utf-8")
    with pytest.raises(InputError, match="refers to the node that holds it"):
        load_cluster([path])


def test_deep_yaml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: " + "[" * 200 + "]" * 200 + "\n"
    )
    with pytest.raises(InputError, match="nested deeper than 100 levels"):
        load_cluster([path])


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deep_json_is_rejected(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"kind": "ConfigMap", "x": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    with pytest.raises(InputError, match="JSON nested deeper than 100 levels"):
        load_cluster([path])


def _deployment(name: str) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: n}}\n"
        "spec: {template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c, image: i}]}}}\n"
    )


def test_symlink_loops_stop_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "d.yaml").write_text(_deployment("d"), encoding="utf-8")
    (tmp_path / "app" / "up").symlink_to("..")
    (tmp_path / "app" / "again").symlink_to(".")
    cluster = load_cluster([tmp_path])
    assert [w.name for w in cluster.workloads] == ["d"]
    loops = [w for w in cluster.warnings if "symlink loop" in w.message]
    assert len(loops) == 2


def test_a_broken_symlink_to_a_manifest_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(_deployment("d"), encoding="utf-8")
    (tmp_path / "gone.yaml").symlink_to("missing.yaml")
    (tmp_path / "gone.txt").symlink_to("missing.txt")  # not a manifest name: nothing to say
    cluster = load_cluster([tmp_path])
    assert [w.name for w in cluster.workloads] == ["d"]
    assert [str(w) for w in cluster.warnings] == [f"warning: {tmp_path}/gone.yaml: a broken symlink: skipped"]


def test_each_real_file_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "d.yaml").write_text(_deployment("d"), encoding="utf-8")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "link.yaml").symlink_to("a/d.yaml")
    cluster = load_cluster([tmp_path])
    assert len(cluster.workloads) == 1
    assert not [w for w in cluster.warnings if "defined again" in w.message]
    assert any("already read" in w.message for w in cluster.warnings)


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(_deployment("d"), encoding="utf-8")
    cluster = load_cluster([path, path])
    assert len(cluster.workloads) == 1
    assert not [w for w in cluster.warnings if "defined again" in w.message]
