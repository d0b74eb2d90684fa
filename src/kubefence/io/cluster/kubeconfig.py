"""Kubeconfig files found and merged as kubectl does, with relative paths made absolute.

``--kubeconfig PATH`` is exactly one file. Otherwise ``$KUBECONFIG`` lists files (``os.pathsep``
separated; files that do not exist are skipped) and they are merged: for clusters, users and
contexts the first file that defines a name wins, ``current-context`` comes from the first file
that sets it. Without ``$KUBECONFIG``, ``~/.kube/config``. A relative certificate, key, token file
or exec command path is relative to the file that defined the entry (kubectl's rule).

>>> config = load_kubeconfig(None, {"KUBECONFIG": "a.yaml:b.yaml"})  # doctest: +SKIP
>>> config.contexts["prod"].origin                                  # doctest: +SKIP
Origin(file='/home/me/b.yaml', line=12)

Only plain YAML here: the transport turns the result into lightkube's configuration.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubefence.errors import Origin
from kubefence.io.cluster import messages
from kubefence.io.cluster.errors import ClusterAccessError

DEFAULT_KUBECONFIG = "~/.kube/config"

# (list key, entry key) of the named lists a kubeconfig holds
_LISTS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
_PATH_KEYS = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile"),
}


@dataclass(frozen=True)
class Entry:
    """One named cluster, user or context: its fields (paths absolute) and where it was defined."""

    value: Mapping[str, Any]
    origin: Origin


@dataclass(frozen=True)
class Kubeconfig:
    """The merged configuration: the files read, in order, and every name's winning entry."""

    files: tuple[str, ...]
    current_context: str | None = None
    clusters: Mapping[str, Entry] = field(default_factory=dict)
    users: Mapping[str, Entry] = field(default_factory=dict)
    contexts: Mapping[str, Entry] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The files, for messages."""
        return ", ".join(self.files)

    def named(self, kind: str) -> Mapping[str, Entry]:
        return {"clusters": self.clusters, "users": self.users, "contexts": self.contexts}[kind]


def kubeconfig_paths(explicit: str | None, environ: Mapping[str, str]) -> tuple[Path, ...]:
    """Where kubectl looks: ``explicit`` alone, else the ``$KUBECONFIG`` list (empty entries
    dropped), else ``~/.kube/config``."""
    if explicit:
        return (Path(explicit).expanduser(),)
    listed = [Path(p).expanduser() for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    listed = list(dict.fromkeys(listed))  # a file listed twice is read once, as kubectl does
    return tuple(listed) if listed else (Path(DEFAULT_KUBECONFIG).expanduser(),)


def load_kubeconfig(explicit: str | None, environ: Mapping[str, str]) -> Kubeconfig | None:
    """The kubeconfig of ``--kubeconfig`` (``explicit``) or the environment; None when no file of
    the lookup exists (then a pod's service account may be used). ``explicit`` must exist.

    Raises :class:`ClusterAccessError` (one line naming the file) for a file that is not a kubeconfig."""
    read: list[Kubeconfig] = []
    for path in kubeconfig_paths(explicit, environ):
        text = _read(path)
        if text is None and explicit:
            raise ClusterAccessError(messages.kubeconfig_missing(explicit))
        if text is not None:
            read.append(parse_kubeconfig(text, _absolute(path)))
    return merge_kubeconfigs(read) if read else None


def parse_kubeconfig(text: str, path: str) -> Kubeconfig:
    """One file's kubeconfig (``path`` names it in errors and is the base of relative paths)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        detail = f"not valid YAML: {problem}"
        raise ClusterAccessError(messages.broken_kubeconfig(Origin(path, line), detail)) from None
    finally:
        loader.dispose()
    if data is None or node is None:  # an empty file is an empty kubeconfig, as for kubectl
        return Kubeconfig(files=(path,))
    if not isinstance(data, dict):
        raise ClusterAccessError(messages.broken_kubeconfig(Origin(path, 1), messages.NOT_A_KUBECONFIG))
    kind = data.get("kind")
    if kind not in (None, "Config"):
        detail = f"kind {kind}, not Config: {messages.NOT_A_KUBECONFIG}"
        raise ClusterAccessError(messages.broken_kubeconfig(Origin(path, _line(node, "kind")), detail))
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        where = Origin(path, _line(node, "current-context"))
        raise ClusterAccessError(messages.broken_kubeconfig(where, "current-context is not a string"))
    named = {kind: _entries(data, node, kind, key, path) for kind, key in _LISTS}
    return Kubeconfig(files=(path,), current_context=current or None, **named)


def merge_kubeconfigs(configs: Sequence[Kubeconfig]) -> Kubeconfig:
    """kubectl's merge: per name the first definition wins; the first current-context set wins."""
    merged: dict[str, dict[str, Entry]] = {kind: {} for kind, _ in _LISTS}
    for config in configs:
        for kind, entries in merged.items():
            for name, entry in config.named(kind).items():
                entries.setdefault(name, entry)
    current = next((c.current_context for c in configs if c.current_context), None)
    files = tuple(f for c in configs for f in c.files)
    return Kubeconfig(files=files, current_context=current, **merged)


def select_context(config: Kubeconfig, wanted: str | None) -> str:
    """The context to use (``wanted``, else the current one), checked to name a defined cluster
    and user. Raises :class:`ClusterAccessError` otherwise."""
    name = wanted or config.current_context
    if not name:
        raise ClusterAccessError(messages.bad_kubeconfig(config.label, messages.NO_CURRENT_CONTEXT))
    entry = config.contexts.get(name)
    if entry is None:
        known = (
            f"the contexts are {', '.join(sorted(config.contexts))}" if config.contexts else "there are none"
        )
        detail = f"Context '{name}' not found; {known}"
        raise ClusterAccessError(messages.bad_kubeconfig(config.label, detail))
    for kind, key in (("clusters", "cluster"), ("users", "user")):
        ref = entry.value.get(key)
        if ref and ref not in config.named(kind):
            raise ClusterAccessError(messages.undefined_reference(str(entry.origin), name, key, str(ref)))
    return name


def _read(path: Path) -> str | None:
    """The file's text; None when it is not there (kubectl skips only those: a directory or an
    unreadable file is an error)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = Origin(_absolute(path))
        raise ClusterAccessError(messages.broken_kubeconfig(where, f"cannot read it: {detail}")) from None


def _absolute(path: Path) -> str:
    return os.path.abspath(path)  # not resolve(): kubectl keeps symbolic links as named


def _entries(data: dict[str, Any], node: yaml.Node, kind: str, key: str, path: str) -> dict[str, Entry]:
    items = data.get(kind)
    if items is None:
        return {}
    if not isinstance(items, list):
        where = Origin(path, _line(node, kind))
        raise ClusterAccessError(messages.broken_kubeconfig(where, f"{kind} is not a list"))
    base = Path(path).parent
    out: dict[str, Entry] = {}
    for index, item in enumerate(items):
        where = Origin(path, _line(node, kind, index))
        name = item.get("name") if isinstance(item, dict) else None
        value = item.get(key, {}) if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or not isinstance(value, dict | None):
            detail = f"{kind}[{index}] is not a mapping with a name and a {key} mapping"
            raise ClusterAccessError(messages.broken_kubeconfig(where, detail))
        if name in out:
            first = out[name].origin.line
            detail = f"{kind}: the name {name} is defined twice (first on line {first})"
            raise ClusterAccessError(messages.broken_kubeconfig(where, detail))
        out[name] = Entry(_absolute_paths(kind, value or {}, base), where)
    return out


def _absolute_paths(kind: str, value: dict[str, Any], base: Path) -> dict[str, Any]:
    """``value`` with its file paths relative to ``base``; an exec command only when it is a path
    (holds a separator): a bare name is looked up in $PATH, as kubectl does."""
    out = copy.deepcopy(value)
    for key in _PATH_KEYS.get(kind, ()):
        out[key] = _joined(base, out.get(key))
        if out[key] is None:
            del out[key]
    exec_ = out.get("exec")
    if kind == "users" and isinstance(exec_, dict):
        command = exec_.get("command")
        if isinstance(command, str) and os.sep in command:
            exec_["command"] = _joined(base, command)
    return out


def _joined(base: Path, value: Any) -> Any:
    if isinstance(value, str) and value and not os.path.isabs(value):
        return str(base / value)
    return value


def _line(node: yaml.Node, *keys: str | int) -> int:
    """The 1-based line of the value at ``keys`` (mapping keys and list indexes) in ``node``."""
    for key in keys:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            found = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            found = node.value[key]
        else:
            found = None
        if found is None:
            break
        node = found
    return int(node.start_mark.line) + 1
