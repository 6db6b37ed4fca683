"""Cutting mainframe data sets into records: F/FB strides, V/VB RDW chains, BDW blocks, a bad
RDW resynchronised, padding at the end; every physical record accounted for."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract.mainframe import MainframeOptions, RecordBlock, read_blocks
from etl.extract.mainframe.framing import gather_records


def options(**keys: object) -> MainframeOptions:
    return MainframeOptions.model_validate({"charset": "ibm930", **keys})


def rdw(data: bytes) -> bytes:
    return struct.pack(">HH", len(data) + 4, 0) + data


def bdw(records: bytes) -> bytes:
    return struct.pack(">HH", len(records) + 4, 0) + records


def read(path: Path, opts: MainframeOptions, chunk: int = 1000) -> list[RecordBlock]:
    blocks = list(read_blocks(path, opts, chunk))
    for b in blocks:
        assert b.records_in == b.data.shape[0] + len(b.broken)
    return blocks


def rows(blocks: list[RecordBlock]) -> list[bytes]:
    return [bytes(b.data[i, : b.lengths[i]]) for b in blocks for i in range(b.data.shape[0])]


def test_fixed_records_and_a_cut_last_record(tmp_path: Path) -> None:
    path = tmp_path / "F.DAT"
    path.write_bytes(b"".join(bytes([i]) * 10 for i in range(7)) + b"\x01\x02\x03")
    blocks = read(path, options(recfm="FB", record_length=10), chunk=3)
    assert [b.data.shape[0] for b in blocks] == [3, 3, 1]
    assert rows(blocks)[6] == b"\x06" * 10
    (cut,) = blocks[-1].broken
    assert (cut.record_no, cut.byte_offset, cut.raw) == (8, 70, b"\x01\x02\x03")
    assert "3 bytes, expected 10" in cut.reason and blocks[-1].last


def test_variable_records_of_every_length(tmp_path: Path) -> None:
    datas = [bytes([0xC1 + i % 9]) * (5 + 7 * (i % 6)) for i in range(50)]
    path = tmp_path / "V.DAT"
    path.write_bytes(b"".join(rdw(d) for d in datas))
    blocks = read(path, options(recfm="VB"), chunk=7)
    assert rows(blocks) == datas
    offsets = np.concatenate([b.byte_offset for b in blocks])
    assert offsets.tolist() == np.cumsum([0] + [len(d) + 4 for d in datas[:-1]]).tolist()
    assert blocks[0].data_offset == 4
    numbers = np.concatenate([b.record_no for b in blocks]).tolist()
    assert numbers == list(range(1, 51))


def test_bad_rdw_is_one_reject_and_reading_resumes(tmp_path: Path) -> None:
    good = [rdw(bytes([0xF0 + i]) * 20) for i in range(6)]
    damaged = b"\xff\xff" + good[2][2:]  # record 3's RDW overwritten
    path = tmp_path / "V.DAT"
    path.write_bytes(b"".join([good[0], good[1], damaged, *good[3:]]))
    blocks = read(path, options(recfm="VB", record_length=100))
    assert [r[0] for r in rows(blocks)] == [0xF0, 0xF1, 0xF3, 0xF4, 0xF5]
    broken = [x for b in blocks for x in b.broken]
    assert len(broken) == 1
    (bad,) = broken
    assert bad.record_no == 3 and bad.byte_offset == 48 and len(bad.raw) == 24
    assert "invalid RDW" in bad.reason and "resumes at byte offset 72" in bad.reason
    assert np.concatenate([b.record_no for b in blocks]).tolist() == [1, 2, 4, 5, 6]


def test_cut_last_record_and_zero_padding(tmp_path: Path) -> None:
    path = tmp_path / "V.DAT"
    path.write_bytes(rdw(b"A" * 10) + rdw(b"B" * 10)[:9])
    blocks = read(path, options(recfm="V"))
    (cut,) = [x for b in blocks for x in b.broken]
    assert cut.record_no == 2 and "cut" in cut.reason and not cut.filler
    path.write_bytes(rdw(b"A" * 10) + b"\x00" * 30)
    (pad,) = [x for b in read(path, options(recfm="V")) for x in b.broken]
    assert pad.filler and pad.byte_offset == 14


def test_block_descriptors(tmp_path: Path) -> None:
    datas = [bytes([0xC1 + i]) * (3 + i) for i in range(9)]
    blocks_bytes = [
        bdw(b"".join(rdw(d) for d in datas[i : i + 4])) for i in range(0, len(datas), 4)
    ]
    path = tmp_path / "VB.DAT"
    path.write_bytes(b"".join(blocks_bytes))
    blocks = read(path, options(recfm="VB", block_descriptors=True), chunk=3)
    assert rows(blocks) == datas
    first = np.concatenate([b.byte_offset for b in blocks]).tolist()[:2]
    assert first == [4, 4 + 4 + 3]  # after the BDW
    path.write_bytes(blocks_bytes[0] + b"\x00\x03\x00\x00garbage")
    broken = [x for b in read(path, options(recfm="VB", block_descriptors=True)) for x in b.broken]
    assert len(broken) == 1 and "invalid BDW" in broken[0].reason


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "E.DAT"
    path.write_bytes(b"")
    for opts in (options(recfm="VB"), options(recfm="FB", record_length=8)):
        blocks = read(path, opts)
        assert sum(b.records_in for b in blocks) == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=300), min_size=0, max_size=150),
    st.integers(min_value=1, max_value=20),
)
def test_gather_matches_slicing(datas: list[bytes], chunk: int) -> None:
    buf = b"".join(rdw(d) for d in datas)
    starts, at = [], 0
    for d in datas:
        starts.append(at + 4)
        at += len(d) + 4
    out = gather_records(
        buf, np.array(starts, np.int64), np.array([len(d) for d in datas], np.int64)
    )
    for i, d in enumerate(datas):
        assert bytes(out[i, : len(d)]) == d
        assert not (out[i, len(d) :] != 0x40).any()


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=0, max_size=2000))
def test_garbage_never_crashes_and_balances(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("g") / "G.DAT"
    path.write_bytes(raw)
    for opts in (
        options(recfm="VB", record_length=200),
        options(recfm="VB", block_descriptors=True),
    ):
        blocks = read(path, opts, chunk=5)
        covered = sum(int(b.lengths.sum()) + 4 * b.data.shape[0] for b in blocks)
        covered += sum(len(x.raw) for b in blocks for x in b.broken)
        assert covered <= len(raw)


def naive_chain(buf: bytes, p: int, end: int, max_data: int, most: int) -> list[tuple[int, int]]:
    """The RDW chain from ``p`` one record at a time: what _Chains must find without a loop."""
    out: list[tuple[int, int]] = []
    while len(out) < most and p + 4 <= end:
        length, segment = struct.unpack_from(">HH", buf, p)
        if segment or not 4 < length <= max_data + 4 or p + length > end:
            break
        out.append((p, length))
        p += length
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=0, max_size=12), max_size=30),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
    st.integers(0, 20),
    st.integers(1, 40),
)
def test_vectorised_chain_matches_a_record_by_record_walk(
    datas: list[bytes], damage: list[tuple[int, int]], start: int, most: int
) -> None:
    from etl.extract.mainframe.framing import _Chains

    raw = bytearray(b"".join(rdw(d) for d in datas))  # zero-rich data: many false candidates
    for at, value in damage:
        if raw:
            raw[at % len(raw)] = value
    buf, start = bytes(raw), min(start, len(raw))
    chains = _Chains(buf, start, len(buf), 12)
    for p in range(start, len(buf) + 1):
        starts, lengths = chains.follow(p, most)
        got = list(zip(starts.tolist(), lengths.tolist(), strict=True))
        assert got == naive_chain(buf, p, len(buf), 12, most)


def test_walk_of_many_records_is_one_chain(tmp_path: Path) -> None:
    datas = [bytes([0x40 + i % 7]) * (1 + i % 13) for i in range(5000)]
    path = tmp_path / "v.dat"
    path.write_bytes(b"".join(rdw(d) for d in datas))
    blocks = read(path, options(recfm="VB", record_length=20), chunk=1234)
    assert rows(blocks) == datas
    assert [b.data.shape[0] for b in blocks] == [1234, 1234, 1234, 1234, 64]
