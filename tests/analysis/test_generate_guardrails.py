"""generate --guardrails: forbidden needs are left out and reported, allow rules add connections, and
the generated policies pass verify with the same rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubefence.api import generate_policies, load_input_documents, verify_guardrails
from kubefence.cli import main
from kubefence.errors import Origin
from kubefence.io.documents import Document
from kubefence.io.kube import build_cluster
from kubefence.io.policy_yaml import policy_dict
from kubefence.model.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
POLICY_KINDS = {"NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"}

RULES = """\
apiVersion: kubefence.io/v1alpha1
kind: Guardrails
rules:
  - name: cart-is-stateless
    action: deny
    from: {namespace: shop-backend, podSelector: app=cart}
    to: {namespace: shop-data}
  - name: web-scrapes-catalog-metrics
    action: allow
    from: {namespace: shop-frontend, podSelector: app=web}
    to: {namespace: shop-backend, podSelector: app=catalog}
    ports: [TCP 9090]
"""


def _app_with(generated_policies: list[dict[str, Any]]) -> Cluster:
    docs = [d for d in load_input_documents([SHOP]) if d.kind not in POLICY_KINDS]
    return build_cluster(docs + [Document(p, Origin("<generated>")) for p in generated_policies])


def test_generated_policies_obey_the_guardrails(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    generated = generate_policies([SHOP], guardrails=[rules])
    notes = [n.message for n in generated.guardrail_notes]
    assert any(
        "shop-backend/cart[Deployment] => shop-data/redis[StatefulSet] : TCP 6379 blocked by guardrail "
        "cart-is-stateless" in n
        for n in notes
    )
    assert any(
        "shop-frontend/web[Deployment] => shop-backend/catalog[Deployment] : TCP 9090 added" in n
        for n in notes
    )
    # the blocked one points at the evidence that asked for it
    blocked = next(n for n in generated.guardrail_notes if "blocked" in n.message)
    assert blocked.origin.file.endswith("cart.yaml") and blocked.origin.line > 0
    cluster = _app_with([policy_dict(g.policy) for g in generated.policies])
    result = verify_guardrails(cluster, [rules])
    assert result.ok, [str(r) for r in result.violated]


def test_without_guardrails_the_same_app_violates_them(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    generated = generate_policies([SHOP])
    cluster = _app_with([policy_dict(g.policy) for g in generated.policies])
    result = verify_guardrails(cluster, [rules])
    assert {r.rule.name for r in result.violated} == {"cart-is-stateless", "web-scrapes-catalog-metrics"}


def test_cli_reports_guardrail_changes_even_when_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    assert main(["generate", str(SHOP), "--guardrails", str(rules), "-q", "-d", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "guardrail: " in err and "blocked by guardrail cart-is-stateless" in err
    assert (tmp_path / "out" / "shop-data.yaml").is_file()


def test_guardrails_that_change_nothing_generate_the_same_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shop's guardrails forbid nothing the shop needs: the files are those of plain generate, the
    exposure comments included (``0.0.0.0-255.255.255.255[External]``, named as the map names it)."""
    plain, guarded = tmp_path / "plain", tmp_path / "guarded"
    assert main(["generate", str(SHOP), "-q", "-d", str(plain)]) == 0
    rules = ROOT / "examples" / "guardrails" / "shop-guardrails.yaml"
    assert main(["generate", str(SHOP), "-q", "--guardrails", str(rules), "-d", str(guarded)]) == 0
    assert "guardrail: " not in capsys.readouterr().err  # nothing blocked, nothing added
    files = sorted(p.name for p in plain.iterdir())
    assert files and files == sorted(p.name for p in guarded.iterdir())
    for name in files:
        assert (guarded / name).read_text() == (plain / name).read_text(), name
    exposure = "#   ingress: 0.0.0.0-255.255.255.255[External] : TCP 3000"
    assert exposure in (plain / "shop-frontend.yaml").read_text()
