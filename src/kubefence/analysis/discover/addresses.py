"""Finding network addresses in configuration text: pure functions, no Kubernetes objects.

What counts as an address (host names are matched against Services later):

* a URL's authority: ``http://svc:8080/path``, ``redis://:secret@svc:6379/0``,
  ``mongodb://a:27017,b:27017/db`` (several hosts);
* keyword connection strings: ``host=svc port=5432``, ``Server=svc,1433;Database=x``;
* ``host[:port]`` tokens anywhere, comma-separated host lists, and the value of ``-flag=value``;
* a bare name (``svc`` with neither port nor dot) only when it is a whole value: an entire variable,
  argument or ``key: value`` line. A name in the middle of free text is too likely to be a word.

Kubernetes ``$(VAR)`` expansion (:func:`expand`) is applied by the caller before matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from kubefence.model.ports import MAX_PORT, MIN_PORT

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_HOSTPORT_RE = re.compile(rf"^(?:[^@\s]*@)?({_HOST})(?::(\d{{1,5}}))?$", re.IGNORECASE)
_URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s/?#\"'<>`;]+)", re.IGNORECASE)
_KEYWORD_HOST_RE = re.compile(
    r"(?:^|[\s;])(host|hostname|server|address|addr|data source)\s*=\s*(?:tcp:)?([^\s;,'\"]+)(?:,(\d{1,5}))?",
    re.IGNORECASE,
)
_KEYWORD_PORT_RE = re.compile(r"(?:^|[\s;])port\s*=\s*(\d{1,5})\b", re.IGNORECASE)
_FLAG_VALUE_RE = re.compile(r"^-{0,2}[a-z_][a-z0-9_.-]*=(.*)$", re.IGNORECASE | re.DOTALL)
_SPLIT_RE = re.compile(r"[\s,;'\"()\[\]{}<>|=`]+")
_CONFIG_LINE_RE = re.compile(r"^\s*[\"']?([A-Za-z_][\w.-]*)[\"']?\s*[:=]\s*(.*?)\s*,?\s*$")

#: Suffixes (separators removed, lower case) of a variable that holds a host; the longest wins.
HOST_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        (
            "servicehost",
            "hostname",
            "hosts",
            "host",
            "address",
            "addr",
            "servers",
            "server",
            "service",
            "svc",
            "endpoint",
        ),
        key=len,
        reverse=True,
    )
)
_PORT_SUFFIXES = ("port", "serviceport")


@dataclass(frozen=True, order=True)
class Address:
    """A host, maybe with a port, as found in some text.

    ``whole``: the host is an entire value (or an item of a value that is only a host list), so even a
    bare name is taken as an address.
    """

    host: str
    port: int | None = None
    text: str = ""
    whole: bool = False

    @property
    def is_bare(self) -> bool:
        """A single label without a port: ``redis``."""
        return self.port is None and "." not in self.host


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: defined names are replaced, ``$$`` escapes a ``$``.

    Undefined references stay as written, as the kubelet leaves them.

    >>> expand("$(HOST):$(PORT) $$(HOST) $(NOPE)", {"HOST": "db", "PORT": "5432"})
    'db:5432 $(HOST) $(NOPE)'
    """
    if "$" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end < 0:
                out.append(text[i:])
                break
            name = text[i + 2 : end]
            out.append(env[name] if name in env else text[i : end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _port(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    number = int(text)
    return number if MIN_PORT <= number <= MAX_PORT else None


def _hostport(item: str, whole: bool) -> Address | None:
    item = item.strip()
    m = _HOSTPORT_RE.match(item)
    if m is None:
        return None
    host = m.group(1).lower()
    if host.replace(".", "").isdigit():
        return None  # an IP address or a number, never a Service name
    port = _port(m.group(2))
    if m.group(2) is not None and port is None:
        return None
    return Address(host, port, item, whole)


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def _whole_list(value: str) -> list[Address] | None:
    """The addresses of a value that is only ``host[:port]`` items separated by commas."""
    items = [i for i in re.split(r"\s*,\s*", value) if i]
    if not items:
        return None
    found = [_hostport(i, whole=True) for i in items]
    if any(a is None for a in found):
        return None
    return [a for a in found if a is not None]


def _url_addresses(text: str) -> Iterator[tuple[tuple[int, int], Address]]:
    for m in _URL_RE.finditer(text):
        authority = m.group(1).rsplit("@", 1)[-1]
        for item in authority.split(","):
            addr = _hostport(item, whole=False)
            if addr is not None:
                yield m.span(), Address(addr.host, addr.port, m.group(0), whole=True)


def _keyword_addresses(text: str) -> Iterator[tuple[tuple[int, int], Address]]:
    port_match = _KEYWORD_PORT_RE.search(text)
    for m in _KEYWORD_HOST_RE.finditer(text):
        addr = _hostport(m.group(2), whole=True)
        if addr is None:
            continue
        port = _port(m.group(3)) or addr.port or (_port(port_match.group(1)) if port_match else None)
        snippet = m.group(0).strip(" ;")
        if port_match is not None and addr.port is None and m.group(3) is None:
            snippet += " " + port_match.group(0).strip(" ;")
        yield m.span(), Address(addr.host, port, snippet, whole=True)


def find_addresses(text: str) -> list[Address]:
    """Every address in ``text``, in order of appearance (duplicates removed).

    >>> [(a.host, a.port) for a in find_addresses("postgres://user@db.data:5432/app")]
    [('db.data', 5432)]
    >>> [(a.host, a.port, a.whole) for a in find_addresses("-connect=cart:8080,redis")]
    [('cart', 8080, True), ('redis', None, True)]
    """
    value = _strip_quotes(text)
    if not value:
        return []
    flag = _FLAG_VALUE_RE.match(value)
    if flag is not None and "://" not in value.split("=", 1)[0]:
        inner = _strip_quotes(flag.group(1))
        listed = _whole_list(inner) if inner else None
        if listed is not None:
            return _unique(listed)
    listed = _whole_list(value) if "\n" not in value else None
    if listed is not None:
        return _unique(listed)
    return _unique(_free_text(value))


def _free_text(text: str) -> list[Address]:
    found: list[tuple[int, Address]] = []
    taken: list[tuple[int, int]] = []
    for span, addr in list(_url_addresses(text)) + list(_keyword_addresses(text)):
        found.append((span[0], addr))
        taken.append(span)
    pos = 0
    for token in _SPLIT_RE.split(text):
        start = text.find(token, pos) if token else pos
        pos = start + len(token)
        if not token or any(a <= start < b for a, b in taken):
            continue
        if token.startswith(("-", "/", "$", ".")) or "://" in token:
            continue
        candidate = token.split("/", 1)[0].rstrip(".:")
        hit = _hostport(candidate, whole=False)
        if hit is not None and not hit.is_bare:  # a lone word in free text is a word
            found.append((start, hit))
    return [a for _, a in sorted(found, key=lambda t: t[0])]


def _unique(addresses: Iterable[Address]) -> list[Address]:
    seen: set[tuple[str, int | None]] = set()
    out = []
    for a in addresses:
        if (a.host, a.port) not in seen:
            seen.add((a.host, a.port))
            out.append(a)
    return out


def normalize_name(name: str) -> str:
    """A variable or key name for sibling matching: lower case, without ``_``, ``.`` and ``-``."""
    return re.sub(r"[_.\-]", "", name).lower()


def sibling_port(name: str, scope: Mapping[str, str]) -> tuple[str, int] | None:
    """The port given next to host variable ``name`` in ``scope``: ``REDIS_HOST`` -> ``REDIS_PORT``.

    Returns the port variable's name and its number; None when ``name`` does not end like a host
    variable or there is no numeric sibling.

    >>> sibling_port("MYSQL_DB_HOST", {"MYSQL_DB_PORT": "3306"})
    ('MYSQL_DB_PORT', 3306)
    """
    norm = normalize_name(name)
    suffix = next((s for s in HOST_SUFFIXES if norm.endswith(s)), None)
    if suffix is None:
        return None
    prefix = norm[: -len(suffix)]
    by_norm = {normalize_name(k): k for k in scope}
    for port_suffix in _PORT_SUFFIXES:
        key = by_norm.get(prefix + port_suffix)
        if key is not None:
            port = _port(scope[key].strip().strip("'\""))
            if port is not None:
                return key, port
    return None


def config_lines(text: str) -> Iterator[tuple[str, str, str]]:
    """``(key, value, line)`` of each ``key: value`` / ``key=value`` line of a configuration file.

    Lines that are not of that form are given with an empty key, so the caller can still scan them.
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//", ";")):
            continue
        m = _CONFIG_LINE_RE.match(line)
        if m is not None and m.group(2) and not m.group(2).startswith(("//", "/")):
            yield m.group(1), _strip_quotes(m.group(2)), stripped
        else:
            yield "", stripped, stripped


def flag_values(args: Sequence[str]) -> tuple[dict[str, str], dict[int, str]]:
    """The flags of an argument list with their values, and for each argument the flag it belongs to.

    ``--db-host=x`` and ``--db-host x`` both give ``{"db-host": "x"}``; the argument holding ``x``
    maps to ``db-host``.

    >>> flag_values(["--db-host", "db", "--db-port=5432"])
    ({'db-host': 'db', 'db-port': '5432'}, {1: 'db-host', 2: 'db-port'})
    """
    flags: dict[str, str] = {}
    flag_of: dict[int, str] = {}
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if eq:
            flags.setdefault(name, value)
            flag_of[i] = name
        elif i + 1 < len(args) and not args[i + 1].startswith("-"):
            flags.setdefault(name, args[i + 1])
            flag_of[i + 1] = name
    return flags, flag_of
