"""End to end: what the GitHub Action runs, on a temporary git repository with two commits of a real
app (the bundled shop), the PR comment upsert against a local fake API, and the HTML report rendered
in a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from guardrail_folder import guardrails_folder  # tests/io

from kubefence.cli import main

ROOT = Path(__file__).resolve().parents[1]
RUN_REVIEW = ROOT / "integrations" / "github" / "run-review.sh"
PR_COMMENT = ROOT / "integrations" / "github" / "pr_comment.py"


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
    ).stdout


@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    """base: the shop app with its generated policies committed; head: orders starts using redis."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(ROOT / "examples" / "shop", repo / "app")
    assert main(["generate", str(repo / "app"), "-d", str(repo / "policies"), "-q"]) == 0
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    orders = repo / "app" / "shop-backend" / "orders.yaml"
    text = orders.read_text()
    assert "            - name: DATABASE_URL" in text
    orders.write_text(
        text.replace(
            "            - name: DATABASE_URL",
            "            - name: REDIS_ADDR\n              value: redis.shop-data.svc.cluster.local:6379\n"
            "            - name: DATABASE_URL",
            1,
        )
    )
    _git(repo, "commit", "-qam", "orders caches in redis")
    return repo


def _run_action(repo: Path, out: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "KF_BASE": "HEAD~1",
        "KF_HEAD": "HEAD",
        "KF_PATHS": "app",
        "KF_POLICIES": "policies",
        "KF_OUT": str(out),
        "GITHUB_STEP_SUMMARY": str(out / "summary.md"),
        "GITHUB_OUTPUT": str(out / "output.txt"),
        **extra,
    }
    return subprocess.run(
        ["bash", str(RUN_REVIEW)], cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def test_action_script_reviews_the_pull_request(app_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _run_action(app_repo, out)
    assert proc.returncode == 0, proc.stderr
    summary = (out / "summary.md").read_text()
    assert "<!-- kubefence-review -->" in summary
    row = "| 🟢 added | shop-backend/orders[Deployment] | shop-data/redis[StatefulSet] | No Connections"
    assert f"{row} | TCP 6379 |" in summary
    assert "env REDIS_ADDR" in summary  # the evidence that caused the change
    assert "2 file(s) in `policies` differ" in summary
    outputs = dict(line.split("=", 1) for line in (out / "output.txt").read_text().splitlines())
    assert outputs["exit-code"] == "0"
    assert Path(outputs["report"]).is_file()
    # the regenerated policies are in the work tree, ready to commit: and now up to date
    changed = _git(app_repo, "status", "--porcelain").split()
    assert "policies/shop-backend.yaml" in changed and "policies/shop-data.yaml" in changed
    assert main(["generate", str(app_repo / "app"), "-d", str(app_repo / "policies"), "--check", "-q"]) == 0


def test_action_script_fails_the_check_on_drift(app_repo: Path, tmp_path: Path) -> None:
    proc = _run_action(app_repo, tmp_path / "out", KF_FAIL_ON="drift")
    assert proc.returncode == 1
    assert "exit-code=1" in (tmp_path / "out" / "output.txt").read_text()


def test_action_script_reports_errors_with_exit_2(app_repo: Path, tmp_path: Path) -> None:
    proc = _run_action(app_repo, tmp_path / "out", KF_BASE="no-such-ref")
    assert proc.returncode == 2
    assert "kubefence: error:" in proc.stderr and "Traceback" not in proc.stderr


def test_review_cli_without_changes_is_clean(
    app_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    md = tmp_path / "c.md"
    code = main(
        [
            "review",
            "--repo",
            str(app_repo),
            "--base",
            "HEAD~1",
            "--head",
            "HEAD~1",
            "app",
            "--policies",
            "policies",
            "--no-write",
            "--markdown",
            str(md),
            "-q",
        ]
    )
    assert code == 0
    assert "No connectivity changes." in md.read_text()
    assert "matches the generated policies" in md.read_text()


def test_review_with_guardrails_sees_no_drift_in_policies_generated_under_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Policies written by ``generate --guardrails`` are what review regenerates: no drift."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(ROOT / "examples" / "shop", repo / "app")
    rules = repo / "guardrails.yaml"
    shutil.copy(ROOT / "examples" / "guardrails" / "shop-guardrails.yaml", rules)
    generate = ["generate", str(repo / "app"), "--guardrails", str(rules), "-d", str(repo / "policies"), "-q"]
    assert main(generate) == 0
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "policies generated under the guardrails")
    md = tmp_path / "c.md"
    review = ["review", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "app"]
    review += ["--guardrails", str(rules), "--policies", "policies", "--no-write"]
    review += ["--markdown", str(md), "-q"]
    code = main(review)
    comment = md.read_text()
    assert "matches the generated policies" in comment, comment
    assert "differ from the generated policies" not in comment
    assert code == 0, capsys.readouterr()


def test_review_cli_fail_on_added(app_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "review",
            "--repo",
            str(app_repo),
            "--base",
            "HEAD~1",
            "app",
            "--fail-on",
            "added",
            "-q",
            "-o",
            "json",
        ]
    )
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert [c["type"] for c in data["changes"]] == ["added"]
    assert data["changes"][0]["evidence"][0]["via"].startswith("env REDIS_ADDR")


class _FakeGitHub(BaseHTTPRequestHandler):
    comments: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[tuple[str, str]]] = []

    def _reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length", "0"))
        return dict(json.loads(self.rfile.read(length) or b"{}"))

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path))
        self._reply(200, self.comments if "page=1" in self.path else [])

    def do_POST(self) -> None:
        self.calls.append(("POST", self.path))
        self.comments.append({"id": 7, "body": self._body()["body"]})
        self._reply(201, self.comments[-1])

    def do_PATCH(self) -> None:
        self.calls.append(("PATCH", self.path))
        self.comments[0]["body"] = self._body()["body"]
        self._reply(200, self.comments[0])

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_github() -> Iterator[str]:
    _FakeGitHub.comments, _FakeGitHub.calls = [], []
    server = HTTPServer(("127.0.0.1", 0), _FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def test_pr_comment_is_created_once_then_updated(fake_github: str, tmp_path: Path) -> None:
    comment = tmp_path / "comment.md"
    env = {
        **os.environ,
        "GITHUB_API_URL": fake_github,
        "GITHUB_TOKEN": "t",
        "GITHUB_REPOSITORY": "o/r",
        "KF_PR_NUMBER": "5",
    }
    comment.write_text("<!-- kubefence-review -->\nfirst\n")
    first = subprocess.run(
        [sys.executable, str(PR_COMMENT), str(comment)], env=env, capture_output=True, text=True, check=False
    )
    comment.write_text("<!-- kubefence-review -->\nsecond\n")
    second = subprocess.run(
        [sys.executable, str(PR_COMMENT), str(comment)], env=env, capture_output=True, text=True, check=False
    )
    assert first.returncode == 0 and "created" in first.stdout
    assert second.returncode == 0 and "updated" in second.stdout
    assert len(_FakeGitHub.comments) == 1 and "second" in _FakeGitHub.comments[0]["body"]
    assert ("PATCH", "/repos/o/r/issues/comments/7") in _FakeGitHub.calls


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on PATH: .ci/run installs Debian's chromium package")


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def test_html_report_renders_in_a_real_browser(app_repo: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    out = tmp_path / "out"
    assert _run_action(app_repo, out).returncode == 0
    report = out / "report.html"
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # what the browser shows: the graph with the added edge highlighted, and the changes table
    assert 'class="kf-edge added"' in dom
    assert 'data-src="shop-backend/orders[Deployment]" data-dst="shop-data/redis[StatefulSet]"' in dom
    assert dom.count('class="kf-node"') >= 10
    assert "<h2>Changes</h2>" in dom and "REDIS_ADDR" in dom
    assert "http://" not in dom.split("<svg", 1)[0].replace("http://www.w3.org", "")  # nothing fetched
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1400,1000",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a real picture, not a blank page


@pytest.mark.parametrize("quiet", [False, True])
def test_review_shows_what_the_guardrails_folder_walk_skipped(
    app_repo: Path, tmp_path: Path, quiet: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, warnings = guardrails_folder(tmp_path)
    review = ["review", "--repo", str(app_repo), "--base", "HEAD~1", "--head", "HEAD", "app", "-o", "json"]
    review += ["--policies", "policies", "--no-write", *(["-q"] if quiet else [])]
    code = main([*review, "-g", str(folder / "rules.yaml"), "-g", str(folder / "sub" / "more.csv")])
    by_file = capsys.readouterr()
    assert main([*review, "-g", str(folder)]) == code
    by_folder = capsys.readouterr()
    assert by_folder.out == by_file.out
    assert by_folder.err == "".join(f"{w}\n" for w in ([] if quiet else warnings)) + by_file.err
