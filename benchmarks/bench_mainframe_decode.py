"""The mainframe charset decoder alone against the reference codecs, on the same bytes.

Four columns of N fixed-width fields (default 1M each), generated once under benchmarks/work/
by encoders that share nothing with the decoder (EUC-JP bytes and cp037 for JEF; glibc iconv
for IBM 930):

    jef-mixed     40 bytes: KI 0x28, 4–12 kanji, KO 0x29, 6 letters/digits, 0x40 padding
    jef-dbcs      PIC N(10), 20 bytes: 2–10 kanji, 0xA1A1 padding (valid EUC-JP as it is)
    ibm930-mixed  40 bytes: kanji between SO/SI, katakana and digits, 0x40 padding
    ibm930-dbcs   PIC N(10), 20 bytes: kanji, 0x4040 padding

Contenders, each in its own child process (data loaded before the clock, decode only):

    chukan-1t     Charset.decode on one thread
    chukan-2t     Charset.decode on two threads (numpy releases the GIL)
    chukan-2p     two spawn processes, each decoding half and writing its columns as Arrow
                  IPC; the parent maps them back (that time included)
    python        (JEF) Python's codecs per field: split at the shifts, euc_jp for the kanji
                  (JEF = JIS + 0x8080 = EUC-JP), cp037 for the rest, rstrip: what one writes
                  without chukan
    iconv         glibc iconv (IBM930; EUC-JP for jef-dbcs) over the whole column as one stream
                  (a C converter with no per-field work at all: a lower bound for any codec)

chukan and python variants print a digest of the texts; they must agree. Ratios are against
``python`` (JEF) or ``iconv`` of the same repeat. The machine is shared and noisy: quote every
repeat and the load. Run under the benchmarks' lock:

    flock /tmp/chukan-bench.lock python benchmarks/bench_mainframe_decode.py [--fields 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.ipc as ipc  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from etl.extract.charsets import CharsetSpec, TextMode, load_charset  # noqa: E402

WORK = Path(__file__).resolve().parent / "work"
CASES = {  # name: (charset spec, mode, width)
    "jef-mixed": (CharsetSpec("jef", sbcs="ebcdic"), TextMode.MIXED, 40),
    "jef-dbcs": (CharsetSpec("jef", sbcs="ebcdic"), TextMode.DBCS, 20),
    "ibm930-mixed": (CharsetSpec("ibm930"), TextMode.MIXED, 40),
    "ibm930-dbcs": (CharsetSpec("ibm930"), TextMode.DBCS, 20),
}
VARIANTS = ("chukan-1t", "chukan-2t", "chukan-2p", "python", "iconv")
KANJI = "山田川本中村小林佐藤鈴木高橋渡辺伊東京都大阪府北海道千代田区港新宿一二三四五六七八九十"
KATAKANA = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉ"
LATIN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _iconv(data: bytes, source: str, target: str) -> bytes:
    done = subprocess.run(["iconv", "-f", source, "-t", target], input=data, capture_output=True)
    if done.returncode:
        raise SystemExit(f"iconv {source} → {target} failed: {done.stderr.decode()[:200]}")
    return done.stdout


def _generate(case: str, n: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    _, mode, width = CASES[case]
    out = np.full((n, width), 0x40, dtype=np.uint8)
    euc = np.frombuffer(KANJI.encode("euc_jp"), dtype=np.uint8).reshape(-1, 2)
    if case.startswith("jef"):
        count = rng.integers(
            4 if mode is TextMode.MIXED else 2, 13 if mode is TextMode.MIXED else 11, n
        )
        pairs = euc[rng.integers(0, len(euc), (n, 12))].reshape(n, 24)
        kanji_bytes = np.arange(24)[None, :] < 2 * count[:, None]
        if mode is TextMode.DBCS:
            out[:] = 0xA1  # the JIS space, padding
            out[:, :20] = np.where(kanji_bytes[:, :20], pairs[:, :20], 0xA1)
            return out
        latin = np.frombuffer(bytes(LATIN).decode("ascii").encode("cp037"), dtype=np.uint8)
        rows = np.arange(n)
        out[:, 0] = 0x28
        out[:, 1:25] = np.where(kanji_bytes, pairs, 0)
        ko = 1 + 2 * count
        out[rows, ko] = 0x29
        tail = latin[rng.integers(0, len(latin), (n, 6))]
        for j in range(6):
            out[rows, ko + 1 + j] = tail[:, j]
        after = np.arange(width)[None, :] > (ko + 6)[:, None]
        out[after] = 0x40
        return out
    # IBM 930: text encoded by glibc iconv, one field per line (LF 0x25 separates them)
    chars = np.array(list(KANJI))
    kana = np.array(list(KATAKANA))
    lines = []
    for i in range(n):  # generation, not measured
        k = "".join(chars[rng.integers(0, len(chars), int(rng.integers(2, 10)))])
        if mode is TextMode.DBCS:
            lines.append(k)
        else:
            kk = "".join(kana[rng.integers(0, len(kana), 4)])
            lines.append(f"{k[:8]}{kk}{i % 10000:04d}")
    encoded = _iconv("\n".join(lines).encode("utf-8"), "UTF-8", "IBM930").split(b"\x25")
    for i, field in enumerate(encoded):
        if mode is TextMode.DBCS:
            field = field.strip(b"\x0e\x0f")[:width]
            out[i, :] = 0x40
            out[i, : len(field)] = np.frombuffer(field, dtype=np.uint8)
        else:
            out[i, : len(field)] = np.frombuffer(field[:width], dtype=np.uint8)
    return out


def data_file(case: str, n: int) -> Path:
    path = WORK / f"mainframe-decode-{n}" / f"{case}.bin"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        grid = _generate(case, n, np.random.default_rng(7))
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(grid.tobytes())
        tmp.replace(path)
    return path


def _load(case: str, path: Path) -> NDArray[np.uint8]:
    width = CASES[case][2]
    return np.fromfile(path, dtype=np.uint8).reshape(-1, width)


def _digest(texts: list[str | None]) -> str:
    return hashlib.sha256("\n".join(t or "" for t in texts).encode()).hexdigest()[:16]


def _decode_half(case: str, path: str, first: int, last: int, out: str) -> float:
    spec, mode, _ = CASES[case]
    grid = _load(case, Path(path))[first:last]
    charset = load_charset(spec)
    started = time.perf_counter()
    decoded = charset.decode(grid, mode, threads=1)
    table = pa.table({"text": decoded.text.to_arrow(), "error": decoded.error_offset.to_arrow()})
    with ipc.new_file(out, table.schema) as writer:
        writer.write_table(table)
    return time.perf_counter() - started


_SHIFTS = re.compile(rb"\x28([^\x29]*)\x29")


def _python_jef(fields: list[bytes], mode: TextMode) -> list[str]:
    if mode is TextMode.DBCS:
        return [f.decode("euc_jp").rstrip(" \u3000") for f in fields]
    out = []
    for f in fields:
        parts = _SHIFTS.split(f)  # even: single-byte text, odd: kanji
        text = "".join(
            p.decode("euc_jp") if i % 2 else p.decode("cp037") for i, p in enumerate(parts)
        )
        out.append(text.rstrip(" \u3000"))
    return out


def child(variant: str, case: str, path: Path) -> dict[str, Any]:
    spec, mode, width = CASES[case]
    grid = _load(case, path)
    n = grid.shape[0]
    row: dict[str, Any] = {"fields": n, "mb": grid.size / 1e6}
    if variant in ("chukan-1t", "chukan-2t"):
        charset = load_charset(spec)
        charset.decode(grid[:100], mode)  # tables built before the clock
        started = time.perf_counter()
        decoded = charset.decode(grid, mode, threads=1 if variant == "chukan-1t" else 2)
        row["s"] = time.perf_counter() - started
        row["errors"] = n - decoded.error_offset.null_count()
        row["digest"] = _digest(decoded.text.to_list())
    elif variant == "chukan-2p":
        ctx = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory() as tmp, ctx.Pool(2) as pool:
            pool.apply(load_charset, (spec,))  # a warm-up task in a worker: the spawn itself
            half = n // 2
            outs = [f"{tmp}/a.arrow", f"{tmp}/b.arrow"]
            started = time.perf_counter()
            jobs = [
                pool.apply_async(_decode_half, (case, str(path), lo, hi, out))
                for lo, hi, out in ((0, half, outs[0]), (half, n, outs[1]))
            ]
            inner = [j.get() for j in jobs]
            tables = [ipc.open_file(pa.memory_map(o)).read_all() for o in outs]
            texts = [t.column("text").to_pylist() for t in tables]
            row["s"] = time.perf_counter() - started
            row["worker_s"] = inner
            row["digest"] = _digest(texts[0] + texts[1])
    elif variant == "python":
        fields = [bytes(r) for r in grid]  # sliced before the clock
        started = time.perf_counter()
        texts = _python_jef(fields, mode)
        row["s"] = time.perf_counter() - started
        row["digest"] = _digest(list(texts))
    else:  # iconv over the whole column
        source = "IBM930" if case.startswith("ibm930") else "EUC-JP"
        raw = grid.tobytes()
        if case == "ibm930-dbcs":  # iconv has no pure-DBCS mode: one SO/SI around each field
            wrapped = np.empty((n, width + 2), dtype=np.uint8)
            wrapped[:, 0], wrapped[:, -1], wrapped[:, 1:-1] = 0x0E, 0x0F, grid
            raw = wrapped.tobytes()
        started = time.perf_counter()
        _iconv(raw, source, "UTF-8")
        row["s"] = time.perf_counter() - started
    row["mb_per_s"] = row["mb"] / row["s"]
    row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return row


def applies(variant: str, case: str) -> bool:
    if variant == "python":
        return case.startswith("jef")
    if variant == "iconv":
        return case != "jef-mixed"
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--fields", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--only", nargs="*", help="variants to run (default: all)")
    ap.add_argument("--variant", help=argparse.SUPPRESS)  # a child process: one variant
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps(child(args.variant, args.case, args.path)))
        return

    def uptime() -> str:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    print(f"load: {uptime()}")
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for case in args.cases:
        path = data_file(case, args.fields)
        for repeat in range(1, args.repeat + 1):
            for variant in VARIANTS:
                if (args.only and variant not in args.only) or not applies(variant, case):
                    continue
                cmd = [sys.executable, __file__, "--variant", variant, "--case", case]
                cmd += ["--path", str(path)]
                done = subprocess.run(cmd, capture_output=True, text=True, check=True)
                row = json.loads(done.stdout.splitlines()[-1])
                results.setdefault((case, variant), []).append(row)
                shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                print(json.dumps({"case": case, "repeat": repeat, "variant": variant} | shown))
    print(f"load: {uptime()}")
    print("\nratio = reference seconds / contender seconds, per repeat (>1: faster)")
    for case in args.cases:
        base = "python" if (case, "python") in results else "iconv"
        digests = {
            str(r["digest"]) for (c, _), rows in results.items() if c == case for r in rows
            if "digest" in r
        }  # fmt: skip
        agree = "agree" if len(digests) <= 1 else f"DIFFER: {sorted(digests)}"
        print(f"{case} (texts {agree}; reference {base}):")
        for (c, variant), rows in results.items():
            if c != case:
                continue
            ratios = [
                f"{b['s'] / r['s']:.2f}"
                for r, b in zip(rows, results.get((case, base), []), strict=False)
            ]
            seconds = ", ".join(f"{r['s']:.3f}" for r in rows)
            print(f"  {variant:10} s: {seconds}   ratio: {', '.join(ratios)}")


if __name__ == "__main__":
    main()
