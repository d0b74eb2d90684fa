"""An empty input is an error (a mistyped path must not pass CI as "no connections"), and a warning
about objects spread over many files names them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubefence.cli import main

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: a\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\n  labels: {app: p}\nspec: {}\n"


def test_empty_directory_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "typo"
    empty.mkdir()
    (empty / "README.md").write_text("not a manifest\n")
    assert main(["map", str(empty)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"kubefence: error: no Kubernetes objects found in {empty} (check the path; manifests are "
        ".yaml, .yml or .json files with apiVersion and kind)"
    ]


def test_empty_stdin_is_an_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["map", "-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kubefence: error: no Kubernetes objects found in stdin")
    assert len(err.splitlines()) == 1


def test_one_empty_path_among_others_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / "empty").mkdir()
    assert main(["map", str(tmp_path / "pod.yaml"), str(tmp_path / "empty")]) == 2
    assert "no Kubernetes objects found in " + str(tmp_path / "empty") in capsys.readouterr().err
    assert main(["map", str(tmp_path / "pod.yaml"), "-q"]) == 0


def test_grouped_warning_lists_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    for i in range(5):
        (tmp_path / f"cm{i}.yaml").write_text(CONFIGMAP.format(i=i))
    assert main(["map", str(tmp_path)]) == 0
    warning = next(line for line in capsys.readouterr().err.splitlines() if "ConfigMap" in line)
    files = [str(tmp_path / f"cm{i}.yaml") for i in range(3)]
    assert f"skipped 5 ConfigMap objects in {', '.join(files)} and 2 more files:" in warning


def test_grouped_warning_in_one_file_names_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "all.yaml").write_text(
        POD + "---\n" + CONFIGMAP.format(i=1) + "---\n" + CONFIGMAP.format(i=2)
    )
    assert main(["map", str(tmp_path)]) == 0
    warning = next(line for line in capsys.readouterr().err.splitlines() if "ConfigMap" in line)
    assert (
        warning
        == f"warning: {tmp_path / 'all.yaml'}:9: skipped 2 ConfigMap objects: this kind is not used here"
    )
