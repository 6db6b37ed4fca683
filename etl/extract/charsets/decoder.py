"""The vectorised decoder: columns of field values → text, first error, 外字, special values.

Values are laid end to end (one buffer, offsets) and decoded in blocks of about 512 KiB:
every step is a numpy operation over a whole block, in numpy's C loops, which release the
GIL, so blocks run on a thread pool. Fixed-width fields (a 2-D array, or several fields of a
record matrix at once: ``Charset.decode_fields``) are first cut before their trailing padding
(SBCS 0x40, the DBCS space pairs): most of a field is padding, and the text's padding is
stripped anyway.

How a block decodes, without a loop over values:

1. In mixed text, every shift sequence is found by comparing the bytes with it (its bytes are
   no valid code byte, so it never hides inside a double-byte code). The shifts and the value
   starts cut the block into runs; each run is single-byte or double-byte text, and
   ``np.repeat`` gives every byte its run's state.
2. In a double-byte run the pairs count from the run's first text byte, so a byte is a pair's
   first byte when its distance from there is even (pure-DBCS fields: from the value's
   start); a first byte whose second byte is cut off (by a shift or the value's end) is an
   error.
3. Each byte gets an index into the lookup tables (etl.extract.charsets.tables): a single
   byte, the first or the second half of a pair, or nothing. One gather gives its UTF-8 bytes,
   one its flags and length (invalid, unmapped vendor code). Trailing spaces are stripped
   from the decoded column by polars.

A mixed value whose cut part ends inside a double-byte run would have read its padding as
codes: such values are decoded again whole, so cutting the padding never changes a result.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
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
    CONTROL,
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
from etl.text import value_bytes

LOW_VALUES = "low-values"  # a value of bytes 0x00 only
HIGH_VALUES = "high-values"  # a value of bytes 0xFF only
PADDING = " \u3000"  # what SBCS 0x40 and the DBCS spaces decode to: stripped when trailing
_SPACE = 0x40  # the single-byte space of every EBCDIC page: the padding of text fields
_BLOCK_BYTES = 1 << 19  # bytes decoded per block (padding cut off): blocks run in parallel


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
class FieldErrors:
    """The values of a column that failed: their rows, the offset of each one's first bad
    byte or code within the value, and what is wrong."""

    rows: NDArray[np.int64]
    offsets: NDArray[np.int64]
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class DecodedField:
    """One field of ``Charset.decode_fields``: its text (as ``DecodedText.text``), errors and
    the rows whose text holds a C0 or C1 control character (ascending; known from the lookup
    tables, so the control screen need look at these rows only)."""

    text: pl.Series
    errors: FieldErrors
    controls: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _Values:
    """Values laid end to end: value v is ``flat[offsets[v]:offsets[v + 1]]``. ``following``
    gives, for values (numbered from the whole's first), the byte after each in the field it
    was cut from (0x100: none; None: none for all), which a message about its last byte
    names; asked for the values with an error only."""

    flat: NDArray[np.uint8]
    offsets: NDArray[np.int64]  # (values + 1,)
    following: Callable[[NDArray[np.int64]], NDArray[np.int64]] | None
    first: int = 0  # the number of value 0 in the whole

    def part(self, lo: int, hi: int) -> _Values:
        begin, end = int(self.offsets[lo]), int(self.offsets[hi])
        offsets = self.offsets[lo : hi + 1] - begin
        return _Values(self.flat[begin:end], offsets, self.following, self.first + lo)


@dataclass(frozen=True, slots=True)
class _Block:
    """What decoding a run of values found, per value unless said otherwise."""

    utf8: NDArray[np.uint8]  # the text of all of them, in order
    text_bytes: NDArray[np.int64]
    error_at: NDArray[np.int64]  # offset of the first error in the value, -1 if none
    error_key: NDArray[np.int64]  # the table index of that error
    error_pair: NDArray[np.int64]  # the byte there << 12 | the next (0x100: none)
    ends_double: NDArray[np.bool_]  # mixed text: the value ends in double-byte state
    gaiji_row: NDArray[np.int64]  # per unmapped vendor code: its value (in the block)
    gaiji_code: NDArray[np.int64]
    controls: NDArray[np.int64]  # values (in the block) with a control character, ascending


@dataclass(frozen=True, slots=True)
class _Decoded:
    """Every value decoded: text (padding stripped), first errors, specials, 外字."""

    text: pl.Series
    failed: NDArray[np.int64]  # values with an error
    failed_at: NDArray[np.int64]  # offset of each one's first bad byte or code
    reasons: list[str]
    special: NDArray[np.int8]  # 0, 1 low-values, 2 high-values
    gaiji_row: NDArray[np.int64]
    gaiji_code: NDArray[np.int64]
    controls: NDArray[np.int64]  # values whose text holds a control character, ascending


class Charset:
    """A loaded charset: decode columns of field values (``load_charset`` builds and caches)."""

    def __init__(self, spec: CharsetSpec, family: Family, sbcs_label: str, t: LookupTables):
        self.spec = spec
        self.family = family
        self.sbcs_label = sbcs_label
        self.tables = t
        self.dbcs_in = spec.dbcs_in if spec.dbcs_in is not None else family.dbcs_in
        self.dbcs_out = spec.dbcs_out if spec.dbcs_out is not None else family.dbcs_out
        shift_bytes = {b for seq in (*self.dbcs_in, *self.dbcs_out) for b in seq}
        shift_leads = {seq[0] for seq in (*self.dbcs_in, *self.dbcs_out)}

        # what trailing padding is, so it can be cut off before decoding: a single byte that
        # is no part of a shift sequence; double-byte codes whose first byte begins none
        blank = {  # decodes to padding only, and is no error
            index for index, text in t.texts.items()
            if not text.strip(PADDING) and t.flags[index] == 0
        }  # fmt: skip
        self.pad_byte = _SPACE if _SPACE in blank and _SPACE not in shift_bytes else None
        self.pad_codes = np.array(
            sorted(
                index - DOUBLE
                for index in blank
                if DOUBLE <= index < SECOND
                and (index - DOUBLE) >> 8 not in shift_leads
                and t.utf8[index + (SECOND - DOUBLE)] == 0xFFFF_FFFF
            ),
            dtype=np.uint16,
        )  # fmt: skip

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
        if isinstance(values, np.ndarray):
            if values.ndim != 2 or values.dtype != np.uint8:
                raise TypeError("a numpy column of fields is a 2-D uint8 array (rows, length)")
            m = values.shape[0]
            done = self._decode_grid(values, [(0, values.shape[1])], mode, [None], threads)
            present = None
        else:
            flat, offsets, present = _as_buffers(values)
            m = offsets.size - 1
            given = _Values(flat, offsets, None)
            special = _specials(given)
            if present is not None:
                special[~present] = 0
            done, _ = self._decode_values(given, special, present, mode, threads)
        failed = done.failed
        reasons = done.reasons
        list_offsets = np.zeros(m + 1, dtype=np.int32)
        if done.gaiji_row.size:
            np.cumsum(np.bincount(done.gaiji_row, minlength=m), out=list_offsets[1:])
        codes = _hex_codes().take(pa.array(done.gaiji_code, type=pa.int64()))
        gaiji = pa.Array.from_buffers(
            pa.list_(pa.string()), m, [None, pa.py_buffer(list_offsets)], children=[codes]
        )
        labels = np.flatnonzero(done.special)
        if present is not None:
            labels = labels[present[labels]]
        return DecodedText(
            text=done.text,
            error_offset=_scattered("error_offset", m, failed, done.failed_at, pl.Int64),
            error_reason=_scattered("error_reason", m, failed, reasons, pl.String),
            gaiji=_series(gaiji, "gaiji"),
            special=_scattered(
                "special", m, labels, [_SPECIALS[int(k)] for k in done.special[labels]], pl.String
            ),
        )

    def decode_fields(
        self,
        data: NDArray[np.uint8],
        fields: Sequence[tuple[int, int]],
        mode: TextMode,
        *,
        present: Sequence[NDArray[np.bool_] | None] | None = None,
        threads: int | None = None,
    ) -> list[DecodedField]:
        """Decode the fields (start, length) of every row of ``data`` (rows × bytes) at once:
        one pass over all their values, so a record's text fields cost one call, not one each.
        Each field's text is what ``decode`` gives for its column; where ``present`` is False
        (an occurrence beyond a record's count), the value is null, not decoded and no error."""
        m = data.shape[0]
        present = [None] * len(fields) if present is None else present
        done = self._decode_grid(data, fields, mode, present, threads)
        out: list[DecodedField] = []
        field_of = done.failed // max(m, 1)
        control_cuts = np.searchsorted(done.controls, np.arange(len(fields) + 1) * m)
        for i in range(len(fields)):
            mine = field_of == i
            errors = FieldErrors(
                done.failed[mine] - i * m,
                done.failed_at[mine],
                [r for r, keep in zip(done.reasons, mine.tolist(), strict=True) if keep],
            )
            controls = done.controls[control_cuts[i] : control_cuts[i + 1]] - i * m
            out.append(DecodedField(done.text.slice(i * m, m), errors, controls))
        return out

    def _decode_grid(
        self,
        data: NDArray[np.uint8],
        fields: Sequence[tuple[int, int]],
        mode: TextMode,
        present: Sequence[NDArray[np.bool_] | None],
        threads: int | None,
    ) -> _Decoded:
        """The fields' values, field after field (value f * rows + r: field f of row r), with
        their trailing padding cut off before decoding (most of a fixed-width field is padding;
        the text's padding is stripped anyway). Mixed text whose cut value ends in double-byte
        state would have read the padding as codes: those values are decoded whole."""
        m = data.shape[0]
        raws = [data[:, start : start + length] for start, length in fields]
        special = np.concatenate([_grid_specials(raw) for raw in raws] or [np.zeros(0, np.int8)])
        kept = [self._kept(raw, mode) for raw in raws]
        shown: NDArray[np.bool_] | None = None
        if any(p is not None for p in present):
            shown = np.concatenate([np.ones(m, np.bool_) if p is None else p for p in present])
            for k, p in zip(kept, present, strict=True):
                if p is not None:
                    k[~p] = 0  # not decoded at all
        matrix = np.ascontiguousarray(data)

        def following(values: NDArray[np.int64]) -> NDArray[np.int64]:
            field, row = np.divmod(values, max(m, 1))
            out = np.full(values.size, 0x100, dtype=np.int64)
            for i in np.unique(field).tolist():
                (at,) = np.nonzero(field == i)
                out[at] = _following(raws[i][row[at]], kept[i][row[at]])
            return out

        while True:
            offsets = _offsets(kept)
            flat = np.empty(int(offsets[-1]), dtype=np.uint8)
            for i, ((start, _), k) in enumerate(zip(fields, kept, strict=True)):
                _cut(matrix, start, k, flat[int(offsets[i * m]) : int(offsets[(i + 1) * m])])
            values = _Values(flat, offsets, following)
            done, ends_double = self._decode_values(values, special, shown, mode, threads)
            if mode is not TextMode.MIXED:
                return done
            redo = False
            for i, (raw, k) in enumerate(zip(raws, kept, strict=True)):
                whole = ends_double[i * m : (i + 1) * m] & (k < raw.shape[1])
                if whole.any():
                    k[whole] = raw.shape[1]
                    redo = True
            if not redo:
                return done

    def _kept(self, raw: NDArray[np.uint8], mode: TextMode) -> NDArray[np.int64]:
        """Bytes of each value before its trailing padding (whole pairs in pure DBCS)."""
        m, length = raw.shape
        if mode is TextMode.DBCS:
            if length % 2 or not self.pad_codes.size or not length:
                return np.full(m, length, dtype=np.int64)
            pairs = raw.view(">u2")
            used = (
                pairs != self.pad_codes[0]
                if self.pad_codes.size == 1
                else ~np.isin(pairs, self.pad_codes)
            )
            unit = 2
        else:
            if self.pad_byte is None or not length:
                return np.full(m, length, dtype=np.int64)
            used, unit = raw != self.pad_byte, 1
        # the last used position (1-based; 0: none) of each row: in a narrow field a pass per
        # column (a reduction along short rows costs more per row than the row's bytes); else
        # the maximum of position times used (an argmax over the reversed rows scans the
        # padding byte by byte)
        width = used.shape[1]
        kept: NDArray[np.int64]
        if width <= 8:
            kept = np.zeros(m, dtype=np.int64)
            for j in range(width):
                np.copyto(kept, j + 1, where=used[:, j])
        else:
            position = np.arange(1, width + 1, dtype=np.uint8 if width < 256 else np.uint16)
            kept = (used * position).max(axis=1).astype(np.int64)
        return kept * unit

    def _decode_values(
        self,
        values: _Values,
        special: NDArray[np.int8],
        present: NDArray[np.bool_] | None,
        mode: TextMode,
        threads: int | None,
    ) -> tuple[_Decoded, NDArray[np.bool_]]:
        """Decode in blocks of about _BLOCK_BYTES on a thread pool, then assemble."""
        cuts = _block_cuts(values.offsets)
        spans = list(itertools.pairwise(cuts))
        workers = min(threads or os.cpu_count() or 1, len(spans))

        def one(span: tuple[int, int]) -> _Block:
            return self._decode_block(values.part(*span), mode)

        parts = list(_pool(workers).map(one, spans)) if workers > 1 else [one(s) for s in spans]
        return self._assemble(parts, cuts, special, present, mode)

    def _decode_block(self, values: _Values, mode: TextMode) -> _Block:
        t = self.tables
        flat, offsets = values.flat, values.offsets
        v = offsets.size - 1
        n = flat.size
        lengths = np.diff(offsets)
        none = np.full(v, -1, dtype=np.int64)
        ends_double = np.zeros(v, dtype=np.bool_)
        if n == 0:
            empty = np.empty(0, dtype=np.int64)
            return _Block(
                np.empty(0, np.uint8), np.zeros(v, np.int64), none, none, none.copy(),
                ends_double, empty, empty, empty,
            )  # fmt: skip
        begins = np.zeros(n, dtype=np.bool_)  # the first byte of each value
        begins[offsets[:-1][lengths > 0]] = True
        key = flat.astype(np.int32)  # int32 while it is computed, intp for the lookups
        shift_at = np.zeros(n, dtype=np.bool_)  # first bytes of shift sequences
        shift_bytes = np.zeros(n, dtype=np.bool_)
        into = np.zeros(n, dtype=np.bool_)  # first bytes of sequences into double-byte text
        long_seq = np.zeros(n, dtype=np.bool_)  # first bytes of 2-byte sequences
        for entering, seqs in ((True, self.dbcs_in), (False, self.dbcs_out)):
            for seq in seqs:
                hit = flat == seq[0]
                if len(seq) == 2:
                    hit[:-1] &= flat[1:] == seq[1]
                    hit[:-1] &= ~begins[1:]  # a sequence never spans two values
                    hit[-1] = False
                    shift_bytes[1:] |= hit[:-1]
                    long_seq |= hit
                shift_at |= hit
                if entering:
                    into |= hit
        shift_bytes |= shift_at
        if mode is TextMode.SBCS:
            key[shift_bytes] = SILENT
            key[shift_at] = SHIFT
        else:
            if mode is TextMode.DBCS:  # pairs from each value's first byte
                first = _odd(n) == np.repeat((offsets[:-1] & 1).astype(np.bool_), lengths)
                second = ~first
            else:
                # runs: cut at each shift and each value's start; a run's state is its cut's
                cut = shift_at | begins
                at = np.flatnonzero(cut)
                state = into[at]  # double-byte run (value starts: single-byte, unless a shift)
                text_from = at + np.where(shift_at[at], np.where(long_seq[at], 2, 1), 0)
                # bit 0: double-byte; bit 1: text starts at an odd position
                code = state.astype(np.uint8) | ((text_from & 1).astype(np.uint8) << 1)
                run = np.repeat(code, np.diff(np.append(at, n)))
                dbcs = (run & 1).astype(np.bool_) & ~shift_bytes
                odd_start = (run & 2).astype(np.bool_)
                first = dbcs & (odd_start == _odd(n))
                second = dbcs & ~first
                filled = lengths > 0
                ends_double[filled] = (run[offsets[1:][filled] - 1] & 1).astype(np.bool_)
            complete = np.zeros(n, dtype=np.bool_)
            complete[:-1] = first[:-1] & second[1:]
            pair = key << 8  # each byte with the next, as a pair's index
            pair[:-1] |= key[1:]
            pair += DOUBLE
            behind = np.empty(n, dtype=np.int32)  # the pair that began one byte before
            behind[0] = SILENT
            np.add(pair[:-1], SECOND - DOUBLE, out=behind[1:])
            completes = np.zeros(n, dtype=np.bool_)  # second bytes of complete pairs
            completes[1:] = complete[:-1]
            np.copyto(key, pair, where=complete)
            np.copyto(key, behind, where=completes)
            key[first & ~complete] = LONE
            if mode is TextMode.MIXED:
                key[shift_bytes] = SILENT
            else:
                key[shift_at & first] = SHIFT
        index = key.astype(np.intp)  # take() indexes with intp: converted once
        info = t.info.take(index)  # flags | text length << 4
        # the first error of each value
        bad = np.flatnonzero(info & INVALID)
        error_at, error_key, error_pair = none, none.copy(), none.copy()
        if bad.size:
            error_at = none.copy()
            value = np.searchsorted(offsets, bad, side="right") - 1
            firsts = np.flatnonzero(np.diff(value, prepend=-1))
            where, failed = bad[firsts], value[firsts]
            cols = where - offsets[failed]
            error_at[failed] = cols
            error_key[failed] = key[where]
            after = 0x100 if values.following is None else values.following(values.first + failed)
            nxt = np.where(cols + 1 < lengths[failed], flat[np.minimum(where + 1, n - 1)], after)
            error_pair[failed] = flat[where].astype(np.int64) << 12 | nxt
        utf8 = gather_utf8(t.utf8, index)
        counted = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(info >> 4, dtype=np.int64, out=counted[1:])
        text_bytes = counted[offsets[1:]] - counted[offsets[:-1]]
        vendor = np.flatnonzero(info & VENDOR)
        gaiji_row = np.searchsorted(offsets, vendor, side="right") - 1
        controls = np.flatnonzero(info & CONTROL)
        if controls.size:
            controls = np.unique(np.searchsorted(offsets, controls, side="right") - 1)
        return _Block(
            utf8, text_bytes, error_at, error_key, error_pair, ends_double,
            gaiji_row.astype(np.int64), key[vendor].astype(np.int64) - DOUBLE,
            controls.astype(np.int64),
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
        cuts: list[int],
        special: NDArray[np.int8],
        present: NDArray[np.bool_] | None,
        mode: TextMode,
    ) -> tuple[_Decoded, NDArray[np.bool_]]:
        def cat(arrays: list[NDArray[np.int64]]) -> NDArray[np.int64]:
            return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)

        m = special.size
        text_bytes = cat([b.text_bytes for b in parts])
        error_at = cat([b.error_at for b in parts])
        error_key = cat([b.error_key for b in parts])
        error_pair = cat([b.error_pair for b in parts])
        ends_double = (
            np.concatenate([b.ends_double for b in parts]) if parts else np.zeros(0, np.bool_)
        )
        utf8 = np.concatenate([b.utf8 for b in parts]) if parts else np.empty(0, np.uint8)
        gaiji_row = cat([b.gaiji_row + r for b, r in zip(parts, cuts, strict=False)])
        gaiji_code = cat([b.gaiji_code for b in parts])
        controls = cat([b.controls + r for b, r in zip(parts, cuts, strict=False)])
        has_text = special == 0
        if present is not None:
            has_text &= present
            error_at[~present] = -1
            if gaiji_row.size:
                keep = present[gaiji_row]
                gaiji_row, gaiji_code = gaiji_row[keep], gaiji_code[keep]
        text_offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.where(has_text, text_bytes, 0), out=text_offsets[1:])
        if not has_text.all():  # values without text keep no bytes
            utf8 = np.compress(np.repeat(has_text, text_bytes), utf8)
        validity = (
            None if has_text.all() else pa.py_buffer(np.packbits(has_text, bitorder="little"))
        )
        text_array = pa.Array.from_buffers(
            pa.large_utf8(), m, [validity, pa.py_buffer(text_offsets), pa.py_buffer(utf8)]
        )
        failed = np.flatnonzero(error_at >= 0)
        reasons = [
            self._reason(int(k), int(p), mode)
            for k, p in zip(error_key[failed].tolist(), error_pair[failed].tolist(), strict=True)
        ]
        text = _series(text_array, "text")
        if _ends_in_padding(utf8, text_offsets):
            text = text.str.strip_chars_end(PADDING)
        decoded = _Decoded(
            text=text,
            failed=failed,
            failed_at=error_at[failed],
            reasons=reasons,
            special=special,
            gaiji_row=gaiji_row,
            gaiji_code=gaiji_code,
            controls=controls[has_text[controls]],  # values without text hold none
        )
        return decoded, ends_double


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


_ODD = np.zeros(0, dtype=np.bool_)


def _odd(n: int) -> NDArray[np.bool_]:
    """True at odd positions, for the first ``n`` bytes of a block."""
    global _ODD
    odd = _ODD  # blocks decode on several threads: each keeps the array it read or built
    if odd.size < n:
        odd = np.zeros(max(n, 2 * odd.size), dtype=np.bool_)
        odd[1::2] = True
        _ODD = odd
    return odd[:n]


def _ends_in_padding(utf8: NDArray[np.uint8], offsets: NDArray[np.int64]) -> bool:
    """Whether any value's text ends in a space or U+3000 (UTF-8 E3 80 80), what stripping the
    padding would remove: mostly none, the padding bytes are cut off before decoding."""
    if not utf8.size:
        return False
    ends = offsets[1:]
    lengths = np.diff(offsets)
    if ((lengths >= 1) & (utf8[np.maximum(ends - 1, 0)] == 0x20)).any():
        return True
    wide = (lengths >= 3) & (utf8[np.maximum(ends - 1, 0)] == 0x80)
    at = ends[wide]
    return bool(((utf8[at - 2] == 0x80) & (utf8[at - 3] == 0xE3)).any())


def _grid_specials(raw: NDArray[np.uint8]) -> NDArray[np.int8]:
    """Per row of a field's column: 1 low-values (all 0x00), 2 high-values (all 0xFF), else 0."""
    special = np.zeros(raw.shape[0], dtype=np.int8)
    if not raw.shape[1]:
        return special
    for value, label in ((0x00, 1), (0xFF, 2)):
        maybe = np.flatnonzero(raw[:, 0] == value)  # few rows: check only those
        if maybe.size:
            special[maybe[(raw[maybe] == value).all(axis=1)]] = label
    return special


def _specials(values: _Values) -> NDArray[np.int8]:
    """``_grid_specials`` of values laid end to end (an empty value is neither)."""
    flat, offsets = values.flat, values.offsets
    lengths = np.diff(offsets)
    special = np.zeros(lengths.size, dtype=np.int8)
    filled = np.flatnonzero(lengths > 0)
    for value, label in ((0x00, 1), (0xFF, 2)):
        maybe = filled[flat[offsets[filled]] == value]
        if maybe.size:
            same = np.zeros(flat.size + 1, dtype=np.int64)
            np.cumsum(flat == value, out=same[1:])
            whole = same[offsets[maybe + 1]] - same[offsets[maybe]] == lengths[maybe]
            special[maybe[whole]] = label
    return special


def _cut(
    data: NDArray[np.uint8], start: int, kept: NDArray[np.int64], out: NDArray[np.uint8]
) -> None:
    """The first ``kept`` bytes of each row's field at ``start`` of ``data`` (C-contiguous),
    end to end into ``out``: a gather by index, the field is never copied whole."""
    if not out.size:
        return
    width = data.shape[1]
    rows = np.arange(kept.size, dtype=np.int64) * width + start
    first = np.cumsum(kept) - kept  # where each row's bytes go in ``out``
    index = np.repeat(rows - first, kept)
    index += np.arange(out.size, dtype=np.int64)
    np.take(data.reshape(-1), index, out=out)


def _following(raw: NDArray[np.uint8], kept: NDArray[np.int64]) -> NDArray[np.int64]:
    """The byte after each row's first ``kept`` bytes (0x100 where none)."""
    length = raw.shape[1]
    if not length:
        return np.full(raw.shape[0], 0x100, dtype=np.int64)
    after = raw[np.arange(raw.shape[0]), np.minimum(kept, length - 1)].astype(np.int64)
    return np.where(kept < length, after, 0x100)


def _offsets(kept: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    offsets = np.zeros(sum(k.size for k in kept) + 1, dtype=np.int64)
    if kept:
        np.cumsum(np.concatenate(kept), out=offsets[1:])
    return offsets


def _block_cuts(offsets: NDArray[np.int64]) -> list[int]:
    """Value indexes where blocks of about _BLOCK_BYTES begin (and the end)."""
    m = offsets.size - 1
    if m <= 0:
        return [0, 0]
    targets = np.arange(_BLOCK_BYTES, int(offsets[-1]), _BLOCK_BYTES)
    inner = np.unique(np.searchsorted(offsets, targets, side="right") - 1)
    return [0, *(int(c) for c in inner if 0 < c < m), m]


def _as_buffers(
    values: pa.Array | pa.ChunkedArray | pl.Series,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.bool_] | None]:
    """The values' bytes, offsets (n + 1) and which are present (None: all); a null value
    holds no bytes."""
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
    present = None
    if values.null_count:
        present = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    data, offsets = value_bytes(values)
    return data, offsets, present


@lru_cache(maxsize=16)
def load_charset(spec: CharsetSpec) -> Charset:
    """The charset ``spec`` describes, its tables built once (ProfileError for a bad table)."""
    family = FAMILIES[spec.name]
    _hex_codes()  # built once here, not in the first decode
    label, page = sbcs_table(spec.sbcs or family.default_sbcs or "")
    return Charset(spec, family, label, build(family, page, spec.gaiji, spec.name))
