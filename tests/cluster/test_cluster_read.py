"""Reading the emulated cluster: pages, namespaces, 401/403/404/410, timeouts, kubeconfig and credentials."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import yaml
from apiserver import BUILTIN, TOKEN, Behaviour, StartServer
from objects import namespace, pod, small_shop

from kubefence.io.cluster import ClusterAccessError, ClusterSource, read_cluster


def _source(server, tmp_path: Path, **kwargs) -> ClusterSource:  # type: ignore[no-untyped-def]
    return ClusterSource(kubeconfig=str(server.write_kubeconfig(tmp_path / "kubeconfig")), **kwargs)


def _names(read) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted((o["kind"], o["metadata"]["name"]) for o in read.objects)


def test_lists_are_read_in_pages(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    whole = read_cluster(_source(server, tmp_path))
    paged = read_cluster(_source(server, tmp_path, page_size=2))
    assert _names(paged) == _names(whole)
    assert ("Pod", "web-5d9f-a") in _names(paged)
    pod_pages = [q for path, q in server.requests if path == "/api/v1/pods"]
    assert [q["limit"] for q in pod_pages[1:]] == [["2"]] * 3  # 6 pods: 3 pages of 2
    assert sum("continue" in q for q in pod_pages[1:]) == 2
    assert whole.notes == (
        "cluster:emulated: not installed (the API serves no such resource), skipped: "
        "TLSRoute (gateway.networking.k8s.io/v1alpha3 or gateway.networking.k8s.io/v1alpha2)",
    )


def test_objects_carry_kind_origin_and_no_server_bookkeeping(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(small_shop())
    read = read_cluster(_source(server, tmp_path))
    docs = {d.origin.file: d for d in read.documents()}
    web = docs["cluster:emulated/Pod/shop/web-5d9f-a"]
    assert web.obj["kind"] == "Pod" and web.obj["apiVersion"] == "v1"  # the list left them out
    assert web.obj["status"] == {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]}
    assert "cluster:emulated/Namespace/shop" in docs
    assert all("status" not in d.obj for d in read.documents() if d.kind == "Deployment")


def test_namespaces_option_reads_only_those(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server([*small_shop(), namespace("other"), pod("other", "lonely", {"app": "x"})])
    read = read_cluster(_source(server, tmp_path, namespaces=("other",)))
    assert _names(read) == [("Namespace", "other"), ("Pod", "lonely")]
    paths = {path for path, _ in server.requests}
    assert "/api/v1/namespaces/other/pods" in paths and "/api/v1/pods" not in paths
    assert "/api/v1/namespaces/other" in paths  # the namespace itself: a get, not a list of all


def test_a_namespace_that_does_not_exist_is_an_error(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    with pytest.raises(ClusterAccessError, match=r"namespace nope does not exist \(check -n/--namespace\)"):
        read_cluster(_source(server, tmp_path, namespaces=("nope",)))


def test_forbidden_needed_kind_names_verb_resource_and_rule(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(forbidden={("networkpolicies", None)}))
    with pytest.raises(ClusterAccessError) as info:
        read_cluster(_source(server, tmp_path))
    message = str(info.value)
    assert message.startswith(
        "cluster:emulated: forbidden to list networkpolicies.networking.k8s.io in all namespaces"
    )
    assert (
        'grant a ClusterRole with the rule apiGroups: ["networking.k8s.io"], '
        'resources: ["networkpolicies"], verbs: ["list"]' in message
    )
    assert "\n" not in message


def test_forbidden_in_a_namespace_asks_for_a_role_there(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(forbidden={("pods", "shop")}))
    with pytest.raises(
        ClusterAccessError,
        match=r"forbidden to list pods in namespace shop.*a Role in shop with the rule "
        r'apiGroups: \[""\], resources: \["pods"\], verbs: \["list"\]',
    ):
        read_cluster(_source(server, tmp_path, namespaces=("shop",)))


def test_forbidden_optional_kind_is_a_warning(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(
        small_shop(), behaviour=Behaviour(forbidden={("ingresses", None), ("routes", None)})
    )
    read = read_cluster(_source(server, tmp_path))
    assert [w.message for w in read.warnings] == [
        "cluster:emulated: forbidden to list ingresses.networking.k8s.io in all namespaces: Ingress objects "
        'are left out (grant a ClusterRole with the rule apiGroups: ["networking.k8s.io"], '
        'resources: ["ingresses"], verbs: ["list"] to include them)',
        "cluster:emulated: forbidden to list routes.route.openshift.io in all namespaces: Route objects "
        'are left out (grant a ClusterRole with the rule apiGroups: ["route.openshift.io"], '
        'resources: ["routes"], verbs: ["list"] to include them)',
    ]
    assert ("Pod", "web-5d9f-a") in _names(read)


def test_missing_crds_are_one_info_line(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop(), resources=BUILTIN)  # no CRD installed
    read = read_cluster(_source(server, tmp_path))
    assert read.notes == (
        "cluster:emulated: not installed (the API serves no such resource), skipped: "
        "AdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), "
        "BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), "
        "ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2), Route (route.openshift.io/v1), "
        "HTTPRoute (gateway.networking.k8s.io/v1 or gateway.networking.k8s.io/v1beta1), "
        "GRPCRoute (gateway.networking.k8s.io/v1 or gateway.networking.k8s.io/v1alpha2), "
        "TCPRoute (gateway.networking.k8s.io/v1alpha2), "
        "TLSRoute (gateway.networking.k8s.io/v1alpha3 or gateway.networking.k8s.io/v1alpha2), "
        "UDPRoute (gateway.networking.k8s.io/v1alpha2)",
    )
    assert not any("adminnetworkpolicies" in path for path, _ in server.requests)


def test_an_expired_continue_token_reads_the_list_again_whole(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(expire_continue_after=0))
    read = read_cluster(_source(server, tmp_path, page_size=2))
    expected = read_cluster(_source(server, tmp_path, page_size=0))
    assert _names(read) == _names(expected)
    expired = [n for n in read.notes if "410 Gone" in n]
    assert (
        "cluster:emulated: the list of pods expired while it was read in pages (410 Gone): "
        "read again in one request" in expired
    )
    pod_lists = [q for path, q in server.requests if path == "/api/v1/pods"]
    assert {} in pod_lists  # the second read of pods: no limit, no continue


def test_a_slow_server_times_out(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop(), behaviour=Behaviour(delay=2.0))
    with pytest.raises(
        ClusterAccessError, match=r"the API server https://127\.0\.0\.1:\d+ did not answer within 0\.3 s"
    ):
        read_cluster(_source(server, tmp_path, timeout=0.3))


def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nobody listens there
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "gone", "user": {"token": "x"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
    }
    (tmp_path / "kc").write_text(yaml.safe_dump(config))
    with pytest.raises(ClusterAccessError, match=rf"cannot reach the API server https://127.0.0.1:{port}"):
        read_cluster(ClusterSource(kubeconfig=str(tmp_path / "kc"), timeout=5))


def test_wrong_credentials_are_401(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    kubeconfig = server.write_kubeconfig(tmp_path / "kc", user={"token": "wrong"})
    with pytest.raises(ClusterAccessError, match=r"rejected the credentials \(401 Unauthorized"):
        read_cluster(ClusterSource(kubeconfig=str(kubeconfig)))


def _exec_plugin(tmp_path: Path, token: str, fail: bool = False) -> Path:
    script = tmp_path / "credential-plugin.py"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": token},
    }
    body = (
        "import sys; sys.stderr.write('no login\\n'); sys.exit(3)"
        if fail
        else f"print({json.dumps(json.dumps(credential))})"
    )
    script.write_text(f"#!{sys.executable}\n{body}\n")
    script.chmod(0o755)
    return script


def test_exec_credential_plugin(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    plugin = _exec_plugin(tmp_path, TOKEN)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}}
    kubeconfig = server.write_kubeconfig(tmp_path / "kc", user=user)
    read = read_cluster(ClusterSource(kubeconfig=str(kubeconfig)))
    assert ("Pod", "web-5d9f-a") in _names(read)


def test_a_failing_exec_credential_plugin_is_one_line(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    plugin = _exec_plugin(tmp_path, TOKEN, fail=True)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}}
    kubeconfig = server.write_kubeconfig(tmp_path / "kc", user=user)
    with pytest.raises(ClusterAccessError, match=r"cluster:emulated: getting credentials failed: .*no login"):
        read_cluster(ClusterSource(kubeconfig=str(kubeconfig)))


def test_contexts_and_the_kubeconfig_variable(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(small_shop())
    config = server.kubeconfig(context="prod")
    other = server.kubeconfig(context="broken", user={"token": "wrong"})
    for key in ("clusters", "users", "contexts"):
        config[key] += other[key]
    config["current-context"] = "broken"
    (tmp_path / "kc").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'absent'}:{tmp_path / 'kc'}")
    read = read_cluster(ClusterSource(context="prod"))
    assert read.context == "prod"
    assert read.documents()[0].origin.file.startswith("cluster:prod/")
    with pytest.raises(ClusterAccessError, match="401"):
        read_cluster(ClusterSource())  # the current context
    with pytest.raises(
        ClusterAccessError,
        match=r"kubeconfig .*kc: Context 'nope' not found; the contexts are broken, prod \(check",
    ):
        read_cluster(ClusterSource(context="nope"))


def test_a_kubeconfig_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(ClusterAccessError, match=r"kubeconfig .*absent: the file does not exist"):
        read_cluster(ClusterSource(kubeconfig=str(tmp_path / "absent")))


def test_without_the_cluster_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightkube", None)
    with pytest.raises(ClusterAccessError, match=r"pip install 'kubefence\[cluster\]'"):
        read_cluster(ClusterSource())


def test_config_maps_only_when_asked(start_server: StartServer, tmp_path: Path) -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "shop"},
        "data": {"URL": "http://db:5432"},
    }
    server = start_server([*small_shop(), cm])
    assert ("ConfigMap", "cfg") not in _names(read_cluster(_source(server, tmp_path)))
    assert ("ConfigMap", "cfg") in _names(read_cluster(_source(server, tmp_path, config_maps=True)))


def test_in_a_pod_the_service_account_is_used(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(small_shop())
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "namespace").write_text("kubefence")
    (account / "ca.crt").write_bytes(server.ca.ca_cert.read_bytes())
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    host, port = server.url.removeprefix("https://").split(":")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    read = read_cluster(ClusterSource(service_account=str(account)))
    assert read.context == "in-cluster"
    assert ("Pod", "web-5d9f-a") in _names(read)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(ClusterAccessError, match=r"no kubeconfig found .* and not in a pod"):
        read_cluster(ClusterSource(service_account=str(account)))


def test_progress_counts_the_lists(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(small_shop())
    seen: list[tuple[int, int]] = []
    read_cluster(_source(server, tmp_path), progress=lambda done, total: seen.append((done, total)))
    total = seen[0][1]
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert [d for d, _ in seen] == list(range(total + 1))
