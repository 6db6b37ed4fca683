"""PostgreSQL through psycopg 3: the CSV bytes are streamed to ``COPY … FROM STDIN``.

The server parses the CSV itself (dates as YYYYMMDD, which PostgreSQL reads as ISO 8601), so
the client only moves bytes: cp932 runs are transcoded to UTF-8 on the way, block by block.
Connections are in autocommit: the loader opens the one transaction that matters itself.
Statements are psycopg ``sql`` compositions run by a raw cursor: parameters are PostgreSQL's own
``$n`` and no ``%`` in a composed name is taken for a placeholder.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from etl.dbload.chunks import Chunk
from etl.dbload.errors import LoadError, db_error
from etl.dbload.schema import Statement, TableSpec, ident, typed_column
from etl.dbload.target import LoadTarget

BLOCK = 1 << 20

Connection = psycopg.Connection[Any]


class Stopped(Exception):
    """Another part of the load failed: this COPY gives up (the server rolls it back)."""


def connect(target: LoadTarget) -> Connection:
    try:
        # the password comes from the URL, PGPASSWORD, ~/.pgpass or a service file (libpq)
        conn = psycopg.connect(target.dsn, autocommit=True, cursor_factory=psycopg.RawCursor)
        conn.execute("SET client_encoding TO 'UTF8'")
        # a primary key's index is sorted in memory, not in temporary files
        conn.execute("SET maintenance_work_mem = '256MB'")
    except psycopg.Error as exc:
        raise LoadError(target.display, f"cannot connect: {db_error(exc)}") from None
    return conn


class PostgresSession:
    """The loader's own connection: setup, the swap transaction, cleanup."""

    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(self, target: LoadTarget) -> None:
        self.conn = connect(target)

    def execute(self, stmt: Statement, params: Sequence[Any] = ()) -> None:
        self.conn.execute(stmt, list(params) or None)

    def query(self, stmt: Statement, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(stmt, list(params) or None).fetchall()

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


def copy_chunk(
    conn: Connection, spec: TableSpec, fd: int, chunk: Chunk, encoding: str, stop: threading.Event
) -> None:
    """COPY the bytes [start, end) of the open file ``fd`` into ``spec``'s staging table."""
    items = spec.record_file.items
    cols = sql.SQL(", ").join(ident(it.name) for it in items)
    # an empty quoted field ("") is an empty string in CSV COPY: typed columns treat it as NULL
    typed = [ident(it.name) for it in items if typed_column(it)]
    force_null = (
        sql.SQL(", FORCE_NULL ({})").format(sql.SQL(", ").join(typed)) if typed else sql.SQL("")
    )
    header = sql.SQL("true" if chunk.header else "false")
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER {}{})").format(
        spec.staging, cols, header, force_null
    )
    # each chunk starts at a record boundary, so it starts a character too
    decoder = codecs.getincrementaldecoder("cp932")() if encoding == "cp932" else None
    # no writer thread per COPY (QueuedLibpqWriter): reading a block from the page cache is
    # quick next to sending it, and the chunks already keep the cores busy
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        offset = chunk.start
        while offset < chunk.end:
            if stop.is_set():
                raise Stopped
            block = os.pread(fd, min(BLOCK, chunk.end - offset), offset)
            if not block:
                raise OSError(f"the file ends at byte {offset}, before {chunk.end}: changed?")
            offset += len(block)
            copy.write(block if decoder is None else decoder.decode(block).encode("utf-8"))
        if decoder is not None:
            copy.write(decoder.decode(b"", final=True).encode("utf-8"))


def sha256_fd(fd: int) -> str:
    """The sha256 of the open file: the same file the chunks are read from, even if replaced."""
    digest = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, 4 * BLOCK, offset):
        digest.update(block)  # hashlib lets the COPY threads run meanwhile (no GIL held)
        offset += len(block)
    return digest.hexdigest()
