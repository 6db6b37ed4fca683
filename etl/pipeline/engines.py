"""Where a run's chunk tasks (etl.pipeline.chunks.run_chunk) execute: worker processes of this
machine (``--workers N``, spawned) or a Dask distributed cluster (``--scheduler ADDRESS``,
the optional extra ``dask``, as for ``chukan export --group``).

A Dask cluster's workers read the dump and write into the run's stage themselves: both must be
on a filesystem they share with the machine that runs ``chukan run``, at the same paths;
``check_shared`` asks one worker before the first task.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from etl.errors import ChukanError
from etl.pipeline.chunks import ChunkResult, ChunkTask, run_chunk

# A worker process holds a chunk or two: far more workers than cores only costs memory.
MAX_WORKERS = 64
CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler (as chukan export --group --scheduler)


class EngineError(ChukanError):
    """The chosen engine cannot run the tasks (Dask missing, scheduler unreachable)."""


class Pending(Protocol):
    def result(self) -> ChunkResult: ...


class Engine(Protocol):
    """Runs chunk tasks; ``in_flight``: how many the run keeps submitted ahead of the one it
    waits for (each holds a piece's bytes here and its chunk in a worker)."""

    in_flight: int

    def submit(self, task: ChunkTask) -> Pending: ...

    def check_shared(self, paths: Sequence[Path]) -> None: ...

    def cancel(self, pending: Sequence[Pending]) -> None:
        """Stop what has not started and wait for what has (it writes into the stage)."""
        ...

    def close(self) -> None: ...


class LocalProcesses:
    """``workers`` spawned processes (spawn: no state inherited from the driver's threads),
    kept for the next run of this process (passes, tests): spawning imports chukan in each."""

    def __init__(self, workers: int) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise EngineError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
        self._workers = workers
        self._pool = _pool(workers)
        self.in_flight = workers + 1

    def submit(self, task: ChunkTask) -> Future[ChunkResult]:
        try:
            return self._pool.submit(run_chunk, task)
        except BrokenProcessPool:  # a worker died (killed, out of memory) in an earlier run
            _pools.pop(self._workers, None)
            self._pool = _pool(self._workers)
            return self._pool.submit(run_chunk, task)

    def check_shared(self, paths: Sequence[Path]) -> None:
        pass  # the same machine

    def cancel(self, pending: Sequence[Pending]) -> None:
        futures = [p for p in pending if isinstance(p, Future)]
        for f in futures:
            f.cancel()
        wait(futures)

    def close(self) -> None:
        pass  # the pool stays for the next run; it goes with the process


_pools: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    if workers in _pools:
        return _pools[workers]
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_watch_driver,
        initargs=(os.getpid(),),
    )
    # Started now, while the driver reads the vendor folder. Each runs polars on one thread,
    # as it decodes on one: N processes for N cores.
    saved = os.environ.get(_POLARS_THREADS)
    os.environ[_POLARS_THREADS] = "1"
    try:
        for _ in range(workers):
            pool.submit(_started)
    finally:
        if saved is None:
            del os.environ[_POLARS_THREADS]
        else:
            os.environ[_POLARS_THREADS] = saved
    _pools[workers] = pool
    return pool


_POLARS_THREADS = "POLARS_MAX_THREADS"  # read once, when a process imports polars


def _watch_driver(driver: int) -> None:
    """In a worker process: exit when the driver is gone (killed: it cannot shut the pool down,
    and a worker waiting for its next task would wait for ever)."""

    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="watch-driver", daemon=True).start()


def _started() -> int:
    return os.getpid()


def _missing(paths: Sequence[str]) -> list[str]:
    """On a Dask worker: which of ``paths`` it cannot see (and where it runs)."""
    return [f"{p} (on {socket.gethostname()})" for p in paths if not Path(p).exists()]


class DaskCluster:
    """The tasks submitted to a Dask distributed scheduler, results gathered in order."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client  # optional: only a cluster run needs it
        except ImportError as exc:
            raise EngineError("--scheduler needs Dask: pip install 'chukan-etl[dask]'") from exc
        try:
            self._client: Any = Client(address, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
        except (OSError, ValueError, TypeError) as exc:  # refused, timed out, a bad address
            raise EngineError(f"cannot reach the Dask scheduler {address}: {exc}") from exc
        threads = sum(
            w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()
        )
        self.in_flight = max(threads, 1) + 1

    def submit(self, task: ChunkTask) -> Pending:
        # pure=False: the same piece submitted twice (a run repeated) is two tasks
        future: Pending = self._client.submit(run_chunk, task, pure=False)
        return future

    def check_shared(self, paths: Sequence[Path]) -> None:
        missing = self._client.submit(_missing, [str(p) for p in paths], pure=False).result()
        if missing:
            raise EngineError(
                f"a Dask worker cannot see {', '.join(missing)}: the workers of --scheduler "
                "must see the dump and the output folder at the same paths (a shared filesystem)"
            )

    def cancel(self, pending: Sequence[Pending]) -> None:
        self._client.cancel(list(pending))

    def close(self) -> None:
        self._client.close()


def open_engine(workers: int | None, scheduler: str | None) -> Engine | None:
    """The engine a run's options choose (None: decode, map and write in this process)."""
    if scheduler:
        if workers is not None:
            raise EngineError("give --workers or --scheduler, not both")
        return DaskCluster(scheduler)
    if workers is None:
        return None
    return LocalProcesses(workers)
