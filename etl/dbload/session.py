"""What the loader needs from an engine's connection: statements composed with psycopg's ``sql``
objects and their ``$n`` parameters (etl.dbload.schema), and one transaction it controls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from etl.dbload.schema import Statement


class Session(Protocol):
    errors: tuple[type[Exception], ...]  # the driver's own errors: the database refused

    def execute(self, stmt: Statement, params: Sequence[Any] = ()) -> None: ...

    def query(self, stmt: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...
