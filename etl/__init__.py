"""chukan-etl: legacy municipal dumps → 中間標準レイアウト仕様 V2.1 files, checked, accounted."""

import os

# polars allocates through jemalloc, which keeps freed pages for seconds before giving them back
# to the OS: a run's steps (each chunk, each whole-file check) then add their freed memory to the
# peak RSS. jemalloc reads this once, when polars loads: here, before any etl module imports it
# (a program that imports polars before etl keeps jemalloc's default); a user's setting wins.
# Dirty pages go back after 1 s, not 10: at 0 every free became a syscall (+3 s of system time
# on a 1M run, ~20% of its wall time) for little more memory saved. docs/architecture.md,
# "The streaming run", has the measurements.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")
# numpy's OpenBLAS starts a worker thread per extra core when numpy loads, and it spins for work
# chukan never gives it (no linear algebra here): on two cores it took CPU from the decoding and
# polars threads (perf: blas_thread_server 1.3% of a 1M run's samples; the run's CPU time fell
# 0.2-0.6 s without it). Read when numpy loads, so set here too; a user's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
