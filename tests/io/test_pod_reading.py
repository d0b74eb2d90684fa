"""The manifest reader turns pod specs, ConfigMaps, Secrets and routes into model values, each with its
line; the fields discovery reads are checked, and a malformed one is an error at its line."""

from __future__ import annotations

import base64
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marked_input import MARK, check, write_marked  # next to this file

from kubefence import InputError
from kubefence.errors import Origin
from kubefence.io.documents import Document, load_documents
from kubefence.io.kube import build_cluster, read_application
from kubefence.model.ingress import Backend, Mention
from kubefence.model.workloads import (
    Argument,
    EnvFrom,
    EnvVar,
    KeyRef,
    Volume,
    VolumeMount,
    VolumeSource,
)

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      initContainers:
      - name: wait
        image: busybox
        command: [sh, -c, "until nc -z db 5432; do sleep 1; done"]
      containers:
      - name: web
        image: web:1
        ports: [{containerPort: 8080, name: http}]
        envFrom:
        - configMapRef: {name: settings}
          prefix: APP_
        env:
        - name: DB_HOST
          value: db
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: creds, key: password, optional: true}}
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        args: ["--port", 8080]
        volumeMounts: [{name: conf, mountPath: /etc/web}]
      volumes:
      - name: conf
        projected:
          sources:
          - configMap: {name: files, items: [{key: app.conf, path: app.conf}]}
          - secret: {name: tls}
      - name: cache
        emptyDir: {}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
data:
  password: {password}
  broken: "%%%"
stringData:
  url: postgres://db:5432/app
---
apiVersion: v1
kind: ConfigMap
metadata: {name: files, namespace: shop}
data:
  app.conf: |
    upstream = api:80
    timeout = 5
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
""".replace("{password}", base64.b64encode(b"s3cret").decode())


def test_a_pod_spec_becomes_containers_and_volumes(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(APP, encoding="utf-8")
    lines = APP.splitlines()

    def at(text: str) -> Origin:
        return Origin(str(path), next(n for n, line in enumerate(lines, 1) if text in line))

    cluster = read_application(load_documents([path]))
    (web,) = cluster.workloads
    assert web.host_network
    wait, main = web.containers
    assert (wait.name, wait.init, main.name, main.init) == ("wait", True, "web", False)
    assert [a.text for a in wait.command] == ["sh", "-c", "until nc -z db 5432; do sleep 1; done"]
    assert [(p.port, p.name) for p in web.ports] == [(8080, "http")]
    assert main.env_from == (EnvFrom("ConfigMap", "settings", "APP_", False, at("configMapRef")),)
    assert main.env == (
        EnvVar("DB_HOST", "db", None),
        EnvVar("DB_PASSWORD", None, KeyRef("Secret", "creds", "password", True)),
        EnvVar("POD_IP", None, None),
    )
    assert [v.origin for v in main.env] == [at("DB_HOST"), at("DB_PASSWORD"), at("POD_IP")]
    assert main.args == (Argument("--port"), Argument("8080"))
    assert main.args[0].origin == at('args: ["--port"')
    assert main.volume_mounts == (VolumeMount("conf", "/etc/web"),)
    assert web.volumes == (
        Volume(
            "conf", (VolumeSource("ConfigMap", "files", False, ("app.conf",)), VolumeSource("Secret", "tls"))
        ),
        Volume("cache"),
    )
    (db,) = cluster.services
    assert db.headless
    creds = cluster.config("Secret", "shop", "creds")
    assert creds is not None
    assert [(e.key, e.value) for e in creds.entries] == [
        ("password", "s3cret"),
        ("url", "postgres://db:5432/app"),
    ]
    assert [w.message for w in cluster.warnings if "base64" in w.message] == [
        "Secret shop/creds: data key 'broken' is not valid base64; it is not searched"
    ]
    files = cluster.config("ConfigMap", "shop", "files")
    assert files is not None
    (conf,) = files.entries
    assert conf.origin == at("app.conf: |")
    assert conf.line_origin("upstream = api:80") == at("upstream = api:80")
    assert conf.line_origin("timeout = 5") == at("timeout = 5")


def test_config_objects_are_read_only_when_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(APP, encoding="utf-8")
    plain = build_cluster(load_documents([path]))
    assert plain.configs == ()
    assert any("skipped 1 ConfigMap object" in w.message for w in plain.warnings)
    assert len(build_cluster(load_documents([path]), read_config=True).configs) == 2


POD_HEAD = """\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  containers:
  - name: c
    image: c
"""


@pytest.mark.parametrize(
    ("body", "phrases"),
    [
        (f"    env: {{A: b}}  {MARK}\n", ("containers[].env must be a list",)),
        (f"    env:  {MARK}\n    - value: x\n", ("a variable of container 'c' has no name",)),
        (
            f"    env:\n    - name: X\n      valueFrom: plain  {MARK}\n",
            ("env[].valueFrom must be a mapping",),
        ),
        (
            f"    env:\n    - name: X  {MARK}\n      valueFrom:\n"
            "        configMapKeyRef: {name: a, key: k}\n        secretKeyRef: {name: b, key: k}\n",
            ("variable X has both configMapKeyRef and secretKeyRef",),
        ),
        (f"    envFrom: [cm]  {MARK}\n", ("containers[].envFrom[] must be a mapping",)),
        (f"    args: --port=80  {MARK}\n", ("containers[].args must be a list",)),
        (f"    volumeMounts: [conf]  {MARK}\n", ("volumeMounts[] must be a mapping",)),
        (
            "  volumes:\n  - name: v\n    configMap:\n      name: cm\n"
            f"      items:  {MARK}\n      - path: x\n",
            ("an item of volumes[].configMap has no key",),
        ),
        (f"  volumes:\n  - name: v\n    configMap: cm  {MARK}\n", ("volumes[].configMap must be a mapping",)),
    ],
)
def test_malformed_fields_discovery_reads_are_errors_at_their_line(
    tmp_path: Path, body: str, phrases: tuple[str, ...]
) -> None:
    path = tmp_path / "bad.yaml"
    line = write_marked(path, POD_HEAD + body)
    with pytest.raises(InputError) as info:
        build_cluster(load_documents([path]))
    check(info.value, path, line, "Pod shop/p", *phrases)


def test_a_route_backend_must_name_its_service(tmp_path: Path) -> None:
    path = tmp_path / "ingress.yaml"
    line = write_marked(
        path,
        textwrap.dedent(
            f"""\
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {{name: web, namespace: shop}}
            spec:
              rules:
              - http:
                  paths:
                  - path: /
                    backend:  {MARK}
                      service: {{port: {{number: 80}}}}
            """
        ),
    )
    with pytest.raises(InputError) as info:
        build_cluster(load_documents([path]))
    check(info.value, path, line, "Ingress shop/web", "names no Service")


def test_one_backend_per_service_port_with_every_mention(tmp_path: Path) -> None:
    """Port numbers and names of one Service sort together (they used to raise TypeError)."""
    path = tmp_path / "ingress.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web, namespace: shop}
            spec:
              rules:
              - http:
                  paths:
                  - path: /a
                    backend: {service: {name: web, port: {number: 80}}}
                  - path: /b
                    backend: {service: {name: web, port: {name: http}}}
                  - path: /c
                    backend: {service: {name: web, port: {number: 80}}}
            """
        ),
        encoding="utf-8",
    )
    (obj,) = build_cluster(load_documents([path])).ingresses
    assert obj.backends == (Backend("web", 80, False, "shop"), Backend("web", "http", False, "shop"))
    assert obj.backends[0].mentions == (
        Mention("rule */a"),
        Mention("rule */c"),
    )
    assert [m.origin for m in obj.backends[0].mentions] == [Origin(str(path), 8), Origin(str(path), 12)]


# -- locating a needle -----------------------------------------------------------------------------


def _reference_locate(doc: Document, needle: str) -> Origin:
    """What Document.locate did with one regular expression per needle: it must find the same."""
    q = "[\"']?"
    key, sep, value = needle.partition(": ")
    if sep:
        patterns = [rf"{q}{re.escape(key)}{q}\s*:\s*{q}{re.escape(value)}{q}(?![\w.:/-])"]
    else:
        patterns = [
            rf"(?m)^[\s-]*{q}{re.escape(needle)}{q}\s*:",
            rf"[{{,]\s*{q}{re.escape(needle)}{q}\s*:",
            rf"(?<![\w.-]){re.escape(needle)}(?![\w.-])",
        ]
    end = len(doc._text) if doc._end < 0 else doc._end
    for pattern in patterns:
        found = re.compile(pattern).search(doc._text, doc._offset, end)
        if found is not None:
            line = doc.origin.line + doc._text.count("\n", doc._offset, found.start())
            return Origin(doc.origin.file, line)
    return doc.origin


_TEXT = st.text(alphabet=st.sampled_from(list("ab:- \n\"'{},._/x1")), max_size=40)
_WORD = st.text(alphabet=st.sampled_from(list("abx1_.-")), min_size=1, max_size=3)


@settings(max_examples=2000, deadline=None)
@given(_TEXT, st.integers(0, 10), st.integers(0, 10), _WORD, st.one_of(st.none(), _WORD))
def test_locate_finds_what_the_regular_expressions_found(
    text: str, head: int, tail: int, key: str, value: str | None
) -> None:
    start = min(head, len(text))
    end = max(start, len(text) - tail)
    doc = Document({}, Origin("f.yaml", 3), "x\n" + text, start + 2, end + 2)
    needle = key if value is None else f"{key}: {value}"
    assert doc.locate(needle) == _reference_locate(doc, needle)
