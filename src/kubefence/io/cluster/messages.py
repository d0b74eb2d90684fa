"""The texts a cluster read shows: errors (one line, what to do), warnings and info lines."""

from __future__ import annotations

from collections.abc import Sequence

from kubefence.errors import Origin
from kubefence.io.cluster.kinds import KindSpec

EXTRA_MISSING = (
    "reading a live cluster needs the Kubernetes client lightkube (pip install 'kubefence[cluster]')"
)


def bad_kubeconfig(path: str | None, detail: str) -> str:
    where = f"kubeconfig {path}" if path else "kubeconfig"
    return f"{where}: {detail} (check --kubeconfig and --context)"


NOT_A_KUBECONFIG = "not a kubeconfig (a YAML mapping of clusters, users and contexts)"
NO_CURRENT_CONTEXT = "no current-context is set and no --context NAME given"


def kubeconfig_missing(path: str) -> str:
    return f"kubeconfig {path}: the file does not exist (check --kubeconfig)"


def broken_kubeconfig(where: Origin, detail: str) -> str:
    return f"kubeconfig {where}: {detail} (fix the file, or leave it out of --kubeconfig and $KUBECONFIG)"


def undefined_reference(where: str, context: str, key: str, name: str) -> str:
    return (
        f"kubeconfig {where}: context {context} names the {key} {name}, which no kubeconfig file "
        "defines (check the context, and $KUBECONFIG)"
    )


def no_kubeconfig(paths: Sequence[str]) -> str:
    return f"kubeconfig: no kubeconfig found ({', '.join(paths)}) and not in a pod (pass --kubeconfig PATH)"


def timed_out(server: str, seconds: float) -> str:
    return (
        f"the API server {server} did not answer within {seconds:g} s "
        "(check the network and the kubeconfig's server, or raise --request-timeout)"
    )


def unreachable(server: str, exc: BaseException) -> str:
    detail = str(exc) or type(exc).__name__
    return f"cannot reach the API server {server}: {detail} (check the network and the kubeconfig's server)"


def credentials_failed(context: str, detail: str) -> str:
    """lightkube could not get the user's credentials (a tokenFile that cannot be read); exec
    plugins are :func:`exec_plugin_failed`."""
    return (
        f"cluster:{context}: getting credentials failed: {detail} "
        "(check the context's user in the kubeconfig)"
    )


def exec_plugin_failed(context: str, command: str, detail: str) -> str:
    """An exec credential plugin (client.authentication.k8s.io v1, v1beta1, v1alpha1) that could
    not be configured, run or understood."""
    return (
        f"cluster:{context}: getting credentials failed: the exec plugin {command}: {detail} "
        "(check the context's user in the kubeconfig, or run the plugin by hand)"
    )


def not_json(server: str, path: str) -> str:
    return f"the API server {server} answered {path} with something that is not a JSON object"


def _scope(spec: KindSpec, namespace: str | None) -> str:
    if not spec.namespaced:
        return "(cluster-scoped)"
    return f"in namespace {namespace}" if namespace else "in all namespaces"


def rbac_rule(spec: KindSpec, verb: str, namespace: str | None) -> str:
    holder = f"a Role in {namespace}" if spec.namespaced and namespace else "a ClusterRole"
    return (
        f'{holder} with the rule apiGroups: ["{spec.group}"], resources: ["{spec.plural}"], verbs: ["{verb}"]'
    )


def forbidden(context: str, spec: KindSpec, verb: str, namespace: str | None, detail: str) -> str:
    why = f": {detail}" if detail else ""
    return (
        f"cluster:{context}: forbidden to {verb} {spec.resource} {_scope(spec, namespace)}{why} "
        f"(the map needs {spec.kind} objects; grant {rbac_rule(spec, verb, namespace)}, see docs/gitops.md)"
    )


def optional_forbidden(context: str, spec: KindSpec, verb: str, namespace: str | None) -> str:
    return (
        f"cluster:{context}: forbidden to {verb} {spec.resource} {_scope(spec, namespace)}: "
        f"{spec.kind} objects are left out (grant {rbac_rule(spec, verb, namespace)} to include them)"
    )


def unauthorized(context: str, detail: str) -> str:
    why = f": {detail}" if detail else ""
    return (
        f"cluster:{context}: the API server rejected the credentials (401 Unauthorized{why}) "
        "(log in again, or check the context's user)"
    )


def not_installed(context: str, specs: Sequence[KindSpec]) -> str:
    kinds = ", ".join(f"{s.kind} ({' or '.join(s.api_version(v) for v in s.versions)})" for s in specs)
    return f"cluster:{context}: not installed (the API serves no such resource), skipped: {kinds}"


def continue_expired(context: str, spec: KindSpec) -> str:
    return (
        f"cluster:{context}: the list of {spec.resource} expired while it was read in pages "
        "(410 Gone): read again in one request"
    )


def api_error(context: str, path: str, detail: str) -> str:
    return f"cluster:{context}: GET {path} failed: {detail}"


def namespace_missing(context: str, namespace: str) -> str:
    return f"cluster:{context}: namespace {namespace} does not exist (check -n/--namespace)"
