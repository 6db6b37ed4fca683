"""Decode columns of fixed-width byte fields, and byte runs, recording every bad byte.

The fast path (see MEASURED.md): per field, copy the column slice, append a ``\\n`` column, decode
the whole buffer with one ``bytes.decode`` call, and cut the result at the newlines into an Arrow
string array. A codec error handler (free until it fires) records where each bad byte was, so it
can be mapped back to (row, byte offset within the record).
"""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

ERROR_HANDLER = "chukan.record_bad_bytes"
PADDING = " \u3000"  # half-width and full-width space: values are stored space-padded
LF = 0x0A
_WIDE_PAD = "\u3000".encode()  # full-width space in UTF-8
# Bytes below 0x40 are never part of a multi-byte character in cp932, euc_jp or utf-8, so they
# stay structural (line feed, quote, comma, tab) whatever the encoding.
_STRUCTURAL_BELOW = 0x40
# cp932 decodes these single bytes without error (to U+0080, U+F8F0..U+F8F3): they are not text.
_CP932_SILENT_BYTES = frozenset({0x80, 0xA0, 0xFD, 0xFE, 0xFF})
_CP932_SILENT_CHARS = re.compile("[\x80\uf8f0-\uf8f3]")
CP932_SILENT_PATTERN = _CP932_SILENT_CHARS.pattern


@dataclass(frozen=True, slots=True)
class BadBytes:
    """One bad byte sequence in one value."""

    row: int  # 0-based row in the array (or record index) that was decoded
    offset: int  # byte offset within the record (fixed width) or within the decoded run
    raw: bytes  # the offending bytes
    reason: str  # English, specific


@dataclass(frozen=True, slots=True)
class DecodedColumn:
    """Decoded values (String, padding stripped) and the bad bytes found, ordered by row."""

    values: pl.Series  # values of rows listed in ``bad`` are unreliable (hold U+FFFD)
    bad: tuple[BadBytes, ...]


class _Spans(threading.local):
    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []


_state = _Spans()


def _record_bad_bytes(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    _state.spans.append((err.start, err.end))
    end = err.end
    obj = err.object
    # Never swallow a structural byte (the newline separating values, a quote, a delimiter):
    # resuming at it keeps values aligned with rows.
    for i in range(err.start + 1, err.end):
        if obj[i] < _STRUCTURAL_BELOW:
            end = i
            break
    return "\ufffd", end


@cache
def _register_handler() -> None:
    codecs.register_error(ERROR_HANDLER, _record_bad_bytes)


def decode_recording(data: bytes | memoryview, codec: str) -> tuple[str, list[tuple[int, int]]]:
    """Decode ``data``; return the text and the (start, end) byte span of every bad sequence.

    Bad sequences become U+FFFD. Spans never cover a byte below 0x40, so structural bytes survive.
    """
    _register_handler()
    _state.spans = []
    text = codecs.decode(data, codec, ERROR_HANDLER)
    spans, _state.spans = _state.spans, []
    return text, spans


def decode_utf8(data: bytes | memoryview, codec: str) -> tuple[bytes, list[tuple[int, int]]]:
    """``data`` decoded as ``codec`` and re-encoded as UTF-8, with the spans of its bad bytes.

    Python's codec, cp932 included: etl.extract.vector_codec decodes cp932 identically without
    the GIL, but costs about three times the CPU, and on two cores neither it nor worker
    processes made extraction faster (benchmarks/bench_decode.py).
    """
    text, spans = decode_recording(data, codec)
    return text.encode("utf-8"), spans


def is_lead_byte(codec: str, byte: int) -> bool:
    """Whether ``byte`` starts a multi-byte character in ``codec``."""
    if codec == "cp932":
        return 0x81 <= byte <= 0x9F or 0xE0 <= byte <= 0xFC
    if codec == "euc_jp":
        return byte in (0x8E, 0x8F) or 0xA1 <= byte <= 0xFE
    if codec == "utf-8":
        return 0xC2 <= byte <= 0xF4
    return False


def cp932_silent_positions(value: bytes) -> list[int]:
    """Positions of bytes cp932 decodes silently to non-characters (0x80, 0xA0, 0xFD–0xFF)."""
    # A small cp932 walker, run only on the rare values whose text shows such a character.
    out: list[int] = []
    i, n = 0, len(value)
    while i < n:
        b = value[i]
        if is_lead_byte("cp932", b) and i + 1 < n and (0x40 <= value[i + 1] <= 0xFC):
            i += 2 if value[i + 1] != 0x7F else 1
            continue
        if b in _CP932_SILENT_BYTES:
            out.append(i)
        i += 1
    return out


def hex_bytes(raw: bytes) -> str:
    """Bytes as a reject reason shows them: ``0x81 0x20``."""
    return " ".join(f"0x{b:02X}" for b in raw)


def _trimmed_lengths(field: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Length of each row without trailing ASCII spaces (0x20 is never inside a character)."""
    n, length = field.shape
    nonspace = field != 0x20
    if length == 1:
        single: NDArray[np.int64] = nonspace[:, 0].astype(np.int64)
        return single
    # the last non-space byte is the first one from the end (argmax finds the first True);
    # a row of spaces has none there either: its length is 0
    from_end = np.argmax(nonspace[:, ::-1], axis=1)
    last: NDArray[np.int64] = (length - from_end).astype(np.int64)
    last[~nonspace[np.arange(n), length - 1 - from_end]] = 0
    return last


def _pack_lines(field: NDArray[np.uint8], lengths: NDArray[np.int64]) -> NDArray[np.uint8]:
    """Row bytes up to ``lengths``, each followed by a line feed, packed into one buffer."""
    n, length = field.shape
    buf = np.empty((n, length + 1), dtype=np.uint8)
    buf[:, :length] = field
    buf[:, length] = LF
    keep = np.arange(length + 1)[None, :] < lengths[:, None]
    keep[:, length] = True
    packed: NDArray[np.uint8] = buf[keep]
    return packed


def _strings_from_lines(utf8: bytes, ends: NDArray[np.intp], trim_wide: bool) -> pl.Series:
    """Cut newline-terminated UTF-8 into strings at ``ends`` without a Python loop over values."""
    n = ends.size
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(utf8))
    # Each value still ends with its newline; full-width padding needs the (slower) UTF-8 trim.
    trimmed = pc.utf8_rtrim(arr, PADDING + "\n") if trim_wide else pc.ascii_rtrim(arr, "\n")
    return pl.Series(trimmed)


def _cut_reason(codec: str, raw: bytes) -> str:
    return (
        f"{codec} character cut at the field end: lead byte {hex_bytes(raw)} is the last byte of "
        "the field"
    )


def decode_field(records: NDArray[np.uint8], offset: int, length: int, codec: str) -> DecodedColumn:
    """Decode bytes ``[offset, offset+length)`` of every row of ``records`` (n, record_length).

    Bad: undecodable bytes, a multi-byte character cut at the field end, a line feed inside the
    field, and (cp932) the bytes 0x80, 0xA0, 0xFD–0xFF that cp932 maps silently to non-text.
    """
    field = records[:, offset : offset + length]
    lengths = _trimmed_lengths(field)
    packed = _pack_lines(field, lengths)
    utf8, spans = decode_utf8(packed.data, codec)
    ends = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == LF)
    bad: list[BadBytes] = []
    if ends.size != field.shape[0]:
        # A line feed inside a value would shift every later value: report those rows and blank
        # them (rare, so decoding twice is fine).
        lf_mask = field == LF
        lf_rows = np.flatnonzero(lf_mask.any(axis=1))
        first = lf_mask[lf_rows].argmax(axis=1)
        for row, col in zip(lf_rows.tolist(), first.tolist(), strict=True):
            bad.append(BadBytes(row, offset + col, b"\n", "line feed 0x0A inside a text field"))
        field = field.copy()
        field[lf_rows] = 0x20
        lengths = _trimmed_lengths(field)
        packed = _pack_lines(field, lengths)
        utf8, spans = decode_utf8(packed.data, codec)
        ends = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == LF)
        if ends.size != field.shape[0]:  # impossible unless the handler misbehaves
            raise RuntimeError(f"decoded {ends.size} values for {field.shape[0]} rows")

    if spans:
        starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
        pos = np.array([s for s, _ in spans], dtype=np.int64)
        rows = np.searchsorted(starts, pos, side="right") - 1
        for (start, end), row in zip(spans, rows.tolist(), strict=True):
            col = start - int(starts[row])
            raw = bytes(packed[start:end])
            if col == length - 1 and is_lead_byte(codec, raw[0]):
                reason = _cut_reason(codec, raw)
            else:
                shown = raw if len(raw) > 1 else bytes(field[row, col : col + 2])
                reason = f"invalid {codec} byte sequence {hex_bytes(shown)}"
            bad.append(BadBytes(row, offset + col, raw, reason))

    values = _strings_from_lines(utf8, ends, trim_wide=_WIDE_PAD in utf8)

    # U+0080 is C2 80 and U+F8F0..F8F3 start EF A3 in UTF-8: a cheap byte search first.
    if codec == "cp932" and (b"\xc2\x80" in utf8 or b"\xef\xa3" in utf8):
        for row in values.str.contains(CP932_SILENT_PATTERN).arg_true().to_list():
            value = bytes(field[row])  # rare rows only: a per-row walk is fine here
            for col in cp932_silent_positions(value):
                raw = value[col : col + 1]
                bad.append(
                    BadBytes(
                        row, offset + col, raw, f"cp932 byte {hex_bytes(raw)} is not a character"
                    )
                )

    bad.sort(key=lambda b: (b.row, b.offset))
    return DecodedColumn(values, tuple(bad))


def check_digits(records: NDArray[np.uint8], offset: int, length: int) -> DecodedColumn:
    """ASCII digits (0-9 or space) field: no decoding, checked with numpy, padding stripped."""
    n = records.shape[0]
    data = np.ascontiguousarray(records[:, offset : offset + length])
    ok = ((data >= 0x30) & (data <= 0x39)) | (data == 0x20)
    bad_rows = np.flatnonzero(~ok.all(axis=1))
    bad: list[BadBytes] = []
    if bad_rows.size:
        first = (~ok[bad_rows]).argmax(axis=1)
        for row, col in zip(bad_rows.tolist(), first.tolist(), strict=True):
            raw = bytes(data[row, col : col + 1])
            bad.append(BadBytes(row, offset + col, raw, f"non-digit byte {hex_bytes(raw)}"))
        data = data.copy()
        data[~ok] = 0x3F  # keep the Arrow buffer valid UTF-8; these rows are rejected anyway
    offsets = np.arange(n + 1, dtype=np.int64) * length
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    return DecodedColumn(pl.Series(arr).str.strip_chars_end(" "), tuple(bad))
