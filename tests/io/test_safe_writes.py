"""Writers never harm what is already there: ``-f`` through symlinks, into devices and FIFOs, keeping
modes, whole or not at all; ``generate`` writes all its files or none, and only inside its directory."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from kubefence import InputError
from kubefence.cli import cli, main
from kubefence.io.atomic import atomic_writer, write_files

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def test_a_regular_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o444)
    with atomic_writer(target) as stream:
        stream.write("new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_new_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_writer(tmp_path / "new.txt") as stream:
            stream.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_writer(target) as stream:
        stream.write("half")
        raise RuntimeError("renderer failed")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(real.name)
    assert main(["map", str(SHOP), "-q", "-f", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert "=>" in real.read_text(encoding="utf-8")


def test_writes_into_a_fifo_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    with atomic_writer(fifo) as stream:
        stream.write("through the pipe\n")
    reader.join(timeout=10)
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_f_leaves_a_character_device_a_device(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the null device's numbers
    assert main(["map", str(SHOP), "-q", "-f", str(device)]) == 0
    mode = device.lstat().st_mode
    assert stat.S_ISCHR(mode) and device.stat().st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_f_on_a_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(SHOP), "-q", "-f", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "internal error" not in err


def test_atomic_writer_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"), atomic_writer(tmp_path) as stream:
        stream.write("x")


# -- sets of files ------------------------------------------------------------------------------------


def test_write_files_refuses_paths_outside_its_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match="outside the output directory"):
        write_files(out, {out / "a.yaml": "a", out / ".." / "escaped.yaml": "b"})
    assert not (tmp_path / "escaped.yaml").exists() and not out.exists()


def test_write_files_writes_all_or_none(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").mkdir()  # a directory where a file goes
    with pytest.raises(InputError, match="not a regular file"):
        write_files(tmp_path, {tmp_path / "a.yaml": "a", tmp_path / "b.yaml": "b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml"]


def test_write_files_replaces_and_removes(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text("old", encoding="utf-8")
    (tmp_path / "keep.yaml").write_text("1", encoding="utf-8")
    (tmp_path / "keep.yaml").chmod(0o600)
    write_files(
        tmp_path, {tmp_path / "keep.yaml": "2", tmp_path / "old.yaml": None, tmp_path / "new.yaml": "3"}
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.yaml", "new.yaml"]
    assert (tmp_path / "keep.yaml").read_text(encoding="utf-8") == "2"
    assert stat.S_IMODE((tmp_path / "keep.yaml").stat().st_mode) == 0o600


def _out_dir_option() -> str:
    """generate's output-directory option (its name is not -o in every version)."""
    (command,) = [c for name, c in cli.commands.items() if name == "generate"]
    (param,) = [p for p in command.params if p.name == "out_dir"]
    return str(param.opts[0])


def test_generate_on_an_escaping_namespace_fails_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ../../x}\n"
        "spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "deep" / "er" / "out"
    before = sorted(tmp_path.rglob("*"))
    assert main(["generate", str(app), _out_dir_option(), str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "../../x" in err and "internal error" not in err
    assert sorted(tmp_path.rglob("*")) == before


def test_policy_files_refuse_a_namespace_that_is_not_a_file_name() -> None:
    from kubefence.io.policy_yaml import check_file_name

    for name in ("../../x.yaml", "a/b.yaml", "UPPER.yaml", ".yaml"):
        with pytest.raises(InputError, match="cannot write policies for namespace"):
            check_file_name(name)
    check_file_name("shop-backend.yaml")
