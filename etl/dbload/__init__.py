"""Loads a finished run into a database: DuckDB (embedded) or PostgreSQL (COPY via psycopg 3).

result = load_run(run_dir, "duckdb:load.duckdb", load_layouts("v2.1"))
result.ok   # committed, and counts + control totals in the database equal the manifest
"""

from etl.dbload.errors import LoadError
from etl.dbload.load import describe, load_run
from etl.dbload.result import LoadCheck, LoadResult, TableLoad
from etl.dbload.run import layouts_of_run
from etl.dbload.target import Engine, LoadTarget, parse_load_target, redact

__all__ = [
    "Engine",
    "LoadCheck",
    "LoadError",
    "LoadResult",
    "LoadTarget",
    "TableLoad",
    "describe",
    "layouts_of_run",
    "load_run",
    "parse_load_target",
    "redact",
]
