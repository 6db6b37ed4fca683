"""What the loader needs from an engine: SQL in one transaction, and a bulk load of one file."""

from __future__ import annotations

from typing import Any, Protocol

from etl.load.db.run import FileToLoad


class Session(Protocol):
    errors: tuple[type[Exception], ...]  # the driver's own errors: the database refused

    def execute(self, sql: str) -> None: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...

    def bulk_load(self, f: FileToLoad, encoding: str) -> str:
        """Load the CSV into ``f.table`` (already created); return the sha256 of its bytes."""
        ...
