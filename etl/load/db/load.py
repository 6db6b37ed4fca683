"""``load_run``: a finished run into DuckDB or PostgreSQL, in one transaction, then reconciled.

Each table of the run is dropped and recreated inside the transaction, so loading a run again
replaces that data atomically: a reader sees the previous load or the new one, never half, and
a load killed at any point leaves the previous load intact (the uncommitted transaction is
discarded by the server, or never reaches DuckDB's WAL). The primary key is added after the bulk
load (one index build instead of one insert per row). Counts and control totals are recomputed
by SQL before commit; a mismatch rolls the load back and the result is not ok.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from etl.layout import Layout
from etl.load.db.errors import LoadError, db_error
from etl.load.db.reconcile import reconcile
from etl.load.db.result import Check, LoadResult, TableLoad
from etl.load.db.run import FileToLoad, RunToLoad, check_header, read_run
from etl.load.db.schema import loads_table, loads_table_ddl, quote_ident, quote_literal
from etl.load.db.session import Session
from etl.load.db.target import Engine, Target, parse_target

Progress = Callable[[str], None]


def _open(target: Target) -> Session:
    if target.engine is Engine.DUCKDB:
        from etl.load.db.duckdb_engine import DuckDBSession

        return DuckDBSession(target)
    try:
        from etl.load.db.postgres_engine import PostgresSession
    except ImportError as exc:  # psycopg is an optional dependency: say so, not a traceback
        need = "PostgreSQL loads need psycopg: pip install 'psycopg[binary]'"
        raise LoadError(target.display, need) from exc
    return PostgresSession(target)


def _load_table(
    session: Session, f: FileToLoad, engine: Engine, encoding: str, *, relax_not_null: bool
) -> tuple[TableLoad, str]:
    spec = f.table
    session.execute(f"DROP TABLE IF EXISTS {spec.qualified}")
    session.execute(spec.create(engine, not_null=not relax_not_null))
    digest = session.bulk_load(f, encoding)
    relaxed: list[str] = []
    required = [it.name for it in spec.record_file.items if it.required]
    if relax_not_null and required:
        # one scan counts the nulls of every required item; the clean ones get NOT NULL
        counts = ", ".join(f"count(*) - count({quote_ident(n)})" for n in required)
        nulls = session.query(f"SELECT {counts} FROM {spec.qualified}")[0]
        clean = [n for n, k in zip(required, nulls, strict=True) if not k]
        relaxed = [n for n, k in zip(required, nulls, strict=True) if k]
        if clean:
            alters = ", ".join(f"ALTER COLUMN {quote_ident(n)} SET NOT NULL" for n in clean)
            if engine is Engine.POSTGRESQL:
                session.execute(f"ALTER TABLE {spec.qualified} {alters}")
            else:  # DuckDB takes one ALTER per statement
                for n in clean:
                    session.execute(
                        f"ALTER TABLE {spec.qualified} ALTER COLUMN {quote_ident(n)} SET NOT NULL"
                    )
    pk = spec.primary_key()
    if pk:
        session.execute(pk)
    for stmt in spec.comments():
        session.execute(stmt)
    rows = int(session.query(f"SELECT count(*) FROM {spec.qualified}")[0][0])
    rf = spec.record_file
    return TableLoad(spec.name, spec.layout.id, rf.id, rows, tuple(relaxed)), digest


def _record_loads(
    session: Session,
    engine: Engine,
    run: RunToLoad,
    tables: list[TableLoad],
    digests: dict[str, str],
) -> None:
    qualified = loads_table(run.files[0].table.schema)
    names = ", ".join(quote_literal(t.table) for t in tables)
    session.execute(f"DELETE FROM {qualified} WHERE table_name IN ({names})")
    now = datetime.now(UTC)
    stamp = now.isoformat() if engine is Engine.POSTGRESQL else now.replace(tzinfo=None).isoformat()
    values = ", ".join(
        "("
        + ", ".join(
            [
                quote_literal(t.table),
                quote_literal(t.gyomu),
                quote_literal(t.record_file),
                quote_literal(run.run_id),
                quote_literal(str(run.run_dir)),
                quote_literal(run.manifest_sha256),
                quote_literal(digests[t.table]),
                str(t.rows),
                quote_literal(",".join(t.relaxed_not_null)),
                quote_literal(stamp),
            ]
        )
        + ")"
        for t in tables
    )
    session.execute(f"INSERT INTO {qualified} VALUES {values}")


def load_run(
    run_dir: Path,
    target: str,
    layouts: Mapping[str, Layout],
    *,
    schema: str | None = None,
    relax_not_null: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    """Load every V2.1 file of ``run_dir`` into ``target`` (``duckdb:PATH`` or a PostgreSQL URL).

    ``layouts``: layout id → Layout (``etl.layout.load_layouts(version)``). ``relax_not_null``:
    a run with blocking findings may hold empty required items; by default that refuses the load
    (LoadError naming the column), with it those columns are created without NOT NULL and listed
    in the result. Raises LoadError when nothing was loaded; returns a result that is not ok
    (and rolled back) when the database disagrees with the manifest.
    """
    start = time.perf_counter()
    tgt = parse_target(target)
    run = read_run(run_dir, layouts, schema, tgt.display)
    for f in run.files:
        check_header(f, run.encoding, tgt.display)
    say = progress or (lambda _msg: None)
    session = _open(tgt)
    refused: tuple[type[Exception], ...] = (*session.errors, OSError, UnicodeDecodeError)
    current: str | None = None
    try:
        session.begin()
        if schema:
            session.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        session.execute(loads_table_ddl(schema, tgt.engine))
        tables: list[TableLoad] = []
        digests: dict[str, str] = {}
        for f in run.files:
            current = f.table.name
            say(f"load {current}")
            loaded, digests[current] = _load_table(
                session, f, tgt.engine, run.encoding, relax_not_null=relax_not_null
            )
            tables.append(loaded)
            say(f"loaded {current} {loaded.rows}")
        current = None
        say("reconcile")
        checks = _file_checks(run, tables, digests) + reconcile(session, run)
        _record_loads(session, tgt.engine, run, tables, digests)
        committed = all(c.ok for c in checks)
        say("commit" if committed else "rollback")
        if committed:
            session.commit()
        else:
            session.rollback()
    except LoadError:
        _rollback_quietly(session)
        raise
    except refused as exc:
        # the engine refused the data (constraint, type, I/O): nothing was loaded
        _rollback_quietly(session)
        hint = ""
        if "null" in str(exc).lower() and not relax_not_null:
            hint = "; the run has empty required items (see its findings): relax_not_null loads it"
        raise LoadError(tgt.display, db_error(exc) + hint, table=current) from None
    finally:
        session.close()
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


def _file_checks(run: RunToLoad, tables: list[TableLoad], digests: dict[str, str]) -> list[Check]:
    by_table = {t.table: t for t in tables}
    checks: list[Check] = []
    for f in run.files:
        name = f.table.name
        checks.append(Check(name, "sha256", None, None, f.sha256, digests[name]))
        checks.append(Check(name, "rows", None, None, f.written, by_table[name].rows))
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
