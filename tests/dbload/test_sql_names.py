"""Hostile 項目名 and ids through every load statement, in DuckDB and a real PostgreSQL server.

The statements are psycopg ``sql`` compositions (etl.dbload.schema): whatever a layout names an
item (quotes, backslashes, ``;``, ``%s``, ``$1``, braces, 全角, very long), the table gets
exactly that column, its comment keeps the 項目名 and description as written, the data goes
in and the scan reads it back. What no engine can name (NUL, two names PostgreSQL's 63-byte cut
makes one) is refused before any statement.
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from etl.dbload.chunks import Chunk
from etl.dbload.duckdb_engine import DuckDBSession, duckdb_text
from etl.dbload.postgres_engine import PostgresSession, copy_chunk
from etl.dbload.reconcile import Controls, read_scan, scan_sql
from etl.dbload.run import FileToLoad
from etl.dbload.schema import (
    PG_NAME_BYTES,
    TableSpec,
    check_names,
    ident,
    loads_table_ddl,
    pg_name,
)
from etl.dbload.target import Engine, parse_load_target
from etl.layout import Item, ItemType, Layout, Provenance, RecordFile

KEY = 'key"; DROP TABLE x; --'
AMOUNT = "金額'quote\\back%s$1{0}"
CODE = "区分 ; 100%"
LONG = "長" * 30 + "い項目名"  # 102 bytes: PostgreSQL keeps 21 characters
HOSTILE_ITEMS = (
    Item(KEY, ItemType.DIGITS, 5, required=True, description="it's a \\key\\; '--"),
    Item(AMOUNT, ItemType.INTEGER, 9, description="%(x)s $2 ? {}"),
    Item(CODE, ItemType.TEXT, 4),
    Item(LONG, ItemType.TEXT, 10, description="長い名前は切られる"),
    Item("全角　スペース\t", ItemType.DATE, 8),
)
SCHEMA = "s'\"; x"
ROWS = [("00001", "120", "A", "x", "20240131"), ("00002", "-20", "B", "", "")]


def _layout(
    items: tuple[Item, ...] = HOSTILE_ITEMS, rf_id: str = "r" * 64, layout_id: str = "L" * 64
) -> Layout:
    rf = RecordFile(id=rf_id, name="ファイル'名\\", items=items, key=(KEY,))
    return Layout(layout_id, "業務'名", "9.9", (rf,), Provenance("authored", (), ""))


def _spec(layout: Layout | None = None, schema: str | None = SCHEMA) -> TableSpec:
    lay = layout or _layout()
    return TableSpec(lay, lay.record_files[0], schema)


def _csv(path: Path, names: list[str]) -> FileToLoad:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(ROWS)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FileToLoad(_spec(), path, len(ROWS), digest)  # bulk_load reads only path and items


CONTROLS = Controls(sums=(AMOUNT,), count_by=(CODE,))


def _check_scan(rows: list[tuple[Any, ...]]) -> None:
    scan = read_scan(rows, CONTROLS, [LONG])
    assert scan.rows == 2 and scan.sums == {AMOUNT: 100}
    assert scan.nulls == {LONG: 1}  # an empty field is NULL
    assert scan.codes == {CODE: {"A": 1, "B": 1}}


def test_duckdb_takes_every_hostile_name(tmp_path: Path) -> None:
    spec = _spec()
    assert check_names([spec], SCHEMA, Engine.DUCKDB) is None
    session = DuckDBSession(parse_load_target(f"duckdb:{tmp_path / 'h.duckdb'}"))
    try:
        session.execute(sql.SQL("CREATE SCHEMA {}").format(ident(SCHEMA)))
        session.execute(loads_table_ddl(SCHEMA, Engine.DUCKDB))
        session.execute(spec.create(Engine.DUCKDB))
        for stmt in spec.comments():
            session.execute(stmt)
        f = _csv(tmp_path / "h.csv", [it.name for it in HOSTILE_ITEMS])
        assert session.bulk_load(f, "utf-8") == f.sha256
        pk = spec.primary_key()
        assert pk is not None
        session.execute(pk)
        _check_scan(session.query(scan_sql(spec, CONTROLS, [LONG], spec.qualified)))
        columns = session.query(
            sql.SQL(
                "SELECT column_name, comment FROM duckdb_columns()"
                " WHERE schema_name = $1 AND table_name = $2 ORDER BY column_index"
            ),
            [SCHEMA, spec.name],
        )
        (table_comment,) = session.query(
            sql.SQL("SELECT comment FROM duckdb_tables() WHERE table_name = $1"), [spec.name]
        )[0]
        (stored,) = session.query(
            sql.SQL("SELECT {} FROM {} ORDER BY 1 DESC").format(ident(AMOUNT), spec.qualified)
        )[0]
    finally:
        session.close()
    assert [c[0] for c in columns] == [it.name for it in HOSTILE_ITEMS]
    assert columns[0][1] == f"{KEY}: it's a \\key\\; '--"  # backslashes kept as written
    assert columns[1][1] == f"{AMOUNT}: %(x)s $2 ? {{}}"
    assert table_comment == f"業務'名 ファイル'名\\ (V2.1 {'L' * 64}/{'r' * 64})"
    assert stored == 120


def test_the_duckdb_quoting_is_standard_sql() -> None:
    text = duckdb_text(sql.SQL("SELECT {} AS {}").format(sql.Literal("a'b\\c"), ident('x"y')))
    assert text == "SELECT 'a''b\\c' AS \"x\"\"y\""


def test_postgresql_takes_every_hostile_name(tmp_path: Path, pg_url: str) -> None:
    spec = _spec(_layout(rf_id="r-1", layout_id="L_2"))  # ids of 64 are refused: see below
    assert check_names([spec], SCHEMA, Engine.POSTGRESQL) is None
    f = _csv(tmp_path / "h.csv", [it.name for it in HOSTILE_ITEMS])
    session = PostgresSession(parse_load_target(pg_url))
    fd = os.open(f.path, os.O_RDONLY)
    try:
        session.execute(sql.SQL("CREATE SCHEMA {}").format(ident(SCHEMA)))
        session.execute(loads_table_ddl(SCHEMA, Engine.POSTGRESQL))
        session.execute(spec.create(Engine.POSTGRESQL, staging=True))
        session.execute(sql.SQL(";\n").join(spec.comments(staging=True)))
        copy_chunk(
            session.conn, spec, fd, Chunk(0, os.fstat(fd).st_size), "utf-8", threading.Event()
        )
        index = spec.staging_key_index()
        assert index is not None
        session.execute(index)
        _check_scan(session.query(scan_sql(spec, CONTROLS, [LONG], spec.staging)))
        columns = session.query(
            sql.SQL(
                "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a"
                " WHERE a.attrelid = $1::regclass AND a.attnum > 0 ORDER BY a.attnum"
            ),
            [duckdb_text(spec.staging)],  # a regclass is read from the quoted name
        )
    finally:
        os.close(fd)
        session.close()
    assert [c[0] for c in columns] == [pg_name(it.name) for it in HOSTILE_ITEMS]
    assert pg_name(LONG) != LONG and len(pg_name(LONG).encode()) <= PG_NAME_BYTES
    assert columns[0][1] == f"{KEY}: it's a \\key\\; '--"
    assert columns[3][1] == f"{LONG}: 長い名前は切られる"  # the full 項目名 stays in the comment


@pytest.mark.parametrize("engine", [Engine.DUCKDB, Engine.POSTGRESQL])
def test_names_no_engine_takes_are_refused(engine: Engine) -> None:
    nul = _layout((Item("a\x00b", ItemType.TEXT, 1), *HOSTILE_ITEMS))
    assert "NUL" in str(check_names([_spec(nul)], None, engine))
    assert "NUL" in str(check_names([_spec()], "s\x00", engine))


def test_postgresql_refuses_names_its_cut_makes_one() -> None:
    same_start = (Item("長" * 21 + "A", ItemType.TEXT, 1), Item("長" * 21 + "B", ItemType.TEXT, 1))
    twins = _layout((*HOSTILE_ITEMS, *same_start), rf_id="r", layout_id="L")
    problem = check_names([_spec(twins)], None, Engine.POSTGRESQL)
    assert problem is not None and "63 bytes" in problem and "columns of" in problem
    assert check_names([_spec(twins)], None, Engine.DUCKDB) is None  # DuckDB keeps them whole
    one, two = _spec(_layout(rf_id="a" * 64)), _spec(_layout(rf_id="b" * 64))
    problem = check_names([one, two], None, Engine.POSTGRESQL)  # "LLL…_aaa…" vs "LLL…_bbb…"
    assert problem is not None and "table names" in problem
    assert check_names([_spec()], None, Engine.POSTGRESQL) is not None  # its name vs its index
