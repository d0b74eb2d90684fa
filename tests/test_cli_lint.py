"""`kubefence lint` through main(argv): formats, SARIF validity, selection, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from kubefence.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHOP = str(ROOT / "examples" / "shop")
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())

OPEN_APP = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: a}
spec:
  podSelector: {matchLabels: {app: wbe}}
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(OPEN_APP)
    return path


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "lint.sarif"
    assert main(["lint", SHOP, "-o", "sarif", "-f", str(out), "-q"]) == 1
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert run["results"], "the shop example has findings"
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("file://")
        assert location["region"]["startLine"] >= 1


def test_sarif_uris_are_relative_when_paths_are(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(app.parent)
    assert main(["lint", "app.yaml", "-o", "sarif", "-f", "out.sarif", "-q"]) == 1
    log = json.loads((app.parent / "out.sarif").read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
    }
    assert uris == {"app.yaml"}


def test_text_groups_by_severity(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "lint.txt"
    assert main(["lint", str(app), "-f", str(out), "-q"]) == 1
    text = out.read_text()
    assert text.index("Warnings (") < text.index("Notes (")
    assert f"{app}:10: [policy-selects-nothing] NetworkPolicy a/typo" in text
    assert text.splitlines()[-1] == "4 finding(s): 3 warnings, 1 note"


def test_json_and_md(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "lint.json"
    main(["lint", str(app), "-o", "json", "-f", str(out), "-q"])
    data = json.loads(out.read_text())
    typo = next(f for f in data["findings"] if f["check"] == "policy-selects-nothing")
    assert typo["rule"]["name"] == "typo" and typo["line"] == 10
    md = tmp_path / "lint.md"
    main(["lint", str(app), "-o", "md", "-f", str(md), "-q"])
    assert "| `policy-selects-nothing` |" in md.read_text()


def test_fail_on_severity(app: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "o.txt")
    assert main(["lint", str(app), "-f", out, "-q"]) == 1  # warnings fail by default
    assert main(["lint", str(app), "-f", out, "-q", "--fail-on-severity", "error"]) == 0
    only_notes = ["--enable", "unprotected-egress"]
    assert main(["lint", str(app), "-f", out, "-q", *only_notes]) == 0
    assert main(["lint", str(app), "-f", out, "-q", *only_notes, "--fail-on-severity", "note"]) == 1


def test_enable_disable_and_config(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    config = tmp_path / "lint.yaml"
    config.write_text("disable: [unprotected-egress]\nseverity:\n  policy-selects-nothing: error\n")
    assert main(["lint", str(app), "--config", str(config), "-o", "json", "-f", str(out), "-q"]) == 1
    findings = json.loads(out.read_text())["findings"]
    assert "unprotected-egress" not in {f["check"] for f in findings}
    assert next(f for f in findings if f["check"] == "policy-selects-nothing")["severity"] == "error"
    assert main(["lint", str(app), "--disable", "policy-selects-nothing", "--disable", "redundant-policy",
                 "--enable", "policy-selects-nothing", "--enable", "redundant-policy",
                 "-o", "json", "-f", str(out), "-q"]) == 0  # fmt: skip
    assert json.loads(out.read_text())["findings"] == []


def test_bad_config_is_one_line_at_its_line(
    app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lint.yaml"
    config.write_text("enable:\n  - unprotected-ingress\n  - no-such-check\n")
    assert main(["lint", str(app), "--config", str(config), "-f", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{config}:3: unknown check 'no-such-check'" in err
    assert not (tmp_path / "o").exists()
    assert main(["lint", str(app), "--enable", "nope", "-f", str(tmp_path / "o")]) == 2


def test_list_checks_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--list-checks"]) == 0
    listing = capsys.readouterr().out
    assert "redundant-rule" in listing and "sensitive-port-exposed" in listing
    assert main(["lint"]) == 2
    assert main(["map", SHOP, "-o", "sarif"]) == 2  # sarif is for lint only


def test_config_values_are_checked(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o")
    cases = {
        "severity:\n  redundant-rule: fatal\n": ":2: severity of redundant-rule: use one of error",
        "sensitive-ports: [22, http]\n": ":1: sensitive-ports: ports are numbers from 1 to 65535",
        "disabled: [x]\n": ":1: unknown key 'disabled'",
        "enable: [a\n": "malformed YAML",
    }
    for text, message in cases.items():
        config = tmp_path / "lint.yaml"
        config.write_text(text)
        assert main(["lint", str(app), "--config", str(config), "-f", out]) == 2
        assert message in capsys.readouterr().err


def test_sensitive_ports_from_config_and_option(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(
        OPEN_APP.split("---\napiVersion: networking.k8s.io/v1")[0]
        + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: a}\n"
        "spec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 8443}]}]\n"
    )
    out = tmp_path / "o.json"
    only = ["--enable", "sensitive-port-exposed", "-o", "json", "-f", str(out), "-q"]
    assert main(["lint", str(app), *only]) == 0
    assert main(["lint", str(app), *only, "--sensitive-port", "8443"]) == 1
    config = tmp_path / "lint.yaml"
    config.write_text("sensitive-ports: [8443]\n")
    assert main(["lint", str(app), *only, "--config", str(config)]) == 1
    (finding,) = json.loads(out.read_text())["findings"]
    assert finding["rule"]["rule"] == 1 and finding["witness"] is None  # one workload: no other namespace
