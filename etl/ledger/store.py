"""The ledger file: an embedded DuckDB database a group keeps beside its projects.

Three tables: ``ledger`` (its schema version), ``occurrences`` (what each scanned run met:
one row per code, run, 業務, file and item; scanning a run again adds nothing) and
``decisions`` (append-only: every decision with who, when and why; the latest per code is
the one in force). Nothing is ever updated or deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from etl.ledger.model import Candidate, CodeKey, CodeState, Decision, LedgerError, Status

SCHEMA_VERSION = 1
OCCURRENCE_COLUMNS = (
    "vendor",
    "charset",
    "code",
    "municipality",
    "run_id",
    "run_path",
    "gyomu",
    "file",
    "item",
    "count",
    "sample_keys",
    "scanned_at",
)
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS ledger (schema_version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS occurrences (
        vendor VARCHAR NOT NULL, charset VARCHAR NOT NULL, code VARCHAR NOT NULL,
        municipality VARCHAR NOT NULL, run_id VARCHAR NOT NULL, run_path VARCHAR NOT NULL,
        gyomu VARCHAR NOT NULL, file VARCHAR NOT NULL, item VARCHAR NOT NULL,
        count BIGINT NOT NULL, sample_keys VARCHAR NOT NULL, scanned_at VARCHAR NOT NULL,
        PRIMARY KEY (vendor, charset, code, municipality, run_id, gyomu, file, item))""",
    "CREATE SEQUENCE IF NOT EXISTS decision_no",
    """CREATE TABLE IF NOT EXISTS decisions (
        seq BIGINT PRIMARY KEY DEFAULT nextval('decision_no'),
        vendor VARCHAR NOT NULL, charset VARCHAR NOT NULL, code VARCHAR NOT NULL,
        status VARCHAR NOT NULL, text VARCHAR, mj_name VARCHAR, juki_code VARCHAR,
        decided_by VARCHAR NOT NULL, decided_at VARCHAR NOT NULL, reason VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS candidates (
        vendor VARCHAR NOT NULL, charset VARCHAR NOT NULL, code VARCHAR NOT NULL,
        text VARCHAR NOT NULL, source VARCHAR NOT NULL, proposed_at VARCHAR NOT NULL,
        mj_name VARCHAR, PRIMARY KEY (vendor, charset, code, text))""",
]
_DECISION_COLUMNS = (
    "vendor, charset, code, status, text, mj_name, juki_code, decided_by, decided_at, reason"
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ledger:
    """An open ledger; use ``open_ledger`` (a context manager)."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.path = path
        self.con = con

    def add_occurrences(self, rows: pl.DataFrame) -> int:
        """Record what a scan found (columns OCCURRENCE_COLUMNS); rows already recorded (the
        same run scanned again) are skipped. Returns how many were new."""
        if not rows.height:
            return 0
        before = self._count("occurrences")
        arrow = rows.select(OCCURRENCE_COLUMNS).to_arrow()  # noqa: F841 - DuckDB scans it by name
        self.con.execute("INSERT OR IGNORE INTO occurrences SELECT * FROM arrow")
        return self._count("occurrences") - before

    def decide(self, decision: Decision) -> None:
        k = decision.key
        self.con.execute(
            f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                k.vendor,
                k.charset,
                k.code,
                decision.status.value,
                decision.text,
                decision.mj_name,
                decision.juki_code,
                decision.decided_by,
                decision.decided_at,
                decision.reason,
            ],
        )

    def history(self, key: CodeKey) -> list[Decision]:
        """Every decision on ``key``, oldest first."""
        rows = self.con.execute(
            f"SELECT {_DECISION_COLUMNS} FROM decisions"
            " WHERE vendor = ? AND charset = ? AND code = ? ORDER BY seq",
            [key.vendor, key.charset, key.code],
        ).fetchall()
        return [_decision(r) for r in rows]

    def known(self, key: CodeKey) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM (SELECT code FROM occurrences WHERE vendor = ? AND charset = ?"
            " AND code = ? UNION ALL SELECT code FROM decisions WHERE vendor = ? AND charset = ?"
            " AND code = ?)",
            [key.vendor, key.charset, key.code] * 2,
        ).fetchone()
        return bool(found and found[0])

    def states(self, vendor: str | None = None) -> list[CodeState]:
        """Every code seen or decided (of ``vendor``), with its latest decision, sorted."""
        codes = self.con.execute(
            """
            WITH seen AS (
                SELECT vendor, charset, code, sum(count) AS n,
                       list(DISTINCT municipality ORDER BY municipality) AS munis
                FROM occurrences GROUP BY ALL
            ), keys AS (
                SELECT vendor, charset, code FROM occurrences
                UNION SELECT vendor, charset, code FROM decisions
            )
            SELECT k.vendor, k.charset, k.code, coalesce(s.n, 0), coalesce(s.munis, [])
            FROM keys k LEFT JOIN seen s USING (vendor, charset, code)
            WHERE ? IS NULL OR k.vendor = ?
            ORDER BY k.vendor, k.charset, k.code
            """,
            [vendor, vendor],
        ).fetchall()
        latest = {
            (d.key.vendor, d.key.charset, d.key.code): d
            for d in (
                _decision(r)
                for r in self.con.execute(
                    f"SELECT {_DECISION_COLUMNS} FROM decisions ORDER BY seq"
                ).fetchall()
            )
        }
        return [
            CodeState(
                key=CodeKey(v, c, code),
                decision=latest.get((v, c, code)),
                occurrences=int(n),
                municipalities=tuple(str(m) for m in munis if m),
            )
            for v, c, code, n, munis in codes
        ]

    def occurrences(self, key: CodeKey) -> pl.DataFrame:
        rel = self.con.sql(
            f"SELECT {', '.join(OCCURRENCE_COLUMNS)} FROM occurrences"
            " WHERE vendor = $vendor AND charset = $charset AND code = $code"
            " ORDER BY municipality, run_id, gyomu, file, item",
            params={"vendor": key.vendor, "charset": key.charset, "code": key.code},
        )
        frame = pl.from_arrow(rel.to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def add_candidates(self, key: CodeKey, candidates: list[Candidate]) -> int:
        """Record proposed characters for ``key`` (one already proposed is kept as it was)."""
        before = self._count("candidates")
        self.con.executemany(
            "INSERT OR IGNORE INTO candidates VALUES (?,?,?,?,?,?,?)",
            [
                [key.vendor, key.charset, key.code, c.text, c.source, c.proposed_at, c.mj_name]
                for c in candidates
            ],
        )
        return self._count("candidates") - before

    def candidates(self, key: CodeKey) -> list[Candidate]:
        rows = self.con.execute(
            "SELECT text, source, proposed_at, mj_name FROM candidates"
            " WHERE vendor = ? AND charset = ? AND code = ? ORDER BY rowid",
            [key.vendor, key.charset, key.code],
        ).fetchall()
        return [Candidate(text, source, at, mj) for text, source, at, mj in rows]

    def _count(self, table: str) -> int:
        found = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(found[0]) if found else 0


def _decision(row: tuple[Any, ...]) -> Decision:
    vendor, charset, code, status, text, mj, juki, by, at, reason = row
    return Decision(CodeKey(vendor, charset, code), Status(status), text, mj, juki, by, at, reason)


@contextmanager
def open_ledger(path: Path, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger at ``path``; ``create`` makes a new one (owner-only) when there is none.

    Every change a command makes is one transaction: committed when the command's work is
    done, rolled back when it fails.
    """
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise LedgerError(f"{path}: not a ledger file (a folder, a link or a device)")
    if not path.exists() and not create:
        raise LedgerError(f"{path}: no ledger here; `chukan gaiji scan --ledger {path}` makes one")
    new = not path.exists()
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise LedgerError(f"{path}: not a readable ledger ({str(exc).splitlines()[0]})") from None
    try:
        if new:  # owner-only: the ledger names municipalities and record keys
            path.chmod(0o600)
            for statement in _SCHEMA:
                con.execute(statement)
            con.execute("INSERT INTO ledger VALUES (?)", [SCHEMA_VERSION])
        _check_schema(path, con)
        con.execute("BEGIN TRANSACTION")
        try:
            yield Ledger(path, con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except duckdb.Error as exc:
        raise LedgerError(
            f"{path}: the ledger cannot be used: {str(exc).splitlines()[0]}"
        ) from None
    finally:
        con.close()


def _check_schema(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    try:
        found = con.execute("SELECT schema_version FROM ledger").fetchone()
    except duckdb.Error:
        raise LedgerError(f"{path}: a DuckDB file, but not a 外字 ledger") from None
    if found is None or found[0] != SCHEMA_VERSION:
        raise LedgerError(f"{path}: ledger schema {found and found[0]}, this chukan reads 1")
