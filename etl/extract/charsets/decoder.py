"""The vectorised decoder: a column of field values → text, first error, 外字, special values.

Values are decoded in blocks of rows (about 256 KiB), each a 2-D array of bytes (rows ×
longest value; shorter values padded, the padding marked): every step is a numpy operation
over a whole block, in numpy's C loops, which release the GIL, so blocks run on a thread pool.

How a block decodes, without a loop over rows:

1. In mixed text, every shift sequence is found by comparing the bytes with it (its bytes are
   no valid code byte, so it never hides inside a double-byte code). The shifts and the row
   starts cut the block into runs; each run is single-byte or double-byte text, and
   ``np.repeat`` gives every byte its run's state.
2. In a double-byte run the pairs count from the run's first text byte, so a byte is a pair's
   first byte when its distance from there is even (pure-DBCS fields: an even column); a
   first byte whose second byte is cut off (by a shift or the value's end) is an error.
3. Each byte gets an index into the lookup tables (etl.extract.charsets.tables): a single
   byte, the first or the second half of a pair, or nothing. One gather gives its UTF-8 bytes,
   one its length, one its flags (invalid, unmapped vendor code). Trailing spaces (SBCS 0x40,
   the DBCS spaces) are padding: stripped from the decoded column by polars.

Pure-DBCS rows of an even width skip steps 1–2: each pair is read as a big-endian uint16 code
(``_decode_pairs``), half the units, the same tables and results.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

from etl.extract.charsets.families import CHARSET_NAMES, FAMILIES, Family
from etl.extract.charsets.tables import (
    DOUBLE,
    INVALID,
    LONE,
    SECOND,
    SHIFT,
    SILENT,
    VENDOR,
    LookupTables,
    build,
    private_use_code,
    sbcs_table,
)
from etl.extract.vector_codec import gather_utf8

LOW_VALUES = "low-values"  # a value of bytes 0x00 only
HIGH_VALUES = "high-values"  # a value of bytes 0xFF only
PADDING = " \u3000"  # what SBCS 0x40 and the DBCS spaces decode to: stripped when trailing
_BLOCK_BYTES = 1 << 18  # bytes decoded per block: its arrays stay small, blocks run in parallel


class TextMode(StrEnum):
    """How a field's bytes are laid out."""

    SBCS = "sbcs"  # single-byte only: a shift code is an error
    MIXED = "mixed"  # single-byte, with shift sequences into and out of double-byte text
    DBCS = "dbcs"  # pure double-byte (PIC N / PIC G): no shift codes; one inside is an error


@dataclass(frozen=True, slots=True)
class CharsetSpec:
    """Which charset a file is in (what a source profile says about it).

    ``sbcs``: the single-byte page: ``"ebcdic"`` (CCSID 1027, Latin), ``"ebcdik"`` (CCSID 290,
    katakana), or the path of a ``code,ucs`` CSV of up to 256 entries (2-hex-digit codes);
    None is the IBM charset's own page (JEF, KEIS and JIPS have none: the file must say).
    ``dbcs_in`` / ``dbcs_out``: the shift sequences (1 or 2 bytes each) into and out of
    double-byte text; None is the charset's default (JEF 0x28 or 0x38 / 0x29, KEIS 0x0A42 /
    0x0A41, JIPS(J) 0x1A70 / 0x1A71, JIPS(E) 0x3F75 / 0x3F76, IBM 0x0E / 0x0F).
    ``gaiji``: the vendor's 外字 table (the etl.text gaiji CSV: code,ucs,name, codes in the
    charset's user-defined or extension areas).
    """

    name: str
    sbcs: str | None = None
    dbcs_in: tuple[bytes, ...] | None = None
    dbcs_out: tuple[bytes, ...] | None = None
    gaiji: Path | None = None

    def __post_init__(self) -> None:
        if self.name not in FAMILIES:
            raise ValueError(
                f"unknown charset {self.name!r}; use one of {', '.join(CHARSET_NAMES)}"
            )
        if self.sbcs is None and FAMILIES[self.name].default_sbcs is None:
            raise ValueError(f"charset {self.name} needs sbcs: ebcdic, ebcdik or a table's path")
        for seqs in (self.dbcs_in, self.dbcs_out):
            if seqs is not None and (not seqs or any(len(s) not in (1, 2) for s in seqs)):
                raise ValueError("a shift sequence is 1 or 2 bytes, and at least one is needed")


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Equal-length columns, one row per value.

    ``text``: String, padding stripped; null for low-values, high-values and null input; a bad
    byte or code shows as U+FFFD (a preview: the value is an error). ``error_offset``: Int64,
    null when the value decoded, else the byte offset of its first bad byte or code within the
    value. ``error_reason``: String, null or what is wrong ("invalid JEF code 0x7F21").
    ``gaiji``: List(String), the unmapped vendor codes in the value in order ("80A1"), each
    decoded to U+F0000 + code (``Charset.private_use_code`` gives the code back).
    ``special``: String, null or "low-values" / "high-values" (all 0x00 / all 0xFF).
    """

    text: pl.Series
    error_offset: pl.Series
    error_reason: pl.Series
    gaiji: pl.Series
    special: pl.Series


@dataclass(frozen=True, slots=True)
class _Block:
    utf8: NDArray[np.uint8]
    text_bytes: NDArray[np.int64]  # per row
    error_at: NDArray[np.int64]  # per row: offset of the first error in the value, -1 if none
    error_key: NDArray[np.int64]  # per row: the table index of that error
    error_pair: NDArray[np.int64]  # per row: the byte there << 12 | the next (0x100: none)
    special: NDArray[np.int8]  # per row: 0, 1 low-values, 2 high-values
    gaiji_row: NDArray[np.int64]  # per unmapped vendor code: its row (in the block)
    gaiji_code: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _Rows:
    """A block: values as rows of a 2-D array; ``lengths`` None when all fill their row."""

    data: NDArray[np.uint8]  # (rows, width)
    lengths: NDArray[np.int64] | None


class Charset:
    """A loaded charset: decode columns of field values (``load_charset`` builds and caches)."""

    def __init__(self, spec: CharsetSpec, family: Family, sbcs_label: str, t: LookupTables):
        self.spec = spec
        self.family = family
        self.sbcs_label = sbcs_label
        self.tables = t
        self.dbcs_in = spec.dbcs_in if spec.dbcs_in is not None else family.dbcs_in
        self.dbcs_out = spec.dbcs_out if spec.dbcs_out is not None else family.dbcs_out

    def __reduce__(self) -> tuple[object, tuple[CharsetSpec]]:
        # pickled as its spec (a piece of a file sent to a worker process): the tables are
        # megabytes, rebuilt once per process by the cached load_charset
        return (load_charset, (self.spec,))

    @property
    def name(self) -> str:
        return self.spec.name

    @staticmethod
    def private_use_code(char: str) -> str | None:
        """The vendor code (upper hex, "80A1") an unmapped 外字 character stands for."""
        code = private_use_code(char)
        return None if code is None else f"{code:04X}"

    def decode(
        self,
        values: pa.Array | pa.ChunkedArray | pl.Series | NDArray[np.uint8],
        mode: TextMode,
        *,
        threads: int | None = None,
    ) -> DecodedText:
        """Decode each value (binary column, or a 2-D uint8 array of fixed-length fields)."""
        blocks, m, present = _blocks(values)
        workers = min(threads or os.cpu_count() or 1, len(blocks))
        if workers > 1:
            parts = list(_pool(workers).map(lambda b: self._decode_rows(b, mode), blocks))
        else:
            parts = [self._decode_rows(b, mode) for b in blocks]
        return self._assemble(parts, [b.data.shape[0] for b in blocks], m, present, mode)

    def _decode_rows(self, rows: _Rows, mode: TextMode) -> _Block:
        t = self.tables
        m, w = rows.data.shape
        n = m * w
        if n == 0:
            none = np.full(m, -1, dtype=np.int64)
            empty = np.empty(0, dtype=np.int64)
            return _Block(
                np.empty(0, np.uint8), np.zeros(m, np.int64), none, none, none,
                np.zeros(m, np.int8), empty, empty,
            )  # fmt: skip
        if mode is TextMode.DBCS and rows.lengths is None and w % 2 == 0:
            return self._decode_pairs(rows.data)
        flat = rows.data.reshape(-1)
        inside = None  # (n,) bytes that belong to their value (variable-length rows only)
        if rows.lengths is not None:
            inside = (_columns(w)[None, :] < rows.lengths[:, None]).reshape(-1)
        key = flat.astype(np.intp)  # take() indexes with intp: converted once
        shift_at = np.zeros(n, dtype=np.bool_)  # first bytes of shift sequences
        shift_bytes = np.zeros(n, dtype=np.bool_)
        into = np.zeros(n, dtype=np.bool_)  # first bytes of sequences into double-byte text
        long_seq = np.zeros(n, dtype=np.bool_)  # first bytes of 2-byte sequences
        for entering, seqs in ((True, self.dbcs_in), (False, self.dbcs_out)):
            for seq in seqs:
                hit = flat == seq[0]
                if len(seq) == 2:
                    hit[:-1] &= flat[1:] == seq[1]
                    hit.reshape(m, w)[:, -1] = False  # a sequence never spans two values
                    if inside is not None:
                        hit[:-1] &= inside[1:]
                    shift_bytes[1:] |= hit[:-1]
                    long_seq |= hit
                shift_at |= hit
                if entering:
                    into |= hit
        if inside is not None:
            shift_at &= inside
        shift_bytes |= shift_at
        if mode is TextMode.SBCS:
            key[shift_bytes] = SILENT
            key[shift_at] = SHIFT
        else:
            if mode is TextMode.DBCS:
                first = np.zeros(n, dtype=np.bool_)
                first.reshape(m, w)[:, ::2] = True
                second = ~first
            else:
                # runs: cut at each shift and each row start; a run's state is its cut's
                cut = shift_at.copy()
                cut[::w] = True
                at = np.flatnonzero(cut)
                state = into[at]  # double-byte run (row starts: single-byte, unless a shift)
                text_from = at + np.where(shift_at[at], np.where(long_seq[at], 2, 1), 0)
                # bit 0: double-byte; bit 1: text starts at an odd position
                code = state.astype(np.uint8) | ((text_from & 1).astype(np.uint8) << 1)
                run = np.repeat(code, np.diff(np.append(at, n)))
                dbcs = (run & 1).astype(np.bool_) & ~shift_bytes
                odd_start = (run & 2).astype(np.bool_)
                first = dbcs & (odd_start == _odd(n))
                second = dbcs & ~first
            complete = np.zeros(n, dtype=np.bool_)
            complete[:-1] = first[:-1] & second[1:]
            if inside is not None:
                complete[:-1] &= inside[1:]
            pair = np.empty(n, dtype=np.intp)  # each byte with the next, as a pair's index
            np.left_shift(key[:-1], 8, out=pair[:-1])
            pair[:-1] |= flat[1:]
            pair[-1] = 0
            pair += DOUBLE
            second_half = pair[:-1] + (SECOND - DOUBLE)  # for the pair that began one before
            np.copyto(key, pair, where=complete)
            np.copyto(key[1:], second_half, where=complete[:-1])
            key[first & ~complete] = LONE
            if mode is TextMode.MIXED:
                key[shift_bytes] = SILENT
            else:
                key[shift_at & first] = SHIFT
        if inside is not None:
            key[~inside] = SILENT
        flags = t.flags.take(key)
        grid = rows.data
        special = np.zeros(m, dtype=np.int8)
        for value, label in ((0x00, 1), (0xFF, 2)):
            maybe = np.flatnonzero(grid[:, 0] == value)  # few rows: check only those
            if maybe.size:
                same = grid[maybe] == value
                if inside is not None:
                    same |= ~inside.reshape(m, w)[maybe]
                special[maybe[same.all(axis=1)]] = label
        if rows.lengths is not None:
            special[rows.lengths == 0] = 0
        # the first error of each row
        bad = np.flatnonzero(flags & INVALID)
        error_at = np.full(m, -1, dtype=np.int64)
        error_key = np.full(m, -1, dtype=np.int64)
        error_pair = np.full(m, -1, dtype=np.int64)
        if bad.size:
            bad_row = bad // w
            firsts = np.flatnonzero(np.diff(bad_row, prepend=-1))
            where, bad_rows = bad[firsts], bad_row[firsts]
            cols = where - bad_rows * w
            error_at[bad_rows] = cols
            error_key[bad_rows] = key[where]
            nxt = np.minimum(where + 1, n - 1)
            has_next = cols + 1 < (rows.lengths[bad_rows] if rows.lengths is not None else w)
            following = np.where(has_next, flat[nxt], 0x100)
            error_pair[bad_rows] = flat[where].astype(np.int64) << 12 | following
        # the text (trailing padding is stripped from it as a whole, see _assemble)
        utf8 = gather_utf8(t.utf8, key)
        # a row's sum as a matrix-vector product: BLAS, exact in float64, far faster than
        # numpy's sum over a short axis
        text_bytes = (t.length.take(key).reshape(m, w) @ _ones(w)).astype(np.int64)
        vendor = np.flatnonzero(flags & VENDOR)
        return _Block(
            utf8, text_bytes, error_at, error_key, error_pair, special,
            vendor // w, key[vendor].astype(np.int64) - DOUBLE,
        )  # fmt: skip

    def _decode_pairs(self, grid: NDArray[np.uint8]) -> _Block:
        """Pure-DBCS rows of an even width: every pair is a code, read as big-endian uint16
        (half the units of the general path, no shift state; the same tables and results)."""
        t = self.tables
        m, w = grid.shape
        half = w // 2
        key = grid.view(">u2").astype(np.intp)  # (m, half)
        key += DOUBLE
        shifts = np.zeros((m, half), dtype=np.bool_)
        for seq in (*self.dbcs_in, *self.dbcs_out):
            hit = grid[:, 0::2] == seq[0]
            if len(seq) == 2:
                hit &= grid[:, 1::2] == seq[1]
            shifts |= hit
        key[shifts] = SHIFT
        key = key.reshape(-1)
        if t.has_long:  # each code's two halves, in byte order
            units = np.empty((key.size, 2), dtype=np.intp)
            units[:, 0] = key
            units[:, 1] = np.where(key >= DOUBLE, key + (SECOND - DOUBLE), SILENT)
            units[:, 1][key >= SECOND] = SILENT
            unit_keys = units.reshape(-1)
        else:
            unit_keys = key
        utf8 = gather_utf8(t.utf8, unit_keys)
        per_row = unit_keys.size // m
        text_bytes = (t.length.take(unit_keys).reshape(m, per_row) @ _ones(per_row)).astype(
            np.int64
        )
        flags = t.flags.take(key)
        special = np.zeros(m, dtype=np.int8)
        for value, label in ((0x00, 1), (0xFF, 2)):
            maybe = np.flatnonzero(grid[:, 0] == value)
            if maybe.size:
                special[maybe[(grid[maybe] == value).all(axis=1)]] = label
        error_at = np.full(m, -1, dtype=np.int64)
        error_key = np.full(m, -1, dtype=np.int64)
        error_pair = np.full(m, -1, dtype=np.int64)
        bad = np.flatnonzero(flags & INVALID)
        if bad.size:
            bad_row = bad // half
            firsts = np.flatnonzero(np.diff(bad_row, prepend=-1))
            where, bad_rows = bad[firsts], bad_row[firsts]
            cols = 2 * (where - bad_rows * half)
            error_at[bad_rows] = cols
            error_key[bad_rows] = key[where]
            error_pair[bad_rows] = (
                grid[bad_rows, cols].astype(np.int64) << 12 | grid[bad_rows, cols + 1]
            )
        vendor = np.flatnonzero(flags & VENDOR)
        return _Block(
            utf8, text_bytes, error_at, error_key, error_pair, special,
            vendor // half, key[vendor].astype(np.int64) - DOUBLE,
        )  # fmt: skip

    def _reason(self, key: int, pair: int, mode: TextMode) -> str:
        first, following = pair >> 12, pair & 0xFFF
        shifts = {s[0] for s in (*self.dbcs_in, *self.dbcs_out)}
        field = "a pure-DBCS (PIC N/G) field" if mode is TextMode.DBCS else "a single-byte field"
        if key == SHIFT:
            return f"shift code 0x{first:02X} inside {field}"
        if key == LONE:
            return f"incomplete double-byte character: 0x{first:02X} has no second byte"
        if key >= DOUBLE:
            if mode is TextMode.DBCS and following in shifts:
                return f"shift code 0x{following:02X} inside {field}"
            return f"invalid {self.family.label} code 0x{key - DOUBLE:04X}"
        return f"invalid {self.sbcs_label} byte 0x{key:02X}"

    def _assemble(
        self,
        parts: list[_Block],
        heights: list[int],
        m: int,
        present: NDArray[np.bool_] | None,
        mode: TextMode,
    ) -> DecodedText:
        def cat(arrays: list[NDArray[np.int64]]) -> NDArray[np.int64]:
            return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)

        text_bytes = cat([b.text_bytes for b in parts])
        error_at = cat([b.error_at for b in parts])
        error_key = cat([b.error_key for b in parts])
        error_pair = cat([b.error_pair for b in parts])
        special = np.concatenate([b.special for b in parts]) if parts else np.zeros(0, np.int8)
        utf8 = np.concatenate([b.utf8 for b in parts]) if parts else np.empty(0, np.uint8)
        first_rows = np.cumsum([0, *heights])[:-1].astype(np.int64)
        gaiji_row = cat([b.gaiji_row + r for b, r in zip(parts, first_rows.tolist(), strict=True)])
        gaiji_code = cat([b.gaiji_code for b in parts])
        has_text = special == 0
        if present is not None:
            has_text &= present
            error_at[~present] = -1
            special[~present] = 0
            if gaiji_row.size:
                keep = present[gaiji_row]
                gaiji_row, gaiji_code = gaiji_row[keep], gaiji_code[keep]
        text_offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.where(has_text, text_bytes, 0), out=text_offsets[1:])
        if not has_text.all():  # rows without text keep no bytes
            keep_bytes = np.repeat(has_text, text_bytes)
            utf8 = utf8[keep_bytes]
        validity = pa.py_buffer(np.packbits(has_text, bitorder="little"))
        text_array = pa.Array.from_buffers(
            pa.large_utf8(), m, [validity, pa.py_buffer(text_offsets), pa.py_buffer(utf8)]
        )
        failed = np.flatnonzero(error_at >= 0)
        reasons = [
            self._reason(int(k), int(p), mode)
            for k, p in zip(error_key[failed].tolist(), error_pair[failed].tolist(), strict=True)
        ]
        list_offsets = np.zeros(m + 1, dtype=np.int32)
        if gaiji_row.size:
            np.cumsum(np.bincount(gaiji_row, minlength=m), out=list_offsets[1:])
        codes = _hex_codes().take(pa.array(gaiji_code, type=pa.int64()))
        gaiji = pa.Array.from_buffers(
            pa.list_(pa.string()), m, [None, pa.py_buffer(list_offsets)], children=[codes]
        )
        labels = np.flatnonzero(special)
        return DecodedText(
            text=_series(text_array, "text").str.strip_chars_end(PADDING),
            error_offset=_scattered("error_offset", m, failed, error_at[failed], pl.Int64),
            error_reason=_scattered("error_reason", m, failed, reasons, pl.String),
            gaiji=_series(gaiji, "gaiji"),
            special=_scattered(
                "special", m, labels, [_SPECIALS[int(k)] for k in special[labels]], pl.String
            ),
        )


_SPECIALS = (None, LOW_VALUES, HIGH_VALUES)


def _scattered(
    name: str,
    m: int,
    rows: NDArray[np.int64],
    values: Sequence[object] | NDArray[np.int64],
    dtype: type[pl.DataType],
) -> pl.Series:
    """A column of ``m`` nulls with ``values`` at ``rows``."""
    column = pl.repeat(None, m, dtype=dtype, eager=True).alias(name)
    if rows.size:
        column = column.scatter(rows, pl.Series(values, dtype=dtype))
    return column


def _series(array: pa.Array, name: str) -> pl.Series:
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


@cache
def _hex_codes() -> pa.Array:
    return pa.array([f"{c:04X}" for c in range(65536)], type=pa.string())


@lru_cache(maxsize=4)
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="charset-decode")


@cache
def _columns(width: int) -> NDArray[np.int64]:
    return np.arange(width, dtype=np.int64)


@cache
def _ones(width: int) -> NDArray[np.float64]:
    return np.ones(width, dtype=np.float64)


_ODD = np.zeros(0, dtype=np.bool_)


def _odd(n: int) -> NDArray[np.bool_]:
    """True at odd positions, for the first ``n`` bytes of a block."""
    global _ODD
    if _ODD.size < n:
        grown = np.zeros(max(n, 2 * _ODD.size), dtype=np.bool_)
        grown[1::2] = True
        _ODD = grown
    return _ODD[:n]


def _blocks(
    values: pa.Array | pa.ChunkedArray | pl.Series | NDArray[np.uint8],
) -> tuple[list[_Rows], int, NDArray[np.bool_] | None]:
    """The values as blocks of rows, how many there are, and which are present (None: all)."""
    if isinstance(values, np.ndarray):
        if values.ndim != 2 or values.dtype != np.uint8:
            raise TypeError("a numpy column of fields is a 2-D uint8 array (rows, length)")
        rows, width = values.shape
        step = max(1, _BLOCK_BYTES // max(width, 1))
        grid = np.ascontiguousarray(values)
        return [_Rows(grid[i : i + step], None) for i in range(0, rows, step)], rows, None
    data, offsets, present = _as_buffers(values)
    m = offsets.size - 1
    blocks: list[_Rows] = []
    pending = _block_cuts(offsets)
    spans = list(itertools.pairwise(pending))
    while spans:
        lo, hi = spans.pop(0)
        lengths = np.diff(offsets[lo : hi + 1])
        width = int(lengths.max()) if lengths.size else 0
        if (hi - lo) * width > 4 * _BLOCK_BYTES and hi - lo > 1:  # a few long values: split
            mid = (lo + hi) // 2
            spans[:0] = [(lo, mid), (mid, hi)]
            continue
        begin = int(offsets[lo])
        if lengths.size and int(lengths.min()) == width:  # equal lengths: no padding
            grid = data[begin : begin + width * (hi - lo)].reshape(hi - lo, width)
            blocks.append(_Rows(grid, None))
            continue
        index = offsets[lo:hi, None] + _columns(width)[None, :]
        inside = _columns(width)[None, :] < lengths[:, None]
        grid = np.where(inside, data[np.minimum(index, max(data.size - 1, 0))], 0).astype(np.uint8)
        blocks.append(_Rows(grid, lengths))
    return blocks, m, present


def _block_cuts(offsets: NDArray[np.int64]) -> list[int]:
    """Value indexes where blocks of about _BLOCK_BYTES begin (and the end)."""
    m = offsets.size - 1
    if m <= 0:
        return [0]
    targets = np.arange(_BLOCK_BYTES, int(offsets[-1]), _BLOCK_BYTES)
    inner = np.unique(np.searchsorted(offsets, targets, side="right") - 1)
    return [0, *(int(c) for c in inner if 0 < c < m), m]


def _as_buffers(
    values: pa.Array | pa.ChunkedArray | pl.Series,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.bool_] | None]:
    """The values' bytes, offsets (n + 1) and which are present (None: all)."""
    if isinstance(values, pl.Series):
        if values.dtype != pl.Binary:
            raise TypeError(f"a charset decodes Binary values, not {values.dtype}")
        values = values.to_arrow()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.binary())
    if not isinstance(values, pa.Array):
        raise TypeError(f"cannot decode {type(values).__name__}")
    kind = values.type
    if not any(
        f(kind) for f in (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_binary_view)
    ):
        raise TypeError(f"a charset decodes binary values, not {kind}")
    if not pa.types.is_large_binary(kind):
        values = values.cast(pa.large_binary())
    n = len(values)
    _validity, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=n + 1, offset=values.offset * 8)
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)
        if data_buf is not None
        else np.empty(0, dtype=np.uint8)
    )
    base = int(offsets[0])
    data = data[base : int(offsets[-1])]
    offsets = offsets - base
    present = None
    if values.null_count:
        present = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return data, offsets, present


@lru_cache(maxsize=16)
def load_charset(spec: CharsetSpec) -> Charset:
    """The charset ``spec`` describes, its tables built once (ProfileError for a bad table)."""
    family = FAMILIES[spec.name]
    _hex_codes()  # built once here, not in the first decode
    label, page = sbcs_table(spec.sbcs or family.default_sbcs or "")
    return Charset(spec, family, label, build(family, page, spec.gaiji, spec.name))
