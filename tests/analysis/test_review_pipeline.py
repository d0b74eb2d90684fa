"""Review runs the pipeline ``generate`` runs: the policy files it regenerates are the ones
``generate`` writes (with the same guardrails), so committed policies never look like drift."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from kubefence.api import generate_policies, policy_files, review_revisions
from kubefence.io.guardrails import load_guardrails

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
# the settlement report reads postgres in shop-data: under this rule generate leaves it out
BLOCKING = """\
apiVersion: kubefence.io/v1alpha1
kind: Guardrails
rules:
  - name: payments-never-reach-data
    action: deny
    from: {namespace: payments}
    to: {namespace: shop-data}
"""


@pytest.fixture
def guardrails(tmp_path: Path) -> Path:
    path = tmp_path / "guardrails.yaml"
    path.write_text(BLOCKING, encoding="utf-8")
    return path


class _Tree:
    """A fake git tree: the same files at every revision."""

    def __init__(self, files: dict[str, str]) -> None:
        self._files = files

    def files(self, ref: str, paths: Sequence[str]) -> list[tuple[str, str]]:
        wanted = [p.strip("/") for p in paths]
        return sorted(
            (name, text)
            for name, text in self._files.items()
            if not wanted or any(name == p or name.startswith(p + "/") for p in wanted)
        )


def _repo(guardrails: Sequence[Path]) -> _Tree:
    app = {f"app/{p.relative_to(SHOP)}": p.read_text(encoding="utf-8") for p in SHOP.rglob("*.yaml")}
    generated = policy_files(generate_policies([SHOP], guardrails=list(guardrails)))
    return _Tree({**app, **{f"policies/{name}": text for name, text in generated.items()}})


def test_generate_with_guardrails_then_review_with_them_shows_no_drift(guardrails: Path) -> None:
    rules = load_guardrails([guardrails])
    result = review_revisions(
        "base", "head", ["app"], guardrails=rules, policies_dir="policies", reader=_repo([guardrails])
    )
    assert result.drift == ()
    # the verdict is on what the application needs: it needs what the rule forbids
    assert result.guardrails is not None and result.violated


def test_review_without_guardrails_matches_plain_generate() -> None:
    result = review_revisions("base", "head", ["app"], policies_dir="policies", reader=_repo([]))
    assert result.drift == ()
    assert result.guardrails is None
    assert result.diff.changes == ()


def test_policies_generated_under_guardrails_drift_from_plain_ones(guardrails: Path) -> None:
    """The check can fail: files generated with guardrails differ from those generated without."""
    result = review_revisions("base", "head", ["app"], policies_dir="policies", reader=_repo([guardrails]))
    assert [str(c.path) for c in result.drift] == ["policies/payments.yaml", "policies/shop-data.yaml"]
