"""Where delimited records end: the one record-end rule for CSV bytes, shared by extract, package
and load (etl.write.csv_records).

The rule (RFC 4180, read leniently where it is safe):

- A quote is special only at the start of a field (record start, or right after a separator).
  Such a field is quoted: inside it a separator or line feed is data and ``""`` is one quote; it
  ends at a quote followed by a separator, a line break (LF or CR LF) or the end of the file.
- A quote anywhere else in an unquoted field is an ordinary character (``5"``).
- A record ends at a line feed outside quoted fields; CR before it belongs to the line break.
- A malformed record — a quote inside a quoted field followed by anything else, or a quoted
  field that does not close — is rejected *as one line*: framing resumes at the next line, so a
  single stray quote never folds the rest of the file into one record.
- A quoted field is "not closed" when it reaches the end of the file, when its record would span
  more than ``max_record_lines`` lines, or when the record it closes spans several lines but does
  not have the file's number of columns (the first record's, or ``options.columns``). So a
  quoted line feed is accepted only in a record of the right shape, and the cost of an unclosed
  quote is bounded by ``max_record_lines``.

Vectorised: the quote, separator and line-feed positions are found with numpy; quote *runs* are
classified at once for both possible "inside a quoted field" parities, and only records holding a
run that breaks the fast rule (a quote inside an unquoted field, a stray quote) are walked by the
Python fallback ``parse_record`` — one record each, rare in real files. Line feeds, separators
and quotes are below 0x40, so never part of a multi-byte character in cp932, euc_jp or utf-8:
the same rule works on raw bytes and on their UTF-8 re-encoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from etl.errors import ExtractError

LF, CR = 0x0A, 0x0D
DEFAULT_MAX_RECORD_LINES = 100  # lines one record (quoted line feeds included) may span
MAX_RECORD_BYTES = 1 << 24  # a line longer than this has no line break where one must be

I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CsvSyntax:
    """The bytes that structure delimited text."""

    separator: int
    quote: int | None = ord('"')
    max_record_lines: int = DEFAULT_MAX_RECORD_LINES


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One record walked byte by byte (``parse_record``)."""

    end: int  # just after its line break (or the end of the data)
    stop: int  # end of its content (line break excluded)
    fields: tuple[tuple[int, int, bool], ...]  # (start, end, quoted) of each field's content
    literal_quote: bool  # a quote inside an unquoted field: fine, but polars cannot read it
    error: tuple[int, str] | None = None  # (offset of the offending byte, reason)

    def values(self, data: bytes, quote: int | None) -> list[bytes]:
        """Each field's value: quotes of a quoted field removed, ``""`` made one quote."""
        q = bytes([quote]) if quote is not None else b""
        return [
            data[a:b].replace(q + q, q) if quoted else data[a:b] for a, b, quoted in self.fields
        ]


@dataclass(slots=True)
class Framing:
    """Records found in a buffer that starts at a record start."""

    starts: I64  # first byte of each record
    stops: I64  # end of its content (line break excluded)
    ends: I64  # just after its line break: the next record's start
    widths: I64  # columns of each record (0 for a broken one, -1 when not counted)
    broken: dict[int, tuple[int, str]] = field(default_factory=dict)  # i → (offset, reason)
    literal: list[int] = field(default_factory=list)  # well-formed, but quotes inside fields
    width: int | None = None  # the file's number of columns (given, or the first record's)

    @property
    def count(self) -> int:
        return int(self.starts.size)

    @property
    def consumed(self) -> int:
        """Bytes of whole records (what follows is an incomplete record)."""
        return int(self.ends[-1]) if self.ends.size else 0

    def head(self, k: int) -> Framing:
        """The first ``k`` records."""
        return Framing(
            self.starts[:k],
            self.stops[:k],
            self.ends[:k],
            self.widths[:k],
            {i: v for i, v in self.broken.items() if i < k},
            [i for i in self.literal if i < k],
            self.width,
        )


def parse_record(
    data: bytes, start: int, syntax: CsvSyntax, at_end: bool, limit: int | None = None
) -> ParsedRecord | None:
    """Walk the record starting at ``start`` byte by byte: the fallback for the rare records the
    vectorised rule cannot judge, and for single records (the header). None: the data (up to
    ``limit``) ends before the record does and ``at_end`` is false."""
    n = len(data) if limit is None else limit
    sep = bytes([syntax.separator])
    quote = syntax.quote
    qb = bytes([quote]) if quote is not None else b""
    fields: list[tuple[int, int, bool]] = []
    literal = False
    pos = start
    lines, counted = 0, start  # line feeds in [start, counted): counted once, never again
    line_end = -2  # the next line feed at or after ``pos`` (-1: none), found once per line
    while True:
        if quote is not None and pos < n and data[pos] == quote:  # a quoted field
            p = pos + 1
            while True:
                q = data.find(qb, p, n)
                upto = n if q == -1 else q
                lines += data.count(b"\n", counted, upto)
                counted = max(counted, upto)
                if lines >= syntax.max_record_lines:
                    why = f"within {syntax.max_record_lines} lines (max_record_lines)"
                    return _broken(data, start, n, at_end, pos, f"quoted field not closed {why}")
                if q == -1:
                    if not at_end:
                        return None
                    why = "before the end of the file"
                    return _broken(data, start, n, at_end, pos, f"quoted field not closed {why}")
                if q + 1 < n and data[q + 1] == quote:
                    p = q + 2  # "" is one quote
                    continue
                break
            fields.append((pos + 1, q, True))
            nxt = q + 1
            if nxt >= n:
                return _ended(start, n, n, fields, literal) if at_end else None
            b = data[nxt]
            if b == syntax.separator:
                pos = nxt + 1
                continue
            if b == LF:
                return _ended(start, nxt, nxt + 1, fields, literal)
            if b == CR and (nxt + 1 == n or data[nxt + 1] == LF):
                if nxt + 1 == n and not at_end:
                    return None
                return _ended(start, nxt, min(nxt + 2, n), fields, literal)
            why = f"quote closing the quoted field of column {len(fields)} is followed by 0x{b:02X}"
            return _broken(data, start, n, at_end, q, why)
        if line_end != -1 and line_end < pos:
            line_end = data.find(b"\n", pos, n)
        s = data.find(sep, pos, n if line_end == -1 else line_end)
        stop = s if s != -1 else (n if line_end == -1 else line_end)
        if quote is not None and data.find(qb, pos, stop) != -1:
            literal = True
        if s != -1:
            fields.append((pos, s, False))
            pos = s + 1
            continue
        if line_end == -1 and not at_end:
            return None
        content = stop - 1 if stop > pos and data[stop - 1] == CR else stop
        fields.append((pos, content, False))
        return _ended(start, content, n if line_end == -1 else line_end + 1, fields, literal)


def _ended(
    start: int, stop: int, end: int, fields: list[tuple[int, int, bool]], literal: bool
) -> ParsedRecord:
    return ParsedRecord(end, stop, tuple(fields), literal)


def _broken(
    data: bytes, start: int, n: int, at_end: bool, at: int, reason: str
) -> ParsedRecord | None:
    """A malformed record: only its first line, so framing resumes at the next line."""
    e = data.find(b"\n", start, n)
    if e == -1 and not at_end:
        return None
    end = n if e == -1 else e + 1
    stop = end - 1 if e != -1 else end
    if stop > start and data[stop - 1] == CR:
        stop -= 1
    return ParsedRecord(end, stop, (), False, (at, reason))


@dataclass(slots=True)
class _Structure:
    """Positions of the structural bytes of one buffer."""

    arr: NDArray[np.uint8]
    separator: int
    lf: I64  # every line feed
    lf_parity: NDArray[np.int8]  # quotes before each line feed, mod 2
    quotes: I64  # every quote
    # starts of the quote runs the fast rule cannot judge, if the quotes before are even / odd
    irregular: tuple[I64, I64]
    _seps: tuple[I64, I64] | None = None

    def seps(self, flip: int) -> I64:
        """Separators outside quoted fields under ``flip`` (found on first use)."""
        if self._seps is None:
            every = np.flatnonzero(self.arr == self.separator).astype(np.int64)
            parity = np.searchsorted(self.quotes, every) & 1
            self._seps = (every[parity == 0], every[parity == 1])
        return self._seps[flip]


def _structure(arr: NDArray[np.uint8], syntax: CsvSyntax) -> _Structure:
    lf = np.flatnonzero(arr == LF).astype(np.int64)
    empty = np.empty(0, dtype=np.int64)
    quotes = empty if syntax.quote is None else np.flatnonzero(arr == syntax.quote)
    if quotes.size == 0:
        zeros = np.zeros(lf.size, np.int8)
        return _Structure(arr, syntax.separator, lf, zeros, empty, (empty, empty))
    quotes = quotes.astype(np.int64)
    n = arr.size
    first = np.flatnonzero(np.diff(quotes, prepend=-2) != 1)  # index of each run's first quote
    starts = quotes[first]
    lengths = np.diff(np.append(first, quotes.size))
    ends = starts + lengths
    prev = np.where(starts > 0, arr[np.maximum(starts - 1, 0)], LF)
    at_field_start = (prev == syntax.separator) | (prev == LF)
    nxt = arr[np.minimum(ends, n - 1)]
    after = arr[np.minimum(ends + 1, n - 1)]
    closes_ok = (
        (ends >= n)
        | (nxt == syntax.separator)
        | (nxt == LF)
        | ((nxt == CR) & ((ends + 1 >= n) | (after == LF)))
    )
    odd = (lengths & 1).astype(bool)
    # outside a field's quotes: a run must open a field (odd) or be a whole quoted field (even,
    # then closed: a separator or line break must follow); inside: an odd run closes the field
    if_outside = ~at_field_start | (~odd & ~closes_ok)
    if_inside = odd & ~closes_ok
    parity = (first & 1).astype(bool)  # quotes before the run, mod 2
    irregular = (
        starts[np.where(parity, if_inside, if_outside)].astype(np.int64),
        starts[np.where(parity, if_outside, if_inside)].astype(np.int64),
    )
    lf_parity = (np.searchsorted(quotes, lf) & 1).astype(np.int8)
    return _Structure(arr, syntax.separator, lf, lf_parity, quotes, irregular)


class _Builder:
    """Records found so far, in order: runs of them as arrays, single ones as numbers."""

    def __init__(self) -> None:
        self.parts: list[tuple[I64, I64, I64, I64]] = []
        self.single: list[tuple[int, int, int, int]] = []  # not yet in ``parts``
        self.broken: dict[int, tuple[int, str]] = {}
        self.literal: list[int] = []
        self.count = 0

    def add(self, starts: I64, stops: I64, ends: I64, widths: I64) -> None:
        if starts.size:
            self._flush()
            self.parts.append((starts, stops, ends, widths))
            self.count += int(starts.size)

    def one(self, start: int, rec: ParsedRecord) -> None:
        i = self.count
        self.single.append((start, rec.stop, rec.end, 0 if rec.error else len(rec.fields)))
        self.count += 1
        if rec.error is not None:
            self.broken[i] = rec.error
        elif rec.literal_quote:
            self.literal.append(i)

    def _flush(self) -> None:
        if self.single:
            cols = np.array(self.single, dtype=np.int64).reshape(-1, 4).T
            self.parts.append((cols[0], cols[1], cols[2], cols[3]))
            self.single = []

    def framing(self, width: int | None) -> Framing:
        self._flush()
        if not self.parts:
            empty = np.empty(0, dtype=np.int64)
            return Framing(empty, empty, empty, empty, self.broken, self.literal, width)
        starts, stops, ends, widths = (np.concatenate(c) for c in zip(*self.parts, strict=True))
        return Framing(starts, stops, ends, widths, self.broken, self.literal, width)


def frame_records(
    arr: NDArray[np.uint8],
    syntax: CsvSyntax,
    width: int | None,
    at_end: bool,
    *,
    all_widths: bool = True,
) -> Framing:
    """The records of ``arr`` (which starts at a record start). ``width``: the file's number of
    columns, None to take the first record's. Unless ``at_end``, a record not ended by a line
    break in ``arr`` is left out (``Framing.consumed`` says where it starts). Without
    ``all_widths`` only the widths the rule needs are counted (the others are -1): cutting
    records needs no column counts."""
    n = int(arr.size)
    st = _structure(arr, syntax)
    data = _Bytes(arr)
    out = _Builder()
    e, flip = 0, 0
    while e < n:
        irregular = st.irregular[flip]
        k = int(irregular.searchsorted(e))
        limit = int(irregular[k]) if k < irregular.size else n
        a, b = int(st.lf.searchsorted(e)), int(st.lf.searchsorted(limit))
        rec: ParsedRecord | None = None
        if a < b:  # records up to ``limit``: the line feeds outside quotes
            e, width, rec = _regular(arr, st, syntax, out, e, a, b, flip, width, all_widths, data)
        if rec is None:
            if e >= n:
                break
            if k >= irregular.size and not at_end:
                # no record end in the rest: a record still arriving, unless a quote left open
                # already spans too many lines
                open_quote = _quote_parity(st, n) != flip
                spanned = st.lf.size - int(st.lf.searchsorted(e))
                if not open_quote or spanned < syntax.max_record_lines:
                    break
            rec = parse_record(data.get(), e, syntax, at_end)  # one rare record
            if rec is None:
                break
            spanned = _lines(data.get(), e, rec.end) if rec.error is None else 1
            if spanned > 1 and width is not None and len(rec.fields) != width:
                why = (
                    f"on its line (the record would span {spanned} lines with "
                    f"{len(rec.fields)} columns, expected {width})"
                )
                rec = _unclosed(data.get(), e, data.get().find(b"\n", e), why, syntax)
            if width is None and rec.error is None:
                width = len(rec.fields)
        out.one(e, rec)
        e = rec.end
        flip = _quote_parity(st, e)
    return out.framing(width)


def _regular(
    arr: NDArray[np.uint8],
    st: _Structure,
    syntax: CsvSyntax,
    out: _Builder,
    e: int,
    a: int,
    b: int,
    flip: int,
    width: int | None,
    all_widths: bool,
    data: _Bytes,
) -> tuple[int, int | None, ParsedRecord | None]:
    """The records from ``e`` ending at line feeds ``a..b`` outside quotes, all at once. Returns
    where the next record starts, the width, and the record there when it is an unclosed quote
    (a quoted line feed in a record of the wrong shape)."""
    ordinals = a + np.flatnonzero(st.lf_parity[a:b] == flip)
    if not ordinals.size:
        return e, width, None
    ends = st.lf[ordinals] + 1
    starts = np.concatenate(([e], ends[:-1])).astype(np.int64)
    first_lf = np.concatenate(([a], ordinals[:-1] + 1)).astype(np.int64)
    lines = ordinals - first_lf + 1
    stops = ends - 1
    stops -= (stops > starts) & (arr[np.maximum(stops - 1, 0)] == CR)
    multi = lines > 1
    widths = np.full(starts.size, -1, dtype=np.int64)
    first = np.arange(starts.size) == 0
    wanted = (
        np.arange(starts.size) if all_widths else np.flatnonzero(multi | first & (width is None))
    )
    if wanted.size:
        seps = st.seps(flip)
        counted = np.searchsorted(seps, stops[wanted]) - np.searchsorted(seps, starts[wanted])
        widths[wanted] = counted + 1
    if width is None:
        width = int(widths[0])
    bad = np.flatnonzero(multi & ((lines > syntax.max_record_lines) | (widths != width)))
    take = int(bad[0]) if bad.size else int(starts.size)
    out.add(starts[:take], stops[:take], ends[:take], widths[:take])
    if not bad.size:
        return int(ends[-1]), width, None
    r, spanned = int(starts[take]), int(lines[take])
    why = (
        f"within {syntax.max_record_lines} lines (max_record_lines)"
        if spanned > syntax.max_record_lines
        else f"on its line (the record would span {spanned} lines with "
        f"{int(widths[take])} columns, expected {width})"
    )
    return r, width, _unclosed(data.get(), r, int(st.lf[first_lf[take]]), why, syntax)


class _Bytes:
    """The buffer as bytes, copied only when the fallback needs it."""

    __slots__ = ("_arr", "_data")

    def __init__(self, arr: NDArray[np.uint8]) -> None:
        self._arr = arr
        self._data: bytes | None = None

    def get(self) -> bytes:
        if self._data is None:
            self._data = self._arr.tobytes()
        return self._data


def _quote_parity(st: _Structure, at: int) -> int:
    """Quotes before ``at``, mod 2: the flip under which ``at`` lies outside quoted fields."""
    return int(np.searchsorted(st.quotes, at)) & 1


def _lines(data: bytes, start: int, end: int) -> int:
    """Lines the record ``[start, end)`` spans (its own line break not counted)."""
    return data.count(b"\n", start, max(start, end - 1)) + 1


def _unclosed(data: bytes, start: int, line_end: int, why: str, syntax: CsvSyntax) -> ParsedRecord:
    """A record whose quoted field did not close on its line and whose continuation does not
    make a record of the file's shape: its first line is rejected, framing resumes after it."""
    first_line = parse_record(
        data, start, CsvSyntax(syntax.separator, syntax.quote, 1), True, line_end
    )
    at = first_line.error[0] if first_line is not None and first_line.error else start
    stop = line_end - 1 if line_end > start and data[line_end - 1] == CR else line_end
    return ParsedRecord(line_end + 1, stop, (), False, (at, f"quoted field not closed {why}"))


def read_blocks(
    path: Path, start: int, chunk_records: int, syntax: CsvSyntax, width: int | None
) -> Iterator[tuple[int, bytes, Framing]]:
    """(absolute offset, bytes of at most ``chunk_records`` whole records, their framing)."""
    chunk_records = max(chunk_records, 1)  # every block holds at least one record: progress
    size = path.stat().st_size
    read = max(chunk_records * 64, 1 << 16)
    pos, carry = start, b""
    with path.open("rb") as f:
        f.seek(start)
        while pos < size:
            buf = carry + f.read(read) if len(carry) < read else carry
            at_end = pos + len(buf) >= size
            framing = frame_records(np.frombuffer(buf, dtype=np.uint8), syntax, width, at_end)
            if framing.count == 0:
                if at_end:  # impossible: at the end every byte belongs to a record
                    raise ExtractError(path, "no record found", byte_offset=pos)
                if len(buf) > MAX_RECORD_BYTES:
                    raise ExtractError(
                        path,
                        f"no record ends within {len(buf)} bytes: a line (or a quoted field) "
                        "longer than that",
                        byte_offset=pos,
                    )
                carry, read = buf, read * 2
                continue
            framing = framing.head(min(chunk_records, framing.count))
            width = framing.width
            cut = framing.consumed
            yield pos, buf[:cut], framing
            pos += cut
            carry = buf[cut:]
