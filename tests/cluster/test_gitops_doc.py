"""docs/gitops.md: its ClusterRole grants everything the cluster reader lists, its YAML parses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kubefence.io.cluster.kinds import CONFIG_KINDS, POLICY_ANALYSIS_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "gitops.md"


def _yaml_blocks() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [d for block in blocks for d in yaml.safe_load_all(block) if isinstance(d, dict)]


def test_the_cluster_role_grants_every_kind_read() -> None:
    role = next(d for d in _yaml_blocks() if d.get("kind") == "ClusterRole")
    granted = {
        (group, resource)
        for rule in role["rules"]
        if {"get", "list"} <= set(rule["verbs"])
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    needed = {(s.group, s.plural) for s in POLICY_ANALYSIS_KINDS + CONFIG_KINDS}
    assert needed == granted


def test_the_recipes_are_valid_yaml() -> None:
    kinds = [d.get("kind") for d in _yaml_blocks()]
    assert "CronJob" in kinds and "ClusterRoleBinding" in kinds and "ServiceAccount" in kinds
    cronjob = next(d for d in _yaml_blocks() if d.get("kind") == "CronJob")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "kubefence-reader"
