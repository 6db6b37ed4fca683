"""DuckDB: the CSV is read by DuckDB's own ``read_csv`` (UTF-8) or handed over as Arrow (cp932)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import psycopg
from psycopg import sql
from psycopg.adapt import AdaptersMap, Dumper

from etl.dbload.errors import LoadError, db_error
from etl.dbload.run import FileToLoad
from etl.dbload.schema import Statement, column_type, ident, param, typed_column
from etl.dbload.target import Engine, LoadTarget
from etl.layout import ItemType
from etl.write import CsvFormat, make_private_dir, read_csv_columns, sha256_file


class _DuckDBString(Dumper):
    """A str as a DuckDB string literal: quotes doubled, backslashes as they are (psycopg's own
    quoting writes E'…' strings whose doubled backslashes DuckDB would keep)."""

    oid = 0  # no ::type cast

    def dump(self, obj: str) -> bytes:
        return obj.encode("utf-8")

    def quote(self, obj: str) -> bytes:
        if "\0" in obj:  # check_names refused these before any statement
            raise ValueError("a NUL character cannot be in a DuckDB string literal")
        return b"'" + obj.encode("utf-8").replace(b"'", b"''") + b"'"


_ADAPTERS = AdaptersMap(psycopg.adapters)
_ADAPTERS.register_dumper(str, _DuckDBString)


class _DuckDBContext:
    """What psycopg's sql objects are rendered with for DuckDB: no connection (identifiers
    quoted with doubled quotes, as DuckDB reads them) and the string quoting above."""

    adapters = _ADAPTERS
    connection = None


def duckdb_text(stmt: sql.Composable) -> str:
    """The one way a statement becomes DuckDB SQL text."""
    return stmt.as_string(_DuckDBContext())


_SOURCE = "_chukan_src"  # the Arrow frame of a cp932 file, registered for one INSERT


class DuckDBSession:
    errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def __init__(self, target: LoadTarget) -> None:
        path = target.path
        try:
            make_private_dir(path.parent)  # new folders 0700; an existing one keeps its mode
            self.con = duckdb.connect(str(path))
            path.chmod(0o600)  # the tables hold personal data
        except (duckdb.Error, OSError) as exc:
            raise LoadError(target.display, f"cannot open: {db_error(exc)}") from exc

    def execute(self, stmt: Statement, params: Sequence[Any] = ()) -> None:
        self.con.execute(duckdb_text(stmt), list(params) or None)

    def query(self, stmt: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(duckdb_text(stmt), list(params) or None).fetchall()

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()

    def bulk_load(self, f: FileToLoad, encoding: str) -> str:
        items = f.table.record_file.items
        digest = sha256_file(f.path)
        params: list[Any] = []
        if encoding == "cp932":
            # DuckDB reads UTF-8 only: decode with Python's cp932 and pass the frame as Arrow
            frame = read_csv_columns(f.path, CsvFormat(encoding="cp932"), [it.name for it in items])
            self.con.register(_SOURCE, frame.to_arrow())
            source: sql.Composable = ident(_SOURCE)
        else:
            # path and column names are bound: the column types are a struct parameter
            source = sql.SQL(
                "read_csv({}, header = true, auto_detect = false,"
                " delim = ',', quote = '\"', escape = '\"', columns = {})"
            ).format(param(1), param(2))
            params = [str(f.path), {it.name: "VARCHAR" for it in items}]
        exprs: list[sql.Composable] = []
        for it in items:
            col = ident(it.name)
            if it.type is ItemType.DATE:
                as_date = "CAST(strptime(NULLIF({}, ''), '%Y%m%d') AS DATE)"
                exprs.append(sql.SQL(as_date).format(col))
            elif typed_column(it):  # integer, decimal: exact casts from the CSV's text
                exprs.append(
                    sql.SQL("CAST(NULLIF({}, '') AS {})").format(
                        col, sql.SQL(column_type(it, Engine.DUCKDB))
                    )
                )
            else:
                exprs.append(col)
        self.execute(
            sql.SQL("INSERT INTO {} SELECT {} FROM {}").format(
                f.table.qualified, sql.SQL(", ").join(exprs), source
            ),
            params,
        )
        if encoding == "cp932":
            self.con.unregister(_SOURCE)
        return digest
