"""Where a run's peak RSS comes from: `chukan run` in this process, VmRSS sampled every 10 ms,
the samples cut into steps by wrapping the functions named below (tracemalloc sees Python's
allocations only, not polars'; the OS's VmRSS sees both).

    python benchmarks/mem_timeline.py DUMP [--chunk-records N] [-- more chukan run options]

Prints, per step in the order the steps begin: RSS at its start, its peak and at its end (MiB),
and seconds. A step inside another one is indented. Take the benchmark lock around it
(`flock /tmp/chukan-bench.lock …`): the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# module, function: the steps of a juki run worth telling apart
STEPS = [
    ("etl.pipeline.job", "_Stream.run"),
    ("etl.pipeline.job", "_validate_all"),
    ("etl.pipeline.job", "_rejected_keys"),
    ("etl.validate.validate", "LayoutChecks.findings"),
    ("etl.validate.validate", "duplicated"),
    ("etl.validate.rule_checks", "not_exactly_one"),
    ("etl.validate.rule_checks", "duplicated"),
    ("etl.validate.rule_checks", "missing_in"),
    ("etl.pipeline.spill", "Spill.read"),
    ("etl.validate.rule_checks", "_exactly_one"),
    ("etl.validate.validate", "key_findings"),
    ("etl.pipeline.job", "_publish"),
    ("etl.pipeline.job", "write_findings"),
    ("etl.pipeline.job", "write_mapping_rejects"),
    ("etl.pipeline.job", "write_rejects"),
]
MIB = 1024 * 1024


def vm_rss_mib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


class Timeline:
    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        self.steps: list[tuple[int, str, float, float]] = []  # depth, name, start, end
        self._depth = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.samples.append((time.perf_counter(), vm_rss_mib()))

    def __enter__(self) -> Timeline:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def step(*args: Any, **kwargs: Any) -> Any:
            start, depth = time.perf_counter(), self._depth
            self.samples.append((start, vm_rss_mib()))
            self._depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                end = time.perf_counter()
                self.samples.append((end, vm_rss_mib()))
                self.steps.append((depth, name, start, end))

        return step

    def report(self) -> None:
        for depth, name, start, end in sorted(self.steps, key=lambda s: s[2]):
            during = [rss for t, rss in self.samples if start <= t <= end]
            first = min((s for s in self.samples if s[0] >= start), default=(0, 0))[1]
            last = max((s for s in self.samples if s[0] <= end), default=(0, 0))[1]
            print(
                f"{'  ' * depth}{name:<{40 - 2 * depth}} start {first:5d}  peak "
                f"{max(during, default=0):5d}  end {last:5d} MiB  {end - start:7.2f} s"
            )
        print(f"process peak {max(rss for _, rss in self.samples)} MiB")


def _patch(timeline: Timeline, module: str, qualname: str) -> None:
    owner: Any = importlib.import_module(module)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    setattr(owner, name, timeline.wrap(qualname, getattr(owner, name)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dump", type=Path)
    ap.add_argument("--chunk-records", type=int, default=0)
    ap.add_argument("rest", nargs="*", help="more `chukan run` options (after --)")
    args = ap.parse_args()
    from etl.cli import cli

    out = Path(tempfile.mkdtemp(prefix="mem-timeline-")) / "run"
    cmd = ["run", "--vendor", "vendor-a", "--gyomu", "juki", "--dump", str(args.dump)]
    cmd += ["--out", str(out), *args.rest]
    if args.chunk_records:
        cmd += ["--chunk-records", str(args.chunk_records)]
    with Timeline() as timeline:
        for module, qualname in STEPS:
            _patch(timeline, module, qualname)
        t0 = time.perf_counter()
        with contextlib.suppress(SystemExit):  # exit 1: blocking findings, expected
            cli.main(cmd, standalone_mode=False)
        timeline.steps.append((0, "chukan run", t0, time.perf_counter()))
    shutil.rmtree(out.parent, ignore_errors=True)
    timeline.report()
    sys.exit(0)


if __name__ == "__main__":
    main()
