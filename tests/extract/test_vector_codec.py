"""The vectorised cp932 decoder agrees with Python's codec byte for byte, bad bytes included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract import decode, vector_codec
from etl.extract.decode import FieldBytes, decode_record_fields, decode_recording
from etl.extract.vector_codec import decode_to_utf8, tables

# bytes where cp932 is tricky: lead bytes, trail-only bytes, 外字 leads, the silent single
# bytes, structural bytes, half-width kana, and bytes no pair accepts as a second byte
_TRICKY = [0x00, 0x0A, 0x20, 0x40, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0x88, 0x9F, 0xA0, 0xA4, 0xDF]
_TRICKY += [0xE0, 0xEA, 0xEB, 0xED, 0xEE, 0xEF, 0xF0, 0xF9, 0xFA, 0xFC, 0xFD, 0xFE, 0xFF]
tricky_bytes = st.lists(st.sampled_from(_TRICKY), max_size=200).map(bytes)
any_bytes = st.binary(max_size=400)


def _codec(data: bytes) -> tuple[bytes, list[int]]:
    text, spans = decode_recording(data, "cp932")
    assert all(end - start == 1 for start, end in spans)
    return text.encode("utf-8"), [start for start, _ in spans]


def _vector(data: bytes) -> tuple[bytes, list[int]]:
    utf8, bad = decode_to_utf8(np.frombuffer(data, dtype=np.uint8))
    return utf8.tobytes(), bad.tolist()


@settings(max_examples=300, deadline=None)
@given(st.one_of(any_bytes, tricky_bytes))
def test_same_text_and_bad_bytes_as_python_codec(data: bytes) -> None:
    assert _vector(data) == _codec(data)


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(any_bytes, tricky_bytes))
def test_same_across_block_cuts(data: bytes) -> None:
    # tiny blocks: every cut (and the look-back past runs of lead bytes) is exercised
    with pytest.MonkeyPatch.context() as m:
        m.setattr(vector_codec, "_BLOCK", 5)
        m.setattr(vector_codec, "_LOOK_BACK", 2)
        assert _vector(data) == _codec(data)


def test_every_pair_and_single_byte_decodes_as_python_does() -> None:
    t = tables("cp932")
    for key in np.flatnonzero(t.pair).tolist():
        pair = bytes([key >> 8, key & 0xFF])
        assert _vector(pair) == _codec(pair)
    for byte in range(256):
        assert _vector(bytes([byte])) == _codec(bytes([byte]))


def test_gaiji_area_maps_to_private_use_in_order() -> None:
    assert _vector(b"\xf0\x40")[0] == "\ue000".encode()
    assert _vector(b"\xf0\x41\xf9\xfc")[0] == "\ue001\ue757".encode()


def test_silent_single_bytes_decode_as_python_does() -> None:
    assert _vector(b"\x80\xa0\xfd\xfe\xff")[0] == "\x80\uf8f0\uf8f1\uf8f2\uf8f3".encode()


def test_lone_lead_byte_at_the_end_is_one_bad_byte() -> None:
    assert _vector(b"A\x82") == ("A\ufffd".encode(), [1])


def _vector_utf8(data: bytes | memoryview, codec: str) -> tuple[bytes, list[tuple[int, int]]]:
    utf8, bad = decode_to_utf8(np.frombuffer(data, dtype=np.uint8), codec)
    return utf8.tobytes(), [(start, start + 1) for start in bad.tolist()]


records = st.integers(1, 12).flatmap(
    lambda width: st.lists(
        st.lists(st.sampled_from([*_TRICKY, 0x41, 0x82, 0xA0]), min_size=width, max_size=width),
        min_size=1,
        max_size=20,
    )
)


@settings(max_examples=150, deadline=None)
@given(rows=records)
def test_decoded_fields_as_with_python_codec(rows: list[list[int]]) -> None:
    arr = np.array(rows, dtype=np.uint8)
    width = arr.shape[1]
    fields = [FieldBytes(0, width)]
    codec = decode_record_fields(arr, fields, "cp932")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(decode, "decode_utf8", _vector_utf8)
        vector = decode_record_fields(arr, fields, "cp932")
    assert vector.values[0].to_list() == codec.values[0].to_list()
    assert vector.bad == codec.bad


# 0x89–0x97 lead full rows of JIS level 1 kanji, and each is a valid second byte of the others:
# a run of them is one long run of pair-capable bytes (crossing the 64-byte words of the scan)
long_runs = st.tuples(
    st.lists(st.sampled_from(_TRICKY), max_size=70).map(bytes),
    st.lists(st.integers(0x89, 0x97), min_size=60, max_size=300).map(bytes),
    st.lists(st.sampled_from(_TRICKY), max_size=70).map(bytes),
).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(long_runs)
def test_long_runs_of_pair_capable_bytes(data: bytes) -> None:
    assert _vector(data) == _codec(data)
    assert _vector(data * 3) == _codec(data * 3)


def test_large_buffer_across_default_blocks() -> None:
    rng = np.random.default_rng(11)
    text = "住民記録　ｼﾞｭｳﾐﾝ 東京都千代田区\n".encode("cp932") * 20_000
    noise = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    data = text + noise + text
    assert len(data) > 3 * vector_codec._BLOCK
    assert _vector(data) == _codec(data)
