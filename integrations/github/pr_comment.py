"""Create or update the single kubefence comment on a pull request (GitHub REST API, stdlib only).

Usage: python pr_comment.py COMMENT_FILE
Environment: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), KF_PR_NUMBER, and GITHUB_API_URL
(defaults to https://api.github.com). The comment is found again by the marker kubefence puts in it.

KF_HEAD_SHA: when set, the comment is posted only if the pull request's head is that commit. A
workflow_run workflow sets it to the reviewed commit: the PR number comes from an artifact that a
pull request's own run uploaded, so it must not be able to point the comment at another PR.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Any

MARKER = "<!-- kubefence-review -->"


def _call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def upsert_comment(api: str, repo: str, number: str, token: str, body: str) -> str:
    """Update the comment carrying the marker, or create it; returns "updated" or "created"."""
    page = 1
    while True:
        url = f"{api}/repos/{repo}/issues/{number}/comments?per_page=100&page={page}"
        comments = _call("GET", url, token)
        for c in comments or []:
            if MARKER in (c.get("body") or ""):
                _call("PATCH", f"{api}/repos/{repo}/issues/comments/{c['id']}", token, {"body": body})
                return "updated"
        if not comments or len(comments) < 100:
            break
        page += 1
    _call("POST", f"{api}/repos/{repo}/issues/{number}/comments", token, {"body": body})
    return "created"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: pr_comment.py COMMENT_FILE", file=sys.stderr)
        return 2
    env = os.environ
    missing = [k for k in ("GITHUB_TOKEN", "GITHUB_REPOSITORY", "KF_PR_NUMBER") if not env.get(k)]
    if missing:
        print(f"pr_comment: set {', '.join(missing)} to post the comment", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        body = f.read()
    api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    expected = env.get("KF_HEAD_SHA", "")
    if expected:
        pull = _call(
            "GET", f"{api}/repos/{env['GITHUB_REPOSITORY']}/pulls/{env['KF_PR_NUMBER']}", env["GITHUB_TOKEN"]
        )
        head = ((pull or {}).get("head") or {}).get("sha", "")
        if head != expected:
            print(
                f"pr_comment: pull request #{env['KF_PR_NUMBER']} is at {head or 'an unknown commit'}, "
                f"not the reviewed {expected}: not commenting",
                file=sys.stderr,
            )
            return 1
    what = upsert_comment(api, env["GITHUB_REPOSITORY"], env["KF_PR_NUMBER"], env["GITHUB_TOKEN"], body)
    print(f"kubefence comment {what} on #{env['KF_PR_NUMBER']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
