"""The generated data the benchmarks share, built once under benchmarks/work/ and reused.

Every benchmark takes the same dump (same seed, with the deliberately broken records) and the
same `chukan run --gyomu juki` of it, so the figures of different scripts are of the same bytes
whichever script ran first. Dumps are generated in a child process (a 10M-record population
would otherwise stay in the benchmark's own memory) and are ready once expected.json exists
(the generator writes it last).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

WORK = Path(__file__).resolve().parent / "work"
ROOT = WORK.parent.parent
SEED = 7


def compile_etl() -> None:
    """Compile etl's modules before anything is timed. With PYTHONDONTWRITEBYTECODE set (as on
    the project's machines) a module whose .pyc is stale or missing — any module changed since
    `make setup` — is compiled again by every chukan process (≈75 ms of CPU each, measured after
    a merge), a cost no installed chukan pays."""
    cmd = [sys.executable, "-m", "compileall", "-q", str(ROOT / "etl")]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def vendor_a_dump(persons: int, dirty_fraction: float = 0.0) -> Path:
    """The vendor-a dump of ``persons`` (``dirty_fraction``: share of JUMIN records dirtied)."""
    suffix = f"-dirty{round(dirty_fraction * 100)}" if dirty_fraction else ""
    dump = WORK / f"vendor-a-{persons}{suffix}"
    if not (dump / "expected.json").is_file():
        shutil.rmtree(dump, ignore_errors=True)  # an interrupted generation
        cmd = [sys.executable, "-m", "fixtures.generate", "vendor-a", str(dump)]
        cmd += ["--persons", str(persons), "--seed", str(SEED), "--broken"]
        if dirty_fraction:
            cmd += ["--dirty-fraction", str(dirty_fraction)]
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
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
