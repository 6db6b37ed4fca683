"""Streaming XML: peak memory and time of the xml extractor on a file of N records.

The file is generated at benchmark time (benchmarks/work/xml-<N>/, reused): vendor XML's
nenkin.xml shape (fixtures/_vendor_xml.py), Shift_JIS declared, N nk:Hihokensha persons with
one nk:Shikaku period each, so N child records of 9 fields (one of them ../@atena) — about
420 bytes per record. Contenders, each in its own child process, in this order per repeat:

  raw       lxml iterparse of the record elements doing nothing but clearing them and deleting
            the elements before them (libxml2 decodes Shift_JIS itself): the floor
  xpath     the same loop reading the 9 fields with lxml XPath expressions compiled once
            (string(...)): the alternative to chukan's subset
  extract   XmlExtractor over the shikaku source of mappings/vendor-xml (decoding with
            Python's codec, the subset reader, Arrow chunks of 200k records, dropped)
  run       `chukan run --vendor vendor-xml --gyomu kokunen` (both sources of nenkin.xml, the
            mapping, checks, reports; --no-run to skip)

Reported per repeat: wall seconds, the ratio raw / contender (1.0 = as fast as the floor) and
the peak RSS in MB (10^6 bytes: the child's ru_maxrss from wait4; the JSON also has the
child's own VmHWM). Acceptance (issue 14): extract's peak RSS ≤ 500 MB at 1M records. The
machine is shared and noisy: run under the benchmarks' lock and quote every repeat and
`uptime`:

    flock /tmp/chukan-bench.lock .venv/bin/python benchmarks/bench_xml.py --records 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORK = Path(__file__).resolve().parent / "work"
CONTENDERS = ("raw", "xpath", "extract", "run")
LIMIT_MB = 500
NK = "urn:example:vendor-x:nenkin:1"
FIELDS = (  # the shikaku source of mappings/vendor-xml, as XPath 1.0
    "string(../@atena)",
    "string(@shubetsu)",
    "string(nk:Shutoku/@date)",
    "string(nk:Shutoku/@riyu)",
    "string(nk:Soshitsu/@date)",
    "string(nk:Soshitsu/@riyu)",
    "string(nk:Fuka)",
    "string(nk:Menjo)",
    "string(nk:Hokenryo)",
)


def generate(folder: Path, records: int) -> None:
    """nenkin.xml with ``records`` persons (one period each) and a small inkan.xml."""
    folder.mkdir(parents=True, exist_ok=True)
    menjo = ["なし", "全額免除", "半額免除", "学生納付特例"]
    riyu = ["20歳到達", "転入", "2号喪失"]
    with (folder / "nenkin.xml.part").open("wb") as f:
        f.write(
            b'<?xml version="1.0" encoding="Shift_JIS"?>\n<nk:NenkinExport xmlns:nk="'
            + NK.encode()
            + b'" xmlns:p="urn:example:vendor-x:person:1">\n'
        )
        step = 10_000
        for lo in range(0, records, step):
            parts = []
            for i in range(lo, min(lo + step, records)):  # generator only: not chukan's code
                year = 1990 + i % 30
                ended = i % 3 == 0
                soshitsu = (
                    f'<nk:Soshitsu date="{year + 5}/03/31" riyu="転出"/>'
                    if ended
                    else "<nk:Soshitsu/>"
                )
                parts.append(
                    f'  <nk:Hihokensha atena="{i + 1:015d}">\n'
                    f"    <p:KisoNo>{1000 + i % 9000:04d}-{i % 1_000_000:06d}</p:KisoNo>\n"
                    f'    <nk:Shikaku shubetsu="1号">\n'
                    f'      <nk:Shutoku date="{year}/04/01" riyu="{riyu[i % 3]}"/>\n'
                    f"      {soshitsu}\n"
                    f"      <nk:Fuka>{'有' if i % 10 == 0 else '無'}</nk:Fuka>\n"
                    f"      <nk:Menjo>{menjo[i % 4]}</nk:Menjo>\n"
                    f"      <nk:Hokenryo>{203760 - (i % 4) * 50940}</nk:Hokenryo>\n"
                    "    </nk:Shikaku>\n"
                    "  </nk:Hihokensha>\n"
                )
            f.write("".join(parts).encode("cp932"))
        f.write(b"</nk:NenkinExport>\n")
    (folder / "inkan.xml").write_bytes(
        b'<?xml version="1.0" encoding="Shift_JIS"?>\n'
        b'<InkanExport xmlns="urn:example:vendor-x:inkan:1"/>\n'
    )
    (folder / "nenkin.xml.part").rename(folder / "nenkin.xml")


def _peak() -> dict[str, int]:
    import resource

    status = Path("/proc/self/status").read_text()
    hwm = next((int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line), 0)
    return {"vm_hwm_kib": hwm, "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child(contender: str, folder: Path) -> dict[str, Any]:
    """One measurement, in this (child) process: what it read."""
    from lxml import etree

    path = folder / "nenkin.xml"
    tag = f"{{{NK}}}Shikaku"
    options = {"resolve_entities": False, "no_network": True, "load_dtd": False}
    records = 0
    if contender == "raw":
        for _, el in etree.iterparse(str(path), events=("end",), tag=tag, **options):
            records += 1
            el.clear()
            parent = el.getparent().getparent()
            while el.getparent().getprevious() is not None:
                del parent[0]
    elif contender == "xpath":
        compiled = [etree.XPath(x, namespaces={"nk": NK}) for x in FIELDS]
        columns: list[list[str]] = [[] for _ in FIELDS]
        for _, el in etree.iterparse(str(path), events=("end",), tag=tag, **options):
            records += 1
            for column, xpath in zip(columns, compiled, strict=True):
                column.append(xpath(el))
            el.clear()
            parent = el.getparent().getparent()
            while el.getparent().getprevious() is not None:
                del parent[0]
            if len(columns[0]) >= 200_000:
                columns = [[] for _ in FIELDS]
    elif contender == "extract":
        from etl.extract import get_extractor, vendor_profile

        profile = vendor_profile("vendor-xml")
        source = profile.file("shikaku")
        for chunk in get_extractor("xml").extract(path, source, profile):
            records += chunk.records.height
    return {"contender": contender, "records": records, **_peak()}


def measure(contender: str, folder: Path, out: Path) -> dict[str, Any]:
    """Run one contender in a child process: wall seconds, peak RSS (wait4) and its report."""
    if contender == "run":
        cmd = [str(Path(sys.executable).parent / "chukan"), "run", "--vendor", "vendor-xml"]
        cmd += ["--dump", str(folder), "--out", str(out), "--gyomu", "kokunen", "--replace"]
    else:
        cmd = [sys.executable, __file__, "--child", contender, "--folder", str(folder)]
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stdout, stderr = logs / f"bench_xml-{contender}.out", logs / f"bench_xml-{contender}.err"
    start = time.perf_counter()
    with stdout.open("wb") as o, stderr.open("wb") as e:
        proc = subprocess.Popen(cmd, stdout=o, stderr=e, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # chukan run: 1 = blocking findings
        raise SystemExit(f"{contender} failed ({code}): {stderr.read_text()[-2000:]}")
    report: dict[str, Any] = {"contender": contender}
    if contender != "run":
        report = json.loads(stdout.read_text().strip().splitlines()[-1])
    else:
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        report["records"] = sum(s["records_in"] for s in manifest["sources"])
    report["wall_s"] = round(wall, 2)
    report["peak_rss_kib"] = int(usage.ru_maxrss)
    return report


def _mb(kib: int) -> float:
    return kib * 1024 / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-run", action="store_true", help="skip the chukan run contender")
    parser.add_argument("--child", choices=CONTENDERS[:3], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder)))
        return 0
    folder = WORK / f"xml-{args.records}"
    if not (folder / "nenkin.xml").is_file():
        t0 = time.perf_counter()
        generate(folder, args.records)
        print(f"generated {folder} in {time.perf_counter() - t0:.1f}s", flush=True)
    size = (folder / "nenkin.xml").stat().st_size
    print(f"nenkin.xml: {args.records} records, {size / 1e6:.0f} MB; load {os.getloadavg()}")
    contenders = [c for c in CONTENDERS if not (c == "run" and args.no_run)]
    rows = []
    for r in range(args.repeat):
        base = None
        for c in contenders:
            row = measure(c, folder, WORK / f"xml-run-{args.records}")
            base = row["wall_s"] if c == "raw" else base
            row["repeat"] = r + 1
            row["raw_vs"] = round(base / row["wall_s"], 2) if base else None
            rows.append(row)
            print(
                f"repeat {r + 1} {c:8s} {row['records']:>9} records {row['wall_s']:7.2f}s "
                f"raw/this {row['raw_vs']:.2f}  peak RSS {_mb(row['peak_rss_kib']):.0f} MB",
                flush=True,
            )
    worst = max(_mb(r["peak_rss_kib"]) for r in rows if r["contender"] == "extract")
    verdict = "ok" if worst <= LIMIT_MB else "OVER"
    print(f"extract peak RSS (worst repeat) {worst:.0f} MB, limit {LIMIT_MB} MB: {verdict}")
    (WORK / f"bench_xml-{args.records}.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
