"""``kubefence verify`` and ``kubefence guardrails export`` through ``cli.main``: exit codes, errors.

What they print for the bundled example, in every format, is in tests/goldens (test_goldens.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from guardrail_folder import guardrails_folder  # tests/io

from kubefence.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHOP = str(ROOT / "examples" / "shop")
GUARDRAILS = str(ROOT / "examples" / "guardrails")


def test_verify_violation_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--guardrails", GUARDRAILS, SHOP, "-q", "-o", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"rules": 7, "violated": 1, "satisfied": 6}


def test_verify_clean_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "ok.yaml"
    rules.write_text(
        "rules:\n  - {name: no-ssh, action: deny, from: any, to: {namespace: payments}, ports: [TCP 22]}\n",
        encoding="utf-8",
    )
    assert main(["verify", "-g", str(rules), SHOP, "-q", "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"rules": 1, "violated": 0, "satisfied": 1}


def test_verify_writes_the_file_and_still_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "comment.md"
    assert main(["verify", "-g", GUARDRAILS, SHOP, "-q", "-o", "md", "-f", str(out)]) == 1
    assert out.read_text(encoding="utf-8").startswith("## Guardrails\n")
    assert capsys.readouterr().out == ""


def test_verify_bad_rule_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("- name: x\n  action: deny\n  port_min: 9\n  port_max: 3\n", encoding="utf-8")
    assert main(["verify", "-g", str(rules), SHOP]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"kubefence: error: {rules}:3: guardrail 'x': port_min 9 is greater than port_max 3 "
        "(port_min must be <= port_max)"
    )


def test_verify_needs_guardrails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", SHOP]) == 2
    assert "--guardrails" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "kind"),
    [("clusternetworkpolicy", "ClusterNetworkPolicy"), ("adminnetworkpolicy", "AdminNetworkPolicy")],
)
def test_export(flag: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "admin.yaml"
    assert main(["guardrails", "export", "--as", flag, GUARDRAILS, "-f", str(out), "--priority", "10"]) == 0
    docs = [d for d in yaml.safe_load_all(out.read_text(encoding="utf-8")) if d]
    assert {d["kind"] for d in docs} == {kind}
    assert docs[0]["spec"]["priority"] == 10
    err = capsys.readouterr().err
    assert "guardrail 'payments-only-from-checkout': not exported: traffic from addresses" in err
    # the exported objects are read back by kubefence
    assert main(["map", SHOP, str(out), "-q"]) == 0


def test_export_inexpressible_rule_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "rules:\n  - {name: scanners, action: deny, from: 198.51.100.0/24, to: cluster}\n", encoding="utf-8"
    )
    assert main(["guardrails", "export", str(rules)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"kubefence: error: {rules}:2: guardrail 'scanners' cannot be exported as ClusterNetworkPolicy"
    )


# -- a guardrails folder: what its walk skipped is shown like manifest warnings, in every command ------


def _commands(rules: list[str], out: Path) -> dict[str, list[str]]:
    guardrails = [arg for path in rules for arg in ("-g", path)]
    return {
        "verify": ["verify", *guardrails, SHOP, "-o", "json"],
        "generate": ["generate", SHOP, *guardrails, "-d", str(out)],
        "export": ["guardrails", "export", *rules],
    }


@pytest.mark.parametrize("command", ["verify", "generate", "export"])
@pytest.mark.parametrize("quiet", [False, True])
def test_guardrails_folder_warnings(
    command: str, quiet: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, warnings = guardrails_folder(tmp_path)
    flag = ["-q"] if quiet else []
    files = [str(folder / "rules.yaml"), str(folder / "sub" / "more.csv")]
    code = main(_commands(files, tmp_path / "by-file")[command] + flag)
    by_file = capsys.readouterr()
    assert main(_commands([str(folder)], tmp_path / "by-folder")[command] + flag) == code
    by_folder = capsys.readouterr()
    assert by_folder.out == by_file.out  # the same rules, the same result
    if command == "generate":
        written = sorted((tmp_path / "by-file").iterdir())
        assert [p.read_text() for p in written] == [
            (tmp_path / "by-folder" / p.name).read_text() for p in written
        ]
    shown = "".join(f"{w}\n" for w in warnings)  # first: guardrails are read before anything else
    assert by_folder.err.replace("by-folder", "by-file") == ("" if quiet else shown) + by_file.err
