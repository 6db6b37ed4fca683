"""The vectorised decoder: a column of field values → text, first error, 外字, special values.

Every step is a numpy operation over all the bytes of a block of values (about 256 KiB), so
the work runs in numpy's C loops, which release the GIL: blocks are decoded on a thread pool.

How a block decodes, without a loop over rows:

1. Where each value starts is known from the offsets. In mixed text, every shift sequence is
   found by comparing the bytes with it (they never occur inside a double-byte code: their
   bytes are no valid code byte), and each byte's state is that of the last shift (or value
   start) at or before it: a running maximum of their positions.
2. In a double-byte run the pairs count from the run's first byte, so a byte is a pair's first
   byte when its distance from the run's start is even; a first byte whose second byte is cut
   off (by a shift or the value's end) is an error.
3. Each unit (single byte, pair, nothing) gets an index into the lookup tables
   (etl.extract.charsets.tables): its UTF-8 bytes and whether it is valid, blank or an
   unmapped vendor code. The text is the gathered UTF-8 bytes up to the value's last
   non-blank unit: trailing SBCS 0x40 and DBCS spaces (and shift codes) are padding.
"""

from __future__ import annotations

import itertools
import os
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
    LONE,
    SHIFT,
    SILENT,
    LookupTables,
    build,
    private_use_code,
    sbcs_table,
)

LOW_VALUES = "low-values"  # a value of bytes 0x00 only
HIGH_VALUES = "high-values"  # a value of bytes 0xFF only
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
    text_bytes: NDArray[np.int64]  # per value
    error_at: NDArray[np.int64]  # per value: offset of the first error in the value, -1 if none
    error_key: NDArray[np.int64]  # per value: the table index of that error
    error_pair: NDArray[np.int64]  # per value: the two bytes at the error (-1 past the end)
    special: NDArray[np.int8]  # per value: 0, 1 low-values, 2 high-values
    gaiji_value: NDArray[np.int64]  # per unmapped vendor code: its value (in the block)
    gaiji_code: NDArray[np.int64]


def _shift_matches(
    data: NDArray[np.uint8], is_start: NDArray[np.bool_], seq: bytes
) -> NDArray[np.bool_]:
    """Where ``seq`` begins (all of it inside one value)."""
    hit: NDArray[np.bool_] = data == seq[0]
    if len(seq) == 2:
        hit[:-1] &= (data[1:] == seq[1]) & ~is_start[1:]
        hit[-1:] = False
    return hit


class Charset:
    """A loaded charset: decode columns of field values (``load_charset`` builds and caches)."""

    def __init__(self, spec: CharsetSpec, family: Family, sbcs_label: str, t: LookupTables):
        self.spec = spec
        self.family = family
        self.sbcs_label = sbcs_label
        self.tables = t
        self.dbcs_in = spec.dbcs_in if spec.dbcs_in is not None else family.dbcs_in
        self.dbcs_out = spec.dbcs_out if spec.dbcs_out is not None else family.dbcs_out

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
        data, offsets, present = _as_buffers(values)
        m = offsets.size - 1
        cuts = _block_cuts(offsets)
        spans = list(itertools.pairwise(cuts))

        def run(span: tuple[int, int]) -> _Block:
            lo, hi = span
            base = int(offsets[lo])
            return self._decode_block(
                data[base : int(offsets[hi])], offsets[lo : hi + 1] - base, mode
            )

        workers = min(threads or os.cpu_count() or 1, len(spans))
        blocks = list(_pool(workers).map(run, spans)) if workers > 1 else [run(s) for s in spans]
        return self._assemble(blocks, [lo for lo, _ in spans], m, present, mode, data, offsets)

    def _decode_block(
        self, data: NDArray[np.uint8], offsets: NDArray[np.int64], mode: TextMode
    ) -> _Block:
        t = self.tables
        n, m = data.size, offsets.size - 1
        lengths = np.diff(offsets)
        nonempty = lengths > 0
        starts = offsets[:-1][nonempty]
        if n == 0:
            empty = np.empty(0, dtype=np.int64)
            none = np.full(m, -1, dtype=np.int64)
            return _Block(
                np.empty(0, np.uint8), np.zeros(m, np.int64), none, none, none,
                np.zeros(m, np.int8), empty, empty,
            )  # fmt: skip
        pos = np.arange(n, dtype=np.int64)
        value_of = np.repeat(np.arange(m, dtype=np.int64), lengths)
        is_start = np.zeros(n, dtype=np.bool_)
        is_start[starts] = True
        key = data.astype(np.int64)
        shift_at = np.zeros(n, dtype=np.bool_)  # first bytes of shift sequences
        shift_bytes = np.zeros(n, dtype=np.bool_)
        event = np.zeros(n, dtype=np.int8)  # 1: single-byte text begins, 2: double-byte text
        seq_len = np.zeros(n, dtype=np.int8)
        for state, seqs in ((2, self.dbcs_in), (1, self.dbcs_out)):
            for seq in seqs:
                hit = _shift_matches(data, is_start, seq)
                shift_at |= hit
                shift_bytes |= hit
                if len(seq) == 2:
                    shift_bytes[1:] |= hit[:-1]
                if mode is TextMode.MIXED:
                    event[hit] = state
                    seq_len[hit] = len(seq)
        if mode is TextMode.SBCS:
            key[shift_bytes] = SILENT
            key[shift_at] = SHIFT
        else:
            if mode is TextMode.DBCS:
                event[is_start] = 2
            else:
                event[is_start & (event == 0)] = 1
            last = np.where(event != 0, pos, 0)
            np.maximum.accumulate(last, out=last)
            dbcs = event[last] == 2
            if mode is TextMode.MIXED:
                dbcs &= ~shift_bytes
            rel = pos - (last + seq_len[last].astype(np.int64))
            first = dbcs & ((rel & 1) == 0)
            second = dbcs & ~first
            complete = np.zeros(n, dtype=np.bool_)
            complete[:-1] = first[:-1] & second[1:]
            pairs = np.flatnonzero(complete)
            key[pairs] = DOUBLE + (key[pairs] << 8 | data[pairs + 1])
            key[first & ~complete] = LONE
            if mode is TextMode.MIXED:
                key[second | shift_bytes] = SILENT
            else:
                key[second] = SILENT
                key[shift_at & first] = SHIFT
        # values of 0x00 only / 0xFF only
        special = np.zeros(m, dtype=np.int8)
        if starts.size:
            special[np.flatnonzero(nonempty)[np.maximum.reduceat(data, starts) == 0]] = 1
            special[np.flatnonzero(nonempty)[np.minimum.reduceat(data, starts) == 0xFF]] = 2
        # the first error of each value
        bad = np.flatnonzero(~t.valid[key])
        error_at = np.full(m, -1, dtype=np.int64)
        error_key = np.full(m, -1, dtype=np.int64)
        error_pair = np.full(m, -1, dtype=np.int64)
        if bad.size:
            bad_values, first_bad = np.unique(value_of[bad], return_index=True)
            where = bad[first_bad]
            error_at[bad_values] = where - offsets[bad_values]
            error_key[bad_values] = key[where]
            following = np.where(
                (where + 1 < n) & ~is_start[np.minimum(where + 1, n - 1)],
                data[np.minimum(where + 1, n - 1)],
                0x100,
            )
            error_pair[bad_values] = data[where].astype(np.int64) << 12 | following
        # the text: every unit up to the value's last non-blank one
        content = np.where(t.blank[key], -1, pos)
        last_content = np.full(m, -1, dtype=np.int64)
        if starts.size:
            last_content[nonempty] = np.maximum.reduceat(content, starts)
        kept = pos <= last_content[value_of]
        kept_keys = key[kept]
        counted = np.zeros(n, dtype=np.int64)
        counted[kept] = t.length[kept_keys]
        text_bytes = np.zeros(m, dtype=np.int64)
        if starts.size:
            text_bytes[nonempty] = np.add.reduceat(counted, starts)
        raw = t.utf8[kept_keys].view(np.uint8)
        utf8 = raw[raw != 0xFF]
        vendor = np.flatnonzero(t.vendor[key])
        return _Block(
            utf8, text_bytes, error_at, error_key, error_pair, special,
            value_of[vendor], key[vendor] - DOUBLE,
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
        blocks: list[_Block],
        firsts: list[int],
        m: int,
        present: NDArray[np.bool_] | None,
        mode: TextMode,
        data: NDArray[np.uint8],
        offsets: NDArray[np.int64],
    ) -> DecodedText:
        def cat(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
            return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

        text_bytes = cat([b.text_bytes for b in blocks])
        error_at = cat([b.error_at for b in blocks])
        error_key = cat([b.error_key for b in blocks])
        error_pair = cat([b.error_pair for b in blocks])
        special = np.concatenate([b.special for b in blocks]) if blocks else np.zeros(0, np.int8)
        utf8 = np.concatenate([b.utf8 for b in blocks]) if blocks else np.empty(0, np.uint8)
        text_offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(text_bytes, out=text_offsets[1:])
        has_text = special == 0
        if present is not None:
            has_text &= present
            error_at[~present] = -1
            special[~present] = 0
        validity = pa.py_buffer(np.packbits(has_text, bitorder="little"))
        text_array = pa.Array.from_buffers(
            pa.large_utf8(), m, [validity, pa.py_buffer(text_offsets), pa.py_buffer(utf8)]
        )
        failed = np.flatnonzero(error_at >= 0)
        reasons: list[str | None] = [None] * m
        for i in failed.tolist():
            reasons[i] = self._reason(int(error_key[i]), int(error_pair[i]), mode)
        gaiji_value = cat([b.gaiji_value + first for b, first in zip(blocks, firsts, strict=True)])
        gaiji_code = cat([b.gaiji_code for b in blocks])
        if present is not None and gaiji_value.size:
            keep = present[gaiji_value]
            gaiji_value, gaiji_code = gaiji_value[keep], gaiji_code[keep]
        list_offsets = np.zeros(m + 1, dtype=np.int32)
        np.cumsum(np.bincount(gaiji_value, minlength=m), out=list_offsets[1:])
        gaiji = pa.ListArray.from_arrays(
            pa.array(list_offsets), _hex_codes().take(pa.array(gaiji_code))
        )
        labels = np.array([None, LOW_VALUES, HIGH_VALUES], dtype=object)
        return DecodedText(
            text=_series(text_array, "text"),
            error_offset=pl.Series(
                "error_offset", np.where(error_at >= 0, error_at, 0), dtype=pl.Int64
            ).set(pl.Series(error_at < 0), None),
            error_reason=pl.Series("error_reason", reasons, dtype=pl.String),
            gaiji=_series(gaiji, "gaiji"),
            special=pl.Series("special", labels[special].tolist(), dtype=pl.String),
        )


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


def _block_cuts(offsets: NDArray[np.int64]) -> list[int]:
    """Value indexes where blocks of about _BLOCK_BYTES begin (and the end)."""
    m = offsets.size - 1
    if m <= 0:
        return [0, 0] if m == 0 else [0]
    targets = np.arange(_BLOCK_BYTES, int(offsets[-1]), _BLOCK_BYTES)
    inner = np.unique(np.searchsorted(offsets, targets, side="right") - 1)
    cuts = [0, *(int(c) for c in inner if 0 < c < m), m]
    return cuts


def _as_buffers(
    values: pa.Array | pa.ChunkedArray | pl.Series | NDArray[np.uint8],
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.bool_] | None]:
    """The values' bytes, offsets (n + 1) and which are present (None: all)."""
    if isinstance(values, np.ndarray):
        if values.ndim != 2 or values.dtype != np.uint8:
            raise TypeError("a numpy column of fields is a 2-D uint8 array (rows, length)")
        rows, width = values.shape
        data = np.ascontiguousarray(values).reshape(-1)
        return data, np.arange(rows + 1, dtype=np.int64) * width, None
    if isinstance(values, pl.Series):
        if values.dtype != pl.Binary:
            raise TypeError(f"a charset decodes Binary values, not {values.dtype}")
        values = values.to_arrow()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.binary())
    if not isinstance(values, pa.Array):
        raise TypeError(f"cannot decode {type(values).__name__}")
    if not (pa.types.is_large_binary(values.type) or pa.types.is_binary(values.type)):
        if not pa.types.is_binary_view(values.type):
            raise TypeError(f"a charset decodes binary values, not {values.type}")
        values = values.cast(pa.large_binary())
    if pa.types.is_binary(values.type):
        values = values.cast(pa.large_binary())
    n = len(values)
    _validity, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=n + 1, offset=values.offset * 8)
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)
        if data_buf is not None
        else np.empty(0, dtype=np.uint8)
    )
    base = int(offsets[0]) if n else 0
    data = data[base : int(offsets[-1])] if n else data[:0]
    offsets = offsets - base
    present = None
    if values.null_count:
        present = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return data, offsets, present


@lru_cache(maxsize=16)
def load_charset(spec: CharsetSpec) -> Charset:
    """The charset ``spec`` describes, its tables built once (ProfileError for a bad table)."""
    family = FAMILIES[spec.name]
    label, page = sbcs_table(spec.sbcs or family.default_sbcs or "")
    return Charset(spec, family, label, build(family, page, spec.gaiji, spec.name))
