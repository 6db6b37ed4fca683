"""DuckDB: the CSV is read by DuckDB's own ``read_csv`` (UTF-8) or handed over as Arrow (cp932)."""

from __future__ import annotations

from typing import Any

import duckdb

from etl.layout import ItemType
from etl.load.atomic import make_private_dir, sha256_file
from etl.load.csv_out import CsvFormat, read_csv_columns
from etl.load.db.errors import LoadError, db_error
from etl.load.db.run import FileToLoad
from etl.load.db.schema import column_type, quote_ident, quote_literal, typed_column
from etl.load.db.target import Engine, Target


class DuckDBSession:
    errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def __init__(self, target: Target) -> None:
        path = target.path
        try:
            make_private_dir(path.parent)  # new folders 0700; an existing one keeps its mode
            self.con = duckdb.connect(str(path))
            path.chmod(0o600)  # the tables hold personal data
        except (duckdb.Error, OSError) as exc:
            raise LoadError(target.display, f"cannot open: {db_error(exc)}") from exc

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

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
        if encoding == "cp932":
            # DuckDB reads UTF-8 only: decode with Python's cp932 and pass the frame as Arrow
            frame = read_csv_columns(f.path, CsvFormat(encoding="cp932"), [it.name for it in items])
            self.con.register("_chukan_src", frame.to_arrow())
            source = "_chukan_src"
        else:
            columns = ", ".join(f"{quote_literal(it.name)}: 'VARCHAR'" for it in items)
            source = (
                f"read_csv({quote_literal(str(f.path))}, header = true, auto_detect = false,"
                f" delim = ',', quote = '\"', escape = '\"', columns = {{{columns}}})"
            )
        exprs = []
        for it in items:
            col = quote_ident(it.name)
            if it.type is ItemType.DATE:
                exprs.append(f"CAST(strptime(NULLIF({col}, ''), '%Y%m%d') AS DATE)")
            elif typed_column(it):  # integer, decimal: exact casts from the CSV's text
                exprs.append(f"CAST(NULLIF({col}, '') AS {column_type(it, Engine.DUCKDB)})")
            else:
                exprs.append(col)
        self.con.execute(f"INSERT INTO {f.table.qualified} SELECT {', '.join(exprs)} FROM {source}")
        if source == "_chukan_src":
            self.con.unregister("_chukan_src")
        return digest
