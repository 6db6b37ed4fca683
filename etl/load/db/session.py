"""What the loader needs from an engine's connection: SQL, and one transaction it controls."""

from __future__ import annotations

from typing import Any, Protocol


class Session(Protocol):
    errors: tuple[type[Exception], ...]  # the driver's own errors: the database refused

    def execute(self, sql: str) -> None: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...
