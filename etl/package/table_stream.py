"""A package table checked while its bytes still arrive: pieces cut at record boundaries.

Packaging and verify read each file once (from disk or out of the archive) and hash it on the
way; a table's bytes are also cut into pieces of about ``PIECE`` bytes and every piece is parsed
and checked against the Table Schema on the thread pool, so parsing overlaps reading and
inflating instead of waiting for the whole file. Pieces are cut only where a record ends
(etl.write.csv_records). Per-row constraints add up piece by piece; the primary key is checked
once over the key columns of all pieces.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import polars as pl

from etl.package.schema import FieldRule, Violation, check_table
from etl.write import record_end

PIECE = 8 << 20
TAIL = 1 << 20  # a piece ends at the first record end within its last TAIL bytes
# No V2.1 record comes near this: bytes without a record end past it are a damaged or hostile
# file (one endless line, an unclosed quote), named instead of buffered without end.
RECORD_MAX = 4 * PIECE
HEADER_MAX = 1 << 20  # the header line (項目名) is a few KB; looked for only this far
PIECE_ROWS = 1 << 17  # a V2.1 piece holds ~40,000 records; parsed, a row costs ~40 bytes
CONSTRAINT_LABELS = {
    "required": "必須項目が空",
    "maxLength": "桁数超過",
    "pattern": "形式 (pattern) 不一致",
    "enum": "コード表にない値",
    "type": "整数でない値",
    "minimum": "最小値未満",
    "maximum": "最大値超過",
    "primaryKey": "キーの重複",
}


P = ParamSpec("P")
T = TypeVar("T")


class InFlightLimit(Executor):
    """At most ``limit`` tasks of ``pool`` queued or running at once: ``submit`` waits for a
    free slot, so pieces read faster than they are checked never pile up in memory."""

    def __init__(self, pool: Executor, limit: int) -> None:
        self.pool = pool
        self._slots = threading.BoundedSemaphore(limit)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        self._slots.acquire()
        try:
            job = self.pool.submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        job.add_done_callback(lambda _: self._slots.release())
        return job


def read_table(data: bytes | Path, encoding: str) -> pl.DataFrame:
    """A V2.1 CSV, every column a string (no inference: leading zeros and codes stay as is)."""
    if encoding.lower() in ("cp932", "shift_jis", "ms932"):
        raw = data.read_bytes() if isinstance(data, Path) else data
        data = raw.decode("cp932").encode("utf-8")
    if isinstance(data, Path):
        return pl.read_csv(data, infer_schema=False)
    # most V2.1 pieces hold no quote at all: parsing without quote handling is ~20% cheaper
    quote: str | None = '"' if b'"' in data else None
    return pl.read_csv(io.BytesIO(data), infer_schema=False, quote_char=quote)


@dataclass(frozen=True, slots=True)
class PieceResult:
    columns: list[str]
    height: int
    violations: list[Violation]  # rows counted within the piece
    keys: pl.DataFrame | None  # the primary key columns, for the one check over all pieces
    error: str | None = None  # the piece is not readable CSV, or its schema cannot run
    key_hashes: pl.Series | None = None  # one 64-bit hash per row of ``keys``
    # ``keys`` holds each distinct key once with its rows (_n) and first row (_first, 0-based):
    # the piece repeats keys, so its memory follows the distinct keys, not the rows
    distinct: bool = False


def check_piece(
    header: bytes, body: bytes, encoding: str, fields: Sequence[FieldRule], key: Sequence[str]
) -> PieceResult:
    try:
        frame = read_table(header + body, encoding)
    except Exception as exc:  # a damaged file: a finding about this file, never a crash
        return PieceResult([], 0, [], None, f"CSV として読めません: {type(exc).__name__}")
    names = [f.name for f in fields]
    if frame.columns != names:
        return PieceResult(frame.columns, frame.height, [], None)
    try:
        violations = check_table(frame, fields, ())
    except Exception as exc:
        # A damaged datapackage.json can hold a schema that cannot run (an unbalanced pattern,
        # a maxLength that is not a number).
        why = f"スキーマ定義を検査に使えません: {type(exc).__name__}"
        return PieceResult(frame.columns, frame.height, [], None, why)
    if not key or not all(k in names for k in key):
        return PieceResult(frame.columns, frame.height, violations, None)
    keys = frame.select(key)
    hashes = keys.hash_rows()
    if hashes.n_unique() == hashes.len():  # the usual case: every key of the piece differs
        return PieceResult(frame.columns, frame.height, violations, keys, None, hashes)
    summary = _distinct_keys(keys.with_row_index(_FIRST).with_columns(pl.lit(1).alias(_N)), key)
    return PieceResult(frame.columns, frame.height, violations, summary, None, None, True)


_N, _FIRST = "_chukan_rows", "_chukan_first"  # beside the key columns of a distinct-key frame
_PIECE_ROWS = 1 << 32  # first rows of other pieces are coded piece * _PIECE_ROWS + row
FOLD_ROWS = 1 << 20  # distinct-key rows kept before they are folded into one frame


def _distinct_keys(parts: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """Key columns, rows (_N) and first row (_FIRST): one row per distinct key."""
    agg = [pl.col(_N).sum(), pl.col(_FIRST).min()]
    return parts.group_by(list(key)).agg(agg)


class _KeyLedger:
    """The primary keys of the pieces that repeat keys, as distinct keys with their rows and
    first row, folded together whenever they hold ``fold_rows`` rows more: a table that repeats
    a few keys (a compressed bomb does) costs memory for those few keys, not for every row."""

    def __init__(self, key: Sequence[str], fold_rows: int) -> None:
        self.key = tuple(key)
        self.parts: list[pl.DataFrame] = []
        self.rows = 0
        self.fold_at = fold_rows
        self.fold_rows = fold_rows
        self._lock = threading.Lock()

    def add(self, index: int, summary: pl.DataFrame) -> None:
        coded = pl.col(_FIRST).cast(pl.UInt64) + pl.lit(index * _PIECE_ROWS, pl.UInt64)
        part = summary.with_columns(pl.col(_N).cast(pl.UInt64), coded.alias(_FIRST))
        with self._lock:
            self.parts.append(part)
            self.rows += part.height
            if self.rows >= self.fold_at:
                folded = _distinct_keys(pl.concat(self.parts), self.key)
                self.parts, self.rows = [folded], folded.height
                self.fold_at = max(self.fold_rows, 2 * folded.height)  # linear time in all


@dataclass(frozen=True, slots=True)
class TableOutcome:
    """A whole table's check: what its header holds, how many records, what it breaks."""

    columns: list[str]
    records: int
    violations: list[Violation]
    error: str | None  # unreadable, or a schema that cannot run: nothing else is known


class TableStream:
    """Feed a table's bytes in order with ``feed``, then ``close``; ``outcome()`` and
    ``problems()`` wait for every piece."""

    def __init__(
        self,
        fields: Sequence[FieldRule],
        key: Sequence[str],
        encoding: str,
        pool: Executor,
        *,
        expected: int | None = None,
        piece: int = PIECE,
        record_max: int | None = RECORD_MAX,
        fold_rows: int = FOLD_ROWS,
    ) -> None:
        self.fields = tuple(fields)
        self.key = tuple(key)
        self.encoding = encoding
        self.expected = expected
        self.pool = pool
        self.piece = piece
        self.record_max = record_max  # None: no cap (benchmarks only)
        self.wait_for = piece  # cut again once the buffer holds this much
        self.buffer = bytearray()
        self.header: bytes | None = None
        self.fed = 0  # bytes of the file before the buffer
        self.endless: str | None = None  # set when bytes ran past ``record_max`` without an end
        self.ledger = _KeyLedger(self.key, fold_rows)
        # each piece's result once checked (its distinct keys moved to the ledger); futures
        # are not kept, so nothing else holds a piece's keys
        self._results: list[PieceResult | None] = []
        self._lock = threading.Lock()
        self._done = 0
        self._closed = False
        self._outcome: Future[TableOutcome] = Future()

    def feed(self, chunk: bytes) -> None:
        if self.endless:
            return
        self.buffer += chunk
        while len(self.buffer) >= self.wait_for and not self.endless:
            self._cut()

    def _cut(self) -> None:
        header_max = None if self.record_max is None else HEADER_MAX
        if self.header is None and (start := record_end(self.buffer, 0, 0, header_max)):
            self.header = bytes(self.buffer[:start])
            self._drop(start)
        end = self._piece_end() if self.header is not None else None
        if end:
            self._submit(end)
            self.wait_for = self.piece
        elif header_max is not None and self.header is None and len(self.buffer) >= header_max:
            self._give_up(f"最初の {header_max:,} バイトに見出し行")
        elif self.record_max is not None and len(self.buffer) >= self.record_max:
            self._give_up(f"{self.fed:,} バイト目からの {len(self.buffer):,} バイトにレコード")
        else:
            # a record longer than a piece, or a stray quote in a damaged file: look again once
            # the buffer has doubled, so the scans stay linear in the file's size
            self.wait_for = max(self.piece, 2 * len(self.buffer))
            if self.record_max is not None:
                self.wait_for = min(self.wait_for, self.record_max)

    def _give_up(self, where: str) -> None:
        self.endless = (
            f"{where}の区切りが見つかりません (改行がないか引用符が閉じていません):"
            " 以降は検査しません"
        )
        self.buffer = bytearray()

    def _drop(self, end: int) -> None:
        del self.buffer[:end]
        self.fed += end

    def _rows_cut(self) -> int | None:
        """Where a piece of about PIECE_ROWS records ends, when records are so short that a
        whole piece would hold many more (a bomb's "1\\n": parsed, a row costs far more
        than its bytes); judged by the density of line breaks in the piece's first bytes."""
        if self.record_max is None or self.endless or self.header is None:
            return None
        span = min(len(self.buffer), self.piece)
        probe = min(span, 2 * PIECE_ROWS)
        lines = self.buffer.count(b"\n", 0, probe)
        if not lines or lines * span <= PIECE_ROWS * probe:
            return None
        return probe * PIECE_ROWS // lines

    def _piece_end(self) -> int | None:
        cut = self._rows_cut()
        at = min(len(self.buffer), cut) // 2 if cut else max(0, len(self.buffer) - TAIL)
        return record_end(self.buffer, at, self.buffer.count(b'"', 0, at))

    def _submit(self, end: int) -> None:
        body = bytes(self.buffer[:end])
        self._drop(end)
        header = self.header or b""
        with self._lock:
            index = len(self._results)
            self._results.append(None)
        job = self.pool.submit(check_piece, header, body, self.encoding, self.fields, self.key)
        job.add_done_callback(lambda done: self._piece_done(index, done))

    def close(self) -> None:
        """The last piece: whatever is left, ending with or without a line break. The pieces
        are combined by whichever worker finishes the last one, without waiting for a caller."""
        while self._rows_cut() and (end := self._piece_end()):
            self._submit(end)
        if self.header is None:
            # no header line found while streaming: the file is one piece, read as a whole
            self.header = b""
        if (self.buffer and not self.endless) or not self._results:
            self._submit(len(self.buffer))
        with self._lock:
            self._closed = True
            last = self._done == len(self._results)
        if last:
            self._finish()

    def _piece_done(self, index: int, job: Future[PieceResult]) -> None:
        try:
            result = job.result()
            if result.distinct and result.keys is not None:
                self.ledger.add(index, result.keys)
                result = replace(result, keys=None)
        except BaseException as exc:  # never lose a piece: it becomes its own error
            result = PieceResult([], 0, [], None, f"検査できません: {type(exc).__name__}")
        with self._lock:
            self._results[index] = result
            self._done += 1
            last = self._closed and self._done == len(self._results)
        if last:
            self._finish()

    def _finish(self) -> None:
        try:
            self._outcome.set_result(self._combine())
        except BaseException as exc:  # handed to whoever asks for the outcome
            self._outcome.set_exception(exc)

    @classmethod
    def for_resource(
        cls, resource: Mapping[str, Any], pool: Executor, *, record_max: int | None = RECORD_MAX
    ) -> TableStream:
        """The check a datapackage.json resource describes (schema, encoding, record count);
        ValueError naming the key when the descriptor does not have the shapes they need."""
        schema = _object(resource.get("schema"), "schema")
        fields = _list(schema.get("fields"), "schema.fields")
        key = _list(schema.get("primaryKey"), "schema.primaryKey")
        for i, f in enumerate(fields):
            if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                raise ValueError(f"schema.fields[{i}]: name のあるオブジェクトではありません")
            _object(f.get("constraints"), f"schema.fields[{i}].constraints")
        records = _object(resource.get("chukan"), "chukan").get("records")
        if records is not None and (type(records) is not int or records < 0):
            raise ValueError("chukan.records: 0 以上の整数ではありません")
        return cls(
            [FieldRule.from_descriptor(f) for f in fields],
            [str(k) for k in key],
            str(resource.get("encoding", "utf-8")),
            pool,
            expected=records,
            record_max=record_max,
        )

    def outcome(self) -> TableOutcome:
        """Waits for the pieces (after ``close``)."""
        return self._outcome.result()

    def _combine(self) -> TableOutcome:
        results = [r for r in self._results if r is not None]
        columns = results[0].columns
        errors = sorted({r.error for r in results if r.error})
        if errors:
            return TableOutcome(columns, 0, [], errors[0])
        records = sum(r.height for r in results)
        if columns != [f.name for f in self.fields]:
            return TableOutcome(columns, records, [], None)
        return TableOutcome(columns, records, _merge(results, self.ledger), None)

    def problems(self) -> list[str]:
        """Japanese messages, one per broken constraint (counts over the whole file)."""
        done = self.outcome()
        if self.endless:
            return [self.endless]
        if done.error:
            return [done.error]
        if done.columns != [f.name for f in self.fields]:
            return [f"見出し行が定義と異なります: {done.columns[:5]}…"]
        out: list[str] = []
        if self.expected is not None and done.records != self.expected:
            out.append(f"レコード件数 {done.records:,} 件 (定義は {self.expected:,} 件)")
        for v in done.violations:
            label = CONSTRAINT_LABELS.get(v.constraint, v.constraint)
            out.append(f"{v.field}: {label} {v.rows:,} 件 (最初はデータ {v.first_row} 行目)")
        return out


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: オブジェクトではありません")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: 配列ではありません")
    return value


def _merge(results: Sequence[PieceResult], ledger: _KeyLedger) -> list[Violation]:
    """Per-row violations summed over pieces (first row shifted by the rows before the piece),
    then the primary key over all pieces."""
    merged: dict[tuple[str, str], Violation] = {}
    offsets = []
    offset = 0
    for r in results:
        for v in r.violations:
            key = (v.field, v.constraint)
            seen = merged.get(key)
            if seen is None:
                merged[key] = Violation(v.field, v.constraint, v.rows, v.first_row + offset)
            else:
                merged[key] = Violation(v.field, v.constraint, seen.rows + v.rows, seen.first_row)
        offsets.append(offset)
        offset += r.height
    out = list(merged.values())
    if ledger.parts:  # some pieces repeat keys: count by distinct key
        return out + _repeated_keys(results, ledger, offsets)
    keys = [r.keys for r in results if r.keys is not None]
    hashes = [r.key_hashes for r in results if r.key_hashes is not None]
    # Distinct 64-bit hashes mean distinct keys; only when two collide (a duplicate key, or
    # by chance) are the key strings compared.
    if keys and len(keys) == len(results) and _collide(pl.concat(hashes)):
        out += check_table(pl.concat(keys), (), keys[0].columns)
    return out


def _repeated_keys(
    results: Sequence[PieceResult], ledger: _KeyLedger, offsets: Sequence[int]
) -> list[Violation]:
    """The primary key check of ``check_table`` (rows whose key occurs more than once, first
    such row) over the ledger's distinct keys and the other pieces' keys."""
    if any(r.keys is None and not r.distinct for r in results):
        return []  # a piece without the key columns: nothing to say about the key
    parts = list(ledger.parts)
    for index, r in enumerate(results):
        if r.keys is not None:
            first = pl.int_range(pl.len(), dtype=pl.UInt64) + pl.lit(index * _PIECE_ROWS, pl.UInt64)
            parts.append(r.keys.with_columns(pl.lit(1, pl.UInt64).alias(_N), first.alias(_FIRST)))
    total = _distinct_keys(pl.concat(parts), ledger.key).filter(pl.col(_N) > 1)
    if not total.height:
        return []
    code = int(total[_FIRST].min())  # type: ignore[arg-type]
    piece, row = divmod(code, _PIECE_ROWS)
    rows = int(total[_N].sum())
    return [Violation("+".join(ledger.key), "primaryKey", rows, offsets[piece] + row + 1)]


def _collide(hashes: pl.Series) -> bool:
    return hashes.n_unique() < hashes.len()  # a hash set: ~4x cheaper than is_duplicated
