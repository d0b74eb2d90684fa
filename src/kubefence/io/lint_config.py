"""The ``kubefence lint --config FILE`` file: which checks run, at which severity.

.. code-block:: yaml

    disable: [unprotected-egress]
    enable: []                  # empty or absent: every check not disabled
    severity:
      allow-entire-cluster: warning
    sensitive-ports: [22, 5432, 6379]

Names are kept with the line they are written on, so an unknown check is reported at its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kubefence.errors import InputError, Origin
from kubefence.io.yaml_load import yaml_error

_KEYS = ("enable", "disable", "severity", "sensitive-ports")
LEVELS = ("error", "warning", "note")


@dataclass(frozen=True)
class LintConfig:
    enable: tuple[tuple[str, Origin], ...] = ()
    disable: tuple[tuple[str, Origin], ...] = ()
    severities: tuple[tuple[str, str, Origin], ...] = ()
    sensitive_ports: tuple[int, ...] | None = None


def _where(name: str, node: Node) -> Origin:
    return Origin(name, node.start_mark.line + 1)


def _names(name: str, key: str, node: Node) -> tuple[tuple[str, Origin], ...]:
    if not isinstance(node, SequenceNode) or not all(isinstance(n, ScalarNode) for n in node.value):
        raise InputError(f"{key}: expected a list of check names", _where(name, node))
    return tuple((str(n.value), _where(name, n)) for n in node.value)


def parse_lint_config(text: str, name: str) -> LintConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, name) from None
    if root is None:
        return LintConfig()
    if not isinstance(root, MappingNode):
        raise InputError(
            "a lint configuration is a mapping (enable, disable, severity, sensitive-ports)",
            _where(name, root),
        )
    found: dict[str, object] = {}
    for key_node, value in root.value:
        key = str(key_node.value)
        if key not in _KEYS:
            raise InputError(f"unknown key {key!r}; use {', '.join(_KEYS)}", _where(name, key_node))
        if key in ("enable", "disable"):
            found[key] = _names(name, key, value)
        elif key == "severity":
            if not isinstance(value, MappingNode):
                raise InputError("severity: expected a mapping of check names to levels", _where(name, value))
            levels = []
            for k, v in value.value:
                level = str(v.value).lower() if isinstance(v, ScalarNode) else ""
                if level not in LEVELS:
                    raise InputError(
                        f"severity of {k.value}: use one of {', '.join(LEVELS)}", _where(name, v)
                    )
                levels.append((str(k.value), level, _where(name, k)))
            found["severities"] = tuple(levels)
        else:
            if not isinstance(value, SequenceNode):
                raise InputError("sensitive-ports: expected a list of port numbers", _where(name, value))
            ports = []
            for n in value.value:
                text_value = str(n.value) if isinstance(n, ScalarNode) else ""
                if not text_value.isdigit() or not 1 <= int(text_value) <= 65535:
                    raise InputError("sensitive-ports: ports are numbers from 1 to 65535", _where(name, n))
                ports.append(int(text_value))
            found["sensitive_ports"] = tuple(ports)
    return LintConfig(**found)  # type: ignore[arg-type]


def load_lint_config(path: str | Path) -> LintConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the lint configuration: {exc.strerror}", Origin(str(path))) from None
    return parse_lint_config(text, str(path))
