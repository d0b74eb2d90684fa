"""ConfigMaps and Secrets: the keys and text that discovery searches for addresses."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from kubefence.errors import Origin


@dataclass(frozen=True)
class ConfigEntry:
    """One key and its text (a Secret's ``data`` decoded from base64).

    ``origin`` is the key's line; ``lines`` the line of each line of the text (stripped) and of
    the whole text (stripped), as mounted files are searched line by line.
    """

    key: str
    value: str
    origin: Origin = field(default=Origin(), compare=False)
    lines: tuple[tuple[str, Origin], ...] = field(default=(), compare=False, repr=False)

    def line_origin(self, line: str) -> Origin | None:
        """Where ``line`` (a stripped line of the text, or the whole text stripped) is written."""
        return self._line_origins.get(line)

    @cached_property
    def _line_origins(self) -> dict[str, Origin]:
        return dict(self.lines)


@dataclass(frozen=True)
class ConfigData:
    """A ConfigMap or Secret with its keys in order."""

    kind: str  # "ConfigMap" or "Secret"
    namespace: str
    name: str
    entries: tuple[ConfigEntry, ...] = ()
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def entry(self, key: str) -> ConfigEntry | None:
        return self._by_key.get(key)

    @cached_property
    def _by_key(self) -> dict[str, ConfigEntry]:
        return {e.key: e for e in self.entries}
