"""The options several commands share are the same option in each: spelling, type and default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest

from kubefence import defaults
from kubefence.cli import cli, main

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop"
GUARDRAILS = ROOT / "examples" / "guardrails"

COMMANDS = ("map", "explain", "discover", "generate", "diff", "review", "verify")


def _command(name: str) -> click.Command:
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    return command


def _option(command: str, flag: str) -> click.Option | None:
    for param in _command(command).params:
        if isinstance(param, click.Option) and flag in param.opts:
            return param
    return None


def _declaration(option: click.Option) -> tuple[object, ...]:
    """What makes two options the same, whatever their help says."""
    return (
        tuple(option.opts),
        option.name,
        option.default,
        option.multiple,
        repr(option.type.to_info_dict()),
    )


@pytest.mark.parametrize(
    ("flag", "commands"),
    [
        ("--ingress-controller-namespace", ("map", "explain", "diff", "verify", "generate", "review")),
        ("--ip-family", ("map", "explain", "diff", "verify")),
        ("--guardrails", ("verify", "generate", "review")),
        ("--quiet", COMMANDS),
        ("--file", COMMANDS),
        ("--dns-selector", ("discover", "generate", "review")),
    ],
)
def test_a_shared_option_is_declared_alike_in_every_command(flag: str, commands: tuple[str, ...]) -> None:
    declarations = {}
    for name in commands:
        option = _option(name, flag)
        assert option is not None, f"{name} has no {flag}"
        declarations[name] = _declaration(option)
    assert len(set(declarations.values())) == 1, declarations


def test_the_ingress_controller_default_is_the_real_controllers_namespace() -> None:
    option = _option("generate", "--ingress-controller-namespace")
    assert option is not None and option.default == defaults.INGRESS_CONTROLLER_NAMESPACE == "ingress-nginx"


def test_o_is_the_output_format_in_every_command() -> None:
    for name in COMMANDS:
        option = _option(name, "-o")
        assert option is not None and option.name == "fmt", name
        assert isinstance(option.type, click.Choice), name
    generate = _option("generate", "-o")
    assert generate is not None and isinstance(generate.type, click.Choice)
    assert (list(generate.type.choices), generate.default) == (["yaml", "json"], "yaml")


def test_generate_json_is_one_list_of_the_yaml_streams_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "-q", str(SHOP), "-o", "json", "-f", str(tmp_path / "p.json")]) == 0
    assert main(["generate", "-q", str(SHOP), "-f", str(tmp_path / "p.yaml")]) == 0
    listed = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List")
    names = [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in listed["items"]]
    stream = (tmp_path / "p.yaml").read_text(encoding="utf-8")
    assert len(names) == stream.count("kind: NetworkPolicy") > 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("extra", [["-o", "json"], ["-f", "policies.yaml"]])
def test_generate_out_dir_takes_no_format_or_file(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "-q", str(SHOP), "-d", str(tmp_path / "out"), *extra]
    assert main([a if a != "policies.yaml" else str(tmp_path / a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err == "kubefence: error: -d DIR writes one YAML file per namespace: -f and -o go without it\n"
    assert list(tmp_path.iterdir()) == []


def test_guardrails_may_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "policies"
    assert main(["generate", "-q", str(SHOP), "-g", str(GUARDRAILS), "-d", str(out)]) == 0
    capsys.readouterr()
    # generated within the guardrails, the policies satisfy them under the same default namespace
    assert main(["verify", "-q", "-g", str(GUARDRAILS), str(SHOP), str(out)]) == 0
    assert "All 7 guardrails satisfied." in capsys.readouterr().out


def test_generated_policies_let_the_controller_in_under_the_maps_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """generate and map agree on where the controller runs: no warning that policies block it."""
    out = tmp_path / "policies"
    assert main(["generate", "-q", str(SHOP), "-d", str(out)]) == 0
    capsys.readouterr()
    docs = tmp_path / "app"
    shutil.copytree(SHOP, docs, ignore=shutil.ignore_patterns("networkpolicies*.yaml"))
    assert main(["map", str(docs), str(out)]) == 0
    captured = capsys.readouterr()
    assert "{ingress-controller} => shop-frontend/web[Deployment]" in captured.out
    assert "block the ingress controller" not in captured.err
