"""Kubeconfig lookup as kubectl does it: $KUBECONFIG files merged (first name wins), missing files
skipped, relative paths per defining file, --kubeconfig one file, broken files one line."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import TOKEN, StartServer
from objects import small_shop

from kubefence.cli import main
from kubefence.io.cluster import ClusterAccessError, ClusterSource, read_cluster
from kubefence.io.cluster.kubeconfig import load_kubeconfig, select_context


def _write(path: Path, config: dict[str, Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config), encoding="utf-8")
    return path


def _config(
    *,
    current: str | None = None,
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {"apiVersion": "v1", "kind": "Config"}
    if current is not None:
        config["current-context"] = current
    for kind, key, entries in (
        ("clusters", "cluster", clusters),
        ("users", "user", users),
        ("contexts", "context", contexts),
    ):
        if entries is not None:
            config[kind] = [{"name": name, key: value} for name, value in entries.items()]
    return config


def _env(*paths: Path | str) -> dict[str, str]:
    return {"KUBECONFIG": os.pathsep.join(str(p) for p in paths)}


def test_the_first_file_defining_a_name_wins(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _config(current="", clusters={"c": {"server": "https://a"}}))
    b = _write(
        tmp_path / "b",
        _config(
            current="from-b",
            clusters={"c": {"server": "https://b"}, "d": {"server": "https://d"}},
            users={"u": {"token": "t"}},
            contexts={"from-b": {"cluster": "c", "user": "u"}},
        ),
    )
    c = _write(tmp_path / "c", _config(current="from-c", contexts={"from-c": {"cluster": "d"}}))
    config = load_kubeconfig(None, _env(a, b, a, c))
    assert config is not None
    assert config.files == (str(a), str(b), str(c))
    assert config.current_context == "from-b"  # a's is empty: not set
    assert config.clusters["c"].value == {"server": "https://a"}
    assert config.clusters["c"].origin.file == str(a)
    assert config.clusters["d"].value == {"server": "https://d"}
    assert sorted(config.contexts) == ["from-b", "from-c"]
    assert select_context(config, None) == "from-b"
    assert select_context(config, "from-c") == "from-c"


def test_missing_files_and_empty_entries_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kc = _write(tmp_path / "kc", _config(current="x", clusters={"x": {"server": "https://x"}}))
    empty = _write(tmp_path / "empty", "")
    config = load_kubeconfig(
        None, {"KUBECONFIG": f"{tmp_path / 'absent'}{os.pathsep}{os.pathsep}{empty}{os.pathsep}{kc}"}
    )
    assert config is not None and config.files == (str(empty), str(kc))
    assert config.current_context == "x"
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    monkeypatch.setenv("HOME", str(tmp_path))
    home = _write(tmp_path / ".kube" / "config", _config(current="home"))
    assert load_kubeconfig(None, _env(tmp_path / "absent", tmp_path / "dangling")) is None  # as kubectl
    for unset in ({}, {"KUBECONFIG": ""}):
        config = load_kubeconfig(None, unset)
        assert config is not None and config.files == (str(home),)


def test_a_context_must_be_chosen_and_exist(tmp_path: Path) -> None:
    kc = _write(tmp_path / "kc", _config(clusters={"c": {"server": "https://c"}}))
    config = load_kubeconfig(str(kc), {})
    assert config is not None
    with pytest.raises(
        ClusterAccessError,
        match=rf"^kubeconfig {kc}: no current-context is set and no --context NAME given \(check",
    ):
        select_context(config, None)
    with pytest.raises(ClusterAccessError, match=r"Context 'x' not found; there are none \(check"):
        select_context(config, "x")


def test_a_directory_in_the_list_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(
        ClusterAccessError, match=rf"^kubeconfig {tmp_path}/dir: cannot read it: Is a directory"
    ):
        load_kubeconfig(None, _env(tmp_path / "dir"))


def test_kubeconfig_option_is_one_file_not_merged(tmp_path: Path) -> None:
    one = _write(tmp_path / "one", _config(current="ctx", contexts={"ctx": {"cluster": "c"}}))
    other = _write(tmp_path / "other", _config(clusters={"c": {"server": "https://c"}}))
    config = load_kubeconfig(str(one), _env(other))
    assert config is not None and config.files == (str(one),)
    assert dict(config.clusters) == {}
    with pytest.raises(
        ClusterAccessError,
        match=r"^kubeconfig .*one:\d+: context ctx names the cluster c, which no kubeconfig file defines",
    ):
        select_context(config, None)
    merged = load_kubeconfig(None, _env(one, other))
    assert merged is not None and select_context(merged, None) == "ctx"
    with pytest.raises(ClusterAccessError, match=r"^kubeconfig .*absent: the file does not exist"):
        load_kubeconfig(str(tmp_path / "absent"), _env(other))


def test_relative_paths_are_relative_to_the_defining_file(tmp_path: Path) -> None:
    first = _write(
        tmp_path / "one" / "kc",
        _config(
            users={
                "u": {
                    "client-certificate": "certs/u.crt",
                    "client-key": "/abs/u.key",
                    "tokenFile": "token",
                    "exec": {"apiVersion": "v1", "command": "bin/plugin", "args": ["x/y"]},
                },
                "path-lookup": {"exec": {"apiVersion": "v1", "command": "aws"}},
            }
        ),
    )
    second = _write(
        tmp_path / "two" / "kc",
        _config(
            clusters={"c": {"server": "https://c", "certificate-authority": "ca.crt"}},
            users={"u": {"client-certificate": "ignored.crt"}},
        ),
    )
    config = load_kubeconfig(None, _env(first, second))
    assert config is not None
    user = config.users["u"].value
    assert user["client-certificate"] == str(tmp_path / "one" / "certs" / "u.crt")
    assert user["client-key"] == "/abs/u.key"
    assert user["tokenFile"] == str(tmp_path / "one" / "token")
    assert user["exec"] == {
        "apiVersion": "v1",
        "command": str(tmp_path / "one" / "bin" / "plugin"),
        "args": ["x/y"],
    }
    assert config.users["path-lookup"].value["exec"]["command"] == "aws"  # looked up in $PATH
    assert config.clusters["c"].value["certificate-authority"] == str(tmp_path / "two" / "ca.crt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [\n  {name: a\n", r"kc:3: not valid YAML: "),
        ("- a\n- b\n", r"kc:1: not a kubeconfig \(a YAML mapping"),
        ("apiVersion: v1\nkind: Pod\n", r"kc:2: kind Pod, not Config: not a kubeconfig"),
        ("clusters: {a: b}\n", r"kc:1: clusters is not a list"),
        ("users:\n- name: u\n  user: {}\n- user: {}\n", r"kc:4: users\[1\] is not a mapping with a name"),
        (
            "contexts:\n- name: x\n  context: {cluster: a}\n- name: x\n  context: {cluster: b}\n",
            r"kc:4: contexts: the name x is defined twice \(first on line 2\)",
        ),
        ("current-context: [a]\n", r"kc:1: current-context is not a string"),
    ],
)
def test_a_broken_file_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    good = _write(tmp_path / "good", _config(current="x"))
    broken = _write(tmp_path / "kc", text)
    with pytest.raises(ClusterAccessError, match=rf"^kubeconfig {broken.parent}/{message}") as raised:
        load_kubeconfig(None, _env(good, broken))
    assert "\n" not in str(raised.value)
    assert str(raised.value).endswith("(fix the file, or leave it out of --kubeconfig and $KUBECONFIG)")


def test_a_broken_file_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _write(tmp_path / "kc", "clusters:\n- name: c\n  cluster: {server: [1, 2]}\ncontexts: []\n")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    assert main(["map", "--cluster"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert f"kubeconfig {broken}:2: clusters c: Expected `str`" in err


def test_context_in_the_second_file_credentials_in_the_first(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(small_shop())
    (tmp_path / "creds").mkdir()
    shutil.copy(server.ca.ca_cert, tmp_path / "creds" / "ca.crt")
    creds = _write(
        tmp_path / "creds" / "kc",
        _config(
            clusters={"emulated": {"server": server.url, "certificate-authority": "ca.crt"}},
            users={"reader": {"token": TOKEN}},
        ),
    )
    contexts = _write(
        tmp_path / "ctx" / "kc",
        _config(
            current="live",
            contexts={
                "live": {"cluster": "emulated", "user": "reader"},
                "other": {"cluster": "emulated", "user": "reader"},
            },
        ),
    )
    monkeypatch.chdir(tmp_path / "ctx")  # ca.crt is found next to the file that names it, not here
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "absent"), str(creds), str(contexts)]))
    read = read_cluster(ClusterSource())
    assert read.context == "live"
    assert ("Pod", "web-5d9f-a") in sorted((o["kind"], o["metadata"]["name"]) for o in read.objects)
    assert read_cluster(ClusterSource(context="other")).context == "other"
    with pytest.raises(
        ClusterAccessError, match=r"context live names the cluster emulated, which no kubeconfig"
    ):
        read_cluster(ClusterSource(kubeconfig=str(contexts)))  # --kubeconfig: that file alone


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (.ci/run installs it)")
def test_the_merge_is_kubectls(tmp_path: Path) -> None:
    """kubectl's own merge, with each file embedded (--flatten), shows which file every relative path
    was read from: ours must read the same."""
    for name, text in {
        "one/ca.crt": "ca of one",
        "ca2.crt": "ca beside two",
        "one/certs/u.crt": "u cert",
        "one/u.key": "u key",
        "two/u.crt": "u cert of two",
    }.items():
        _write(tmp_path / name, text)
    one = _write(
        tmp_path / "one" / "kc",
        _config(
            current="",
            clusters={"c": {"server": "https://a", "certificate-authority": "ca.crt"}},
            users={"u": {"client-certificate": "certs/u.crt", "client-key": "u.key"}},
            contexts={"a": {"cluster": "c", "user": "u"}},
        ),
    )
    two = _write(
        tmp_path / "two" / "kc",
        _config(
            current="b",
            clusters={
                "c": {"server": "https://b"},
                "d": {"server": "https://d", "certificate-authority": "../ca2.crt"},
            },
            users={"u": {"client-certificate": "u.crt"}, "v": {"client-certificate": "u.crt"}},
            contexts={"a": {"cluster": "d"}, "b": {"cluster": "d", "user": "v", "namespace": "x"}},
        ),
    )
    listed: list[Path | str] = [tmp_path / "absent", one, "", two]
    assert KUBECTL is not None
    proc = subprocess.run(
        [KUBECTL, "config", "view", "--flatten", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **_env(*listed)},
        check=True,
    )
    theirs = json.loads(proc.stdout)
    ours = load_kubeconfig(None, _env(*listed))
    assert ours is not None
    assert ours.current_context == theirs["current-context"] == "b"
    assert {c["name"]: c["context"] for c in theirs["contexts"]} == {
        n: e.value for n, e in ours.contexts.items()
    }
    for kind, key, fields in (
        ("clusters", "cluster", ("certificate-authority",)),
        ("users", "user", ("client-certificate", "client-key")),
    ):
        embedded = {
            e["name"]: {
                f: base64.b64decode(e[key][f"{f}-data"]).decode() for f in fields if f"{f}-data" in e[key]
            }
            for e in theirs[kind]
        }
        read = {
            name: {f: Path(entry.value[f]).read_text() for f in fields if f in entry.value}
            for name, entry in ours.named(kind).items()
        }
        assert read == embedded, kind
    assert {c["name"]: c["cluster"]["server"] for c in theirs["clusters"]} == {
        n: e.value["server"] for n, e in ours.clusters.items()
    }
