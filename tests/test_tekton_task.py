"""The Tekton Task as written: parsed from its YAML, its script run with the environment Tekton would
give it (params as env, the result file), against a temporary git repository with two commits."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "integrations" / "tekton" / "kubefence-review-task.yaml"


def _task() -> Any:
    return yaml.safe_load(TASK.read_text(encoding="utf-8"))


def _step() -> Any:
    (step,) = _task()["spec"]["steps"]
    return step


def test_task_passes_params_through_the_environment_only() -> None:
    step = _step()
    script = step["script"]
    assert "$(params." not in script and "$(results." not in script  # nothing pasted into the script
    assert "set -euo pipefail" in script
    assert step["onError"] == "continue"  # findings do not fail the Task: exit-code is a result
    env = {e["name"]: e["value"] for e in step["env"]}
    params = {p["name"] for p in _task()["spec"]["params"]}
    used = {v[len("$(params.") : -1] for v in env.values() if v.startswith("$(params.")}
    assert used == params - {"image"}
    assert step["image"] == "$(params.image)"
    assert env["KF_RESULT"] == "$(results.exit-code.path)"
    source = next(p for p in _task()["spec"]["params"] if p["name"] == "kubefence-source")
    assert "default" not in source  # no placeholder organisation, no tag that does not exist


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "source"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(ROOT / "examples" / "shop", repo / "app")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    orders = repo / "app" / "shop-backend" / "orders.yaml"
    orders.write_text(
        orders.read_text().replace(
            "            - name: DATABASE_URL",
            "            - name: REDIS_ADDR\n              value: redis.shop-data.svc.cluster.local:6379\n"
            "            - name: DATABASE_URL",
            1,
        )
    )
    _git(repo, "commit", "-qam", "orders caches in redis")
    return repo


def _shim(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _run_step(tmp_path: Path, workspace: Path, **params: str) -> tuple[int, str, Path]:
    """Runs the step's script as Tekton would; pip is faked (the package under test is on PYTHONPATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    pip_log = tmp_path / "pip.log"
    _shim(
        bin_dir,
        "python",
        f'if [ "$1 $2" = "-m pip" ]; then printf "%s\\n" "$@" >> {pip_log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n',
    )
    _shim(bin_dir, "kubefence", f'exec {sys.executable} -m kubefence "$@"\n')
    result = tmp_path / "exit-code"
    script = tmp_path / "script.sh"
    script.write_text(_step()["script"])
    values = {
        "base": "HEAD~1",
        "head": "HEAD",
        "paths": "app",
        "guardrails": "",
        "policies": "",
        "fail-on": "",
        "kubefence-source": "./vendor/kubefence",
        **params,
    }
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),  # git config --global stays in the test
        "PYTHONPATH": str(ROOT / "src"),
        "KF_BASE": values["base"],
        "KF_HEAD": values["head"],
        "KF_PATHS": values["paths"],
        "KF_GUARDRAILS": values["guardrails"],
        "KF_POLICIES": values["policies"],
        "KF_FAIL_ON": values["fail-on"],
        "KF_SOURCE": values["kubefence-source"],
        "KF_OUT": str(workspace / ".kubefence"),
        "KF_RESULT": str(result),
    }
    (tmp_path / "home").mkdir(exist_ok=True)
    proc = subprocess.run(["bash", str(script)], cwd=workspace, env=env, capture_output=True, text=True)
    assert pip_log.read_text().splitlines() == ["-m", "pip", "install", "--quiet", values["kubefence-source"]]
    return proc.returncode, result.read_text(), workspace / ".kubefence"


def test_task_script_reviews_and_reports_the_exit_code(tmp_path: Path, workspace: Path) -> None:
    code, result, out = _run_step(tmp_path, workspace)
    assert (code, result) == (0, "0")
    assert (
        "shop-backend/orders[Deployment] | shop-data/redis[StatefulSet]" in (out / "comment.md").read_text()
    )
    assert (out / "report.html").is_file()


def test_task_script_findings_are_exit_code_1(tmp_path: Path, workspace: Path) -> None:
    code, result, _ = _run_step(tmp_path, workspace, **{"fail-on": "added"})
    assert (code, result) == (1, "1")


def test_task_script_errors_are_exit_code_2(tmp_path: Path, workspace: Path) -> None:
    code, result, _ = _run_step(tmp_path, workspace, base="no-such-revision")
    assert (code, result) == (2, "2")


def test_task_script_takes_a_param_with_shell_characters_as_data(tmp_path: Path, workspace: Path) -> None:
    marker = tmp_path / "pwned"
    code, result, _ = _run_step(tmp_path, workspace, **{"kubefence-source": f"x; touch {marker}"})
    assert not marker.exists()
    assert (code, result) == (0, "0")
