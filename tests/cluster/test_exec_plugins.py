"""Exec credential plugins (client.authentication.k8s.io v1, v1beta1, v1alpha1) run as client-go
runs them: KUBERNETES_EXEC_INFO, the token's expiry, a 401, and each failure as one line."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from apiserver import TOKEN, ApiServer, Behaviour, StartServer
from objects import small_shop

from kubefence.cli import main
from kubefence.io.cluster import ClusterAccessError, ClusterSource, read_cluster
from kubefence.io.cluster.exec_auth import ExecCredentialAuth
from kubefence.io.cluster.exec_plugin import PluginResult, exec_plugin

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
V1ALPHA1 = "client.authentication.k8s.io/v1alpha1"

# The plugin: records each run (its KUBERNETES_EXEC_INFO, args, one env entry) as a line of RUNS,
# then prints the credential of that run (the last one again when runs outnumber them).
PLUGIN = """\
import json, os, sys
info = os.environ.get("KUBERNETES_EXEC_INFO")
with open(RUNS, "a", encoding="utf-8") as f:
    f.write(json.dumps({"info": info, "args": sys.argv[1:], "env": os.environ.get("PLUGIN_REGION")}) + "\\n")
if info is None:
    sys.exit("no KUBERNETES_EXEC_INFO")
if STDERR is not None:
    sys.stderr.write(STDERR)
    sys.exit(EXIT)
with open(RUNS, encoding="utf-8") as f:
    run = sum(1 for _ in f)
print(OUTPUTS[min(run, len(OUTPUTS)) - 1])
"""


def credential(token: str | None = TOKEN, api_version: str = V1, **status: Any) -> str:
    if token is not None:
        status["token"] = token
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status})


class Plugin:
    def __init__(self, tmp_path: Path, *outputs: str, stderr: str | None = None, exit_code: int = 1) -> None:
        self.path = tmp_path / "plugin.py"
        self.runs_file = tmp_path / "runs.jsonl"
        values = (
            f"RUNS = {str(self.runs_file)!r}\nOUTPUTS = {list(outputs)!r}\n"
            f"STDERR = {stderr!r}\nEXIT = {exit_code}\n"
        )
        self.path.write_text(f"#!{sys.executable}\n{values}{PLUGIN}", encoding="utf-8")
        self.path.chmod(0o755)

    @property
    def runs(self) -> list[dict[str, Any]]:
        if not self.runs_file.exists():
            return []
        return [json.loads(line) for line in self.runs_file.read_text(encoding="utf-8").splitlines()]


def _kubeconfig(server: ApiServer, tmp_path: Path, exec_: dict[str, Any]) -> str:
    return str(server.write_kubeconfig(tmp_path / "kubeconfig", user={"exec": exec_}))


def _exec(plugin: Plugin, api_version: str = V1, **more: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "command": str(plugin.path), "interactiveMode": "Never", **more}


def _pods(read: Any) -> list[str]:
    return sorted(o["metadata"]["name"] for o in read.objects if o["kind"] == "Pod")


def test_a_v1_plugin_end_to_end(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, credential())
    exec_ = _exec(
        plugin, args=["token", "--cluster", "shop"], env=[{"name": "PLUGIN_REGION", "value": "eu-1"}]
    )
    read = read_cluster(ClusterSource(kubeconfig=_kubeconfig(server, tmp_path, exec_)))
    assert "web-5d9f-a" in _pods(read)
    assert len(plugin.runs) == 1  # no expirationTimestamp: one run for every request of the read
    run = plugin.runs[0]
    assert run["args"] == ["token", "--cluster", "shop"] and run["env"] == "eu-1"
    assert json.loads(run["info"]) == {
        "apiVersion": V1,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }


def test_map_cluster_with_a_v1_plugin(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, credential())
    code = main(["map", "--cluster", "--kubeconfig", _kubeconfig(server, tmp_path, _exec(plugin))])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432" in out


@pytest.mark.parametrize("api_version", [V1BETA1, V1ALPHA1])
def test_v1beta1_and_v1alpha1_plugins(start_server: StartServer, tmp_path: Path, api_version: str) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, credential(api_version=api_version))
    exec_ = {"apiVersion": api_version, "command": str(plugin.path)}  # no interactiveMode: IfAvailable
    read = read_cluster(ClusterSource(kubeconfig=_kubeconfig(server, tmp_path, exec_)))
    assert "web-5d9f-a" in _pods(read)
    spec = {} if api_version == V1ALPHA1 else {"interactive": False}  # v1alpha1 omits interactive: false
    assert json.loads(plugin.runs[0]["info"]) == {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": spec,
    }


def test_provide_cluster_info_passes_the_cluster(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, credential())
    kubeconfig = _kubeconfig(server, tmp_path, _exec(plugin, provideClusterInfo=True))
    read_cluster(ClusterSource(kubeconfig=kubeconfig))
    spec = json.loads(plugin.runs[0]["info"])["spec"]
    assert spec["interactive"] is False
    assert spec["cluster"]["server"] == server.url
    assert base64.b64decode(spec["cluster"]["certificate-authority-data"]) == server.ca.ca_cert.read_bytes()


def test_an_expired_token_runs_the_plugin_again(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    plugin = Plugin(tmp_path, credential(expirationTimestamp=past))
    read_cluster(ClusterSource(kubeconfig=_kubeconfig(server, tmp_path, _exec(plugin))))
    assert len(plugin.runs) == len(server.requests) > 5  # expired on arrival: one run per request


def test_a_token_that_has_not_expired_is_reused(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    plugin = Plugin(tmp_path, credential(expirationTimestamp=future))
    read_cluster(ClusterSource(kubeconfig=_kubeconfig(server, tmp_path, _exec(plugin))))
    assert len(plugin.runs) == 1 and len(server.requests) > 5


def test_a_401_runs_the_plugin_again_once(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, credential("revoked"), credential(TOKEN))
    read = read_cluster(ClusterSource(kubeconfig=_kubeconfig(server, tmp_path, _exec(plugin))))
    assert "web-5d9f-a" in _pods(read)
    assert len(plugin.runs) == 2


def test_a_token_the_server_keeps_rejecting_is_a_401(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(tokens=frozenset({"other"})))
    plugin = Plugin(tmp_path, credential())
    with pytest.raises(ClusterAccessError, match=r"rejected the credentials \(401 Unauthorized"):
        read_cluster(ClusterSource(kubeconfig=_kubeconfig(server, tmp_path, _exec(plugin))))
    assert len(plugin.runs) == 2  # the first request's token, then once more after its 401


class _FakeRunner:
    """The plugin behind the runner protocol: one token per run, valid for a minute."""

    def __init__(self, now: list[datetime]) -> None:
        self.now = now
        self.runs = 0

    async def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> PluginResult:
        self.runs += 1
        expires = (self.now[0] + timedelta(minutes=1)).isoformat()
        out = credential(f"token-{self.runs}", expirationTimestamp=expires)
        return PluginResult(0, out.encode(), b"")


def test_the_token_is_reused_until_its_expiration_timestamp() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    runner = _FakeRunner(now)
    plugin = exec_plugin({"apiVersion": V1, "command": "get-token", "interactiveMode": "Never"}, {})
    auth = ExecCredentialAuth("ctx", plugin, runner=runner, environ=dict, clock=lambda: now[0])
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["Authorization"])
        return httpx2.Response(200, json={})

    async def get_at(*offsets: float) -> None:
        start = now[0]
        async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler), auth=auth) as client:
            for seconds in offsets:
                now[0] = start + timedelta(seconds=seconds)
                await client.get("https://api.test/version")

    asyncio.run(get_at(0, 30, 59.9, 60, 90, 119))
    assert seen == ["Bearer token-1"] * 3 + ["Bearer token-2"] * 3
    assert runner.runs == 2


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], kubeconfig: str) -> str:
    code = main(["map", "--cluster", "--kubeconfig", kubeconfig])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("outputs", "stderr", "expected"),
    [
        (
            (),
            "login required: run aws sso login\nmore detail\n",
            "it exited with code 1: login required: run aws sso login",
        ),
        (("no json",), None, "its output is not an ExecCredential in JSON"),
        (
            (credential(api_version=V1BETA1),),
            None,
            f"it printed apiVersion {V1BETA1}, the kubeconfig asks for {V1}",
        ),
        ((credential(None),), None, "its ExecCredential has no status.token"),
        (
            (json.dumps({"apiVersion": V1, "kind": "ExecCredential"}),),
            None,
            "its ExecCredential has no status",
        ),
        (
            (credential(None, clientCertificateData="CERT", clientKeyData="KEY"),),
            None,
            "client certificates from exec plugins are not supported (make the plugin return a token)",
        ),
        (
            (credential(expirationTimestamp="tomorrow"),),
            None,
            "status.expirationTimestamp tomorrow is not an RFC 3339",
        ),
    ],
)
def test_plugin_failures_are_one_line(
    start_server: StartServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    outputs: tuple[str, ...],
    stderr: str | None,
    expected: str,
) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, *outputs, stderr=stderr)
    err = _one_line_exit_2(capsys, _kubeconfig(server, tmp_path, _exec(plugin)))
    assert err.startswith(
        f"kubefence: error: cluster:emulated: getting credentials failed: the exec plugin {plugin.path}: "
    )
    assert expected in err


def test_a_plugin_that_is_not_installed(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(small_shop())
    exec_ = {
        "apiVersion": V1,
        "command": "kubefence-no-such-plugin",
        "interactiveMode": "IfAvailable",
        "installHint": "install it with: brew install it\nsecond line",
    }
    err = _one_line_exit_2(capsys, _kubeconfig(server, tmp_path, exec_))
    assert (
        "the exec plugin kubefence-no-such-plugin: the command was not found "
        "(install it with: brew install it)" in err
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"interactiveMode": "Always"}, "exec interactiveMode Always needs a terminal for the plugin"),
        (
            {"interactiveMode": "Sometimes"},
            "exec interactiveMode Sometimes is not one of Never, IfAvailable, Always",
        ),
        (
            {"apiVersion": "client.authentication.k8s.io/v2"},
            "exec apiVersion client.authentication.k8s.io/v2 is not one of",
        ),
    ],
)
def test_plugin_configurations_that_cannot_work(
    start_server: StartServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    expected: str,
) -> None:
    server = start_server(small_shop())
    plugin = Plugin(tmp_path, credential())
    err = _one_line_exit_2(capsys, _kubeconfig(server, tmp_path, {**_exec(plugin), **change}))
    assert expected in err and "cluster:emulated: getting credentials failed" in err
    assert plugin.runs == []
