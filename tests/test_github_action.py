"""The GitHub Action end to end on a temporary repository that looks like a pull_request checkout: an
"origin" holding the base branch, refs/pull/N/head and the merge commit refs/pull/N/merge, and a shallow
clone of the merge commit (what actions/checkout gives). A fork-like origin keeps the head only under
refs/pull/N/head and refuses fetching by SHA. Also checks what the action and example workflows
declare: outputs, pinned actions, least-privilege permissions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RUN_REVIEW = ROOT / "integrations" / "github" / "run-review.sh"
PR_COMMENT = ROOT / "integrations" / "github" / "pr_comment.py"
PR = "5"


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def _pull_request(tmp_path: Path, *, fork: bool) -> tuple[Path, str, str]:
    """(the checkout of the merge commit, base SHA, head SHA)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    shutil.copytree(ROOT / "examples" / "shop", work / "app")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "base")
    base = _git(work, "rev-parse", "HEAD")
    _git(work, "checkout", "-qb", "feature")
    orders = work / "app" / "shop-backend" / "orders.yaml"
    orders.write_text(
        orders.read_text().replace(
            "            - name: DATABASE_URL",
            "            - name: REDIS_ADDR\n              value: redis.shop-data.svc.cluster.local:6379\n"
            "            - name: DATABASE_URL",
            1,
        )
    )
    _git(work, "commit", "-qam", "orders caches in redis")
    head = _git(work, "rev-parse", "HEAD")
    # the base branch moves on meanwhile, so the merge commit is a real merge
    _git(work, "checkout", "-q", "main")
    (work / "NOTES.md").write_text("unrelated\n")
    _git(work, "add", "NOTES.md")
    _git(work, "commit", "-qm", "notes")
    base = _git(work, "rev-parse", "HEAD")
    _git(work, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    merge = _git(work, "rev-parse", "HEAD")
    _git(work, "reset", "-q", "--hard", base)

    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    _git(work, "push", "-q", str(origin), "main")
    _git(work, "push", "-q", str(origin), f"{head}:refs/pull/{PR}/head", f"{merge}:refs/pull/{PR}/merge")
    if not fork:  # the branch lives in the same repository; GitHub also serves commits by SHA
        _git(work, "push", "-q", str(origin), "feature")
        _git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")

    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _git(checkout, "init", "-q")
    _git(checkout, "remote", "add", "origin", origin.as_uri())
    _git(
        checkout, "fetch", "-q", "--depth=1", "origin", f"+refs/pull/{PR}/merge:refs/remotes/pull/{PR}/merge"
    )
    _git(checkout, "checkout", "-q", "--detach", f"refs/remotes/pull/{PR}/merge")
    assert _git(checkout, "rev-parse", "HEAD") == merge
    for sha in (base, head):  # the shallow merge checkout has neither of the commits compared
        probe = subprocess.run(
            ["git", "-C", str(checkout), "cat-file", "-e", f"{sha}^{{commit}}"],
            capture_output=True,
            check=False,
        )
        assert probe.returncode != 0
    return checkout, base, head


def _run(checkout: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "KF_PATHS": "app",
        "KF_OUT": str(out),
        "KF_PR_NUMBER": PR,
        "KF_BASE_REF": "main",
        "GITHUB_OUTPUT": str(out.parent / "github-output.txt"),
        "GITHUB_STEP_SUMMARY": str(out.parent / "summary.md"),
        **env,
    }
    return subprocess.run(
        ["bash", str(RUN_REVIEW)], cwd=checkout, env=full, capture_output=True, text=True, check=False
    )


def _outputs(out: Path) -> dict[str, str]:
    lines = (out.parent / "github-output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize("fork", [False, True], ids=["same-repository", "fork"])
def test_action_reviews_the_head_commit_of_a_pull_request(tmp_path: Path, fork: bool) -> None:
    checkout, base, head = _pull_request(tmp_path, fork=fork)
    out = tmp_path / "out"
    proc = _run(checkout, out, KF_BASE=base, KF_HEAD=head)
    assert proc.returncode == 0, proc.stderr
    comment = (out / "comment.md").read_text()
    assert f"Comparing `{base}` → `{head}`" in comment
    assert "| 🟢 added | shop-backend/orders[Deployment] | shop-data/redis[StatefulSet] |" in comment
    assert (out / "report.html").is_file()
    assert (out / "pr-number").read_text() == f"{PR}\n"  # for the workflow_run comment workflow
    assert (out / "exit-code").read_text() == "0\n"
    outputs = _outputs(out)
    assert outputs == {
        "exit-code": "0",
        "comment": str(out / "comment.md"),
        "report": str(out / "report.html"),
        "dir": str(out),
    }
    assert "kubefence review:" in (tmp_path / "summary.md").read_text()


def test_action_without_the_head_commit_fails_with_a_comment_and_outputs(tmp_path: Path) -> None:
    checkout, base, _ = _pull_request(tmp_path, fork=True)
    out = tmp_path / "out"
    missing = "0" * 40
    proc = _run(checkout, out, KF_BASE=base, KF_HEAD=missing, KF_PR_NUMBER="")
    assert proc.returncode == 2
    assert f"revision {missing} is not in this clone" in proc.stderr
    assert "could not run" in (out / "comment.md").read_text()
    assert _outputs(out)["exit-code"] == "2"  # set on exit 2 too: the upload step has its path


def test_action_outside_a_pull_request_without_base_is_exit_2_with_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _run(tmp_path, out, KF_BASE="", KF_HEAD="HEAD")  # a push event: no pull_request.base.sha
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "kubefence: error: KF_BASE (the base revision) is empty: outside a pull request, set the base input"
    ]
    assert _outputs(out)["exit-code"] == "2"
    assert "could not run" in (out / "comment.md").read_text()


def test_action_reports_a_review_error_with_exit_2_and_outputs(tmp_path: Path) -> None:
    checkout, base, head = _pull_request(tmp_path, fork=False)
    out = tmp_path / "out"
    proc = _run(checkout, out, KF_BASE=base, KF_HEAD=head, KF_PATHS="no-such-dir")
    assert proc.returncode == 2
    assert "kubefence: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert "kubefence: error:" in (out / "comment.md").read_text()
    assert _outputs(out)["exit-code"] == "2"
    assert (out / "exit-code").read_text() == "2\n"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return found + [u for v in node.values() for u in _uses(v)]
    if isinstance(node, list):
        return [u for v in node for u in _uses(v)]
    return []


WORKFLOWS = sorted((ROOT / "examples" / "ci").glob("*.yml"))


def test_action_declares_every_output_the_script_writes() -> None:
    action = _yaml(ROOT / "action.yml")
    written = set(re.findall(r'echo "([a-z-]+)=', RUN_REVIEW.read_text()))
    assert written == {"exit-code", "comment", "report", "dir"}
    assert written <= set(action["outputs"])
    for name in written:
        assert action["outputs"][name]["value"] == f"${{{{ steps.review.outputs.{name} }}}}"


def test_action_reviews_the_pull_request_head_not_the_merge_commit() -> None:
    env = next(s for s in _yaml(ROOT / "action.yml")["runs"]["steps"] if s.get("id") == "review")["env"]
    assert "github.event.pull_request.head.sha" in env["KF_HEAD"]
    assert "github.event.pull_request.base.sha" in env["KF_BASE"]
    # no input is pasted into a script: every step's run line reads environment variables only
    for step in _yaml(ROOT / "action.yml")["runs"]["steps"]:
        assert "${{" not in step.get("run", "")


def test_upload_step_has_a_path_on_every_exit_code() -> None:
    steps = _yaml(ROOT / "action.yml")["runs"]["steps"]
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ runner.temp }}/kubefence"  # not a step output that may be unset
    review = next(s for s in steps if s.get("id") == "review")
    assert review["env"]["KF_OUT"] == upload["with"]["path"]


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_commit(path: Path) -> None:
    uses = _uses(_yaml(path))
    assert uses
    for ref in uses:
        if ref.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40}", ref), ref  # owner/repo[/path]
        assert re.search(re.escape(ref) + r" # v\d+\.\d+\.\d+", path.read_text()), f"{ref}: say the version"


def test_example_workflows_grant_least_privilege() -> None:
    review = _yaml(ROOT / "examples" / "ci" / "kubefence-review.yml")
    assert review["permissions"] == {"contents": "read"}
    assert "pull_request" in review[True]  # YAML 1.1 reads the key `on` as True
    jobs = review["jobs"]
    assert "permissions" not in jobs["kubefence"]
    assert jobs["push-policies"]["permissions"] == {"contents": "write"}
    assert "head.repo.full_name == github.repository" in jobs["push-policies"]["if"]
    comment = _yaml(ROOT / "examples" / "ci" / "kubefence-comment.yml")
    assert "workflow_run" in comment[True]
    assert comment["permissions"] == {"actions": "read", "pull-requests": "write"}
    # the workflow with a write token never checks out the pull request's code
    for step in comment["jobs"]["comment"]["steps"]:
        if "actions/checkout" in step.get("uses", ""):
            assert step["with"]["repository"] == "${{ vars.KUBEFENCE_REPOSITORY }}"
            assert "workflow_run.head" not in str(step["with"])
    post = next(s for s in comment["jobs"]["comment"]["steps"] if s.get("name") == "Post the comment")
    assert post["env"]["KF_HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"


def test_no_placeholder_organisation_or_missing_tag() -> None:
    texts = [
        p.read_text()
        for p in [ROOT / "action.yml", ROOT / ".pre-commit-hooks.yaml", ROOT / "docs" / "ci.md", *WORKFLOWS]
    ]
    texts += [p.read_text() for p in (ROOT / "integrations").rglob("*") if p.is_file() and p.suffix != ".pyc"]
    for text in texts:
        assert "your-org" not in text
        assert "@v0.1.0" not in text and "rev: v0.1.0" not in text


class _FakePulls(BaseHTTPRequestHandler):
    """GitHub's API for one pull request (#5, head abc) and its comments."""

    posted: ClassVar[list[str]] = []

    def _reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == f"/repos/o/r/pulls/{PR}":
            self._reply(200, {"number": int(PR), "head": {"sha": "abc"}})
        else:
            self._reply(200, [])

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.posted.append(self.path + " " + json.loads(self.rfile.read(length))["body"])
        self._reply(201, {"id": 1})

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("head", "posted"), [("abc", True), ("def", False)])
def test_comment_workflow_posts_only_on_the_reviewed_pull_request(
    tmp_path: Path, head: str, posted: bool
) -> None:
    _FakePulls.posted = []
    server = HTTPServer(("127.0.0.1", 0), _FakePulls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    comment = tmp_path / "comment.md"
    comment.write_text("<!-- kubefence-review -->\nreview\n")
    env = {
        **os.environ,
        "GITHUB_API_URL": f"http://127.0.0.1:{server.server_port}",
        "GITHUB_TOKEN": "t",
        "GITHUB_REPOSITORY": "o/r",
        "KF_PR_NUMBER": PR,
        "KF_HEAD_SHA": head,  # what the workflow_run reviewed
    }
    try:
        proc = subprocess.run(
            [sys.executable, str(PR_COMMENT), str(comment)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        server.shutdown()
    assert (proc.returncode == 0) is posted
    assert bool(_FakePulls.posted) is posted
    if not posted:
        assert f"is at abc, not the reviewed {head}: not commenting" in proc.stderr


def test_lint_input_uploads_sarif_to_code_scanning() -> None:
    steps = _yaml(ROOT / "action.yml")["runs"]["steps"]
    lint = next(s for s in steps if "kubefence lint" in s.get("run", ""))
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert lint["if"] == upload["if"] == "always() && inputs.lint != ''"
    assert lint["env"]["KF_SARIF"] == upload["with"]["sarif_file"]
    assert "-o sarif" in lint["run"] and '"$KF_SARIF"' in lint["run"]
