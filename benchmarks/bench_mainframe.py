"""A JEF VB mainframe dump end to end: `chukan run` and the extractor against a raw baseline.

The dump is vendor-jef (fixtures/_vendor_mainframe.py: RECFM VB with RDWs, JEF kanji between
KI 0x28 / KO 0x29, EBCDIK single bytes, packed and zoned numbers, OCCURS DEPENDING ON, the
deliberately broken records) of ``--persons`` persons, generated once under
benchmarks/work/vendor-jef-N/ (ready once its expected.json exists). 510k persons make about
1M records: 0.5M 住民 and 0.22M 世帯 records in JUKI.DAT, 0.29M 年金 records in NENKIN.DAT.

Contenders, each in its own child process, in this order in every repeat:

    baseline  the raw floor: read JUKI.DAT and NENKIN.DAT, frame the RDW chain (a loop over
              records, skipping a bad RDW byte by byte), decode each record whole as mixed
              text with the reference codecs — Python's euc_jp for the runs between KI and KO
              (JEF = JIS X 0208 + 0x8080, the fixtures' own mapping) and a charmap codec built
              from glibc iconv's IBM930 single bytes (EBCDIK) for the rest — and write one
              UTF-8 line per record. No fields, no numbers, no checks: a packed byte 0x28
              opens a kanji run, so its output is no conversion, only the cost every
              converter pays. Run before and after the others: the repeat's baseline is the
              mean of the two (both listed).
    extract   MainframeExtractor over the three sources of mappings/vendor-jef (JUMIN-REC and
              SETAI-REC both read JUKI.DAT, NENKIN-REC reads NENKIN.DAT, one record per 資格期間):
              framing, record types, every field decoded, rejects; chunks dropped.
    chukan    `chukan --log-format json run --vendor vendor-jef`: every output of a real run
              (V2.1 files, rejects, findings, the three reports, the manifest). Exit 1
              (blocking findings of the broken records) is expected.

Ratios are baseline seconds / contender seconds (throughput relative to the floor; target for
issue 12: chukan ≥ 0.8). Peak RSS: the sampled sum of VmRSS over each child's process tree and
the child's own high-water mark (wait4). chukan's timeline comes from its step events. The
machine is shared and noisy: quote every repeat and the load; take the lock:

    flock /tmp/chukan-bench.lock .venv/bin/python benchmarks/bench_mainframe.py [--persons 510000]
"""

from __future__ import annotations

import argparse
import codecs
import json
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import CHUKAN, chukan_timeline, machine, measure, median  # noqa: E402
from benchmarks.workdata import SEED, WORK, compile_etl  # noqa: E402

FILES = ("JUKI.DAT", "NENKIN.DAT")
KANJI_RUN = re.compile(rb"\x28([^\x29]*)\x29")  # KI … KO: the split keeps the runs at odd places
MAX_RDW = 364  # the longest record of vendor-jef (360 data bytes) with its RDW
TARGET = 0.8


def jef_dump(persons: int) -> Path:
    """The vendor-jef dump of ``persons`` (seed 7, broken records in), generated once."""
    dump = WORK / f"vendor-jef-{persons}"
    if not (dump / "expected.json").is_file():
        shutil.rmtree(dump, ignore_errors=True)  # an interrupted generation
        cmd = [sys.executable, "-m", "fixtures.generate", "vendor-jef", str(dump)]
        cmd += ["--persons", str(persons), "--seed", str(SEED), "--broken"]
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return dump


def ebcdik_table() -> Path:
    """glibc iconv's IBM930 single-byte page (EBCDIK) as 256 characters (U+FFFE: undefined),
    the decoding table of the baseline's charmap codec; built once, outside the clock."""
    path = WORK / "ebcdik-iconv.json"
    if not path.is_file():
        chars = []
        for b in range(256):
            done = subprocess.run(
                ["iconv", "-f", "IBM930", "-t", "UTF-8"], input=bytes([b]), capture_output=True
            )
            text = done.stdout.decode("utf-8", "replace")
            chars.append(text if done.returncode == 0 and len(text) == 1 else "\ufffe")
        WORK.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps("".join(chars)), "utf-8")
    return path


def baseline(dump: Path, out: Path) -> dict[str, Any]:
    """The raw floor (see the module's docstring); returns the records it framed."""
    table = json.loads(ebcdik_table().read_text("utf-8"))
    records = 0
    with out.open("wb") as fh:
        for name in FILES:
            raw = (dump / name).read_bytes()
            lines: list[str] = []
            p, end = 0, len(raw)
            while p + 4 <= end:  # the RDW chain: where a record starts depends on the last
                length, segment = struct.unpack_from(">HH", raw, p)
                if segment or not 4 < length <= MAX_RDW or p + length > end:
                    p += 1  # a bad RDW: look for the next one
                    continue
                parts = KANJI_RUN.split(raw[p + 4 : p + length])
                lines.append(
                    "".join(
                        part.decode("euc_jp", "replace")
                        if i % 2
                        else codecs.charmap_decode(part, "replace", table)[0]
                        for i, part in enumerate(parts)
                    )
                )
                p += length
            records += len(lines)
            fh.write("\n".join(lines).encode("utf-8"))
    return {"records": records}


def extract(dump: Path) -> dict[str, Any]:
    """MainframeExtractor over every source of vendor-jef; the chunks are dropped."""
    from etl.extract import get_extractor, vendor_profile

    profile = vendor_profile("vendor-jef")
    extractor = get_extractor("mainframe")
    records = rejects = 0
    for source in profile.files:
        for chunk in extractor.extract(dump / source.path, source, profile):
            records += chunk.records.height
            rejects += chunk.rejects.height
    return {"records": records, "rejects": rejects}


def run_child(args: argparse.Namespace) -> None:
    row = baseline(args.dump, args.out) if args.child == "baseline" else extract(args.dump)
    print(json.dumps(row))


def contender(name: str, dump: Path, log: Path, chukan: Path = CHUKAN) -> dict[str, Any]:
    if name == "chukan":
        out = WORK / f"run-jef-{dump.name}"
        cmd = [str(chukan), "--log-format", "json", "run", "--vendor", "vendor-jef"]
        cmd += ["--dump", str(dump), "--out", str(out), "--replace"]
    else:
        cmd = [sys.executable, __file__, "--child", name, "--dump", str(dump)]
        cmd += ["--out", str(WORK / f"baseline-jef-{dump.name}.txt")]
    m = measure(cmd, log)
    if m.exit_code not in ((0, 1) if name == "chukan" else (0,)):
        sys.exit(f"{name} failed with exit code {m.exit_code}; see {m.log}")
    row: dict[str, Any] = m.brief()
    if name == "chukan":
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        row["records_in"] = sum(s["records_in"] for s in manifest["sources"])
        row["timeline"] = chukan_timeline(m)
    else:
        lines = (ROOT / m.log).read_text("utf-8").splitlines()
        row |= json.loads(lines[-1])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=510_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the run folder and baseline text")
    ap.add_argument(
        "--reference-chukan",
        type=Path,
        help="also run this chukan executable (e.g. main's, for a before/after) after chukan",
    )
    ap.add_argument("--child", choices=("baseline", "extract"), help=argparse.SUPPRESS)
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_child(args)
        return

    compile_etl()
    t0 = time.perf_counter()
    dump = jef_dump(args.persons)
    ebcdik_table()
    size = sum((dump / f).stat().st_size for f in FILES)
    print(f"dump {dump.name}: {size / 1e6:.0f} MB, ready in {time.perf_counter() - t0:.1f}s")
    started = machine()
    print(f"load average {started['loadavg_1_5_15']} (shared machine)", flush=True)
    logs = WORK / "logs"
    rows: list[dict[str, Any]] = []
    for r in range(1, args.repeat + 1):
        got = {}
        names = ["baseline", "extract", "chukan", "baseline-after"]
        if args.reference_chukan:
            names.insert(3, "chukan-reference")
        for name in names:
            chukan = args.reference_chukan if name == "chukan-reference" else CHUKAN
            log = logs / f"jef-{name}-{r}.log"
            got[name] = contender(name.split("-")[0], dump, log, chukan)
            m = got[name]
            print(
                f"repeat {r} {name:15s} {m['wall_s']:7.2f}s  peak RSS tree {m['tree_peak_rss_mib']}"
                f" MiB (own {m['peak_rss_mib']})",
                flush=True,
            )
        base_s = (got["baseline"]["wall_s"] + got["baseline-after"]["wall_s"]) / 2
        row = {
            "repeat": r,
            "baseline_s": round(base_s, 2),
            "extract_vs_baseline": round(base_s / got["extract"]["wall_s"], 3),
            "chukan_vs_baseline": round(base_s / got["chukan"]["wall_s"], 3),
            **(
                {"reference_vs_baseline": round(base_s / got["chukan-reference"]["wall_s"], 3)}
                if "chukan-reference" in got
                else {}
            ),
            **got,
        }
        rows.append(row)
        print(
            f"repeat {r}: baseline {base_s:.2f}s (mean of {got['baseline']['wall_s']:.2f} and "
            f"{got['baseline-after']['wall_s']:.2f}); extract/base {row['extract_vs_baseline']}; "
            f"chukan/base {row['chukan_vs_baseline']}"
            + (f"; reference/base {row['reference_vs_baseline']}" if args.reference_chukan else ""),
            flush=True,
        )
        for name in ("chukan", "chukan-reference"):
            for phase in got.get(name, {}).get("timeline", []):
                print(f"    {name:16s} {phase['s']:7.2f}s  {phase['phase']}")
    verdict = median([r["chukan_vs_baseline"] for r in rows])
    summary = {
        "persons": args.persons,
        "records_in": rows[0]["chukan"]["records_in"],
        "baseline_records": rows[0]["baseline"]["records"],
        "input_mb": round(size / 1e6, 1),
        "machine_at_start": started,
        "machine_at_end": machine(),
        "extract_vs_baseline_median": median([r["extract_vs_baseline"] for r in rows]),
        "chukan_vs_baseline_median": verdict,
        "reference_chukan": str(args.reference_chukan or ""),
        "target": TARGET,
        "repeats": rows,
    }
    path = WORK / "bench_mainframe.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(
        f"chukan records in {summary['records_in']} (baseline framed "
        f"{summary['baseline_records']}); load average at end "
        f"{summary['machine_at_end']['loadavg_1_5_15']}"
    )
    print(
        f"chukan run = {verdict:.2f}x the raw baseline (median of {len(rows)}), target ≥ "
        f"{TARGET}: {'meets' if verdict >= TARGET else 'MISSES'}; details in {path}"
    )
    if not args.keep:
        shutil.rmtree(WORK / f"run-jef-{dump.name}", ignore_errors=True)
        (WORK / f"baseline-jef-{dump.name}.txt").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
