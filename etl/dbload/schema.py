"""Tables from the layout: one per V2.1 record file, columns = 項目名, types from ItemType.

Column types come from the item-type table (etl.layout.types), the one place that says what
each item type is.

Every statement is composed with psycopg's ``sql`` objects (identifiers as ``sql.Identifier``,
values as bound ``$n`` parameters; ``sql.Literal`` only where a value cannot be bound, as in
COMMENT ON). PostgreSQL executes them as they are (a raw cursor: no ``%`` is parsed, so a name
holding ``%s`` stays a name); DuckDB renders them through its own quoting
(duckdb_engine.duckdb_text). Names are checked once, before any statement (``check_names``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from psycopg import sql

from etl.dbload.target import Engine
from etl.layout import Item, Layout, RecordFile, SqlDialect, type_rule

LOADS_TABLE = "chukan_loads"
# PostgreSQL loads into staging tables first (postgres_load.py); a killed load may leave some,
# which the next load drops: nothing else may use this prefix
STAGING_PREFIX = "chukan_staging_"


Statement = sql.SQL | sql.Composed  # what a Session executes

# PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and drops the rest silently
PG_NAME_BYTES = 63


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a table, column or schema name in either engine, or None."""
    if not name:
        return "an empty name"
    if "\0" in name:
        return f"a name with a NUL character ({name!r})"
    return None


def pg_name(name: str) -> str:
    """``name`` as PostgreSQL keeps it: cut to 63 bytes on a character boundary (UTF-8)."""
    return name.encode("utf-8")[:PG_NAME_BYTES].decode("utf-8", errors="ignore")


def ident(*names: str) -> sql.Identifier:
    """A (dotted) identifier; names are checked first (check_names) so this cannot fail."""
    return sql.Identifier(*names)


def column_type(item: Item, engine: Engine) -> str:
    """The SQL type of an item's column, from the item-type table."""
    return type_rule(item).sql_type(item, SqlDialect(engine.value))


def typed_column(item: Item) -> bool:
    """Whether the column is not text: loaded from CSV text with a cast, empty text is NULL."""
    return type_rule(item).sql_typed


@dataclass(frozen=True, slots=True)
class TableSpec:
    """The table one V2.1 file of the run is loaded into."""

    layout: Layout
    record_file: RecordFile
    schema: str | None

    @property
    def name(self) -> str:
        return f"{self.layout.id}_{self.record_file.id}"

    @property
    def qualified(self) -> sql.Identifier:
        return self._qualify(self.name)

    @property
    def staging_name(self) -> str:
        return STAGING_PREFIX + self.name

    @property
    def staging(self) -> sql.Identifier:
        return self._qualify(self.staging_name)

    def _qualify(self, name: str) -> sql.Identifier:
        return ident(self.schema, name) if self.schema else ident(name)

    @property
    def required(self) -> list[str]:
        return [it.name for it in self.record_file.items if it.required]

    def create(
        self, engine: Engine, *, nullable: Collection[str] = (), staging: bool = False
    ) -> sql.Composed:
        """CREATE TABLE with NOT NULL on every required item but those in ``nullable``."""
        cols = [
            sql.SQL("{} {}{}").format(
                ident(it.name),
                sql.SQL(column_type(it, engine)),
                sql.SQL(" NOT NULL" if it.required and it.name not in nullable else ""),
            )
            for it in self.record_file.items
        ]
        return sql.SQL("CREATE TABLE {} ({})").format(
            self.staging if staging else self.qualified, sql.SQL(", ").join(cols)
        )

    def primary_key(self) -> sql.Composed | None:
        if not self.record_file.key:
            return None
        return sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
            self.qualified, self._key_columns()
        )

    def _key_columns(self) -> sql.Composed:
        return sql.SQL(", ").join(ident(k) for k in self.record_file.key)

    def staging_key_index(self) -> sql.Composed | None:
        """The primary key's index, built on the staging table (readers of it are not blocked)."""
        if not self.record_file.key:
            return None
        return sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(
            ident(f"{self.staging_name}_pkey"), self.staging, self._key_columns()
        )

    def adopt_key_index(self) -> sql.Composed | None:
        """Once renamed: the staging index becomes the primary key (no scan: keys are NOT NULL)."""
        if not self.record_file.key:
            return None
        return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            self.qualified, ident(f"{self.name}_pkey"), ident(f"{self.staging_name}_pkey")
        )

    def comments(self, *, staging: bool = False) -> list[sql.Composed]:
        """COMMENT ON statements: the file's Japanese name, each item's 項目名 and description
        (literals: COMMENT ON takes no parameters)."""
        rf = self.record_file
        target = self.staging if staging else self.qualified
        table = f"{self.layout.name} {rf.name} (V2.1 {self.layout.id}/{rf.id})"
        out = [sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(table))]
        for it in rf.items:
            text = f"{it.name}: {it.description}" if it.description else it.name
            out.append(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    target, ident(it.name), sql.Literal(text)
                )
            )
        return out

    def names(self) -> list[str]:
        """Every name this table's statements use: the table's, its staging's, their indexes'."""
        base = [self.name, self.staging_name, f"{self.name}_pkey", f"{self.staging_name}_pkey"]
        return base + [it.name for it in self.record_file.items]


def check_names(tables: Sequence[TableSpec], schema: str | None, engine: Engine) -> str | None:
    """Why the tables cannot be made in ``engine``, or None: no empty name or NUL anywhere, and
    in PostgreSQL no two names of one table (or two tables) that its 63-byte cut makes one."""
    for name in [schema or "x"] + [n for t in tables for n in t.names()]:
        problem = name_problem(name)
        if problem is not None:
            return problem
    if engine is not Engine.POSTGRESQL:
        return None
    for label, names in _name_groups(tables):
        seen: dict[str, str] = {}
        for name in names:
            kept = pg_name(name)
            if kept in seen and seen[kept] != name:
                return (
                    f"{label}: PostgreSQL keeps the first {PG_NAME_BYTES} bytes of a name, which"
                    f" makes {seen[kept]!r} and {name!r} one"
                )
            seen[kept] = name
    return None


def _name_groups(tables: Sequence[TableSpec]) -> list[tuple[str, list[str]]]:
    relations = [n for t in tables for n in t.names()[:4]]  # tables and indexes share a space
    groups = [("table names", relations)]
    for t in tables:
        groups.append((f"columns of {t.name}", [it.name for it in t.record_file.items]))
    return groups


def loads_table_ddl(schema: str | None, engine: Engine) -> sql.Composed:
    # DuckDB: a plain timestamp in UTC (its timestamptz needs pytz in every Python reader)
    stamp = "timestamptz" if engine is Engine.POSTGRESQL else "timestamp"
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        "table_name varchar PRIMARY KEY, gyomu varchar NOT NULL, record_file varchar NOT NULL,"
        " run_id varchar NOT NULL, run_dir varchar NOT NULL, manifest_sha256 varchar NOT NULL,"
        " file_sha256 varchar NOT NULL, rows bigint NOT NULL, relaxed_not_null varchar NOT NULL,"
        " loaded_at {} NOT NULL)"
    ).format(loads_table(schema), sql.SQL(stamp))


def loads_table(schema: str | None) -> sql.Identifier:
    return ident(schema, LOADS_TABLE) if schema else ident(LOADS_TABLE)


def param(n: int) -> sql.SQL:
    """The ``n``-th bound parameter (1-based): ``$n`` in both engines."""
    return sql.SQL(f"${n:d}")
