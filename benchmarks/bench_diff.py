"""Benchmark the pass-to-pass diff on two passes of N 住民 records against datacompy.

Data: two V2.1 住民情報 CSVs (juki/jumin layout, 18 String items, UTF-8 as `chukan run`
writes them) generated here with vectorised polars/numpy (not the fixture generator), under
benchmarks/work/diff-<rows>/. Pass 2 = pass 1 with 0.1% of records removed, 0.1% added and
1% changed in a few items (氏名 / 住所+郵便番号 / 異動事由+異動日).

Each contender runs in its own child process, in the same benchmark run, on the same files;
wall time includes reading the CSVs, peak RSS comes from os.wait4:
  chukan (scan):   diff_record_file on pl.scan_csv LazyFrames (how diff_runs reads a run);
  chukan (frames): pl.read_csv both files, then diff_record_file on the DataFrames;
  datacompy:       pl.read_csv both files, then datacompy.PolarsCompare with the same join key,
                   all_mismatch() for the changed rows. datacompy 1.1 pins polars < 1.45, so it
                   runs in its own venv benchmarks/work/datacompy-venv, created here with pip.
Target (issue 3): faster than datacompy and peak RSS < 4 GiB.

    python benchmarks/bench_diff.py [--rows 5000000] [--keep]
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
DC_VENV = WORK / "datacompy-venv"
KEY = "宛名番号"
GIB = 1 << 30

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "髙橋"]
GIVEN = ["太郎", "花子", "一郎", "優子", "翔太", "美咲", "大輔", "春代", "和平", "浩太"]
KANA_S = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ"]
KANA_G = ["タロウ", "ハナコ", "イチロウ", "ユウコ", "ショウタ", "ミサキ", "ダイスケ", "ハルヨ"]
TOWNS = ["試験県模擬市旭町", "見本県例示町栄町", "試験県模擬市本町", "見本県例示町緑が丘"]

CHUKAN = """
import json, sys, time
import polars as pl
from etl.diff import diff_record_file
from etl.layout import get_layout
rf = get_layout("juki").record_file("jumin")
t0 = time.perf_counter()
if sys.argv[3] == "scan":  # argv[0] is "-c"
    old, new = (pl.scan_csv(p, infer_schema=False) for p in sys.argv[1:3])
    read_s = 0.0
else:
    old, new = (pl.read_csv(p, infer_schema=False) for p in sys.argv[1:3])
    read_s = time.perf_counter() - t0
t1 = time.perf_counter()
d = diff_record_file(rf, old, new)
print(json.dumps({"read_s": read_s, "compare_s": time.perf_counter() - t1,
    "added": d.added, "removed": d.removed, "changed": d.changed,
    "items": {c.item: c.changed for c in d.item_changes}}))
"""

FLOOR = """import json; print(json.dumps({"read_s": 0, "compare_s": 0, "added": 0,
    "removed": 0, "changed": 0, "items": {}}))"""

DATACOMPY = """
import json, sys, time
import polars as pl
import datacompy
t0 = time.perf_counter()
old, new = (pl.read_csv(p, infer_schema=False) for p in sys.argv[1:3])
t1 = time.perf_counter()
cmp = datacompy.PolarsCompare(old, new, join_columns=[sys.argv[3]])
changed = cmp.all_mismatch().height
print(json.dumps({"read_s": t1 - t0, "compare_s": time.perf_counter() - t1,
    "added": cmp.df2_unq_rows.height, "removed": cmp.df1_unq_rows.height, "changed": changed,
    "items": {c["column"]: c["unequal_cnt"] for c in cmp.column_stats if c["unequal_cnt"]},
    "datacompy": datacompy.__version__, "polars": pl.__version__}))
"""


def _pick(rng: np.random.Generator, pool: list[str], n: int) -> pl.Series:
    import polars as pl

    return pl.Series(pool).gather(rng.integers(0, len(pool), n))


def _digits(values: np.ndarray, width: int) -> pl.Expr:
    import polars as pl

    return pl.lit(pl.Series(values)).cast(pl.String).str.zfill(width)


def _dates(rng: np.random.Generator, n: int, start: str, span_days: int) -> pl.Expr:
    import polars as pl

    days = pl.duration(days=pl.lit(pl.Series(rng.integers(0, span_days, n))))
    return (pl.lit(start).str.to_date() + days).dt.strftime("%Y%m%d")


def persons(first_no: int, n: int, seed: int) -> pl.DataFrame:
    """n 住民 records in the juki/jumin layout, every item a String, built column-wise."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    no = np.arange(first_no, first_no + n, dtype=np.int64)
    cols: dict[str, pl.Expr] = {
        "宛名番号": _digits(200_000_000_000_000 + no * 10, 15),
        "世帯番号": _digits(300_000_000_000_000 + (no // 3) * 10, 15),
        "住民票コード": _digits(rng.integers(10**10, 10**11, n), 11),
        "個人番号": _digits(rng.integers(10**11, 10**12, n), 12),
        "氏名": pl.concat_str(
            pl.lit(_pick(rng, SURNAMES, n)), pl.lit("　"), pl.lit(_pick(rng, GIVEN, n))
        ),
        "氏名カナ": pl.concat_str(
            pl.lit(_pick(rng, KANA_S, n)), pl.lit(" "), pl.lit(_pick(rng, KANA_G, n))
        ),
        "生年月日": _dates(rng, n, "1930-01-01", 34_000),
        "性別": pl.lit(_pick(rng, ["1", "2"], n)),
        "続柄": pl.lit(_pick(rng, ["02", "11", "12", "20", "51"], n)),
        "住民種別": pl.lit(_pick(rng, ["1", "1", "1", "2"], n)),
        "住民状態": pl.lit(_pick(rng, ["1", "1", "1", "2", "3"], n)),
        "郵便番号": _digits(rng.integers(0, 10**7, n), 7),
        "住所": pl.concat_str(
            pl.lit(_pick(rng, TOWNS, n)),
            pl.lit(pl.Series(rng.integers(1, 9, n))).cast(pl.String),
            pl.lit("丁目"),
            pl.lit(pl.Series(rng.integers(1, 40, n))).cast(pl.String),
            pl.lit("番"),
            pl.lit(pl.Series(rng.integers(1, 30, n))).cast(pl.String),
            pl.lit("号"),
        ),
        "方書": pl.when(pl.lit(pl.Series(rng.random(n) < 0.1)))
        .then(pl.lit("コーポ模擬101"))
        .otherwise(None),
        "住定日": _dates(rng, n, "1960-01-01", 23_000),
        "異動事由": pl.lit(_pick(rng, ["001", "002", "011", "021"], n)),
        "異動日": _dates(rng, n, "1960-01-01", 23_000),
        "記載順位": pl.lit(pl.Series(rng.integers(1, 7, n))).cast(pl.String),
    }
    return pl.select([e.alias(name) for name, e in cols.items()])


def second_pass(
    old: pl.DataFrame, seed: int, changed: float
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Pass 2: drop 0.1%, change ``changed`` of the rest in a few items, append 0.1% new."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    n = old.height
    fate = rng.random(n)
    kind = rng.integers(0, 3, n)
    removed = fate < 0.001
    change = (fate >= 0.001) & (fate < 0.001 + changed)
    c = pl.lit(pl.Series(change))
    k = pl.lit(pl.Series(kind))
    new = old.with_columns(
        pl.when(c & (k == 0)).then(pl.col("氏名") + "子").otherwise(pl.col("氏名")).alias("氏名"),
        pl.when(c & (k == 1)).then(pl.col("住所") + "１").otherwise(pl.col("住所")).alias("住所"),
        pl.when(c & (k == 1))
        .then(pl.lit("9999999"))
        .otherwise(pl.col("郵便番号"))
        .alias("郵便番号"),
        pl.when(c & (k == 2)).then(pl.lit("031")).otherwise(pl.col("異動事由")).alias("異動事由"),
        pl.when(c & (k == 2)).then(pl.lit("20260401")).otherwise(pl.col("異動日")).alias("異動日"),
    ).filter(~pl.lit(pl.Series(removed)))
    added = max(1, n // 1000)
    new = pl.concat([new, persons(n + 1_000_000, added, seed + 1)])
    expected = {"added": added, "removed": int(removed.sum()), "changed": int(change.sum())}
    return new, expected


def generate(folder: Path, rows: int, seed: int, changed: float) -> dict[str, int]:
    facts = folder / "expected.json"
    if facts.exists():
        expected: dict[str, int] = json.loads(facts.read_text())
        return expected
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    old = persons(1, rows, seed)
    old.write_csv(folder / "old.csv")
    new, expected = second_pass(old, seed + 100, changed)
    del old
    new.write_csv(folder / "new.csv")
    facts.write_text(json.dumps(expected))
    print(f"generated 2 × {rows:,} records in {time.perf_counter() - t0:.1f}s", flush=True)
    return expected


def datacompy_python() -> Path:
    python = DC_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {DC_VENV} and installing datacompy …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(DC_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "datacompy"], check=True)
    return python


def generate_in_child(folder: Path, rows: int, seed: int, changed: float) -> dict[str, int]:
    """Generate in a child: Linux carries a parent's peak RSS into a child's ru_maxrss across
    fork + exec, so the measuring parent must stay small."""
    if not (folder / "expected.json").exists():
        code = (
            "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "from benchmarks.bench_diff import generate;"
            "generate(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))"
        )
        args = [str(ROOT), str(folder), str(rows), str(seed), str(changed)]
        subprocess.run([sys.executable, "-c", code, *args], check=True)
    return generate(folder, rows, seed, changed)


def timed(cmd: list[str], out: Path) -> dict[str, Any]:
    """Run a child: its JSON line, wall seconds and peak RSS (os.wait4)."""
    start = time.perf_counter()
    with out.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code != 0:
        sys.exit(f"{cmd[0]} failed ({code}):\n{err}")
    result: dict[str, Any] = json.loads(out.read_text().strip().splitlines()[-1])
    return result | {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--changed", type=float, default=0.01, help="share of records changed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the generated CSVs")
    args = ap.parse_args()

    folder = WORK / f"diff-{args.rows}"
    expected = generate_in_child(folder, args.rows, args.seed, args.changed)
    old, new = str(folder / "old.csv"), str(folder / "new.csv")
    mb = sum((folder / f).stat().st_size for f in ("old.csv", "new.csv")) / 1e6
    print(f"inputs: 2 CSVs, {mb:,.0f} MB, expected {expected}", flush=True)
    dc_python = datacompy_python()

    runs = {
        "python (floor)": [sys.executable, "-c", FLOOR],  # startup + the parent's own RSS
        # scripts go in with -c: a .py file under benchmarks/ would be type-checked by mypy
        "chukan (scan)": [sys.executable, "-c", CHUKAN, old, new, "scan"],
        "chukan (frames)": [sys.executable, "-c", CHUKAN, old, new, "frames"],
        "datacompy": [str(dc_python), "-c", DATACOMPY, old, new, KEY],
    }
    results = {name: timed(cmd, folder / "result.json") for name, cmd in runs.items()}
    floor = results.pop("python (floor)")
    print(f"an empty child process peaks at {floor['peak_rss_mib']:,.0f} MiB", flush=True)
    for name, r in results.items():
        counts = {k: r[k] for k in ("added", "removed", "changed")}
        ok = "ok" if counts == expected else f"MISMATCH (expected {expected})"
        print(
            f"{name:16} wall {r['wall_s']:6.1f}s (read {r['read_s']:5.1f}s, "
            f"compare {r['compare_s']:5.1f}s)  peak RSS {r['peak_rss_mib']:7,.0f} MiB  "
            f"{counts} {ok}"
        )
    if results["chukan (scan)"]["items"] != results["datacompy"]["items"]:
        print(
            f"per-item counts differ: {results['chukan (scan)']['items']} vs "
            f"{results['datacompy']['items']}"
        )
    dc = results["datacompy"]
    extra = {k: dc[k] for k in ("datacompy", "polars")}
    print(f"datacompy side: {extra}")
    for name in ("chukan (scan)", "chukan (frames)"):
        r = results[name]
        ratio = dc["wall_s"] / r["wall_s"]
        faster = r["wall_s"] < dc["wall_s"]
        small = r["peak_rss_mib"] * (1 << 20) < 4 * GIB
        verdict = "meets" if faster and small else "MISSES"
        print(
            f"{name}: {ratio:.1f}× datacompy's speed, peak RSS "
            f"{r['peak_rss_mib'] / 1024:.2f} GiB → target (faster, < 4 GiB): {verdict}"
        )
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
