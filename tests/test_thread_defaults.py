"""What importing etl sets before numpy and polars load (etl/__init__.py): OpenBLAS without
worker threads (chukan does no linear algebra; its idle workers spun on the cores the decoding
and polars threads need), jemalloc's decay; a user's own setting wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")

_SET_BY_ETL = ("OPENBLAS_NUM_THREADS", "_RJEM_MALLOC_CONF")
_PROBE = (
    "import os, etl, numpy; "
    "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['_RJEM_MALLOC_CONF'], "
    "len(os.listdir('/proc/self/task')))"
)


def _probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _SET_BY_ETL}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_numpy_starts_no_blas_threads_under_etl() -> None:
    blas, jemalloc, threads = _probe()
    assert blas == "1"
    assert jemalloc == "dirty_decay_ms:1000,muzzy_decay_ms:0"
    assert threads == "1"  # the interpreter's own thread only, whatever the core count


def test_a_users_settings_win() -> None:
    blas, jemalloc, _ = _probe(OPENBLAS_NUM_THREADS="3", _RJEM_MALLOC_CONF="dirty_decay_ms:5")
    assert (blas, jemalloc) == ("3", "dirty_decay_ms:5")
