"""PostgreSQL: the run's files COPYed by several connections at once into staging tables.

One connection COPYs at about one core's speed, and a transaction cannot span connections. So
each file is cut into chunks (chunks.py) that ``WORKERS`` connections COPY into its staging table
(staging.py: created with the layout's types, NOT NULLs and comments), each chunk committed on
its own. Once a table's chunks are in, one connection builds its primary key's index while
another scans it for the reconciliation (reconcile.scan_sql); index and scan go before further
chunks, so the last table's are all that is left at the end.

NOT NULL: the required items the run's findings report empty start without it; a chunk refused
for a null in another one (the findings were wrong) drops it and is COPYed again, and a guessed
item that the scan finds without nulls gets it back. The database has the last word.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from psycopg import sql

from etl import events
from etl.dbload.chunks import Chunk, cut, lines_before
from etl.dbload.errors import LoadError, db_error, refused
from etl.dbload.postgres_engine import Connection, PostgresSession, connect, copy_chunk, sha256_fd
from etl.dbload.reconcile import (
    Controls,
    LoadedTable,
    TableScan,
    controls_by_table,
    read_scan,
    scan_sql,
)
from etl.dbload.run import FileToLoad, RunToLoad, empty_required
from etl.dbload.schema import TableSpec, ident
from etl.dbload.target import Engine, LoadTarget

# connections COPYing side by side: each keeps a server core busy; more than a small server's
# cores only queue up
WORKERS = min(4, max(2, os.cpu_count() or 2))
_CHUNKS_PER_WORKER = 4  # chunks small enough that the workers finish together
_MIN_CHUNK = 8 << 20  # a small file is one chunk: a COPY (and a commit) each costs a little

T = TypeVar("T")


@dataclass(slots=True)
class _Table:
    file: FileToLoad
    fd: int
    controls: Controls
    nullable: list[str]  # required items without NOT NULL so far, in item order
    chunks: list[Chunk] = field(default_factory=list)
    chunks_left: int = 0
    scan: TableScan | None = None

    @property
    def spec(self) -> TableSpec:
        return self.file.table


@dataclass(frozen=True, slots=True)
class _Task:
    kind: str  # "copy" | "index" | "scan"
    table: _Table
    chunk: Chunk | None = None  # what a "copy" loads


class _Pool:
    """``n`` connections on ``n`` threads; a task gets a connection to itself while it runs."""

    def __init__(self, target: LoadTarget, n: int, stack: ExitStack) -> None:
        self.size = n
        self._free: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        for _ in range(n):
            conn = stack.enter_context(connect(target))
            self._free.put(conn)
        self._threads = stack.enter_context(ThreadPoolExecutor(n, thread_name_prefix="chukan-copy"))

    def submit(self, fn: Callable[[Connection], T]) -> Future[T]:
        def run() -> T:
            conn = self._free.get()
            try:
                return fn(conn)
            finally:
                self._free.put(conn)

        return self._threads.submit(run)


def stage(
    session: PostgresSession,
    target: LoadTarget,
    run: RunToLoad,
    *,
    relax_not_null: bool,
) -> list[LoadedTable]:
    """Every file of ``run`` into its staging table; raises LoadError when the data is refused."""
    empty = empty_required(run) if relax_not_null else {}
    controls = controls_by_table(run)
    with ExitStack() as stack:
        tables = []
        for f in run.files:
            fd = os.open(f.path, os.O_RDONLY)
            stack.callback(os.close, fd)
            guess = empty.get(f.table.name, set())
            nullable = [n for n in f.table.required if n in guess]
            tables.append(_Table(f, fd, controls.get(f.table.name, Controls()), nullable))
        reader = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="chukan-read"))
        # the files are cut while the server creates the tables, then hashed while they load
        total = sum(os.fstat(t.fd).st_size for t in tables)
        chunk_size = max(_MIN_CHUNK, total // (WORKERS * _CHUNKS_PER_WORKER))
        cuts = {t.spec.name: reader.submit(_cut, t.fd, chunk_size) for t in tables}
        digests = {t.spec.name: reader.submit(sha256_fd, t.fd) for t in tables}
        ddl: list[sql.Composable] = []
        for t in tables:
            ddl.append(t.spec.create(Engine.POSTGRESQL, nullable=t.nullable, staging=True))
            ddl += t.spec.comments(staging=True)
        session.execute(sql.SQL(";\n").join(ddl))  # one round trip (no parameters)
        for t in tables:
            t.chunks = cuts[t.spec.name].result()
        _run(tables, target, run.encoding, relax_not_null, session, stack)
        staged = []
        for t in tables:
            assert t.scan is not None  # _run returns once every table is scanned
            relaxed = tuple(n for n in t.nullable if t.scan.nulls[n])
            staged.append(LoadedTable(t.spec, digests[t.spec.name].result(), t.scan, relaxed))
        return staged


def _cut(fd: int, chunk_size: int) -> list[Chunk]:
    size = os.fstat(fd).st_size
    return cut(fd, size, max(1, round(size / chunk_size)))


def _run(
    tables: list[_Table],
    target: LoadTarget,
    encoding: str,
    relax: bool,
    session: PostgresSession,
    stack: ExitStack,
) -> None:
    copies: deque[_Task] = deque()
    for t in sorted(tables, key=lambda t: -t.chunks[-1].end):  # the biggest first
        t.chunks_left = len(t.chunks)
        copies.extend(_Task("copy", t, c) for c in t.chunks)
        events.step_started(f"load {t.spec.name}")
    pool = _Pool(target, min(WORKERS, len(copies)), stack)
    stop = threading.Event()
    post: deque[_Task] = deque()  # a table's index and scan go before further chunks
    running: dict[Future[TableScan | None], _Task] = {}
    try:
        while copies or post or running:
            while len(running) < pool.size and (post or copies):
                task = post.popleft() if post else copies.popleft()
                running[pool.submit(_work(task, encoding, stop))] = task
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                t = task.table
                try:
                    result = future.result()
                except psycopg.errors.NotNullViolation as exc:
                    if not relax:
                        raise _refused(target, exc, task, relax) from None
                    _relax(session, t, exc, target, task)
                    copies.appendleft(task)  # again, now that the column takes nulls
                    continue
                except (psycopg.Error, OSError, UnicodeDecodeError) as exc:
                    raise _refused(target, exc, task, relax) from None
                if task.kind == "copy":
                    t.chunks_left -= 1
                    if not t.chunks_left:
                        if t.spec.record_file.key:
                            post.append(_Task("index", t))
                        post.append(_Task("scan", t))
                elif task.kind == "scan":
                    t.scan = result
                    events.step_finished(f"load {t.spec.name}", result.rows if result else 0)
    finally:
        stop.set()  # on failure: the other COPYs give up; their statements roll back
        wait(running)


def _work(
    task: _Task, encoding: str, stop: threading.Event
) -> Callable[[Connection], TableScan | None]:
    t = task.table

    def run(conn: Connection) -> TableScan | None:
        if task.chunk is not None:
            copy_chunk(conn, t.spec, t.fd, task.chunk, encoding, stop)
            return None
        if task.kind == "index":
            index = t.spec.staging_key_index()
            if index is not None:
                conn.execute(index)
            return None
        scan_stmt = scan_sql(t.spec, t.controls, t.nullable, t.spec.staging)
        scan = read_scan(conn.execute(scan_stmt).fetchall(), t.controls, t.nullable)
        clean = [n for n in t.nullable if not scan.nulls[n]]
        if clean:  # the findings named an item that the data does not leave empty after all
            alters = sql.SQL(", ").join(
                sql.SQL("ALTER COLUMN {} SET NOT NULL").format(ident(n)) for n in clean
            )
            conn.execute(sql.SQL("ALTER TABLE {} {}").format(t.spec.staging, alters))
        return scan

    return run


def _relax(
    session: PostgresSession, t: _Table, exc: psycopg.Error, target: LoadTarget, task: _Task
) -> None:
    """A required item holds nulls the findings did not announce: it loses its NOT NULL."""
    column = exc.diag.column_name
    if column is None or column not in t.spec.required:
        raise _refused(target, exc, task, relax=True) from None
    if column not in t.nullable:
        session.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                t.spec.staging, ident(column)
            )
        )
        t.nullable = [n for n in t.spec.required if n in t.nullable or n == column]


def _refused(target: LoadTarget, exc: BaseException, task: _Task, relax: bool) -> LoadError:
    """The error as of the real table and, for a chunk, with the file's line number."""
    spec = task.table.spec
    reason = db_error(exc).replace(spec.staging_name, spec.name)
    if task.chunk is not None and task.chunk.start:
        before = lines_before(task.table.fd, task.chunk.start)
        reason = re.sub(r", line (\d+)", lambda m: f", line {int(m[1]) + before}", reason)
    return refused(
        target.display, exc, table=spec.name, relax_not_null=relax, reason=reason, spec=spec,
        path=task.table.file.path,
    )  # fmt: skip
