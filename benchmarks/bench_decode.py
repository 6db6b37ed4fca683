"""Decoding on every core: process workers against a GIL-free vectorised decoder, same bytes.

The vendor-a JUMIN.DAT (fixed-width CP932, 300-byte records) of a generated dump, each variant in
its own process, every repeat listed:

  column-level, on each text column packed as decode_record_fields packs it (prepared before
  the clock):
    codec-1t / codec-2t    Python's cp932 codec + error handler, one thread / two threads
    vector-1t / vector-2t  etl.extract.vector_codec tables, one thread / two threads
  file-level, FixedWidthExtractor end to end (frames of every chunk, in file order):
    extract-codec          threads per field, Python's codec (the extract path, kept: it won)
    extract-vector         threads per field, the vectorised decoder
    workers-codec-2        2 spawn processes, each taking every 2nd chunk end to end and writing
                           its frames as Arrow IPC files; the parent maps them back in file order
                           (the time to get them back is measured and listed)
    workers-vector-2       the same with the vectorised decoder

Every variant prints a digest of what it decoded; they must agree. Machines are shared and
noisy: compare ratios against codec-1t / extract-codec of the same repeat, not absolute times.
Run it under the benchmarks' lock:

    flock /tmp/chukan-bench.lock python benchmarks/bench_decode.py [--persons 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from etl.extract import decode  # noqa: E402
from etl.extract.vector_codec import decode_to_utf8, tables  # noqa: E402

COLUMN_VARIANTS = ("codec-1t", "codec-2t", "vector-1t", "vector-2t")
FILE_VARIANTS = ("extract-codec", "extract-vector", "workers-codec-2", "workers-vector-2")
Utf8AndSpans = tuple[bytes, list[tuple[int, int]]]


def vector_utf8(data: bytes | memoryview, codec: str) -> Utf8AndSpans:
    utf8, bad = decode_to_utf8(np.frombuffer(data, dtype=np.uint8), codec)
    return utf8.tobytes(), [(b, b + 1) for b in bad.tolist()]


DECODERS: dict[str, Callable[[bytes | memoryview, str], Utf8AndSpans]] = {
    "codec": decode.decode_utf8,  # Python's codec: what the extract path uses
    "vector": vector_utf8,
}


def _jumin(dump: Path) -> tuple[Path, Any, Any]:
    from etl.extract import vendor_profile

    profile = vendor_profile("vendor-a")
    source = profile.file("jumin")
    return dump / source.path, source, profile


def _text_columns(dump: Path) -> list[bytes]:
    """Each JUMIN text field packed as decode_record_fields packs it (trimmed, then a LF)."""
    from etl.extract.profile import FieldType

    path, source, _ = _jumin(dump)
    length = source.options.record_length
    raw = path.read_bytes()
    n = len(raw) // length
    recs = np.frombuffer(raw, dtype=np.uint8, count=n * length).reshape(n, length)
    out = []
    for f in source.fields:
        if f.type is FieldType.TEXT:
            grid = decode._grid((decode.FieldBytes(f.offset, f.length),))
            packed, _ = decode._packed(decode._cells(recs, grid), grid)
            out.append(packed.tobytes())
    return out


def run_columns(variant: str, dump: Path) -> dict[str, Any]:
    columns = _text_columns(dump)
    name, threads = variant.split("-")
    decoder = DECODERS[name]
    tables("cp932")  # built once per process (~20 ms), outside the clock like the codec's import
    start = time.perf_counter()
    if threads == "1t":
        results = [decoder(c, "cp932") for c in columns]
    else:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(decoder, columns, ["cp932"] * len(columns)))
    seconds = time.perf_counter() - start
    digest = hashlib.sha256()
    for utf8, spans in results:
        digest.update(utf8)
        digest.update(repr(spans).encode())
    mb = sum(len(c) for c in columns) / 1e6
    return {"s": seconds, "mb_per_s": mb / seconds, "digest": digest.hexdigest()[:16]}


def _blocks(dump: Path, chunk_records: int) -> Iterator[Any]:
    from etl.extract.fixed_width.framing import read_blocks

    path, source, _ = _jumin(dump)
    yield from read_blocks(
        path, source.options.record_length, source.options.line_break, chunk_records
    )


def _extract_blocks(dump: Path, chunk_records: int, every: int, first: int) -> Iterator[Any]:
    """The records frame of every ``every``-th block from ``first`` (what a worker takes)."""
    from etl.extract.fixed_width.extractor import _extract_block
    from etl.extract.fixed_width.records import Totals, make_plan

    _, source, profile = _jumin(dump)
    plan = make_plan(source, source.options, profile, "cp932")
    for i, block in enumerate(_blocks(dump, chunk_records)):
        if i % every == first:
            yield i, _extract_block(block, plan, Totals(), block.last)[0]


def _ready(_: int) -> None:
    time.sleep(0.05)  # long enough that every worker takes one


def _worker(decoder: str, dump: str, chunk_records: int, every: int, first: int, out: str) -> int:
    decode.decode_utf8 = DECODERS[decoder]  # type: ignore[assignment]
    for i, frame in _extract_blocks(Path(dump), chunk_records, every, first):
        frame.write_ipc(Path(out) / f"{i:06d}.arrow")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_file(variant: str, dump: Path, chunk_records: int) -> dict[str, Any]:
    decoder = "vector" if "vector" in variant else "codec"
    decode.decode_utf8 = DECODERS[decoder]  # type: ignore[assignment]
    tables("cp932")
    row: dict[str, Any] = {}
    start = time.perf_counter()
    if variant.startswith("extract"):
        frame = pl.concat([f for _, f in _extract_blocks(dump, chunk_records, 1, 0)])
    else:
        workers = int(variant.rsplit("-", 1)[1])
        with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks" / "work") as tmp:
            ctx = multiprocessing.get_context("spawn")  # polars' threads deadlock forked children
            with ctx.Pool(workers) as pool:
                # the pool is up: interpreters spawned, this module and etl imported
                pool.map(_ready, range(workers))
                row["spawn_s"] = round(time.perf_counter() - start, 3)
                jobs = [
                    pool.apply_async(_worker, (decoder, str(dump), chunk_records, workers, w, tmp))
                    for w in range(workers)
                ]
                row["worker_rss_mib"] = [round(j.get() / 1024) for j in jobs]
            back = time.perf_counter()
            parts = sorted(Path(tmp).glob("*.arrow"))
            frame = pl.concat([pl.read_ipc(p) for p in parts])
            row["read_back_s"] = round(time.perf_counter() - back, 3)
    seconds = time.perf_counter() - start
    digest = hashlib.sha256(frame.write_csv().encode()).hexdigest()[:16]
    rps = frame.height / seconds
    return row | {"s": seconds, "records": frame.height, "rec_per_s": rps, "digest": digest}


def child(variant: str, dump: Path, chunk_records: int) -> None:
    if variant in COLUMN_VARIANTS:
        row = run_columns(variant, dump)
    else:
        row = run_file(variant, dump, chunk_records)
    row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk-records", type=int, default=50_000)
    ap.add_argument("--only", nargs="*", help="variants to run (default: all)")
    ap.add_argument("--variant", help=argparse.SUPPRESS)  # a child process: one variant
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        child(args.variant, args.dump, args.chunk_records)
        return

    from benchmarks.workdata import vendor_a_dump

    dump = vendor_a_dump(args.persons)
    print(f"dump: {dump} ({(dump / 'JUMIN.DAT').stat().st_size / 1e6:.0f} MB JUMIN.DAT)")
    print(f"load: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    results: dict[str, list[dict[str, Any]]] = {}
    chosen = [v for v in COLUMN_VARIANTS + FILE_VARIANTS if not args.only or v in args.only]
    for repeat in range(1, args.repeat + 1):
        for variant in chosen:
            cmd = [sys.executable, __file__, "--variant", variant, "--dump", str(dump)]
            cmd += ["--chunk-records", str(args.chunk_records)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.splitlines()[-1])
            results.setdefault(variant, []).append(row)
            print(json.dumps({"repeat": repeat, "variant": variant} | row), flush=True)
    print(f"load: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    for all_of, base in ((COLUMN_VARIANTS, "codec-1t"), (FILE_VARIANTS, "extract-codec")):
        group = [v for v in all_of if v in results]
        if base not in results:
            continue
        digests = {r["digest"] for v in group for r in results[v]}
        if len(digests) != 1:
            sys.exit(f"variants disagree: {digests}")
        for variant in group:
            ratios = [b["s"] / r["s"] for b, r in zip(results[base], results[variant], strict=True)]
            shown = ", ".join(f"{x:.2f}" for x in ratios)
            print(f"{variant:18} speed vs {base}: {shown} (per repeat)")


if __name__ == "__main__":
    main()
