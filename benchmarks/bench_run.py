"""Benchmark `chukan run` on N generated 住民記録 records against a raw decode baseline.

Both sides run in their own process, in the same benchmark run, on the same bytes:
  baseline: read the files, split them into records, decode CP932, write one UTF-8 CSV line per
            record (the floor any CP932 converter pays);
  chukan:   `chukan run --gyomu juki` (decode per field, gaiji, map, validate, write, manifest).
Reports records/s and peak RSS of each and the throughput ratio (target for issue 2: ≥ 0.30).
Machines are shared and noisy: quote the ratio, not the absolute times.

    python benchmarks/bench_run.py [--persons 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
FILES = ("JUMIN.DAT", "SETAI.DAT")  # what `--gyomu juki` reads

BASELINE = r"""
import sys, numpy as np
from pathlib import Path
rec_len = {rec_lens}
out = open(sys.argv[2], "wb")
for name in {files}:
    raw = Path(sys.argv[1], name).read_bytes()
    n = len(raw) // rec_len[name]
    recs = np.frombuffer(raw, dtype=np.uint8, count=n * rec_len[name]).reshape(n, rec_len[name])
    buf = np.empty((n, rec_len[name] + 1), dtype=np.uint8)
    buf[:, :-1] = recs
    buf[:, -1] = 10
    text = buf.tobytes().decode("cp932", errors="replace")
    out.write(text.encode("utf-8"))
out.close()
"""


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the generated dump")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from benchmarks.workdata import compile_etl, vendor_a_dump

    compile_etl()
    from etl.extract import FixedWidthOptions, vendor_profile

    t0 = time.perf_counter()
    dump = vendor_a_dump(args.persons)
    print(f"dump of {args.persons} persons ready in {time.perf_counter() - t0:.1f}s", flush=True)
    profile = vendor_profile("vendor-a")
    rec_lens = {
        Path(f.path).name: f.options.record_length or 0
        for f in profile.files
        if isinstance(f.options, FixedWidthOptions)
    }
    records = sum((dump / f).stat().st_size // rec_lens[f] for f in FILES)
    size = sum((dump / f).stat().st_size for f in FILES)

    script = WORK / "baseline.py"
    script.write_text(BASELINE.format(rec_lens=rec_lens, files=FILES))
    chukan = str(Path(sys.executable).parent / "chukan")
    results = []
    baseline_cmd = [sys.executable, str(script), str(dump), str(WORK / "baseline.csv")]
    out = WORK / "out"
    chukan_cmd = [chukan, "run", "--vendor", "vendor-a", "--gyomu", "juki", "--dump", str(dump)]
    chukan_cmd += ["--out", str(out), "--replace"]
    for i in range(args.repeat):
        # baseline before and after each chukan run: load on a shared machine drifts
        before = timed(baseline_cmd)
        run = timed(chukan_cmd)
        after = timed(baseline_cmd)
        if run[2] not in (0, 1):
            sys.exit(f"chukan run failed with exit code {run[2]}")
        base = ((before[0] + after[0]) / 2, max(before[1], after[1]), 0)
        row = {
            "repeat": i + 1,
            "records": records,
            "input_mb": round(size / 1e6, 1),
            "baseline_s": round(base[0], 2),
            "baseline_rec_per_s": round(records / base[0]),
            "baseline_peak_rss_mib": round(base[1] / 1024),
            "chukan_s": round(run[0], 2),
            "chukan_rec_per_s": round(records / run[0]),
            "chukan_peak_rss_mib": round(run[1] / 1024),
            "ratio": round(base[0] / run[0], 3),
        }
        results.append(row)
        print(json.dumps(row), flush=True)
    median = sorted(r["ratio"] for r in results)[len(results) // 2]
    verdict = "meets" if median >= 0.30 else "MISSES"
    print(f"chukan run = {median:.0%} of the raw baseline's throughput, median of {len(results)}")
    print(f"target ≥ 30%: {verdict}")
    if not args.keep:
        shutil.rmtree(WORK / "out", ignore_errors=True)
        (WORK / "baseline.csv").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
