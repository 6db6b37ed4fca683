"""Load targets: ``duckdb:PATH`` (embedded, the default) or a PostgreSQL URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from etl.dbload.errors import LoadError


class Engine(StrEnum):
    DUCKDB = "duckdb"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class LoadTarget:
    engine: Engine
    dsn: str  # a PostgreSQL conninfo/URL (may hold a password: never print it) or a DuckDB path

    @property
    def display(self) -> str:
        return redact(self.dsn) if self.engine is Engine.POSTGRESQL else f"duckdb:{self.dsn}"

    @property
    def path(self) -> Path:
        return Path(self.dsn)


# user:password@ in a URL, and password=… in a key/value conninfo or a URL query
_URL_PASSWORD = re.compile(r"(?P<head>://[^:/@?#]*):[^@/?#]*@")
_KV_PASSWORD = re.compile(r"(?i)(?P<head>\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")


def redact(dsn: str) -> str:
    """The connection string with any password replaced by ``***``."""
    return _KV_PASSWORD.sub(r"\g<head>***", _URL_PASSWORD.sub(r"\g<head>:***@", dsn))


def parse_load_target(target: str) -> LoadTarget:
    if target.startswith(("postgresql://", "postgres://")):
        return LoadTarget(Engine.POSTGRESQL, target)
    if target.startswith("duckdb:"):
        path = target.removeprefix("duckdb:")
        if not path:
            raise LoadError(target, "duckdb: needs a file path, e.g. duckdb:load.duckdb")
        return LoadTarget(Engine.DUCKDB, path)
    raise LoadError(
        redact(target), "unknown target; use duckdb:PATH or postgresql://[user@]host/dbname"
    )
