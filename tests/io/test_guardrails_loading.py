"""Loading guardrail files: kubefence YAML, np-guard baseline rules (YAML and CSV), and the errors."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from guardrail_folder import RULE, guardrails_folder  # next to this file

from kubefence.api import load_guardrail_rules
from kubefence.errors import Diagnostic, InputError
from kubefence.io.guardrails import load_guardrails, parse_guardrails_text, parse_selector_expression
from kubefence.model.guardrails import GuardAction, GuardPeer, Guardrail, Keyword, internet_addresses
from kubefence.model.ipranges import IPRangeSet
from kubefence.model.ports import ConnectionSet, PortSet

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT.parent / "shared" / "reference" / "baseline-rules"
EXAMPLES = ROOT / "examples" / "guardrails"

needs_baseline = pytest.mark.skipif(not BASELINE.is_dir(), reason="../shared/reference is not present")


def parse(text: str, name: str = "g.yaml", syntax: str | None = None) -> list[Guardrail]:
    return list(parse_guardrails_text(textwrap.dedent(text), name, syntax))


def error(text: str, name: str = "g.yaml") -> str:
    with pytest.raises(InputError) as info:
        parse_guardrails_text(textwrap.dedent(text), name)
    return str(info.value)


# -- np-guard baseline rules ------------------------------------------------------------------------


@needs_baseline
def test_every_np_guard_example_loads() -> None:
    files = sorted(BASELINE.iterdir())
    assert len(files) >= 10
    for f in files:
        rules = load_guardrails([f])
        assert rules, f
        assert all(r.syntax == "np-guard" and r.origin.file == str(f) for r in rules)


@needs_baseline
def test_np_guard_csv_and_yaml_say_the_same() -> None:
    csv_rules = load_guardrails([BASELINE / "ciso_denied_ports.csv"])
    yaml_rules = load_guardrails([BASELINE / "ciso_denied_ports.yaml"])
    assert [(r.name, r.action, r.sources, r.destinations, r.conn) for r in csv_rules] == [
        (r.name, r.action, r.sources, r.destinations, r.conn) for r in yaml_rules
    ]
    assert [r.origin.line for r in csv_rules] == [2, 3, 4, 5]  # the header is line 1
    assert [r.origin.line for r in yaml_rules] == [1, 7, 13, 19]
    ftp = yaml_rules[0]
    assert (ftp.name, ftp.action, str(ftp.conn)) == ("no-ftp", GuardAction.DENY, "TCP 20-21")
    assert ftp.sources.include == (GuardPeer.of_keyword(Keyword.ANY),)  # no from: every source


@needs_baseline
def test_np_guard_fields_map_faithfully() -> None:
    (rule,) = load_guardrails([BASELINE / "restrict_access_to_payment_namespaced.yaml"])
    (src,) = rule.sources.include
    assert str(src.pod_selector) == "stage notin (dev),usesPayments notin (True,true)"
    assert str(src.namespace_selector) == "controller-id,run-level notin (0,1)"
    (dst,) = rule.destinations.include
    assert str(dst.pod_selector) == "app=paymentservice"
    assert str(dst.namespace_selector) == "environment in (admin,prod)"
    assert rule.conn == ConnectionSet.all()  # no protocol, no ports

    (https,) = load_guardrails([BASELINE / "allow_https_egress.yaml"])
    assert https.action is GuardAction.ALLOW
    assert https.conn == ConnectionSet.of("TCP", PortSet.of(443))
    assert https.destinations.include[0].addresses == IPRangeSet.from_cidr("0.0.0.0/0")
    assert https.sources.include[0].namespace_selector is not None
    assert https.sources.include[0].namespace_selector.is_empty  # no from_ns: every namespace

    (from_ip,) = load_guardrails([BASELINE / "allow_access_from_ip_block.yaml"])
    assert from_ip.sources.include[0].addresses == IPRangeSet.from_cidr("172.217.0.0/16")

    (circle,) = load_guardrails([BASELINE / "deny_circle_blue.yaml"])
    assert circle.conn == ConnectionSet.of("TCP")  # a protocol and no ports: all its ports

    (payments,) = load_guardrails([BASELINE / "restrict_access_to_payments.csv"])
    assert payments.conn == ConnectionSet.all()  # protocol * and ports 1-65535


def test_np_guard_defaults_and_port_bounds() -> None:
    rules = parse(
        """
        - from: app=a
          port_min: 1000
          action: allow
        - name: upper
          to: app=b
          protocol: udp
          port_max: 53
          action: allow
        - name: ns-only
          to_ns: team=x
          action: deny
        """,
        name="base.yaml",
    )
    lower, upper, ns_only = rules
    assert lower.name == "base-1" and lower.action is GuardAction.ALLOW
    assert lower.conn == ConnectionSet({p: PortSet.of(1000, 65535) for p in ("TCP", "UDP", "SCTP")})
    assert lower.destinations.include == (GuardPeer.of_keyword(Keyword.ANY),)
    assert upper.conn == ConnectionSet.of("UDP", PortSet.of(1, 53))
    (peer,) = ns_only.destinations.include
    assert str(peer.namespace_selector) == "team=x" and peer.pod_selector is None


# -- kubefence's format -----------------------------------------------------------------------------

FULL = """\
apiVersion: kubefence.io/v1alpha1
kind: Guardrails
rules:
  - name: payments-only-from-checkout
    description: Nothing reaches payments except checkout.
    action: deny
    from: any
    exceptFrom:
      - namespace: shop
        podSelector: app=checkout
    to:
      namespace: [payments, payments-dr]
  - name: egress
    action: deny
    from: cluster
    exceptFrom: {namespaceSelector: {matchLabels: {exposure: public}}}
    to: internet
    exceptTo: 203.0.113.0/24
  - name: dns
    action: allow
    from:
      - podSelector: {matchExpressions: [{key: app, operator: Exists}]}
    to:
      - namespace: kube-system
        podSelector: k8s-app=kube-dns
      - cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
    ports:
      - UDP 53
      - {protocol: TCP, port: 53}
      - TCP 8000-8100
      - {protocol: sctp, port: 9000, endPort: 9001}
      - UDP
"""


def test_kubefence_format_reads_every_form() -> None:
    a, b, c = parse_guardrails_text(FULL, "g.yaml")
    assert (a.name, a.action, a.origin.line, a.syntax) == (
        "payments-only-from-checkout",
        GuardAction.DENY,
        4,
        "kubefence",
    )
    assert a.description == "Nothing reaches payments except checkout."
    assert str(a.sources) == "any except pods app=checkout in namespaces kubernetes.io/metadata.name=shop"
    assert str(a.destinations) == "namespaces kubernetes.io/metadata.name in (payments,payments-dr)"
    assert a.conn.is_all()
    assert b.sources.matches_workload({"exposure": "private"}, {}) is True
    assert b.sources.matches_workload({"exposure": "public"}, {}) is False
    assert b.destinations.external(IPRangeSet.ipv4()) == internet_addresses(IPRangeSet.ipv4()) - (
        IPRangeSet.from_cidr("203.0.113.0/24")
    )
    assert str(c.conn) == "SCTP 9000-9001,TCP 53,8000-8100,UDP 1-65535"
    dns, net = c.destinations.include
    assert dns.matches_workload({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"})
    assert net.addresses == IPRangeSet.from_cidr("10.0.0.0/8", ["10.1.0.0/16"])
    assert c.sources.matches_workload({}, {"app": "x"}) and not c.sources.matches_workload({}, {})


def test_internet_is_public_addresses() -> None:
    public = internet_addresses()
    assert IPRangeSet.from_cidr("8.8.8.8/32") <= public
    assert IPRangeSet.from_cidr("2001:db8::/32") <= public
    for private in ("10.1.2.3/32", "172.20.0.0/16", "192.168.1.0/24", "100.64.0.1/32", "fd00::/8"):
        assert IPRangeSet.from_cidr(private).isdisjoint(public), private


def test_the_bundled_examples_load() -> None:
    rules = load_guardrails([EXAMPLES])
    names = [r.name for r in rules]
    assert "storefront-never-reaches-data" in names and "no-ssh-into-pci-scope" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "text",
    ["# nothing yet\n", "apiVersion: kubefence.io/v1alpha1\nkind: Guardrails\nrules: []\n", "[]\n"],
)
def test_a_file_without_rules_is_an_error(text: str) -> None:
    with pytest.raises(InputError, match="no guardrail rules in this file"):
        parse(text)


def test_a_csv_header_alone_is_an_error() -> None:
    with pytest.raises(InputError, match=r"rules\.csv:1: no guardrail rules in this file"):
        parse_guardrails_text("name,from,to,action\n", "rules.csv", "np-guard-csv")


def test_a_folder_without_rule_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("rules go here\n", encoding="utf-8")
    with pytest.raises(InputError, match="no guardrail files"):
        load_guardrails([tmp_path])


def test_an_np_guard_rule_without_action_is_an_error() -> None:
    with pytest.raises(InputError, match="guardrail 'open': missing 'action'"):
        parse("- name: open\n  from: app=a\n  to: app=b\n")


# -- selector expressions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app=web", "app=web"),
        ("app==web", "app=web"),
        ("app = web , tier!=db", "app=web,tier notin (db)"),
        ("env in (prod, qa)", "env in (prod,qa)"),
        ("env notin (a,b), partition, !legacy", "env notin (a,b),!legacy,partition"),
        ("example.com/team=x", "example.com/team=x"),
        ("app=", "app="),
        ("", "{}"),
    ],
)
def test_selector_expressions(text: str, expected: str) -> None:
    assert str(parse_selector_expression(text)) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("=web", "the label key is missing"),
        ("app in ()", "the value list is empty"),
        ("app in (a", "'(' without ')'"),
        ("app)", "')' without '('"),
        ("app=web,,tier=db", "empty requirement"),
        ("app in a,b", "'app in a' is not a valid label key"),
        ("bad key=x", "is not a valid label key"),
        ("app=we b", "is not a valid label value"),
        ("Upper_Case.com/x=y", "is not a valid label key"),
    ],
)
def test_bad_selector_expressions(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_selector_expression(text)
    assert problem in str(info.value)


# -- errors: file and line -----------------------------------------------------------------------------


def test_unknown_field_points_at_its_line_and_suggests() -> None:
    msg = error(
        """\
        rules:
          - name: r
            action: deny
            from: any
            to: any
            port: [TCP 80]
        """
    )
    assert msg == "g.yaml:6: guardrail 'r': unknown field 'port' in a rule (did you mean 'ports'?)"


def test_bad_selector_syntax_points_at_its_line() -> None:
    msg = error(
        """\
        rules:
          - name: r
            action: deny
            from:
              podSelector: app in (a
            to: any
        """
    )
    assert msg.startswith("g.yaml:5: guardrail 'r': bad podSelector 'app in (a': '(' without ')'")


def test_np_guard_port_min_above_port_max() -> None:
    msg = error(
        """\
        - name: ok
          action: deny
        - name: backwards
          protocol: TCP
          port_min: 30
          port_max: 21
          action: deny
        """
    )
    assert msg == (
        "g.yaml:5: guardrail 'backwards': port_min 30 is greater than port_max 21 "
        "(port_min must be <= port_max)"
    )


def test_np_guard_csv_errors_carry_the_row_line() -> None:
    text = "name,from,to,protocol,port_min,port_max,action\nok,*,*,TCP,1,2,deny\nbad,*,*,TCP,9,3,deny\n"
    with pytest.raises(InputError) as info:
        parse_guardrails_text(text, "rules.csv", "np-guard-csv")
    assert str(info.value).startswith("rules.csv:3: guardrail 'bad': port_min 9 is greater than port_max 3")
    with pytest.raises(InputError) as info:
        parse_guardrails_text("name,form,action\nx,a=b,deny\n", "rules.csv", "np-guard-csv")
    assert "rules.csv:1: unknown field 'form' in the CSV header (did you mean 'from'?)" in str(info.value)
    with pytest.raises(InputError) as info:
        parse_guardrails_text("name,from,action\nx,a=b\n", "rules.csv", "np-guard-csv")
    assert str(info.value) == "rules.csv:2: 2 columns where the header has 3"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "action: block\n    from: any\n    to: any",
            "g.yaml:3: guardrail 'r': unknown action 'block' (use deny or allow)",
        ),
        ("action: deny\n    to: any", "g.yaml:2: guardrail 'r': missing 'from'"),
        (
            "action: deny\n    from: everything\n    to: any",
            "g.yaml:4: guardrail 'r': unknown peer 'everything' in from",
        ),
        (
            "action: deny\n    from: any\n    to: {cidr: 10.0.0.0/33}",
            "g.yaml:5: guardrail 'r': invalid CIDR '10.0.0.0/33'",
        ),
        (
            "action: deny\n    from: any\n    to: any\n    ports: [{protocol: TCP, port: 90, endPort: 80}]",
            "g.yaml:6: guardrail 'r': endPort 80 is less than port 90",
        ),
        (
            "action: deny\n    from: any\n    to: any\n    ports: [TCP 70000]",
            "g.yaml:6: guardrail 'r': port 70000 is out of range",
        ),
        (
            "action: deny\n    from: any\n    to: any\n    ports: [ICMP]",
            "g.yaml:6: guardrail 'r': unknown protocol 'ICMP'",
        ),
        (
            "action: deny\n    from: any\n    to: any\n    ports: []",
            "g.yaml:6: guardrail 'r': ports is an empty list",
        ),
        (
            "action: deny\n    from: {namespace: a, namespaceSelector: b=c}\n    to: any",
            "g.yaml:4: guardrail 'r': from: give namespace or namespaceSelector, not both",
        ),
        (
            "action: deny\n    from: {cidr: 10.0.0.0/8, podSelector: a=b}\n    to: any",
            "g.yaml:4: guardrail 'r': from: cidr cannot be combined with podSelector",
        ),
    ],
)
def test_rule_errors(body: str, expected: str) -> None:
    assert error(f"rules:\n  - name: r\n    {body}\n").startswith(expected)


def test_duplicate_names_and_keys(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text("rules:\n  - {name: x, action: deny, from: any, to: any}\n", encoding="utf-8")
    b = tmp_path / "b.yaml"
    b.write_text("- name: ok\n  action: allow\n- name: x\n  action: deny\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_guardrails([a, b])
    assert (
        str(info.value)
        == f"{b}:3: duplicate guardrail name 'x' (first defined at {a}:2) (give every rule its own name)"
    )
    assert error("rules:\n  - name: r\n    name: s\n").startswith(
        "g.yaml:3: duplicate key 'name' (first at line 2)"
    )


def test_structure_errors() -> None:
    assert error("rules: {}\n") == "g.yaml:1: 'rules' must be a list"
    assert error("kind: Policy\nrules: []\n").startswith("g.yaml:1: unknown kind 'Policy' (use Guardrails)")
    assert error("rules:\n  - name: Bad_Name\n").startswith(
        "g.yaml:2: guardrail 'Bad_Name': the name must be"
    )
    assert error("rules: [\n").startswith("g.yaml:2: malformed YAML")
    assert error("42\n").startswith("g.yaml:1: a guardrails file holds a mapping")
    assert error("- name: r\n  from: 10.0.0.0/8\n  from_ns: a=b\n  action: deny\n").startswith(
        "g.yaml:3: guardrail 'r': from_ns selects pods, but from is the CIDR '10.0.0.0/8'"
    )


def test_missing_path() -> None:
    with pytest.raises(InputError, match=r"no such file or directory: nope\.yaml"):
        load_guardrails(["nope.yaml"])


def test_stdin_and_directories(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "r.csv").write_text("\ufeffname,action\nx,deny\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    (rule,) = load_guardrails([tmp_path])
    assert rule.name == "x" and rule.origin.line == 2
    (from_stdin,) = load_guardrails(["-"], stdin_text="- name: y\n  action: deny\n")
    assert from_stdin.origin.file == "<stdin>"


# -- the JSON Schema for editors ---------------------------------------------------------------------


def test_json_schema_accepts_what_the_loader_reads() -> None:
    import json

    import jsonschema
    import yaml

    schema = json.loads((ROOT / "schemas" / "guardrails.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for text in (FULL, (EXAMPLES / "shop-guardrails.yaml").read_text(encoding="utf-8")):
        assert not [e.message for e in validator.iter_errors(yaml.safe_load(text))]
    for bad in (
        "rules:\n  - {name: r, action: deny, from: any, to: any, port: [TCP]}\n",
        "rules:\n  - {name: r, action: block, from: any, to: any}\n",
        "rules:\n  - {name: r, action: deny, from: {namespace: a, namespaceSelector: b=c}, to: any}\n",
        "rules:\n  - {name: r, action: deny, from: any, to: any, ports: [{protocol: TCP, endPort: 3}]}\n",
    ):
        assert list(validator.iter_errors(yaml.safe_load(bad))), bad
        with pytest.raises(InputError):
            parse_guardrails_text(bad, "g.yaml")


# -- directories: what the walk skips is a warning, as for manifests -----------------------------------


def test_folder_walk_warnings_are_returned(tmp_path: Path) -> None:
    folder, expected = guardrails_folder(tmp_path)
    found: list[Diagnostic] = []
    rules = load_guardrails([folder], warnings=found)
    assert [r.name for r in rules] == ["no-ssh", "no-db"]
    assert [str(w) for w in found] == expected  # README, .txt, hidden non-rule files: nothing to say
    assert load_guardrails([folder]) == rules  # without a list, the same rules
    through_api: list[Diagnostic] = []
    assert load_guardrail_rules([folder], warnings=through_api) == rules
    assert through_api == found


def test_hidden_rule_files_are_read_like_hidden_manifests(tmp_path: Path) -> None:
    (tmp_path / ".team.yaml").write_text(RULE, encoding="utf-8")
    found: list[Diagnostic] = []
    assert [r.name for r in load_guardrails([tmp_path], warnings=found)] == ["no-ssh"]
    assert found == []


def test_every_folder_needs_rule_files(tmp_path: Path) -> None:
    """One empty folder among good files must not pass: it is a check that checks nothing."""
    (tmp_path / "rules.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("todo\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"no guardrail files \(.yaml, .yml, .json, .csv\) in {tmp_path}/empty \(point"
    ):
        load_guardrails([tmp_path / "rules.yaml", tmp_path / "empty"])


def test_a_broken_symlink_alone_is_no_rule_file(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").symlink_to("missing.yaml")
    with pytest.raises(InputError, match="no guardrail files"):
        load_guardrails([tmp_path])


def test_a_folder_given_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / "link").symlink_to(".")
    found: list[Diagnostic] = []
    (rule,) = load_guardrails([tmp_path, tmp_path / "link"], warnings=found)
    assert rule.name == "no-ssh"
    assert [str(w) for w in found] == [
        f"warning: {tmp_path}/link: a symlink loop (it leads back to a folder above): not followed",
        f"warning: {tmp_path}/link: already read through another path: skipped",
    ]


def test_a_folder_that_cannot_be_listed_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rules.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "more.yaml").write_text(RULE.replace("no-ssh", "other"), encoding="utf-8")
    listdir = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self.name == "locked":  # tests run as root: chmod cannot lock a folder
            raise PermissionError(13, "Permission denied")
        return listdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    found: list[Diagnostic] = []
    (rule,) = load_guardrails([tmp_path], warnings=found)
    assert rule.name == "no-ssh"
    assert [str(w) for w in found] == [
        f"warning: {tmp_path}/locked: cannot list folder: Permission denied: skipped"
    ]
