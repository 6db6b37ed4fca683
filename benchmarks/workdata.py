"""The generated data the benchmarks share, built once under benchmarks/work/ and reused.

Every benchmark takes the same dump (same seed, with the deliberately broken records) and the
same `chukan run --gyomu juki` of it, so the figures of different scripts are of the same bytes
whichever script ran first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fixtures.generate import generate_vendor_a

WORK = Path(__file__).resolve().parent / "work"
SEED = 7


def vendor_a_dump(persons: int) -> Path:
    dump = WORK / f"vendor-a-{persons}"
    if not (dump / "JUMIN.DAT").is_file():
        generate_vendor_a(dump, persons, seed=SEED, broken=True)
    return dump


def juki_run(persons: int) -> Path:
    """The run folder of `chukan run --gyomu juki` over ``vendor_a_dump(persons)``."""
    dump = vendor_a_dump(persons)
    run = WORK / f"run-juki-{persons}"
    if not (run / "manifest.json").is_file():
        chukan = [str(Path(sys.executable).parent / "chukan"), "run", "--vendor", "vendor-a"]
        args = ["--dump", str(dump), "--out", str(run), "--gyomu", "juki", "--replace"]
        done = subprocess.run(chukan + args, capture_output=True, text=True)
        if done.returncode not in (0, 1):  # 1: blocking findings of the broken records
            raise SystemExit(f"chukan run failed: {done.stderr}")
    return run
