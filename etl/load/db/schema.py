"""Tables from the layout: one per V2.1 record file, columns = 項目名, types from ItemType.

DDL is built here for both engines; the few differences are the type table (``_TYPES``).
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.layout import Item, ItemType, Layout, RecordFile
from etl.load.db.target import Engine

LOADS_TABLE = "chukan_loads"
_BIGINT_DIGITS = 18  # every 18-digit number fits in a signed 64-bit integer


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_type(item: Item, engine: Engine) -> str:
    if item.type is ItemType.DATE:
        return "date"
    if item.type is ItemType.INTEGER:
        return "bigint" if item.digits <= _BIGINT_DIGITS else f"numeric({item.digits}, 0)"
    # text, digits, code: kept as text (leading zeros); PostgreSQL checks 桁数 as characters
    return f"varchar({item.digits})" if engine is Engine.POSTGRESQL else "varchar"


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
        table = quote_ident(self.name)
        return f"{quote_ident(self.schema)}.{table}" if self.schema else table

    def create(self, engine: Engine, *, not_null: bool) -> str:
        cols = [
            f"{quote_ident(it.name)} {column_type(it, engine)}"
            + (" NOT NULL" if not_null and it.required else "")
            for it in self.record_file.items
        ]
        return f"CREATE TABLE {self.qualified} ({', '.join(cols)})"

    def primary_key(self) -> str | None:
        if not self.record_file.key:
            return None
        cols = ", ".join(quote_ident(k) for k in self.record_file.key)
        return f"ALTER TABLE {self.qualified} ADD PRIMARY KEY ({cols})"

    def comments(self) -> list[str]:
        """COMMENT ON statements: the file's Japanese name, each item's 項目名 and description."""
        rf = self.record_file
        table = f"{self.layout.name} {rf.name} (V2.1 {self.layout.id}/{rf.id})"
        out = [f"COMMENT ON TABLE {self.qualified} IS {quote_literal(table)}"]
        for it in rf.items:
            text = f"{it.name}: {it.description}" if it.description else it.name
            out.append(
                f"COMMENT ON COLUMN {self.qualified}.{quote_ident(it.name)} "
                f"IS {quote_literal(text)}"
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
