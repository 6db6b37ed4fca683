"""The loader's failure: the load did not happen and the previous load is intact."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from etl.errors import ChukanError

if TYPE_CHECKING:  # schema → target → errors: a type only, to keep the import order
    from etl.dbload.schema import TableSpec


class LoadError(ChukanError):
    """A run could not be loaded (bad target, unreadable run, the database refused the data).

    ``table`` names the table being loaded when it happened, if any. Messages never hold a
    password: targets are shown redacted.
    """

    def __init__(self, target: str, reason: str, *, table: str | None = None) -> None:
        self.target = target
        self.reason = reason
        self.table = table
        where = f" [{table}]" if table else ""
        super().__init__(f"load into {target}{where}: {reason}")


def db_error(exc: BaseException) -> str:
    """A driver's message with where it happened (psycopg: the COPY line number).

    The row text PostgreSQL quotes in its context is cut off: it holds personal data.
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = (primary or str(exc)).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    context = getattr(diag, "context", None) if diag is not None else None
    if not context:
        return first
    where = context.strip().splitlines()[0].split(': "', 1)[0]
    return f"{first} ({where})"


def is_duplicate_key(exc: BaseException) -> bool:
    # DuckDB: "Constraint Error: Data contains duplicates on indexed column(s)" (ADD PRIMARY KEY);
    # PostgreSQL: UniqueViolation, "could not create unique index" / "duplicate key value …"
    text = str(exc).lower()
    return type(exc).__name__ == "UniqueViolation" or "duplicate" in text


def refused(
    target: str,
    exc: BaseException,
    *,
    table: str | None,
    relax_not_null: bool,
    reason: str = "",
    spec: TableSpec | None = None,
    path: Path | None = None,
) -> LoadError:
    """The engine refused the data (constraint, type, I/O): the LoadError to raise for it.

    ``spec`` / ``path``: the table and V2.1 file being loaded, when known, so a duplicate key
    names the file and its key items. The message never quotes a row (personal data).
    """
    text = reason or db_error(exc)
    hint = ""
    if is_duplicate_key(exc):
        # DuckDB's commit quotes the key value ("duplicate key \"2000…\""): personal data
        text = re.sub(r'(duplicate key)\s+"[^"]*"', r"\1", text, flags=re.IGNORECASE)
        where = ""
        if spec is not None:
            file = path.name if path is not None else f"{spec.layout.id}/{spec.record_file.id}"
            where = f" in {file} (key {', '.join(spec.record_file.key)})"
        hint = (
            f"; records share a primary key{where}: the run's findings list each of them "
            "(rule schema.key_unique, findings.csv); fix the source or the mapping and run again"
        )
    elif "null" in str(exc).lower() and not relax_not_null:
        hint = (
            "; the run has empty required items (see its findings, rule schema.required): "
            "`chukan load … --relax-not-null` loads them without NOT NULL on those columns"
        )
    return LoadError(target, text + hint, table=table or (spec.name if spec else None))
