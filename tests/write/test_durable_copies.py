"""What a run keeps is durable before it is published: copies go through one staged copy
(owner-only, hashed as written, synced, renamed whole) and a published folder's rename is
synced in its parent. Checked against oracles (hashlib, the bytes joined) and by recording the
fsync calls: what is synced is named by the descriptor's path."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etl.write.atomic as atomic
from etl.pipeline.snapshot import read_inputs, write_snapshot
from etl.write import copy_staged, staged_dir


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return synced


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000), chunk=st.integers(1, 700))
def test_a_staged_copy_is_the_source_hashed_owner_only_and_fed_block_by_block(
    data: bytes, chunk: int, tmp_path: Path
) -> None:
    dest = tmp_path / f"copy-{chunk}-{len(data)}.csv"
    fed: list[bytes] = []
    written = copy_staged(io.BytesIO(data), dest, chunk=chunk, feed=fed.append)
    assert dest.read_bytes() == data == b"".join(fed)
    assert (written.bytes, written.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


class _BrokenSource(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError(5, "Input/output error")
        return b"x" * 10


def test_a_copy_whose_source_fails_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="Input/output"):
        copy_staged(_BrokenSource(), tmp_path / "copy.csv", chunk=10)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_copy_is_synced_before_it_is_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _record_fsyncs(monkeypatch)
    copy_staged(io.BytesIO(b"abc"), tmp_path / "copy.csv")
    assert len(synced) == 1 and Path(synced[0]).name.startswith(".copy.csv.")


def test_a_published_folder_is_synced_in_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = _record_fsyncs(monkeypatch)
    final = tmp_path / "run"
    with staged_dir(final, replace=False) as stage:
        (stage / "a.csv").write_bytes(b"a")
    assert (final / "a.csv").read_bytes() == b"a"
    assert synced[-1] == str(tmp_path)


def test_every_file_a_run_keeps_of_its_inputs_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = tmp_path / "vendor"
    (vendor / "codes").mkdir(parents=True)
    (vendor / "source.yaml").write_text("vendor: x\n")
    (vendor / "codes" / "sex.csv").write_text("code,name\n1,男\n")
    standard = tmp_path / "standard"
    standard.mkdir()
    (standard / "juki.yaml").write_text("layout: juki\n")
    inputs, layouts = read_inputs(vendor), read_inputs(standard)
    stage = tmp_path / "stage"
    stage.mkdir()
    synced = _record_fsyncs(monkeypatch)
    snapshot = write_snapshot(stage, inputs, None, layouts, "2.1")
    kept = [f.path for f in (*snapshot.vendor.files, *snapshot.standard.files)]
    assert len(kept) == 3
    assert sorted(Path(p).name.split(".")[1] for p in synced) == ["juki", "sex", "source"]
