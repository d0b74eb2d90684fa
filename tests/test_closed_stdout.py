"""A reader that goes away (``kubefence map ... | head -1``) ends the command quietly, with the code
a shell reports for a tool stopped by SIGPIPE (141): never the findings code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHOP = REPO / "examples" / "shop"


def _first_line_then_close(*args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubefence", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as head does after its line
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def test_a_closed_stdout_ends_quietly_with_141(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from gen_cluster import generate, write

    write(tmp_path, generate(workloads=400, policies=150, seed=1))
    # the map of this cluster is far larger than a pipe's buffer: writing it meets the closed end
    code, err = _first_line_then_close("map", str(tmp_path), "-q")
    assert (code, err) == (141, "")


def test_output_that_fits_the_pipe_keeps_the_commands_code() -> None:
    code, err = _first_line_then_close("map", str(SHOP), "-q")
    assert (code, err) in ((0, ""), (141, ""))
