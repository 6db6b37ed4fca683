"""Decode fixed-width byte fields and byte runs, recording every bad byte.

The fast path (benchmarks/bench_decode.py measures its codec): every text field of a block of
records is gathered into one byte grid, each value cut before its trailing spaces and followed
by a ``\\n``; the whole grid is decoded with one ``bytes.decode`` call and cut at the newlines
into one string array (``decode_record_fields``); digits fields and short all-ASCII text fields
need no codec. A codec error handler (free until it fires) records where each bad byte was, so
it can be mapped back to (row, byte offset within the record).
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

ERROR_HANDLER = "chukan.record_bad_bytes"
LF = 0x0A
# Bytes below 0x40 are never part of a multi-byte character in cp932, euc_jp or utf-8, so they
# stay structural (line feed, quote, comma, tab) whatever the encoding.
_STRUCTURAL_BELOW = 0x40
# cp932 decodes these single bytes without error (to U+0080, U+F8F0..U+F8F3): they are not text.
_CP932_SILENT_BYTES = frozenset({0x80, 0xA0, 0xFD, 0xFE, 0xFF})


@dataclass(frozen=True, slots=True)
class BadBytes:
    """One bad byte sequence in one value."""

    row: int  # 0-based row in the array (or record index) that was decoded
    offset: int  # byte offset within the record (fixed width) or within the decoded run
    raw: bytes  # the offending bytes
    reason: str  # English, specific


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


def _cut_reason(codec: str, raw: bytes) -> str:
    return (
        f"{codec} character cut at the field end: lead byte {hex_bytes(raw)} is the last byte of "
        "the field"
    )


# ---- every text and digits field of a block of fixed-width records, decoded at once ----------


@dataclass(frozen=True, slots=True)
class FieldBytes:
    """Where a text or digits field lies in a fixed-width record."""

    offset: int
    length: int
    digits: bool = False  # ASCII digits or spaces only: checked with numpy, never decoded


@dataclass(frozen=True, slots=True)
class DecodedFields:
    """The decoded values of each field (String, padding stripped) and the bad bytes found."""

    values: tuple[pl.Series, ...]  # per field; rows listed in ``bad`` are unreliable (U+FFFD)
    bad: tuple[tuple[BadBytes, ...], ...]  # per field, ordered by (row, offset)
    # rows whose values may hold a C0 or C1 control character (sorted, each once): the control
    # character screen (etl.extract.control_chars) need look at these rows only
    control_rows: NDArray[np.int64]
    # per field: whether some value may hold a private-use character (a vendor 外字 the gaiji
    # table may map); False is certain, so the 外字 step skips that column. None: not asked
    private_use: tuple[bool, ...] | None


@dataclass(frozen=True, slots=True)
class _Grid:
    """The slots of the gathered byte grid: each field's bytes, then a line feed."""

    offsets: tuple[int, ...]  # (fields,) where each field starts in the record
    starts: NDArray[np.int64]  # (fields,) first slot of each field
    lengths: NDArray[np.int64]  # (fields,)
    slots: int  # per record: every field's bytes and its line feed
    line_feeds: NDArray[np.intp]  # (fields,) the line feed slot after each field
    field_of: NDArray[np.intp]  # (slots,) the field of each slot


@lru_cache(maxsize=32)
def _grid(fields: tuple[FieldBytes, ...]) -> _Grid:
    lengths = np.array([f.length for f in fields], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
    field_of = np.repeat(np.arange(len(fields)), lengths + 1).astype(np.intp)
    return _Grid(
        offsets=tuple(f.offset for f in fields),
        starts=starts,
        lengths=lengths,
        slots=int(field_of.size),
        line_feeds=(starts + lengths).astype(np.intp),
        field_of=field_of,
    )


def decode_record_fields(
    records: NDArray[np.uint8],
    fields: Sequence[FieldBytes],
    codec: str,
    *,
    private_use: bool = False,
) -> DecodedFields:
    """Decode ``fields`` of every row of ``records`` (n, record_length), all in one go.

    The text fields' bytes are gathered into one grid, each value followed by a line feed and
    cut before its trailing spaces; the whole grid is decoded with one ``bytes.decode`` call and
    cut at the line feeds into one string array, from which each field takes every k-th value.
    Every value decodes as if alone (a line feed ends any character in every supported codec),
    so this equals decoding each value by itself, ``bytes.decode`` + rstrip. The digits fields,
    and each short text field whose bytes in the block are all printable ASCII (which every
    supported codec decodes to itself), are UTF-8 already: each is cut by Arrow, never decoded
    (for a short field the grid's work per value costs more than the codec's per byte).

    Bad: undecodable bytes, a multi-byte character cut at the field end, a line feed inside a
    field, (cp932) the bytes 0x80, 0xA0, 0xFD–0xFF that cp932 maps silently to non-text, and in
    digits fields any byte but 0-9 and space (shown as ``?``: those rows are rejected anyway).

    ``private_use``: name the fields whose values may hold a private-use character (a pass
    over the decoded text, ~5 ms per 100k JUMIN records: asked only where a gaiji table maps
    them).
    """
    fields = tuple(fields)
    values: dict[int, pl.Series] = {}
    bad: list[list[BadBytes]] = [[] for _ in fields]
    control_rows = np.empty(0, dtype=np.int64)
    if not records.shape[0]:
        empty = pl.Series(values=[], dtype=pl.String)
        nothing = tuple(False for _ in fields) if private_use else None
        return DecodedFields(
            tuple(empty for _ in fields), tuple(() for _ in fields), control_rows, nothing
        )
    pua = [False] * len(fields)  # ASCII and digits values hold none
    coded: list[int] = []  # the fields the codec decodes
    for i, spec in enumerate(fields):
        if not spec.digits and spec.length > _ASCII_TRIED:
            coded.append(i)
            continue
        raw = _field_bytes(records, spec)
        if spec.digits:
            _check_digits(raw, spec, bad[i])
        elif ((raw - np.uint8(0x20)) > 0x5E).any():  # not all of 0x20..0x7E
            coded.append(i)
            continue
        values[i] = _ascii_values(raw)
    if coded:
        part = tuple(fields[i] for i in coded)
        found: list[list[BadBytes]] = [[] for _ in part]
        strings, control_rows, text = _texts(records, part, codec, found)
        for i, series, problems in zip(coded, strings, found, strict=True):
            values[i], bad[i] = series, problems
        if private_use:
            for i, may in zip(coded, _private_use(text, len(part)), strict=True):
                pua[i] = may
    return DecodedFields(
        tuple(values[i] for i in range(len(fields))),
        tuple(tuple(sorted(b, key=lambda p: (p.row, p.offset))) for b in bad),
        control_rows,
        tuple(pua) if private_use else None,
    )


# Text fields of at most this many bytes are tried as printable ASCII (measured on the vendor-a
# JUMIN block: 1–8 byte codes and flags gain half their cost; a name or an address is rarely
# ASCII, and checking it would cost what the grid saves).
_ASCII_TRIED = 12


def _field_bytes(records: NDArray[np.uint8], spec: FieldBytes) -> NDArray[np.uint8]:
    """A copy of the field's bytes (n, length), its own (a digits field's bad bytes are then
    overwritten): each value copied as one item of its length, a quarter of the CPU of numpy's
    copy of a narrow 2-D slice."""
    part = records[:, spec.offset : spec.offset + spec.length]
    copied: NDArray[np.uint8] = part.view(f"V{spec.length}").copy().view(np.uint8)
    return copied.reshape(records.shape[0], spec.length)


def _ascii_values(raw: NDArray[np.uint8]) -> pl.Series:
    """The values of one field (n, length; contiguous) of ASCII bytes, each cut before its
    trailing spaces: the bytes are the UTF-8, one value every ``length`` bytes."""
    n, length = raw.shape
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int64)
    whole = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw))
    if (raw[:, -1] == 0x20).any():  # else no value has a space to cut (a full digits field)
        whole = pc.ascii_rtrim(whole, characters=" ")
    return pl.Series(whole.cast(pa.string_view()))


def _texts(
    records: NDArray[np.uint8],
    fields: tuple[FieldBytes, ...],
    codec: str,
    bad: list[list[BadBytes]],
) -> tuple[list[pl.Series], NDArray[np.int64], _Text]:
    """Text fields decoded: their values, the rows that may hold a control character, and the
    decoded text."""
    n, k = records.shape[0], len(fields)
    grid = _grid(fields)
    cells = _cells(records, grid)
    packed, lengths = _packed(cells, grid)
    del cells  # as large as the block: not held while the text is decoded
    text = _decode(packed, lengths.size, codec)
    if text.ends.size != n * k:  # a line feed inside a value would shift every later value
        cells = _cells(records, grid)
        _blank_line_feeds(cells, grid, fields, bad)
        packed, lengths = _packed(cells, grid)
        text = _decode(packed, lengths.size, codec)
        if text.ends.size != n * k:  # impossible unless the handler misbehaves
            raise RuntimeError(f"decoded {text.ends.size} values for {n * k} cells")
    if text.spans:
        _span_problems(records, text, lengths, fields, codec, bad)
    if codec == "cp932":
        _silent_problems(records, text, fields, bad)
    return _by_field(text.utf8, text.ends, k), _control_rows(text, k), text


def _by_field(utf8: bytes, ends: NDArray[np.intp], k: int) -> list[pl.Series]:
    """Each field's values, every k-th of the record-major values ending at ``ends``."""
    values = _strings(utf8, ends).to_frame("v")
    by_field = (pl.col("v").gather_every(2 * k, 2 * i).alias(str(i)) for i in range(k))
    return values.select(by_field).get_columns()


def _cells(records: NDArray[np.uint8], grid: _Grid) -> NDArray[np.uint8]:
    """(n, slots) the fields' bytes of every record, each field followed by a line feed. Each
    field is copied as one item of its length per record (half the CPU of a gather of its
    columns, np.take: measured on the vendor-a JUMIN block)."""
    cells = np.empty((records.shape[0], grid.slots), dtype=np.uint8)
    for offset, start, length in zip(
        grid.offsets, grid.starts.tolist(), grid.lengths.tolist(), strict=True
    ):
        item = f"V{length}"
        cells[:, start : start + length].view(item)[:, 0] = records[
            :, offset : offset + length
        ].view(item)[:, 0]
    cells[:, grid.line_feeds] = LF
    return cells


def _first_in_each_value(
    rows: NDArray[np.intp], slots: NDArray[np.intp], grid: _Grid
) -> list[tuple[int, int, int]]:
    """(row, field, column within the field) of the first of these slots in each value
    (``rows``, ``slots`` in row-major order)."""
    field = grid.field_of[slots]
    first = np.unique(rows * grid.starts.size + field, return_index=True)[1]
    col = slots[first] - grid.starts[field[first]]
    return list(zip(rows[first].tolist(), field[first].tolist(), col.tolist(), strict=True))


def _check_digits(raw: NDArray[np.uint8], spec: FieldBytes, bad: list[BadBytes]) -> None:
    """The first bad byte of each value of a digits field (``raw``: its bytes, n × length) that
    has one, then shown as ``?`` in ``raw``."""
    wrong = ((raw - np.uint8(0x30)) > 9) & (raw != 0x20)
    if not wrong.any():
        return
    rows, cols = np.nonzero(wrong)  # row-major: a row's first is its first bad byte
    first = np.unique(rows, return_index=True)[1]
    for row, col in zip(rows[first].tolist(), cols[first].tolist(), strict=True):
        one = bytes(raw[row, col : col + 1])
        bad.append(BadBytes(row, spec.offset + col, one, f"non-digit byte {hex_bytes(one)}"))
    raw[rows, cols] = 0x3F  # keep the text valid; these rows are rejected anyway


@dataclass(frozen=True, slots=True)
class _Text:
    """A grid decoded: its UTF-8, the line feed ending each value, the bad spans."""

    packed: NDArray[np.uint8]  # the bytes decoded: each value cut, then a line feed
    utf8: bytes
    ends: NDArray[np.intp]  # (n * fields,) the line feed after each value, record-major
    spans: list[tuple[int, int]]  # bad sequences in ``packed``
    controls: NDArray[np.intp]  # bytes below 0x20 that are not a line feed


def _packed(cells: NDArray[np.uint8], grid: _Grid) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Every value cut before its trailing ASCII spaces (0x20 is never part of a character),
    each followed by its line feed, record-major; and (n, fields) the length of each value.

    The grid is read as one string array whose values are each a field's bytes after the line
    feed before it (none before the first): Arrow's rtrim cuts every value and packs them
    together in one pass; the last value's line feed is then put back.
    """
    n, k = cells.shape[0], grid.starts.size
    m = n * k
    starts = (np.arange(n, dtype=np.int64)[:, None] * grid.slots + grid.starts[None, :]).ravel()
    offsets = np.empty(m + 1, dtype=np.int64)
    offsets[0], offsets[1:m], offsets[m] = 0, starts[1:] - 1, cells.size - 1
    whole = pa.LargeStringArray.from_buffers(m, pa.py_buffer(offsets), pa.py_buffer(cells))
    cut = pc.ascii_rtrim(whole, characters=" ")
    _, cut_offsets, cut_data = cut.buffers()
    ends = np.frombuffer(cut_offsets, dtype=np.int64, count=m + 1, offset=cut.offset * 8)
    packed = np.empty(int(ends[-1] - ends[0]) + 1, dtype=np.uint8)
    if cut_data is not None:
        packed[:-1] = np.frombuffer(cut_data, dtype=np.uint8)[int(ends[0]) : int(ends[-1])]
    packed[-1] = LF
    lengths = np.diff(ends)
    lengths[1:] -= 1  # each value but the first holds the line feed before it
    return packed, lengths.reshape(n, k)


def _decode(packed: NDArray[np.uint8], values: int, codec: str) -> _Text:
    """``packed`` (``values`` values, each followed by a line feed) decoded."""
    utf8, spans = decode_utf8(packed.data, codec)
    u = np.frombuffer(utf8, dtype=np.uint8)
    low = np.flatnonzero(u < 0x20)
    controls = np.empty(0, dtype=np.intp)
    if low.size != values:  # more than the line feeds: one inside a value, or controls
        is_lf = u[low] == LF
        low, controls = low[is_lf], low[~is_lf]
    return _Text(packed, utf8, low, spans, controls)


def _blank_line_feeds(
    cells: NDArray[np.uint8],
    grid: _Grid,
    fields: tuple[FieldBytes, ...],
    bad: list[list[BadBytes]],
) -> None:
    """Report each value holding a line feed (its first) and blank it in ``cells`` (rare)."""
    inside = cells == LF
    inside[:, grid.line_feeds] = False
    rows, slots = np.nonzero(inside)
    for row, f, col in _first_in_each_value(rows, slots, grid):
        at = fields[f].offset + col
        bad[f].append(BadBytes(row, at, b"\n", "line feed 0x0A inside a text field"))
        start = int(grid.starts[f])
        cells[row, start : start + int(grid.lengths[f])] = 0x20


def _span_problems(
    records: NDArray[np.uint8],
    text: _Text,
    lengths: NDArray[np.int64],
    fields: tuple[FieldBytes, ...],
    codec: str,
    bad: list[list[BadBytes]],
) -> None:
    """Each bad sequence named by its row, field and byte offset (rare: a loop is fine)."""
    k = len(fields)
    sizes = lengths.ravel() + 1
    begins = np.cumsum(sizes) - sizes  # where each value starts in ``packed``
    where = np.array([s for s, _ in text.spans], dtype=np.int64)
    cell = np.searchsorted(begins, where, side="right") - 1
    for (start, end), c in zip(text.spans, cell.tolist(), strict=True):
        row, f = divmod(c, k)
        spec = fields[f]
        col = start - int(begins[c])
        # cp932 names each bad byte alone (etl.extract.vector_codec checks it), whatever follows
        if codec == "cp932" and end - start == 1:
            raw = text.packed[start:end].tobytes()
        else:
            raw = _span_alone(text.packed, begins, sizes, c, k, start, codec)
        if col == spec.length - 1 and is_lead_byte(codec, raw[0]):
            reason = _cut_reason(codec, raw)
        else:
            field = records[row, spec.offset : spec.offset + spec.length]
            shown = raw if len(raw) > 1 else bytes(field[col : col + 2])
            reason = f"invalid {codec} byte sequence {hex_bytes(shown)}"
        bad[f].append(BadBytes(row, spec.offset + col, raw, reason))


def _span_alone(
    packed: NDArray[np.uint8],
    begins: NDArray[np.int64],
    sizes: NDArray[np.int64],
    cell: int,
    k: int,
    start: int,
    codec: str,
) -> bytes:
    """The bad sequence at ``start`` as it shows when the field's column is decoded alone, one
    value after another: what follows a value's line feed is then the next row's value of the
    field, or nothing after the last row. Codecs look ahead: euc_jp's 0x8F before the line feed
    that ends the input is one incomplete sequence of two bytes, else a bad byte alone.
    """
    tail = bytes(packed[start : begins[cell] + sizes[cell]])
    for below in (cell + k, cell + 2 * k):  # enough bytes for any sequence (at most 4)
        if below < begins.size:
            tail += bytes(packed[begins[below] : begins[below] + sizes[below]])
    _, spans = decode_recording(tail, codec)
    return tail[: spans[0][1]]


def _silent_problems(
    records: NDArray[np.uint8],
    text: _Text,
    fields: tuple[FieldBytes, ...],
    bad: list[list[BadBytes]],
) -> None:
    """cp932's silent bytes: their characters are U+0080 (C2 80) and U+F8F0..F8F3 (EF A3 B0..B3)
    in UTF-8, found on the UTF-8 bytes; the few values holding one are walked."""
    u = np.frombuffer(text.utf8, dtype=np.uint8)
    hits = [_followed_by(text.utf8, 0xC2, 0x80, 0x80)]
    if u.size > 2:
        # 0xA3 first: 0xEF also leads every half-width katakana
        a3 = np.flatnonzero(u[1:-1] == 0xA3) + 1
        a3 = a3[(u[a3 - 1] == 0xEF) & (u[a3 + 1] >= 0xB0) & (u[a3 + 1] <= 0xB3)]
        hits.append(a3 - 1)
    at = np.concatenate(hits)
    if not at.size:
        return
    k = len(fields)
    for c in np.unique(np.searchsorted(text.ends, at)).tolist():  # rare: rejected records
        row, f = divmod(c, k)
        spec = fields[f]
        value = records[row, spec.offset : spec.offset + spec.length].tobytes()
        for col in cp932_silent_positions(value):
            raw = value[col : col + 1]
            reason = f"cp932 byte {hex_bytes(raw)} is not a character"
            bad[f].append(BadBytes(row, spec.offset + col, raw, reason))


def _followed_by(utf8: bytes, lead: int, low: int, high: int) -> NDArray[np.intp]:
    """Where ``lead`` is followed by a byte in ``low..high`` (a byte search first: rare)."""
    if bytes([lead]) not in utf8:
        return np.empty(0, dtype=np.intp)
    u = np.frombuffer(utf8, dtype=np.uint8)
    at = np.flatnonzero(u[:-1] == lead)
    follow = u[at + 1]
    found: NDArray[np.intp] = at[(follow >= low) & (follow <= high)]
    return found


def _strings(utf8: bytes, ends: NDArray[np.intp]) -> pl.Series:
    """Every value (record-major) at an even place, what is cut after it at the odd place after:
    its full-width padding (U+3000, with any spaces among it; ASCII spaces are cut before
    decoding) and its line feed. Nothing is copied out of the UTF-8: the
    odd places are dropped by the gather that takes each field's values (``_by_field``)."""
    offsets = np.empty(2 * ends.size + 1, dtype=np.int64)
    offsets[0] = 0
    u = np.frombuffer(utf8, dtype=np.uint8)
    offsets[1::2] = _without_wide_padding(u, ends)
    offsets[2::2] = ends + 1
    arr = pa.LargeStringArray.from_buffers(2 * ends.size, pa.py_buffer(offsets), pa.py_buffer(utf8))
    # pyarrow builds the string views polars holds (much faster than polars' own conversion)
    return pl.Series(arr.cast(pa.string_view()))


def _without_wide_padding(u: NDArray[np.uint8], ends: NDArray[np.intp]) -> NDArray[np.intp]:
    """Where each value ends once trailing U+3000 and spaces are stripped."""
    # U+3000 is E3 80 80; a value's last byte is never an ASCII space (cut before decoding)
    todo = np.flatnonzero(u[ends - 1] == 0x80)
    if not todo.size:
        return ends
    cut = ends.copy()
    begins = np.where(todo > 0, ends[todo - 1] + 1, 0)
    while todo.size:
        end = cut[todo]
        last = [u[np.maximum(end - back, 0)] for back in (1, 2, 3)]
        wide = (end - begins >= 3) & (last[0] == 0x80) & (last[1] == 0x80) & (last[2] == 0xE3)
        space = (end > begins) & (last[0] == 0x20)
        step = np.where(wide, 3, np.where(space, 1, 0))
        more = step > 0
        todo, begins = todo[more], begins[more]
        cut[todo] -= step[more]
    return cut


def _private_use(text: _Text, k: int) -> list[bool]:
    """Per field (of ``k``, values record-major), whether some value may hold a private-use
    character: U+E000–U+F8FF (EE, or EF then 80–A3 in UTF-8) or planes 15–16 (F3 then B0–BF,
    F4 then 80–8F; a U+FFFD's EF BF BD is not one). Byte searches first: such values are rare.
    """
    utf8 = text.utf8
    u = np.frombuffer(utf8, dtype=np.uint8)
    found = [_followed_by(utf8, 0xF3, 0xB0, 0xBF), _followed_by(utf8, 0xF4, 0x80, 0x8F)]
    if b"\xee" in utf8:
        found.append(np.flatnonzero(u == 0xEE))
    # EF leads every half-width katakana (EF BD, EF BE): tested whole-array, located if found
    pairs = (u[:-1] == 0xEF) & (u[1:] <= 0xA3)
    if pairs.any():
        found.append(np.flatnonzero(pairs))
    at = np.concatenate(found)
    hit = [False] * k
    for f in np.unique(np.searchsorted(text.ends, at) % k).tolist():
        hit[f] = True
    return hit


def _control_rows(text: _Text, k: int) -> NDArray[np.int64]:
    """Rows whose text may hold a control character: a byte below 0x20 other than the line
    feeds, DEL (0x7F), or a C1 control (C2 80..C2 9F in UTF-8)."""
    utf8 = text.utf8
    found = [text.controls]
    u = np.frombuffer(utf8, dtype=np.uint8)
    if b"\x7f" in utf8:
        found.append(np.flatnonzero(u == 0x7F))
    found.append(_followed_by(utf8, 0xC2, 0x80, 0x9F))
    at = np.concatenate(found)
    if not at.size:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.searchsorted(text.ends, at) // k).astype(np.int64)
