"""PostgreSQL staging tables: how a parallel load stays one atomic change for readers.

The chunks of a load are committed into ``chukan_staging_<table>`` tables (postgres_load.py),
which no reader uses. ``swap`` turns them into the real tables inside the load's single
transaction (DROP the old table, RENAME, primary key from the index already built: catalog
changes only), so a reader sees the previous load or the new one. A load killed before that
commit leaves staging tables behind: the next load drops them before it starts, under an
advisory lock that keeps two loads into one schema from dropping each other's.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from etl.dbload.errors import refused
from etl.dbload.postgres_engine import PostgresSession
from etl.dbload.reconcile import LoadedTable
from etl.dbload.schema import STAGING_PREFIX, ident, loads_table_ddl, param
from etl.dbload.target import Engine, LoadTarget


def lock_and_clean(session: PostgresSession, schema: str | None) -> None:
    """One load per schema at a time; then the staging tables of a killed load are dropped.

    Committed at once, unlike the rest: a killed load may leave the schema and an empty
    chukan_loads behind, which change nothing a reader sees.
    """
    key = f"chukan-etl load {schema or ''}"
    session.query(sql.SQL("SELECT pg_advisory_lock(hashtextextended($1, 0))"), [key])
    if schema:
        session.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)))
    session.execute(loads_table_ddl(schema, Engine.POSTGRESQL))
    drop_staging(session, schema)


def drop_staging(session: PostgresSession, schema: str | None) -> None:
    pattern = STAGING_PREFIX.replace("_", "\\_") + "%"
    where = param(2) if schema else sql.SQL("current_schema()")
    params = [pattern, schema] if schema else [pattern]
    for space, table in session.query(
        sql.SQL(
            "SELECT n.nspname, c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND c.relname LIKE $1 AND n.nspname = {}"
        ).format(where),
        params,
    ):
        session.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident(space, table)))


def swap(
    session: PostgresSession, staged: list[LoadedTable], target: LoadTarget, *, relax: bool
) -> None:
    """In the open transaction: the staging tables replace the real ones (catalog changes only)."""
    for s in staged:
        name = s.spec.name
        try:
            session.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(s.spec.qualified))
            session.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(s.spec.staging, ident(name))
            )
            if adopt := s.spec.adopt_key_index():
                session.execute(adopt)
        except psycopg.Error as exc:
            raise refused(target.display, exc, table=name, relax_not_null=relax) from None
