"""PostgreSQL through psycopg 3: the CSV bytes are streamed to ``COPY … FROM STDIN``.

The server parses the CSV itself (dates as YYYYMMDD, which PostgreSQL reads as ISO 8601), so
the client only moves bytes: cp932 runs are transcoded to UTF-8 on the way, block by block.
"""

from __future__ import annotations

import codecs
import hashlib
from typing import Any

import psycopg
from psycopg.copy import QueuedLibpqWriter

from etl.layout import ItemType
from etl.load.db.errors import LoadError, db_error
from etl.load.db.run import FileToLoad
from etl.load.db.schema import quote_ident
from etl.load.db.target import Target

BLOCK = 1 << 20
_TYPED = (ItemType.DATE, ItemType.INTEGER)


class PostgresSession:
    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(self, target: Target) -> None:
        try:
            # autocommit off: psycopg opens a transaction at the first statement, closed by us;
            # the password comes from the URL, PGPASSWORD, ~/.pgpass or a service file (libpq)
            self.conn = psycopg.connect(target.dsn, autocommit=False)
            self.conn.execute("SET client_encoding TO 'UTF8'")
            self.conn.commit()
        except psycopg.Error as exc:
            raise LoadError(target.display, f"cannot connect: {db_error(exc)}") from None

    def execute(self, sql: str) -> None:
        self.conn.execute(sql.encode("utf-8"))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql.encode("utf-8")).fetchall()

    def begin(self) -> None:
        # the transaction starts implicitly here; the primary key builds in memory, not on disk
        self.conn.execute("SET LOCAL maintenance_work_mem = '256MB'")

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()

    def bulk_load(self, f: FileToLoad, encoding: str) -> str:
        items = f.table.record_file.items
        cols = ", ".join(quote_ident(it.name) for it in items)
        # an empty quoted field ("") is an empty string in CSV COPY: typed columns treat it as NULL
        typed = [quote_ident(it.name) for it in items if it.type in _TYPED]
        force_null = f", FORCE_NULL ({', '.join(typed)})" if typed else ""
        sql = (
            f"COPY {f.table.qualified} ({cols}) FROM STDIN"
            # FREEZE: the table was created in this transaction, so rows can be written frozen
            f" WITH (FORMAT csv, HEADER true, FREEZE true{force_null})"
        )
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("cp932")() if encoding == "cp932" else None
        with (
            f.path.open("rb") as fh,
            self.conn.cursor() as cur,
            # a writer thread sends while this one reads, hashes and transcodes the next block
            cur.copy(sql.encode(), writer=QueuedLibpqWriter(cur)) as copy,
        ):
            while block := fh.read(BLOCK):
                digest.update(block)
                copy.write(block if decoder is None else decoder.decode(block).encode("utf-8"))
            if decoder is not None:
                copy.write(decoder.decode(b"", final=True).encode("utf-8"))
        return digest.hexdigest()
