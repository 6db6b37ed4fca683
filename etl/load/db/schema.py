"""Tables from the layout: one per V2.1 record file, columns = 項目名, types from ItemType.

DDL is built here for both engines; column types come from the item-type table
(etl.layout.types), the one place that says what each item type is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from etl.layout import Item, Layout, RecordFile, SqlDialect, type_rule
from etl.load.db.target import Engine

LOADS_TABLE = "chukan_loads"
# PostgreSQL loads into staging tables first (postgres_load.py); a killed load may leave some,
# which the next load drops: nothing else may use this prefix
STAGING_PREFIX = "chukan_staging_"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
    def qualified(self) -> str:
        return self._qualify(self.name)

    @property
    def staging_name(self) -> str:
        return STAGING_PREFIX + self.name

    @property
    def staging(self) -> str:
        return self._qualify(self.staging_name)

    def _qualify(self, name: str) -> str:
        table = quote_ident(name)
        return f"{quote_ident(self.schema)}.{table}" if self.schema else table

    @property
    def required(self) -> list[str]:
        return [it.name for it in self.record_file.items if it.required]

    def create(
        self, engine: Engine, *, nullable: Collection[str] = (), staging: bool = False
    ) -> str:
        """CREATE TABLE with NOT NULL on every required item but those in ``nullable``."""
        cols = [
            f"{quote_ident(it.name)} {column_type(it, engine)}"
            + (" NOT NULL" if it.required and it.name not in nullable else "")
            for it in self.record_file.items
        ]
        return f"CREATE TABLE {self.staging if staging else self.qualified} ({', '.join(cols)})"

    def primary_key(self) -> str | None:
        if not self.record_file.key:
            return None
        return f"ALTER TABLE {self.qualified} ADD PRIMARY KEY ({self._key_columns()})"

    def _key_columns(self) -> str:
        return ", ".join(quote_ident(k) for k in self.record_file.key)

    def staging_key_index(self) -> str | None:
        """The primary key's index, built on the staging table (readers of it are not blocked)."""
        if not self.record_file.key:
            return None
        index = quote_ident(f"{self.staging_name}_pkey")
        return f"CREATE UNIQUE INDEX {index} ON {self.staging} ({self._key_columns()})"

    def adopt_key_index(self) -> str | None:
        """Once renamed: the staging index becomes the primary key (no scan: keys are NOT NULL)."""
        if not self.record_file.key:
            return None
        name, index = quote_ident(f"{self.name}_pkey"), quote_ident(f"{self.staging_name}_pkey")
        return f"ALTER TABLE {self.qualified} ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {index}"

    def comments(self, *, staging: bool = False) -> list[str]:
        """COMMENT ON statements: the file's Japanese name, each item's 項目名 and description."""
        rf = self.record_file
        target = self.staging if staging else self.qualified
        table = f"{self.layout.name} {rf.name} (V2.1 {self.layout.id}/{rf.id})"
        out = [f"COMMENT ON TABLE {target} IS {quote_literal(table)}"]
        for it in rf.items:
            text = f"{it.name}: {it.description}" if it.description else it.name
            out.append(
                f"COMMENT ON COLUMN {target}.{quote_ident(it.name)} IS {quote_literal(text)}"
            )
        return out


def loads_table_ddl(schema: str | None, engine: Engine) -> str:
    table = quote_ident(LOADS_TABLE)
    qualified = f"{quote_ident(schema)}.{table}" if schema else table
    # DuckDB: a plain timestamp in UTC (its timestamptz needs pytz in every Python reader)
    stamp = "timestamptz" if engine is Engine.POSTGRESQL else "timestamp"
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified} ("
        "table_name varchar PRIMARY KEY, gyomu varchar NOT NULL, record_file varchar NOT NULL,"
        " run_id varchar NOT NULL, run_dir varchar NOT NULL, manifest_sha256 varchar NOT NULL,"
        " file_sha256 varchar NOT NULL, rows bigint NOT NULL, relaxed_not_null varchar NOT NULL,"
        f" loaded_at {stamp} NOT NULL)"
    )


def loads_table(schema: str | None) -> str:
    table = quote_ident(LOADS_TABLE)
    return f"{quote_ident(schema)}.{table}" if schema else table
