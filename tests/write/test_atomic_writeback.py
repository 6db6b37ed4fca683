"""etl.write.atomic: a staged file hands its pages to the disk's write-back as it grows.

The write-back only moves the disk's work earlier; what is published (bytes, size, SHA-256,
0600, whole or nothing) is checked against an oracle (the pieces joined, hashlib), whatever
the pieces and wherever the steps fall.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etl.write.atomic as atomic
from etl.write import StagedFile

PIECES = st.lists(st.binary(max_size=300), max_size=40)


def _publish(path: Path, pieces: list[bytes]) -> atomic.WrittenFile:
    staged = StagedFile(path)
    for piece in pieces:
        staged.write(piece)
    return staged.publish()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=PIECES, step=st.integers(1, 512))
def test_a_staged_file_publishes_what_was_written_whatever_the_steps(
    pieces: list[bytes], step: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(atomic, "WRITEBACK_STEP", step)
    path = tmp_path / "out.csv"
    written = _publish(path, pieces)
    whole = b"".join(pieces)
    assert path.read_bytes() == whole
    assert (written.bytes, written.sha256) == (len(whole), hashlib.sha256(whole).hexdigest())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temp file left beside it


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=PIECES, step=st.integers(1, 512))
def test_write_back_is_asked_for_each_step_once_its_bytes_are_in_the_file(
    pieces: list[bytes], step: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[int, int]] = []

    def record(fd: int, offset: int, length: int) -> None:
        assert os.fstat(fd).st_size >= offset + length  # flushed out of Python's buffer first
        asked.append((offset, length))

    monkeypatch.setattr(atomic, "WRITEBACK_STEP", step)
    monkeypatch.setattr(atomic, "start_writeback", record)
    path = tmp_path / "out.csv"
    path.unlink(missing_ok=True)
    written = _publish(path, pieces)
    # contiguous from 0, each at least a step, the rest (under a step) left to the fsync
    ends = [0]
    for offset, length in asked:
        assert offset == ends[-1] and length >= step
        ends.append(offset + length)
    assert written.bytes - ends[-1] < step


def test_a_refused_write_back_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel or file system without sync_file_range (or one refusing it): the file is
    still written and synced at publish."""
    monkeypatch.setattr(atomic, "WRITEBACK_STEP", 4)
    monkeypatch.setattr(atomic, "_sync_file_range", lambda: lambda *_: -1)
    written = _publish(tmp_path / "out.csv", [b"abcdef", b"ghij", b"k"])
    assert (tmp_path / "out.csv").read_bytes() == b"abcdefghijk"
    assert written.bytes == 11


def test_write_back_of_a_real_file_and_of_what_is_not_one(tmp_path: Path) -> None:
    """The real call: on a file it queues the pages; on a pipe (ESPIPE) or a range past the
    end it is refused quietly."""
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10_000)
    fd = os.open(path, os.O_RDWR)
    try:
        atomic.start_writeback(fd, 0, 10_000)
        atomic.start_writeback(fd, 1 << 40, 1 << 20)
        atomic.start_writeback(fd, 0, 0)
    finally:
        os.close(fd)
    read_end, write_end = os.pipe()
    try:
        atomic.start_writeback(write_end, 0, 4096)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert path.read_bytes() == b"x" * 10_000
