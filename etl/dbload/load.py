"""``load_run``: a finished run into DuckDB or PostgreSQL, made visible by one transaction.

Loading a run again replaces its tables atomically: a reader sees the previous load or the new
one, never half, and a load killed at any point leaves the previous load intact.
DuckDB: each table is dropped and recreated inside the one transaction (an uncommitted
transaction never reaches DuckDB's WAL). PostgreSQL: the files are COPYed by several connections
into staging tables first (postgres_load.py), and the transaction swaps them in.
Either way the primary key is built after the bulk load (one index build instead of one insert
per row), and counts and control totals are recomputed by SQL, one scan per table, before
commit; a mismatch rolls the load back and the result is not ok.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from psycopg import sql

from etl import events
from etl.dbload.errors import LoadError, is_duplicate_key, refused
from etl.dbload.reconcile import (
    Controls,
    LoadedTable,
    controls_by_table,
    read_scan,
    reconcile,
    scan_sql,
)
from etl.dbload.result import LoadCheck, LoadResult, TableLoad
from etl.dbload.run import FileToLoad, RunToLoad, check_header, read_run
from etl.dbload.schema import check_names, ident, loads_table, loads_table_ddl, param
from etl.dbload.session import Session
from etl.dbload.target import Engine, LoadTarget, parse_load_target
from etl.layout import Layout
from etl.run_folder import RunFolderError
from etl.validate import SchemaRule

if TYPE_CHECKING:
    from etl.dbload.duckdb_engine import DuckDBSession

_Outcome = tuple[list[TableLoad], list[LoadCheck], bool]  # tables, checks, committed


def _postgres(tgt: LoadTarget, run: RunToLoad, schema: str | None, relax: bool) -> _Outcome:
    try:
        from etl.dbload import staging
        from etl.dbload.postgres_engine import PostgresSession
        from etl.dbload.postgres_load import stage
    except ImportError as exc:  # psycopg is an optional dependency: say so, not a traceback
        need = "PostgreSQL loads need psycopg: pip install 'psycopg[binary]'"
        raise LoadError(tgt.display, need) from exc
    session = PostgresSession(tgt)
    refusals: tuple[type[Exception], ...] = (*session.errors, OSError, UnicodeDecodeError)
    try:
        staging.lock_and_clean(session, schema)
        loaded = stage(session, tgt, run, relax_not_null=relax)
        session.begin()
        staging.swap(session, loaded, tgt, relax=relax)
        return _finish(session, Engine.POSTGRESQL, run, loaded)
    except LoadError:
        _rollback_quietly(session)
        raise
    except refusals as exc:
        _rollback_quietly(session)
        dup = _file_with_duplicate_keys(run) if is_duplicate_key(exc) else None
        spec, path = (dup.table, dup.path) if dup else (None, None)
        raise refused(
            tgt.display, exc, table=None, relax_not_null=relax, spec=spec, path=path
        ) from None
    finally:
        # committed: nothing is left; else the staging tables (personal data) go now
        with suppress(*session.errors):
            staging.drop_staging(session, schema)
        session.close()


def _duckdb(tgt: LoadTarget, run: RunToLoad, schema: str | None, relax: bool) -> _Outcome:
    from etl.dbload.duckdb_engine import DuckDBSession

    session = DuckDBSession(tgt)
    controls = controls_by_table(run)
    refusals: tuple[type[Exception], ...] = (*session.errors, OSError, UnicodeDecodeError)
    current: FileToLoad | None = None
    try:
        session.begin()
        if schema:
            session.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)))
        session.execute(loads_table_ddl(schema, tgt.engine))
        loaded = []
        for f in run.files:
            current, name = f, f.table.name
            events.step_started(f"load {name}")
            table = _duckdb_table(session, f, controls.get(name, Controls()), run, relax)
            loaded.append(table)
            events.step_finished(f"load {name}", table.scan.rows)
        current = None
        return _finish(session, Engine.DUCKDB, run, loaded)
    except LoadError:
        _rollback_quietly(session)
        raise
    except refusals as exc:
        # the engine refused the data (constraint, type, I/O): nothing was loaded
        _rollback_quietly(session)
        if current is None and is_duplicate_key(exc):
            current = _file_with_duplicate_keys(run)  # DuckDB checks keys at commit
        spec, path = (current.table, current.path) if current else (None, None)
        raise refused(
            tgt.display, exc, table=None, relax_not_null=relax, spec=spec, path=path
        ) from None
    finally:
        session.close()


def _file_with_duplicate_keys(run: RunToLoad) -> FileToLoad | None:
    """The first file the run's findings report shared keys in (schema.key_unique), if any:
    which file a refused primary key belongs to when the engine does not say."""
    try:
        findings = run.run.findings()
    except RunFolderError:
        return None
    dup = findings.filter(pl.col("rule") == SchemaRule.KEY_UNIQUE).select("gyomu", "file")
    found = set(dup.unique().iter_rows())
    return next(
        (f for f in run.files if (f.table.layout.id, f.table.record_file.id) in found), None
    )


def _duckdb_table(
    session: DuckDBSession, f: FileToLoad, controls: Controls, run: RunToLoad, relax: bool
) -> LoadedTable:
    spec = f.table
    # DuckDB cannot retry a failed statement inside a transaction: required items that may
    # hold nulls start without NOT NULL and get it back when the scan finds none
    nullable = spec.required if relax else []
    session.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(spec.qualified))
    session.execute(spec.create(Engine.DUCKDB, nullable=nullable))
    digest = session.bulk_load(f, run.encoding)
    scan = read_scan(
        session.query(scan_sql(spec, controls, nullable, spec.qualified)), controls, nullable
    )
    for n in nullable:
        if not scan.nulls[n]:  # DuckDB takes one ALTER per statement
            session.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(
                    spec.qualified, ident(n)
                )
            )
    pk = spec.primary_key()
    if pk:
        session.execute(pk)
    for stmt in spec.comments():
        session.execute(stmt)
    return LoadedTable(spec, digest, scan, tuple(n for n in nullable if scan.nulls[n]))


def _finish(
    session: Session, engine: Engine, run: RunToLoad, loaded: list[LoadedTable]
) -> _Outcome:
    """In the open transaction: check, record, then commit — or roll back on any mismatch."""
    events.step_started("reconcile")
    tables = [
        TableLoad(t.spec.name, t.spec.layout.id, t.spec.record_file.id, t.scan.rows, t.relaxed)
        for t in loaded
    ]
    checks = _file_checks(run, loaded) + reconcile(run, {t.spec.name: t.scan for t in loaded})
    _record_loads(session, engine, run, tables, {t.spec.name: t.digest for t in loaded})
    committed = all(c.ok for c in checks)
    events.step_started("commit" if committed else "rollback")
    if committed:
        session.commit()
    else:
        session.rollback()
    return tables, checks, committed


def _record_loads(
    session: Session,
    engine: Engine,
    run: RunToLoad,
    tables: list[TableLoad],
    digests: dict[str, str],
) -> None:
    qualified = loads_table(run.files[0].table.schema)
    now = datetime.now(UTC)  # DuckDB's column is a plain timestamp in UTC
    stamp = now if engine is Engine.POSTGRESQL else now.replace(tzinfo=None)
    delete = sql.SQL("DELETE FROM {} WHERE table_name = $1").format(qualified)
    insert = sql.SQL("INSERT INTO {} VALUES ({})").format(
        qualified, sql.SQL(", ").join(param(i) for i in range(1, 11))
    )
    for t in tables:  # one statement per table: a run has a handful
        session.execute(delete, [t.table])
        session.execute(
            insert,
            [
                t.table,
                t.gyomu,
                t.record_file,
                run.run_id,
                str(run.run_dir),
                run.manifest_sha256,
                digests[t.table],
                t.rows,
                ",".join(t.relaxed_not_null),
                stamp,
            ],
        )


def load_run(
    run_dir: Path,
    target: str,
    layouts: Mapping[str, Layout],
    *,
    schema: str | None = None,
    relax_not_null: bool = False,
) -> LoadResult:
    """Load every V2.1 file of ``run_dir`` into ``target`` (``duckdb:PATH`` or a PostgreSQL URL).

    ``layouts``: layout id → Layout (``etl.layout.load_layouts(version)``). ``relax_not_null``:
    a run with blocking findings may hold empty required items; by default that refuses the load
    (LoadError naming the column), with it those columns are created without NOT NULL and listed
    in the result. Raises LoadError when nothing was loaded; returns a result that is not ok
    (and rolled back) when the database disagrees with the manifest.
    """
    start = time.perf_counter()
    tgt = parse_load_target(target)
    run = read_run(run_dir, layouts, schema, tgt.display)
    problem = check_names([f.table for f in run.files], schema, tgt.engine)
    if problem is not None:  # before any statement: nothing is created
        raise LoadError(tgt.display, f"cannot name the tables: {problem}")
    for f in run.files:
        check_header(f, run.encoding, tgt.display)
    load = _postgres if tgt.engine is Engine.POSTGRESQL else _duckdb
    tables, checks, committed = load(tgt, run, schema, relax_not_null)
    return LoadResult(
        target=tgt.display,
        run_id=run.run_id,
        manifest_sha256=run.manifest_sha256,
        tables=tuple(tables),
        checks=tuple(checks),
        committed=committed,
        seconds=time.perf_counter() - start,
    )


def _rollback_quietly(session: Session) -> None:
    try:
        session.rollback()
    except session.errors:  # the connection may be gone; the server discards the work anyway
        return


def _file_checks(run: RunToLoad, loaded: list[LoadedTable]) -> list[LoadCheck]:
    by_table = {t.spec.name: t for t in loaded}
    checks: list[LoadCheck] = []
    for f in run.files:
        t = by_table[f.table.name]
        checks.append(LoadCheck(t.spec.name, "sha256", None, None, f.sha256, t.digest))
        checks.append(LoadCheck(t.spec.name, "rows", None, None, f.written, t.scan.rows))
    return checks


def describe(result: LoadResult) -> list[str]:
    """Short lines for a terminal: one per table, then every mismatch."""
    lines = [f"{t.table}: {t.rows:,} rows" for t in result.tables]
    lines += [
        f"  NOT NULL relaxed: {t.table}: {', '.join(t.relaxed_not_null)}"
        for t in result.tables
        if t.relaxed_not_null
    ]
    lines += [f"MISMATCH {c.describe()}" for c in result.mismatches]
    return lines
