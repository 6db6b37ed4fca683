"""Benchmark `build_package` and `verify_package` on N 住民記録 records next to sha256sum.

In one benchmark run, on the same files: `sha256sum` of the package's files (the hashing
limit), packaging the run (copy, hash, schema check, dictionary, .tar.gz), and verifying the
package folder and its archive (hash, size, record count, Table Schema, signature). Throughput
is package bytes / wall seconds; the target for verify is ≥ 70% of sha256sum's.

    python benchmarks/bench_package.py [--persons 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"


def _sha256sum(files: list[Path]) -> float:
    start = time.perf_counter()
    subprocess.run(["sha256sum", *map(str, files)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bounds-cost", action="store_true", help="time verify without its bounds")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.workdata import juki_run
    from etl.layout import load_layouts
    from etl.package import build_package, generate_keys, load_private_key, verify_package
    from etl.package.verify import BOUNDED, UNLIMITED, Limits
    from etl.resources import data_dir

    def timed(path: Path, limits: Limits) -> float:
        start = time.perf_counter()
        report = verify_package(path, trust=pair.public_path, limits=limits)
        if not report.ok:
            sys.exit(f"verify failed: {report.problems}")
        return time.perf_counter() - start

    run = juki_run(args.persons)
    keys = WORK / "bench-keys"
    shutil.rmtree(keys, ignore_errors=True)
    pair = generate_keys(keys / "seal.pem", keys / "seal.pub.pem")
    key = load_private_key(pair.private_path)
    out = WORK / "package" / "pkg"
    gaiji = data_dir("mappings") / "vendor-a" / "gaiji.csv"
    ratios: dict[str, list[float]] = {"folder": [], "archive": [], "package": []}
    costs: dict[str, list[float]] = {"folder": [], "archive": []}
    for i in range(args.repeat):
        start = time.perf_counter()
        result = build_package(
            run,
            out,
            layouts=load_layouts(),
            gaiji_table=gaiji,
            key=key,
            replace=True,
            accept_findings="benchmark: the generated dump holds deliberately broken records",
        )
        build_s = time.perf_counter() - start
        files = sorted(p for p in out.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in files)
        base_before = _sha256sum(files)
        start = time.perf_counter()
        report = verify_package(out, trust=pair.public_path)
        verify_s = time.perf_counter() - start
        base_after = _sha256sum(files)
        start = time.perf_counter()
        arch = verify_package(result.archive, trust=pair.public_path)
        arch_s = time.perf_counter() - start
        if not (report.ok and arch.ok):
            sys.exit(f"verify failed: {report.problems or arch.problems}")
        base = (base_before + base_after) / 2  # load on a shared machine drifts
        mb = size / 1e6
        row = {
            "repeat": i + 1,
            "package_mb": round(mb, 1),
            "archive_mb": round(result.archive.stat().st_size / 1e6, 1),
            "sha256sum_mb_s": round(mb / base),
            "package_mb_s": round(mb / build_s),
            "verify_dir_mb_s": round(mb / verify_s),
            "verify_archive_mb_s": round(mb / arch_s),
            "verify_ratio": round(base / verify_s, 3),
            "verify_archive_ratio": round(base / arch_s, 3),
        }
        if args.bounds_cost:
            for what, path in (("folder", out), ("archive", result.archive)):
                # A B B A, best of two each: load on a shared machine drifts within a repeat
                took = {BOUNDED: float("inf"), UNLIMITED: float("inf")}
                for limits in (BOUNDED, UNLIMITED, UNLIMITED, BOUNDED):
                    took[limits] = min(took[limits], timed(path, limits))
                costs[what].append(took[BOUNDED] / took[UNLIMITED] - 1)
                row[f"bounds_cost_{what}"] = round(costs[what][-1], 4)
        ratios["folder"].append(base / verify_s)
        ratios["archive"].append(base / arch_s)
        ratios["package"].append(base / build_s)
        print(json.dumps(row), flush=True)
    for what, values in ratios.items():
        median = sorted(values)[len(values) // 2]
        verdict = f"target ≥ 70%: {'meets' if median >= 0.70 else 'MISSES'}"
        label = "packaging" if what == "package" else f"verify ({what})"
        print(
            f"{label} = {median:.0%} of sha256sum's throughput, median of {len(values)}"
            + ("" if what == "package" else f"; {verdict}")
        )
    for what, values in costs.items():
        if values:
            median = sorted(values)[len(values) // 2]
            verdict = "meets" if median < 0.05 else "MISSES"
            shown = ", ".join(f"{v:+.1%}" for v in values)
            print(
                f"bounds cost, verify ({what}) = {median:+.1%} of unbounded verify time, median"
                f" of {len(values)} ({shown}); target < 5%: {verdict}"
            )
    shutil.rmtree(WORK / "package", ignore_errors=True)
    shutil.rmtree(keys, ignore_errors=True)


if __name__ == "__main__":
    main()
