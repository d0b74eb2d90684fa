"""What a review says in text, Markdown (the PR comment), dot and svg: the violated guardrail by name
with its first witness, one heading per section, a summary a reviewer can act on, and a graph of what
changed. Head of the two-commit example: orders uses redis (added), cart calls the payment gateway
(added, and violating payments-only-from-checkout)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kubefence.cli import main

ROOT = Path(__file__).resolve().parents[1]
GUARDRAILS = str(ROOT / "examples" / "guardrails" / "shop-guardrails.yaml")
NGINX = ["--ingress-controller-namespace", "ingress-nginx"]


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _insert_env(path: Path, before: str, name: str, value: str) -> None:
    line = f"            - name: {before}"
    path.write_text(
        path.read_text().replace(line, f"            - name: {name}\n              value: {value}\n{line}", 1)
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path_factory.mktemp("review") / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(ROOT / "examples" / "shop", repo / "app")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    backend = repo / "app" / "shop-backend"
    _insert_env(
        backend / "orders.yaml", "DATABASE_URL", "REDIS_ADDR", "redis.shop-data.svc.cluster.local:6379"
    )
    _insert_env(
        backend / "cart.yaml", "CATALOG_URL", "PAYMENTS_URL", "https://payments-gateway.payments.svc:8443"
    )
    _git(repo, "commit", "-qam", "head")
    return repo


def _review(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    args = ["review", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD", "app", "--no-write", *NGINX]
    code = main([*args, "--guardrails", GUARDRAILS, "-q", *extra])
    return code, capsys.readouterr().out


WITNESS = (
    "shop-backend/cart[Deployment] => payments/payments-gateway[Deployment] : TCP 8443 (allowed: egress of "
    "shop-backend/cart[Deployment]: allowed by NetworkPolicy shop-backend/kubefence-cart (egress rule #3) "
    "[NetworkPolicy])"
)


def test_text_names_the_violated_guardrail_and_its_first_witness(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _review(repo, capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "2 connectivity change(s): 2 added; guardrail violated: payments-only-from-checkout"
    assert lines[1] == f"guardrail violated: payments-only-from-checkout: {WITNESS}"
    assert lines[2].startswith(
        "added: shop-backend/cart[Deployment] => payments/payments-gateway[Deployment]"
    )


def test_pr_comment_has_one_heading_per_section_and_a_summary_to_act_on(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    comment = tmp_path / "comment.md"
    code, _ = _review(repo, capsys, "--markdown", str(comment), "--policies", "policies")
    assert code == 1
    text = comment.read_text()
    headings = re.findall(r"^#+ .*$", text, flags=re.M)
    assert headings == [
        "## ❌ kubefence review: 2 connectivity change(s): 2 added; guardrail violated: "
        "payments-only-from-checkout; 4 policy file(s) out of date",
        "### Connectivity changes",
        "### Guardrails",
        "### Committed policies",
    ]
    todo = text.split("**To do before merging:**\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert todo == [
        f"- Fix guardrail payments-only-from-checkout: {WITNESS}.",
        "- Check the connectivity changes (2 added): each row says what caused it.",
        "- Commit the regenerated policies: 4 file(s) in policies are out of date "
        "(`kubefence generate app -d policies`).",
    ]
    guardrails = text.split("### Guardrails", 1)[1].split("### Committed policies", 1)[0]
    assert guardrails.lstrip().startswith("❌ 1 of 5 guardrails violated.")
    row = next(line for line in guardrails.splitlines() if "payments-only-from-checkout" in line)
    assert "<details><summary>" in row  # the details are folded
    assert text.count("<details><summary><code>policies/") == 4  # so are the drift diffs


def test_clean_review_says_there_is_nothing_to_do(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    comment = tmp_path / "comment.md"
    args = [
        "review",
        "--repo",
        str(repo),
        "--base",
        "HEAD~1",
        "--head",
        "HEAD~1",
        "app",
        "--no-write",
        *NGINX,
    ]
    assert main([*args, "--markdown", str(comment), "-q"]) == 0
    assert "**Nothing to do:** no connectivity change" in comment.read_text()


def test_dot_draws_the_changed_graph(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _review(repo, capsys, "-o", "dot")
    assert code == 1
    edges = [line.strip() for line in out.splitlines() if " -> " in line]
    assert edges == [
        '"shop-backend/cart[Deployment]" -> "payments/payments-gateway[Deployment]" '
        '[label="TCP 8443", color=darkgreen, fontcolor=darkgreen];',
        '"shop-backend/orders[Deployment]" -> "shop-data/redis[StatefulSet]" '
        '[label="TCP 6379", color=darkgreen, fontcolor=darkgreen];',
    ]
    assert out.count("subgraph cluster_") == 3  # shop-backend, payments, shop-data


def _dot_works() -> bool:
    if shutil.which("dot") is None:
        return False
    probe = subprocess.run(["dot", "-Tsvg"], input="digraph{}", capture_output=True, text=True, check=False)
    return probe.returncode == 0


def test_svg_draws_the_changed_graph(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not _dot_works():
        pytest.skip(
            "Graphviz's dot cannot render svg here (not installed, or its plugins are not configured)"
        )
    code, out = _review(repo, capsys, "-o", "svg")
    assert code == 1
    assert "<svg" in out
    edge = "shop&#45;backend/orders[Deployment]&#45;&gt;shop&#45;data/redis[StatefulSet]"
    assert f"<title>{edge}</title>" in out


def test_html_guardrails_are_html_not_markdown(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    _review(repo, capsys, "--html", str(report))
    html = report.read_text()
    section = html.split("<h2>Guardrails</h2>", 1)[1]
    assert "**" not in section and "&lt;details" not in section and "&lt;br" not in section
    assert "<strong>payments-only-from-checkout</strong>" in section
    assert '<span class="kf-status bad">FAIL</span>' in section
    assert "✅" not in html and "❌" not in html  # marks that need no emoji font
    assert "<script src" not in html and "<link" not in html  # one self-contained file


def test_to_do_list_mentions_suggested_labels() -> None:
    from test_generate_separating import shop_app  # an app whose CronJobs have no label of their own

    from kubefence.analysis.review import review
    from kubefence.api import load_input_documents, policy_files
    from kubefence.io.kube import read_application
    from kubefence.report.review_view import markdown

    base = read_application(load_input_documents([o for o in shop_app() if o["kind"] != "CronJob"]))
    head = read_application(load_input_documents(shop_app()))
    comment = markdown(review(("main", base), ("feature", head), policy_files=policy_files))
    todo = comment.split("**To do before merging:**\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert todo[-1].startswith("- Consider the suggested labels: ")
    assert "workload(s) have no label that tells them apart" in todo[-1]
    assert "### Suggested label changes" in comment
    clean = markdown(review(("main", base), ("feature", base), policy_files=policy_files))
    assert "Consider the suggested labels" not in clean
