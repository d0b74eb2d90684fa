"""Parsing files on several processes gives what parsing them one by one gives: documents, order, errors."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest

from kubefence.errors import InputError, Origin, UsageError
from kubefence.io.documents import Document, parse_file
from kubefence.io.parallel import MIN_PARALLEL_BYTES, WORKERS_ENV, _balance, parse_files

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="helpers are forked (Linux)")


def manifests(tmp_path: Path, count: int, bad: tuple[int, ...] = ()) -> list[Path]:
    paths = []
    for i in range(count):
        path = tmp_path / f"f{i:02}.yaml"
        body = "".join(
            f"---\n# doc {d}\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}-{d}, labels: {{a: x}}}}\n"
            for d in range(i % 4 + 1)
        )
        path.write_text(body + ("spec: [unclosed\n" if i in bad else ""))
        paths.append(path)
    return paths


def by_pid(path: Path) -> list[Document]:
    """A parse that tells which process ran it."""
    return [Document({"pid": os.getpid(), "file": path.name}, Origin(str(path), 1))]


def assert_no_children_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_same_documents_in_the_same_order(tmp_path: Path, workers: int) -> None:
    paths = manifests(tmp_path, 11)
    parallel = parse_files(paths, workers=workers, min_bytes=0)
    serial = [parse_file(p) for p in paths]
    assert parallel == serial
    # documents still find their lines in their own file's text after the trip through a helper
    assert parallel[5][1].locate("name: p5-1") == serial[5][1].locate("name: p5-1")
    assert_no_children_left()


def test_the_work_is_shared_between_processes(tmp_path: Path) -> None:
    paths = manifests(tmp_path, 8)
    pids = {d.obj["pid"] for docs in parse_files(paths, workers=3, min_bytes=0, parse=by_pid) for d in docs}
    assert len(pids) == 3 and os.getpid() in pids
    assert_no_children_left()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_the_first_error_in_file_order_is_raised(tmp_path: Path, workers: int) -> None:
    paths = manifests(tmp_path, 9, bad=(4, 7))
    with pytest.raises(InputError) as exc:
        parse_files(paths, workers=workers, min_bytes=0)
    assert exc.value.origin.file == str(paths[4])
    assert_no_children_left()


def test_a_helper_that_dies_is_replaced_by_parsing_here(tmp_path: Path) -> None:
    parent = os.getpid()

    def dies_in_helpers(path: Path) -> list[Document]:
        if os.getpid() != parent:
            os._exit(3)
        return parse_file(path)

    paths = manifests(tmp_path, 6)
    assert parse_files(paths, workers=3, min_bytes=0, parse=dies_in_helpers) == [parse_file(p) for p in paths]
    assert_no_children_left()


def test_one_process_when_small_configured_or_threaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = manifests(tmp_path, 6)

    def pids(workers: int | None = None, min_bytes: int = MIN_PARALLEL_BYTES) -> set[int]:
        parsed = parse_files(paths, parse=by_pid, workers=workers, min_bytes=min_bytes)
        return {d.obj["pid"] for docs in parsed for d in docs}

    assert pids(workers=4) == {os.getpid()}  # under MIN_PARALLEL_BYTES
    assert pids(workers=1, min_bytes=0) == {os.getpid()}
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert pids(min_bytes=0) == {os.getpid()}
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert len(pids(min_bytes=0)) == 2
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert pids(workers=4, min_bytes=0) == {os.getpid()}  # forking beside a thread is unsafe
    finally:
        stop.set()
        thread.join()


def test_shares_are_balanced_by_size() -> None:
    shares = _balance([100, 1, 1, 50, 50, 2], 2)
    assert sorted(i for share in shares for i in share) == list(range(6))
    assert [sum([100, 1, 1, 50, 50, 2][i] for i in share) for share in shares] == [102, 102]


def test_the_collector_is_paused_while_parsing_and_restored(tmp_path: Path) -> None:
    seen: list[bool] = []

    def spy(path: Path) -> list[Document]:
        seen.append(gc.isenabled())
        return parse_file(path)

    paths = manifests(tmp_path, 3)
    assert gc.isenabled()
    parse_files(paths, workers=1, parse=spy)
    assert seen == [False, False, False] and gc.isenabled()
    gc.disable()
    try:
        parse_files(paths, workers=1)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


@pytest.mark.parametrize("workers", [1, 3])
def test_progress_counts_bytes_up_to_the_total(tmp_path: Path, workers: int) -> None:
    paths = manifests(tmp_path, 7)
    total = sum(p.stat().st_size for p in paths)
    calls: list[tuple[int, int]] = []
    parse_files(paths, workers=workers, min_bytes=0, progress=lambda done, of: calls.append((done, of)))
    assert calls[-1] == (total, total)
    assert all(of == total for _, of in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and 0 < done[0] < total


def test_a_bad_workers_setting_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "many")
    with pytest.raises(UsageError, match="KUBEFENCE_WORKERS='many': give a number of processes"):
        parse_files(manifests(tmp_path, 2), min_bytes=0)
