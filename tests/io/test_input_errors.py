"""Bad input raises InputError naming the file and the line of the mistake, with a clear message.

Each manifest marks its bad line with a ``# <-- here`` comment; the expected line number is taken from
that marker, never from the text the loader searches for.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from marked_input import MARK, check, load_error, write_marked  # next to this file

from kubefence import InputError, KubefenceError
from kubefence.io.documents import load_documents

NAMESPACE_DOC = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
"""

POLICY_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  namespace: shop
spec:
  podSelector: {}
"""


def manifest(tmp_path: Path, body: str, name: str = "bad.yaml") -> tuple[Path, int]:
    """Write the namespace document, then ``body``; return the path and the marked line."""
    path = tmp_path / name
    line = write_marked(path, NAMESPACE_DOC + textwrap.dedent(body).lstrip("\n"))
    assert line, "mark exactly one line"
    return path, line


def test_input_error_is_a_kubefence_value_error() -> None:
    assert issubclass(InputError, KubefenceError)
    assert issubclass(KubefenceError, ValueError)


def test_malformed_yaml(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web: oops  {MARK}
        """,
    )
    check(load_error(path), path, line, "malformed YAML", "mapping values are not allowed")


def test_malformed_yaml_in_a_later_document(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: a}}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          labels: [unclosed  {MARK}
        """,
    )
    err = load_error(path)
    assert err.origin.file == str(path)
    assert "malformed YAML" in str(err)
    # the parser notices an unclosed flow sequence at the end of the document at the latest
    assert line <= err.origin.line <= line + 1


def test_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": {"name": "p",}\n}\n')
    check(load_error(path), path, 4, "malformed JSON")


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    check(load_error(path), path, 1, "expected a Kubernetes object")


def test_invalid_cidr(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/33  {MARK}
""",
    )
    check(load_error(path), path, line, "NetworkPolicy shop/np", "invalid CIDR '10.0.0.0/33'")


def test_invalid_except(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/8
            except:
              - 10.1.0.0/16
              - 10.2.0.0/99  {MARK}
""",
    )
    check(load_error(path), path, line, "invalid CIDR '10.2.0.0/99'")


@pytest.mark.parametrize("outside", ["192.168.0.0/16", "10.0.0.0/7", "fd00::/8"])
def test_except_outside_its_cidr(tmp_path: Path, outside: str) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.0/8
            except:
              - 10.1.0.0/16
              - {outside}  {MARK}
""",
    )
    check(load_error(path), path, line, f"except '{outside}' is not inside cidr '10.0.0.0/8'")


def test_ipv6_except_outside_its_cidr(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  ingress:
    - from:
        - ipBlock:
            cidr: fd00::/16
            except: [fd01::/32]  {MARK}
""",
    )
    check(load_error(path), path, line, "except 'fd01::/32' is not inside cidr 'fd00::/16'")


@pytest.mark.parametrize(
    ("port_lines", "phrase"),
    [
        ("- port: 0  {mark}", "port 0 is out of range"),
        ("- port: 70000  {mark}", "port 70000 is out of range"),
        ("- port: 80\n          endPort: 70000  {mark}", "endPort 70000 is out of range"),
        ("- port: 9000\n          endPort: 8999  {mark}", "endPort 8999 is below port 9000"),
        ("- port: -1  {mark}", "port -1 is out of range"),
    ],
)
def test_port_out_of_range(tmp_path: Path, port_lines: str, phrase: str) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + """\
  ingress:
    - ports:
        - protocol: UDP
          port: 53
        """
        + port_lines.format(mark=MARK)
        + "\n",
    )
    err = load_error(path)
    check(err, path, line, phrase, "NetworkPolicy shop/np")
    assert "ports are numbers from 1 to 65535" in str(err) or "below" in phrase


def test_end_port_below_port_after_a_similar_line(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  ingress:
    - ports:
        - port: 8000
          endPort: 8099
    - ports:
        - port: 9000
          endPort: 80  {MARK}
""",
    )
    check(load_error(path), path, line, "endPort 80 is below port 9000")


def test_container_port_out_of_range(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web, namespace: shop}}
        spec:
          template:
            spec:
              containers:
                - name: c
                  ports:
                    - containerPort: 65536  {MARK}
        """,
    )
    check(load_error(path), path, line, "Deployment shop/web", "containerPort 65536 is out of range")


@pytest.mark.parametrize("protocol", ["tcp", "ICMP", "HTTP"])
def test_unknown_protocol(tmp_path: Path, protocol: str) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  egress:
    - ports:
        - port: 53
          protocol: UDP
        - port: 80
          protocol: {protocol}  {MARK}
""",
    )
    check(load_error(path), path, line, f"unknown protocol '{protocol}'", "SCTP, TCP, UDP")


def test_unknown_protocol_quoted(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  ingress:
    - ports:
        - port: 80
          protocol: "tcp"  {MARK}
""",
    )
    check(load_error(path), path, line, "unknown protocol 'tcp'")


def test_unknown_selector_operator(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  ingress:
    - from:
        - podSelector:
            matchExpressions:
              - key: app
                operator: Equals  {MARK}
                values: [web]
""",
    )
    check(
        load_error(path),
        path,
        line,
        "unknown selector operator 'Equals'",
        "In, NotIn, Exists or DoesNotExist",
    )


def test_selector_operator_with_wrong_values(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        f"""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {{name: np, namespace: shop}}
        spec:
          podSelector:
            matchExpressions:
              - key: app  {MARK}
                operator: In
        """,
    )
    check(load_error(path), path, line, "operator In on key 'app' needs values")


def test_network_policy_without_a_name(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        f"""
        apiVersion: networking.k8s.io/v1  {MARK}
        kind: NetworkPolicy
        metadata:
          namespace: shop
        spec:
          podSelector: {{}}
        """,
    )
    err = load_error(path)
    assert err.origin.file == str(path)
    # the object starts at its `---` separator (the line above) or at its first key
    assert err.origin.line in (line - 1, line)
    assert str(err).startswith(f"{path}:{err.origin.line}: NetworkPolicy without a name")
    assert "metadata.name" in str(err)


def test_unknown_policy_type(tmp_path: Path) -> None:
    path, line = manifest(
        tmp_path,
        POLICY_HEAD
        + f"""\
  policyTypes:
    - Ingress
    - Egres  {MARK}
""",
    )
    check(load_error(path), path, line, "unknown policyType 'Egres'")


def test_missing_path() -> None:
    with pytest.raises(InputError, match="no such file or directory: /nonexistent/kubefence-input"):
        load_documents(["/nonexistent/kubefence-input"])


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00kind: \x80\x81\n")
    err = load_error(path)
    assert err.origin.file == str(path)
    assert "not a UTF-8 text file" in str(err)
