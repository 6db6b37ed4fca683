"""Scale and speed (issue 11): chukan against the raw decode baseline and a plain pandas script,
on a clean and a dirty vendor-a dump, and a 10M-record memory run.

Each contender runs in its own process, on the same bytes, in the same benchmark run:
  baseline  the raw decode floor of bench_run.py: read, split into records, decode CP932 whole,
            write UTF-8 (no fields, no checks);
  pandas    benchmarks/pandas_pipeline.py in its own venv (benchmarks/work/pandas-venv, built
            here from benchmarks/requirements-pandas.txt): per-record slicing, `map`, `to_csv`;
  chukan    `chukan --log-format json run --vendor vendor-a --gyomu juki` (every output: V2.1
            files, rejects, findings, report.xlsx / .html / .json, manifest);
  reports   `chukan report RUN --out DIR` of that run: the reports rendered again on their own,
            a stand-in for the reports' share of the run (the run emits no event around them);
            its process start-up (imports, measured as `chukan report EMPTY_DIR`, which exits 2
            after the same imports) is subtracted: reports_share = (reports − start-up) / run.
The dumps: CLEAN = the bench_run dump (with its dozen deliberate broken records); DIRTY = the
same population with --dirty-fraction of JUMIN.DAT records carrying one finding each
(fixtures/_vendor_a_dirty.py). A dump's files are read once first (page cache); each repeat runs
baseline, pandas, chukan, reports, baseline; the
baseline of a repeat is the mean of its two runs (load on a shared machine drifts), every run is
listed. Peak RSS: the child's own high-water mark (wait4 ru_maxrss) and the sum of VmRSS over
the child's process tree, sampled every 50 ms (what matters once chukan uses worker processes).
Before each contender the machine's dirty pages are flushed (os.sync), so none pays the disk for
another's unsynced output.

    python benchmarks/bench_scale.py [--persons 1000000] [--repeat 3] [--dirty-fraction 0.15]
                                     [--workers 0 --workers 2]
    python benchmarks/bench_scale.py --memory [--records 10000000] [--kill-above-gib 14]
                                            [--chunk-records N] [--workers N] [--keep]

--workers N passes `--workers N` to chukan (0: chukan's default, chunks decoded in its own
process on threads); given several times, each repeat runs chukan once per setting, after the
same baseline and pandas runs, and a table lists every setting's repeats side by side.

--memory generates a dump of about --records JUMIN + SETAI records, runs chukan on it once and
reports wall time and peak RSS; a child whose tree grows past --kill-above-gib (or leaves less
than 1 GiB of MemAvailable on the machine) is killed and reported as such. No baseline there:
the raw decode holds each file whole (≈4× the file in RSS) and would measure the baseline's
memory, not chukan's. Results: a table on stdout and benchmarks/work/bench_scale-<mode>.json.
Take the lock around a measurement: `flock /tmp/chukan-bench.lock python benchmarks/…`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
PANDAS_VENV = WORK / "pandas-venv"
REQUIREMENTS = ROOT / "benchmarks" / "requirements-pandas.txt"
CHUKAN = Path(sys.executable).parent / "chukan"
MIB = 1024 * 1024

# issue 11's targets, checked on the median of the repeats
TARGETS = {
    "clean": {"chukan_vs_baseline": 0.8},
    "dirty": {"chukan_vs_baseline": 0.6, "chukan_vs_pandas": 4.0, "max_reports_share": 0.15},
    "memory": {"max_peak_rss_gib": 2.0},
}


@dataclass
class Measured:
    """One child process: wall seconds, peak RSS, exit code, where its output went."""

    wall_s: float
    peak_rss_mib: int  # wait4: the child's own high-water mark (largest process of the tree)
    tree_peak_rss_mib: int  # sampled sum of VmRSS over the child and its descendants
    exit_code: int
    log: str
    killed: str = ""  # why the harness killed the child, if it did
    started_unix: float = 0.0
    # (unix time, process tree MiB) every 50 ms: the peak of each phase of the timeline
    rss_samples: list[tuple[float, int]] = field(default_factory=list)

    def brief(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if k not in ("log", "started_unix", "rss_samples")
        }


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                text = Path(f"/proc/{p}/task/{task}/children").read_text()
                todo.extend(int(c) for c in text.split())
        except OSError:
            continue
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def mem_available_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def measure(cmd: list[str], log: Path, kill_above_mib: int | None = None) -> Measured:
    """Run ``cmd`` (output to ``log``) and measure it; kill it if its tree passes the limit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    # What the previous contender wrote (pandas' and the baseline's ≈400 MB of CSV, never
    # synced) is flushed before this one starts, not charged to it: chukan syncs its own
    # outputs, behind whatever else is queued for the disk (a run right after pandas once spent
    # 3.8 s on its first 300k records, 0.9 s otherwise).
    os.sync()
    peak = [0]
    samples: list[tuple[float, int]] = []
    killed = [""]
    done = threading.Event()
    started = time.time()
    t0 = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)

        def sample() -> None:
            while not done.wait(0.05):
                rss = sum(_rss_kib(p) for p in _tree(proc.pid)) // 1024
                peak[0] = max(peak[0], rss)
                samples.append((time.time(), rss))
                low = mem_available_mib() < 1024
                if kill_above_mib is not None and (rss > kill_above_mib or low) and not killed[0]:
                    why = "machine below 1 GiB available" if low else f"tree above {kill_above_mib}"
                    killed[0] = f"killed by the harness at {rss} MiB ({why} MiB)"
                    os.killpg(proc.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Measured(
        wall_s=round(wall, 3),
        peak_rss_mib=round(usage.ru_maxrss / 1024),
        tree_peak_rss_mib=peak[0],
        exit_code=proc.returncode,
        log=str(log.relative_to(ROOT)),
        killed=killed[0],
        started_unix=started,
        rss_samples=samples,
    )


def pandas_python() -> Path:
    """The pandas venv's interpreter, the venv built first if missing (pinned requirements)."""
    python = PANDAS_VENV / "bin" / "python"
    marker = PANDAS_VENV / ".requirements"
    wanted = REQUIREMENTS.read_text("utf-8")
    if not python.is_file() or not marker.is_file() or marker.read_text("utf-8") != wanted:
        print("building benchmarks/work/pandas-venv (pandas, jaconv) …", flush=True)
        shutil.rmtree(PANDAS_VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(PANDAS_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
        subprocess.run(pip, check=True)
        marker.write_text(wanted, "utf-8")
    return python


def baseline_script(dump: Path) -> Path:
    """bench_run.py's raw decode baseline for ``dump``'s juki files."""
    from benchmarks.bench_run import BASELINE, FILES
    from etl.extract import FixedWidthOptions, vendor_profile

    rec_lens = {
        Path(f.path).name: f.options.record_length or 0
        for f in vendor_profile("vendor-a").files
        if isinstance(f.options, FixedWidthOptions)
    }
    script = WORK / "scale-baseline.py"
    script.write_text(BASELINE.format(rec_lens=rec_lens, files=FILES))
    return script


def juki_records(dump: Path) -> tuple[int, int]:
    """Data records of JUMIN + SETAI (what `--gyomu juki` reads) and their bytes on disk."""
    files = json.loads((dump / "expected.json").read_text("utf-8"))["files"]
    juki = [files[name] for name in ("JUMIN.DAT", "SETAI.DAT")]
    return sum(f["data_records"] for f in juki), sum(f["size_bytes"] for f in juki)


def chukan_timeline(m: Measured) -> list[dict[str, Any]]:
    """Where chukan's wall time went: from its JSON events (step starts), launch to exit."""
    marks: list[tuple[str, float]] = [("start → first step (decode sources)", m.started_unix)]
    seen = set()
    for line in (ROOT / m.log).read_text("utf-8", "replace").splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("event") != "step.started" or event["message"] in seen:
            continue
        seen.add(event["message"])
        at = dt.datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()
        marks.append((event["message"], at))
    end = m.started_unix + m.wall_s
    out: list[dict[str, Any]] = []
    for (name, at), (_, nxt) in zip(marks, [*marks[1:], ("exit", end)], strict=True):
        during = [rss for t, rss in m.rss_samples if at <= t < nxt]
        out.append(
            {"phase": name, "s": round(max(nxt - at, 0.0), 2), "peak_mib": max(during, default=0)}
        )
    if len(out) > 1:
        out[-1]["phase"] += " + reports + publish"
    return out


def findings_count(run: Path) -> int | None:
    path = run / "findings.csv"
    if not path.is_file():
        return None
    return max(path.read_bytes().count(b"\n") - 1, 0)


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def workers_args(workers: int) -> list[str]:
    """chukan's options for a --workers setting (0: its default, chunks taken in-process)."""
    return ["--workers", str(workers)] if workers else []


def warm_page_cache(dump: Path) -> None:
    """Read the juki files once, so the first baseline of a dump does not pay the disk alone
    (after a 10M memory run or a CI run, the 1M dumps had left the page cache: the first
    baseline measured 10–17 s against 3.5–4.5 s for the second)."""
    for name in ("JUMIN.DAT", "SETAI.DAT"):
        with (dump / name).open("rb") as fh:
            while fh.read(1 << 24):
                pass


def compare_dump(
    name: str, dump: Path, repeat: int, py_pandas: Path, workers: list[int]
) -> dict[str, Any]:
    records, size = juki_records(dump)
    base_cmd = [sys.executable, str(baseline_script(dump)), str(dump), str(WORK / "scale-base.csv")]
    out = WORK / f"scale-out-{name}"
    pandas_out, chukan_out, reports_out = out / "pandas", out / "chukan", out / "reports"
    pandas_cmd = [str(py_pandas), str(ROOT / "benchmarks" / "pandas_pipeline.py"), str(dump)]
    pandas_cmd.append(str(pandas_out))
    chukan_cmd = [str(CHUKAN), "--log-format", "json", "run", "--vendor", "vendor-a"]
    chukan_cmd += ["--gyomu", "juki", "--dump", str(dump), "--out", str(chukan_out), "--replace"]
    logs = WORK / "logs" / name
    empty = WORK / "scale-empty"  # not a run folder: `chukan report` of it is start-up only
    empty.mkdir(exist_ok=True)
    rows = []
    timeline: list[dict[str, Any]] = []
    warm_page_cache(dump)
    for i in range(1, repeat + 1):
        shutil.rmtree(out, ignore_errors=True)
        before = measure(base_cmd, logs / f"{i}-baseline-before.log")
        pandas = measure(pandas_cmd, logs / f"{i}-pandas.log")
        chukans = {
            w: measure(chukan_cmd + workers_args(w), logs / f"{i}-chukan-w{w}.log") for w in workers
        }
        chukan = chukans[workers[0]]  # the reports and the V2.1 comparison: the first setting's
        reports = measure(
            [str(CHUKAN), "report", str(chukan_out), "--out", str(reports_out)],
            logs / f"{i}-reports.log",
        )
        startup = measure(
            [str(CHUKAN), "report", str(empty), "--out", str(out / "none")],
            logs / f"{i}-startup.log",
        )
        after = measure(base_cmd, logs / f"{i}-baseline-after.log")
        failed = [
            (n, m)
            for n, m in (
                ("baseline", before),
                ("baseline", after),
                ("pandas", pandas),
                ("reports", reports),
            )
            if m.exit_code != 0
        ]
        for w, m in chukans.items():
            if m.exit_code not in (0, 1):  # 1: blocking findings, expected on these dumps
                failed.append((f"chukan --workers {w}", m))
        if startup.exit_code != 2:  # 2: "not a run folder", after the imports
            failed.append(("start-up probe", startup))
        for who, m in failed:
            sys.exit(f"{name}: {who} failed with exit code {m.exit_code}, see {m.log}")
        base_s = (before.wall_s + after.wall_s) / 2
        same = {
            f: _sha(pandas_out / "juki" / f) == _sha(chukan_out / "juki" / f)
            for f in ("jumin.csv", "setai.csv")
        }
        for w in workers[1:]:  # the other settings' outputs are the same files (tests/)
            other = chukans[w]
            rows.append(
                {
                    "dump": name,
                    "repeat": i,
                    "workers": w,
                    "records": records,
                    "chukan_s": other.wall_s,
                    "chukan_vs_baseline": round(base_s / other.wall_s, 3),
                    "chukan_vs_pandas": round(pandas.wall_s / other.wall_s, 3),
                    "peak_rss_mib": other.peak_rss_mib,
                    "tree_peak_rss_mib": other.tree_peak_rss_mib,
                    "chukan_exit_code": other.exit_code,
                    "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
                    "chukan_timeline": chukan_timeline(other),
                }
            )
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "chukan_timeline"}))
        row = {
            "dump": name,
            "repeat": i,
            "workers": workers[0],
            "records": records,
            "input_mb": round(size / 1e6, 1),
            "baseline_s": [before.wall_s, after.wall_s],
            "pandas_s": pandas.wall_s,
            "chukan_s": chukan.wall_s,
            "reports_s": reports.wall_s,
            "startup_s": startup.wall_s,
            "chukan_vs_baseline": round(base_s / chukan.wall_s, 3),
            "pandas_vs_baseline": round(base_s / pandas.wall_s, 3),
            "chukan_vs_pandas": round(pandas.wall_s / chukan.wall_s, 3),
            "reports_share": round(max(reports.wall_s - startup.wall_s, 0) / chukan.wall_s, 3),
            "chukan_findings": findings_count(chukan_out),
            "pandas_findings": findings_count(pandas_out),
            "v21_files_identical": same,
            "peak_rss_mib": {
                "baseline": max(before.peak_rss_mib, after.peak_rss_mib),
                "pandas": pandas.peak_rss_mib,
                "chukan": chukan.peak_rss_mib,
                "reports": reports.peak_rss_mib,
            },
            "tree_peak_rss_mib": {
                "baseline": max(before.tree_peak_rss_mib, after.tree_peak_rss_mib),
                "pandas": pandas.tree_peak_rss_mib,
                "chukan": chukan.tree_peak_rss_mib,
                "reports": reports.tree_peak_rss_mib,
            },
            "chukan_exit_code": chukan.exit_code,
            "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],  # at the repeat's end
        }
        timeline = chukan_timeline(chukan)
        row["chukan_timeline"] = timeline
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "chukan_timeline"}), flush=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(empty, ignore_errors=True)
    (WORK / "scale-base.csv").unlink(missing_ok=True)
    return {"dump": name, "path": str(dump.relative_to(ROOT)), "records": records, "rows": rows}


def median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def verdicts(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key, target in TARGETS[name].items():
        if key == "max_reports_share":
            got = median([r["reports_share"] for r in rows])
            ok = got <= target
        else:
            got = median([r[key] for r in rows])
            ok = got >= target
        out.append(
            {"dump": name, "measure": key, "median": round(got, 3), "target": target, "met": ok}
        )
    return out


def print_table(results: list[dict[str, Any]], checks: list[dict[str, Any]]) -> None:
    head = (
        "dump",
        "rep",
        "records",
        "base s",
        "pandas s",
        "chukan s",
        "rep−start s",
        "ch/base",
        "pd/base",
        "ch/pd",
        "rep%",
        "RSS MiB base/pd/ch",
        "findings ch/pd",
        "V2.1 same",
    )
    lines = [head]
    for res in results:
        for r in res["rows"]:
            if "pandas_s" not in r:  # another --workers setting: chukan's figures only
                continue
            rss = r["tree_peak_rss_mib"]
            lines.append(
                (
                    r["dump"],
                    str(r["repeat"]),
                    str(r["records"]),
                    "/".join(f"{s:.2f}" for s in r["baseline_s"]),
                    f"{r['pandas_s']:.2f}",
                    f"{r['chukan_s']:.2f}",
                    f"{r['reports_s']:.2f}−{r['startup_s']:.2f}",
                    f"{r['chukan_vs_baseline']:.2f}",
                    f"{r['pandas_vs_baseline']:.2f}",
                    f"{r['chukan_vs_pandas']:.2f}",
                    f"{r['reports_share']:.0%}",
                    f"{rss['baseline']}/{rss['pandas']}/{rss['chukan']}",
                    f"{r['chukan_findings']}/{r['pandas_findings']}",
                    "yes" if all(r["v21_files_identical"].values()) else "NO",
                )
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
    print_workers(results)
    for res in results:
        print(f"chukan timeline, {res['dump']}, last repeat:")
        for phase in res["rows"][-1]["chukan_timeline"]:
            print(f"  {phase['s']:8.2f} s  {phase['peak_mib']:6d} MiB  {phase['phase']}")
    for c in checks:
        verdict = "meets" if c["met"] else "MISSES"
        print(f"{c['dump']}: {c['measure']} median {c['median']} (target {c['target']}): {verdict}")


def print_workers(results: list[dict[str, Any]]) -> None:
    """chukan's wall time per --workers setting, repeat by repeat (same dump, same run)."""
    settings = sorted({r["workers"] for res in results for r in res["rows"]})
    if len(settings) < 2:
        return
    print("chukan by --workers (0: in-process threads), wall s / ratio to the baseline / tree RSS:")
    for res in results:
        for i in sorted({r["repeat"] for r in res["rows"]}):
            cells = []
            for w in settings:
                r = next(x for x in res["rows"] if x["repeat"] == i and x["workers"] == w)
                rss = r["tree_peak_rss_mib"]
                rss = rss["chukan"] if isinstance(rss, dict) else rss
                cells.append(f"w{w} {r['chukan_s']:.2f} s {r['chukan_vs_baseline']:.2f}× {rss} MiB")
            load = " ".join(str(x) for x in r.get("loadavg_1_5_15", []))
            print(f"  {res['dump']} #{i}: " + " | ".join(cells) + f" (load {load})")


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
        "mem_available_mib": mem_available_mib(),
        "python": platform.python_version(),
        "note": "shared machine (other engineers run tests): quote ratios, not absolute times",
    }


def write_result(mode: str, body: dict[str, Any]) -> Path:
    path = WORK / f"bench_scale-{mode}.json"
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return path


def run_compare(args: argparse.Namespace) -> None:
    from benchmarks.workdata import compile_etl, vendor_a_dump

    compile_etl()

    py_pandas = pandas_python()
    at_start = machine()
    t0 = time.perf_counter()
    dumps = {
        "clean": vendor_a_dump(args.persons),
        "dirty": vendor_a_dump(args.persons, args.dirty_fraction),
    }
    print(f"dumps of {args.persons} persons ready in {time.perf_counter() - t0:.1f}s", flush=True)
    dirty = json.loads((dumps["dirty"] / "expected.json").read_text("utf-8"))["dirty"]
    print(f"dirty dump: {dirty['records']} JUMIN records dirtied ({dirty['share']:.1%})")
    workers = args.workers or [0]
    results = [compare_dump(n, d, args.repeat, py_pandas, workers) for n, d in dumps.items()]
    checks = [
        c
        for res in results
        for c in verdicts(res["dump"], [r for r in res["rows"] if r["workers"] == workers[0]])
    ]
    print_table(results, checks)
    body = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "persons": args.persons,
        "dirty": dirty,
        "machine_at_start": at_start,
        "machine_at_end": machine(),
        "results": results,
        "targets": checks,
    }
    print(
        f"load average at start {at_start['loadavg_1_5_15']}, at end "
        f"{body['machine_at_end']['loadavg_1_5_15']} → {write_result('compare', body)}"
    )


def run_memory(args: argparse.Namespace) -> None:
    from benchmarks.workdata import compile_etl, vendor_a_dump

    compile_etl()

    probe = vendor_a_dump(20_000)  # records per person of this generator
    per_person = juki_records(probe)[0] / 20_000
    persons = math.ceil(args.records / per_person)
    at_start = machine()
    limit = args.kill_above_gib * 1024
    if at_start["mem_available_mib"] < limit + 2048:
        sys.exit(
            f"only {at_start['mem_available_mib']} MiB available: not starting a run that "
            f"may take {limit} MiB on a shared machine (lower --kill-above-gib)"
        )
    t0 = time.perf_counter()
    dump = vendor_a_dump(persons)
    gen_s = time.perf_counter() - t0
    records, size = juki_records(dump)
    print(
        f"dump of {persons} persons ({records} juki records, {size / 1e9:.2f} GB) in {gen_s:.0f}s",
        flush=True,
    )
    out = WORK / "scale-out-memory"
    cmd = [str(CHUKAN), "--log-format", "json", "run", "--vendor", "vendor-a", "--gyomu", "juki"]
    cmd += ["--dump", str(dump), "--out", str(out), "--replace"]
    if args.chunk_records:
        cmd += ["--chunk-records", str(args.chunk_records)]
    cmd += workers_args((args.workers or [0])[0])
    m = measure(cmd, WORK / "logs" / "memory" / "chukan.log", kill_above_mib=limit)
    completed = m.exit_code in (0, 1) and not m.killed
    peak_gib = max(m.peak_rss_mib, m.tree_peak_rss_mib) / 1024
    check = {
        "dump": "memory",
        "measure": "max_peak_rss_gib",
        "median": round(peak_gib, 2),
        "target": TARGETS["memory"]["max_peak_rss_gib"],
        "met": completed and peak_gib <= TARGETS["memory"]["max_peak_rss_gib"],
    }
    tail = (ROOT / m.log).read_text("utf-8", "replace").splitlines()[-5:]
    body = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "persons": persons,
        "records": records,
        "input_gb": round(size / 1e9, 2),
        "generation_s": round(gen_s, 1),
        "machine_at_start": at_start,
        "machine_at_end": machine(),
        "chukan": m.brief(),
        "completed": completed,
        "records_per_s": round(records / m.wall_s) if completed else None,
        "chukan_timeline": chukan_timeline(m),
        "log_tail": [] if completed else tail,
        "targets": [check],
    }
    path = write_result("memory", body)
    state = "completed" if completed else f"FAILED (exit {m.exit_code}) {m.killed}"
    print(
        f"chukan run of {records} records: {state} in {m.wall_s:.1f}s; peak RSS "
        f"{m.peak_rss_mib} MiB (largest process), {m.tree_peak_rss_mib} MiB (process tree)"
    )
    for phase in body["chukan_timeline"]:
        print(f"  {phase['s']:8.2f} s  {phase['peak_mib']:6d} MiB  {phase['phase']}")
    if not completed:
        print("\n".join(tail))
    verdict = "meets" if check["met"] else "MISSES"
    print(
        f"memory: peak RSS {check['median']} GiB (target ≤ {check['target']} GiB, completed): "
        f"{verdict}; load {at_start['loadavg_1_5_15']} → {path}"
    )
    shutil.rmtree(out, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(dump, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dirty-fraction", type=float, default=0.15)
    ap.add_argument("--memory", action="store_true", help="the 10M-record memory run instead")
    ap.add_argument("--records", type=int, default=10_000_000, help="--memory: juki records")
    ap.add_argument("--kill-above-gib", type=float, default=14.0, help="--memory: RSS guard")
    ap.add_argument("--keep", action="store_true", help="--memory: keep the generated dump")
    ap.add_argument(
        "--chunk-records", type=int, default=0, help="--memory: chukan's --chunk-records"
    )
    ap.add_argument(
        "--workers",
        type=int,
        action="append",
        help="chukan's --workers (0: its default, in-process threads); repeat to run chukan once"
        " per setting in each repeat (the verdicts use the first); --memory: the first",
    )
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)
    if args.memory:
        run_memory(args)
    else:
        run_compare(args)


if __name__ == "__main__":
    main()
