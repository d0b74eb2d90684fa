"""Workloads that no label of their own selects alone: selectors by the labels they lack, and hints.

The app: in ``shop``, Deployments ``web`` and ``api`` share the key ``app: shop`` and differ by
``tier``; the CronJob ``backup`` has no labels at all and the CronJob ``report`` only ``app: shop``
(both call the API); in ``ops``, ``monitor`` scrapes every pod behind the Service ``shop-all``
(selector ``app: shop``: web, api and report). Every rule naming a CronJob (ingress ``from`` in
``shop``, egress ``to`` from ``ops``) must use the same separating selector as its own policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from kubefence import MapOptions, load_cluster, map_connectivity
from kubefence.analysis.generate.separating import hint_label, separate
from kubefence.analysis.generate.synthesize import GeneratedPolicies, GenerateOptions
from kubefence.analysis.review import review
from kubefence.api import discover_connections, generate_policies, load_input_documents, policy_files
from kubefence.cli import main
from kubefence.io.kube import read_application
from kubefence.report.review_view import markdown

Obj = dict[str, Any]
CONTROLLER_NS: Final = "ingress-nginx"
GENERATE: Final = GenerateOptions(ingress_controller_namespace=CONTROLLER_NS)

BACKUP_SELECTOR: Final = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["shop"]}]}
REPORT_SELECTOR: Final = {
    "matchLabels": {"app": "shop"},
    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["backend", "frontend"]}],
}


def _container(name: str, env: dict[str, str], port: int | None = None) -> Obj:
    out: Obj = {"name": name, "image": f"example/{name}:1"}
    if env:
        out["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if port is not None:
        out["ports"] = [{"containerPort": port, "name": "http"}]
    return out


def deployment(
    ns: str, name: str, labels: dict[str, str], env: dict[str, str], port: int | None = None
) -> Obj:
    template = {"metadata": {"labels": labels}, "spec": {"containers": [_container(name, env, port)]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }


def cronjob(ns: str, name: str, labels: dict[str, str], env: dict[str, str], port: int | None = None) -> Obj:
    template: Obj = {"spec": {"containers": [_container(name, env, port)], "restartPolicy": "Never"}}
    if labels:
        template["metadata"] = {"labels": labels}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
    }


def service(ns: str, name: str, selector: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": "http"}]},
    }


def shop_app() -> list[Obj]:
    return [
        deployment("shop", "web", {"app": "shop", "tier": "frontend"}, {"API": "http://api"}, 8080),
        deployment("shop", "api", {"app": "shop", "tier": "backend"}, {}, 8080),
        cronjob("shop", "backup", {}, {"API": "http://api"}),
        cronjob("shop", "report", {"app": "shop"}, {"API": "http://api"}, 8080),
        service("shop", "api", {"app": "shop", "tier": "backend"}),
        service("shop", "shop-all", {"app": "shop"}),
        deployment("ops", "monitor", {"app": "monitor"}, {"TARGETS": "shop-all.shop:80"}),
    ]


def _policies(generated: GeneratedPolicies) -> dict[str, Obj]:
    docs = [d for text in policy_files(generated).values() for d in yaml.safe_load_all(text) if d]
    return {f"{d['metadata']['namespace']}/{d['metadata']['name']}": d for d in docs}


def _peers(policy: Obj, direction: str) -> list[Obj]:
    key = "from" if direction == "ingress" else "to"
    return [peer for rule in policy["spec"].get(direction, []) for peer in rule.get(key, [])]


def test_cronjobs_without_labels_of_their_own_get_a_separating_selector() -> None:
    generated = generate_policies(shop_app(), options=GENERATE)
    policies = _policies(generated)
    assert policies["shop/kubefence-backup"]["spec"]["podSelector"] == BACKUP_SELECTOR
    assert policies["shop/kubefence-report"]["spec"]["podSelector"] == REPORT_SELECTOR
    # the Deployments keep their smallest own label
    assert policies["shop/kubefence-api"]["spec"]["podSelector"] == {"matchLabels": {"tier": "backend"}}
    # every rule naming a CronJob selects it the same way: ingress in shop, egress from ops
    api_from = [p["podSelector"] for p in _peers(policies["shop/kubefence-api"], "ingress")]
    assert BACKUP_SELECTOR in api_from
    assert REPORT_SELECTOR in api_from
    monitor_to = _peers(policies["ops/kubefence-monitor"], "egress")
    shop_ns = {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}
    assert {"namespaceSelector": shop_ns, "podSelector": REPORT_SELECTOR} in monitor_to
    report_from = _peers(policies["shop/kubefence-report"], "ingress")
    ops_ns = {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}
    assert report_from == [{"namespaceSelector": ops_ns, "podSelector": {"matchLabels": {"app": "monitor"}}}]


def test_the_round_trip_is_exact() -> None:
    objects = shop_app()
    needed = discover_connections(objects)
    generated = generate_policies(objects, connections=needed, options=GENERATE)
    docs = [d for text in policy_files(generated).values() for d in yaml.safe_load_all(text) if d]
    cmap = map_connectivity(
        load_cluster(objects + docs),
        options=MapOptions(ip_family="ipv4", ingress_controller_namespace=CONTROLLER_NS),
    )
    app = {f"{o['metadata']['namespace']}/{o['metadata']['name']}[{o['kind']}]" for o in objects}
    allowed = {(str(c.src), str(c.dst), str(c.conn)) for c in cmap.connections}
    want = {
        (str(c.src), str(c.dst), str(c.conn))
        for c in needed.connections
        if str(c.src) != str(c.dst) and str(c.dst) in app
    }
    assert ("shop/backup[CronJob]", "shop/api[Deployment]", "TCP 8080") in want
    assert ("ops/monitor[Deployment]", "shop/report[CronJob]", "TCP 8080") in want
    assert allowed == want


def test_hints_suggest_a_label_of_their_own() -> None:
    generated = generate_policies(shop_app(), options=GENERATE)
    hints = {str(h.workload): h for h in generated.label_hints}
    assert sorted(hints) == ["shop/backup[CronJob]", "shop/report[CronJob]"]
    backup = hints["shop/backup[CronJob]"]
    assert (backup.key, backup.value, backup.shared_with) == ("app.kubernetes.io/name", "backup", ())
    assert backup.template_path == ("spec", "jobTemplate", "spec", "template", "metadata", "labels")
    assert [str(w) for w in generated.warnings if "report" in w.message] == [
        "warning: <objects>:4: no label of its own selects shop/report[CronJob] alone: selected by "
        "app=shop,tier notin (backend,frontend) (what the other workloads of shop carry and it lacks); "
        "hint: add `app.kubernetes.io/name: report` to its pod template "
        "(spec.jobTemplate.spec.template.metadata.labels)"
    ]


def test_with_the_suggested_labels_no_expressions_are_needed() -> None:
    objects = shop_app()
    for obj in objects:
        if obj["kind"] == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
            template.setdefault("metadata", {}).setdefault("labels", {})
            template["metadata"]["labels"]["app.kubernetes.io/name"] = obj["metadata"]["name"]
    generated = generate_policies(objects, options=GENERATE)
    assert not generated.label_hints
    assert not [w for w in generated.warnings if "hint:" in w.message]
    assert _policies(generated)["shop/kubefence-backup"]["spec"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "backup"}
    }


def test_identical_labels_share_the_policy_and_are_named() -> None:
    objects = [
        *shop_app(),
        cronjob("shop", "cleanup", {}, {"API": "http://api"}),  # the same (no) labels as backup
    ]
    generated = generate_policies(objects, options=GENERATE)
    messages = [w.message for w in generated.warnings]
    assert (
        "no stable labels select shop/backup[CronJob] alone (also selected: shop/cleanup[CronJob]); its "
        "policy and the rules naming it apply to those too; hint: add `app.kubernetes.io/name: backup` to "
        "its pod template (spec.jobTemplate.spec.template.metadata.labels)"
    ) in messages
    hints = {str(h.workload): h for h in generated.label_hints}
    assert [str(p) for p in hints["shop/cleanup[CronJob]"].shared_with] == ["shop/backup[CronJob]"]
    # the others are still excluded: both share `app notin (shop)`, nothing wider
    assert _policies(generated)["shop/kubefence-cleanup"]["spec"]["podSelector"] == BACKUP_SELECTOR


def test_a_workload_without_labels_alone_in_its_namespace_selects_every_pod_there() -> None:
    generated = generate_policies([cronjob("batch", "nightly", {}, {"API": "http://api.shop"}), *shop_app()])
    assert _policies(generated)["batch/kubefence-nightly"]["spec"]["podSelector"] == {}
    assert (
        "no stable labels select batch/nightly[CronJob] alone (it has no stable labels); its policy and "
        "the rules naming it apply to every pod of batch; hint: add `app.kubernetes.io/name: nightly` to "
        "its pod template (spec.jobTemplate.spec.template.metadata.labels)"
    ) in [w.message for w in generated.warnings]


def test_generated_selectors_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("kubernetes_validate")
    app = tmp_path / "app.yaml"
    app.write_text(yaml.safe_dump_all(shop_app()), encoding="utf-8")
    out = tmp_path / "policies"
    assert main(["generate", "-q", "--validate", str(app), "-d", str(out)]) == 0
    assert "matchExpressions" in (out / "shop.yaml").read_text(encoding="utf-8")
    capsys.readouterr()


def test_review_suggests_the_label_in_the_pr_comment() -> None:
    base = read_application(load_input_documents([o for o in shop_app() if o["kind"] != "CronJob"]))
    head = read_application(load_input_documents(shop_app()))
    comment = markdown(review(("main", base), ("feature", head), policy_files=policy_files))
    section = comment[comment.index("### Suggested label changes") :]
    assert "- `shop/report[CronJob]` (`<objects>:4`) is selected by the labels it lacks" in section
    assert "(`app=shop,tier notin (backend,frontend)`)" in section
    assert (
        "  ```diff\n   spec:\n     jobTemplate:\n       spec:\n         template:\n"
        "           metadata:\n             labels:\n"
        "  +            app.kubernetes.io/name: report\n  ```"
    ) in section
    # only when a workload needs one
    same = review(("main", base), ("feature", base), policy_files=policy_files)
    assert "Suggested label changes" not in markdown(same)


# -- the search itself -----------------------------------------------------------------------------


def _lasting(key: str) -> bool:
    return key != "version"


def _rank(key: str) -> tuple[object, ...]:
    return (key,)


def _usable(key: str) -> bool:
    return key != "pod-template-hash"


def test_release_labels_are_excluded_by_the_key_not_by_values() -> None:
    found = separate([("app", "a")], [{"app": "a", "version": "v1"}], _usable, _lasting, _rank)
    assert str(found.selector) == "app=a,!version"
    assert found.shared_with == ()


def test_lasting_keys_win_and_list_every_value_of_the_namespace() -> None:
    others = [
        {"app": "a", "tier": "fe", "version": "v1"},
        {"app": "b", "tier": "be"},  # already excluded by app=a, yet its value is listed
    ]
    found = separate([("app", "a")], others, _usable, _lasting, _rank)
    assert str(found.selector) == "app=a,tier notin (be,fe)"


def test_the_fewest_keys_exclude_the_others() -> None:
    others = [{"x": "1", "y": "1"}, {"y": "2"}, {"x": "2", "z": "1"}]
    found = separate([], others, _usable, _lasting, _rank)
    assert str(found.selector) == "x notin (1,2),y notin (1,2)"


def test_rollout_labels_never_separate() -> None:
    found = separate([("app", "a")], [{"app": "a", "pod-template-hash": "abc"}], _usable, _lasting, _rank)
    assert str(found.selector) == "app=a"
    assert found.shared_with == (0,)


def test_many_keys_fall_back_to_a_greedy_cover() -> None:
    others = [{f"k{i:02}": "v", f"k{i + 1:02}": "v"} for i in range(0, 40, 2)]
    found = separate([], others, _usable, _lasting, _rank)
    assert found.shared_with == ()
    assert len(found.selector.expressions) == 20
    assert not any(found.selector.matches(o) for o in others)


def test_hint_labels_avoid_keys_it_has_and_values_others_have() -> None:
    assert hint_label("backup", "CronJob", {}, []) == ("app.kubernetes.io/name", "backup")
    assert hint_label("backup", "CronJob", {"app.kubernetes.io/name": "shop"}, []) == (
        "app.kubernetes.io/component",
        "backup",
    )
    recommended = {
        "app.kubernetes.io/name": "x",
        "app.kubernetes.io/component": "y",
        "app.kubernetes.io/instance": "z",
    }
    assert hint_label("backup", "Job", recommended, []) == ("app", "backup")
    taken = [{"app.kubernetes.io/name": "backup"}, {"app.kubernetes.io/name": "backup-cronjob"}]
    assert hint_label("backup", "CronJob", {}, taken) == ("app.kubernetes.io/name", "backup-cronjob-2")
    long_name = "a" * 62 + "-b"
    assert hint_label(long_name, "Job", {}, []) == ("app.kubernetes.io/name", "a" * 62)
