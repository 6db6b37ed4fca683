"""What every workbook staff open has in common (run report, diff report, data dictionary):
options that keep data as data, the header style, Excel's limits, a reproducible date.

Beside the HTML environment because a workbook is the other rendering of the same pages.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from bisect import bisect_right
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from rvgsrust_xlsxwriter import Format, Workbook, Worksheet

from etl.deflate import PIECE, WINDOW, deflate_piece

MAX_CELL = 32_767  # Excel's limit on characters in one cell
EXCEL_ROWS = 1_048_576  # rows of a worksheet, the header included
# Values are data: never let a leading "=" or "http" turn into a formula or a link.
DATA_ONLY = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
HEADER_FORMAT = {"bold": True, "bg_color": "#DCE6F1", "border": 1}  # xlsxwriter's form


def header_format(wb: Workbook) -> Format:
    """HEADER_FORMAT for the reports written through rust_xlsxwriter (report.xlsx, diff.xlsx)."""
    return wb.add_format().set_bold().set_background_color("#DCE6F1").set_border("thin")


A4 = 9  # Excel's paper size code


def print_ready(ws: Worksheet, footer: str, header_row: int | None = 0) -> Worksheet:
    """What staff get when they print a sheet: landscape A4, one page wide (as many pages long
    as it takes, so a summary never splits into a page of labels and a page of values), the
    header row on every page, and a footer with ``footer`` (the report and its run id) and the
    page number."""
    ws.set_landscape()
    ws.set_paper_size(A4)
    ws.set_print_fit_to_pages(1, 0)
    if header_row is not None:
        ws.set_repeat_rows(header_row, header_row)
    ws.set_footer(f"&L{footer.replace('&', '&&')}&R&P / &N")
    return ws


def workbook_created(timestamp: str) -> datetime:
    """A run's own ISO timestamp as the workbook's creation date (naive UTC, what xlsxwriter
    takes), so the same run always gives the same bytes; 2000-01-01 when it is not one."""
    try:
        ts = datetime.fromisoformat(timestamp)
    except ValueError:
        ts = datetime(2000, 1, 1, tzinfo=UTC)
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


# The parts of a ZIP archive (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16), without data descriptors.
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_CORE = "docProps/core.xml"
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*")
# Members given to with_created are deflated in pieces on threads (etl.deflate: the bytes
# depend on the data only, never on the threads). Level 1: these are the long lists, megabytes
# of repetitive XML (150k findings' 不備一覧, 51 MB: 0.18 s CPU for 7.4 MB at level 1, 0.59 s
# for 5.9 MB at rust_xlsxwriter's level 6).
LIST_LEVEL = 1


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    return h << 11 | mi << 5 | s // 2, (y - 1980) << 9 | mo << 5 | d


Buffer = bytes | memoryview
# A member's uncompressed bytes as buffers end to end (a long list's sheet: the writer's head,
# its rows built by polars slice after slice, the writer's tail), deflated as they come: never
# joined into one, the first pieces deflating while the later rows are still being built.
Parts = Iterable[Buffer]


class _EndToEnd:
    """Buffers read as one by byte range (only a range across two of them is copied); appended
    to, never changed, so a job reads the bytes given before it was submitted while more come."""

    def __init__(self) -> None:
        self.parts: list[memoryview] = []
        self.ends: list[int] = []
        self.size = 0

    def append(self, part: Buffer) -> None:
        if len(part):
            self.parts.append(memoryview(part).cast("B"))
            self.size += len(self.parts[-1])
            self.ends.append(self.size)

    def range(self, start: int, end: int) -> Buffer:
        taken: list[memoryview] = []
        at = bisect_right(self.ends, start)
        while start < end:
            part, part_start = self.parts[at], self.ends[at] - len(self.parts[at])
            taken.append(part[start - part_start : min(end, self.ends[at]) - part_start])
            start += len(taken[-1])
            at += 1
        return taken[0] if len(taken) == 1 else b"".join(taken)

    def crc32(self) -> int:
        crc = 0
        for part in self.parts:
            crc = zlib.crc32(part, crc)
        return crc


def _piece(data: _EndToEnd, start: int, end: int, level: int, last: bool) -> bytes:
    history = bytes(data.range(max(0, start - WINDOW), start))
    return deflate_piece(data.range(start, end), history, level, last=last)


class _Deflation:
    """One member as one raw deflate stream and its CRC-32, every piece a job of ``pool``
    submitted as soon as the bytes after it show it is not the last (the pieces, and so the
    bytes, are those of the joined member: etl.deflate)."""

    def __init__(self, pool: ThreadPoolExecutor, parts: Parts, level: int) -> None:
        self.data = _EndToEnd()
        self.pieces: list[Future[bytes]] = []
        start = 0
        for part in parts:
            self.data.append(part)
            while self.data.size > start + PIECE:
                self.pieces.append(
                    pool.submit(_piece, self.data, start, start + PIECE, level, False)
                )
                start += PIECE
        self.pieces.append(pool.submit(_piece, self.data, start, self.data.size, level, True))
        self.crc = pool.submit(self.data.crc32)

    def result(self) -> tuple[bytes, int, int]:
        """The raw deflate stream, its CRC-32 and the uncompressed size."""
        return b"".join(p.result() for p in self.pieces), self.crc.result(), self.data.size


def with_created(
    xlsx: bytes, created: datetime, replaced: Iterable[tuple[str, Parts]] = ()
) -> bytes:
    """The workbook with ``created`` as its creation and modification date.

    rust_xlsxwriter's Python binding stamps docProps/core.xml with the time of writing and has
    no option for it; a run's report must be the same bytes whenever it is rendered. So the
    archive is rebuilt around a new core.xml: every other member is copied still compressed
    (no second deflate), in order, with the same names and DOS times.

    ``replaced`` (member, its uncompressed bytes as parts): members written apart from the
    writer (the long lists, etl.render.list_sheets) put in place of the writer's. Each is
    deflated on threads as soon as it is given, while the next is still being built (the
    same parts object given twice is deflated once).
    """
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    infos = source.infolist()
    names = {info.filename for info in infos}
    core = _CORE_DATES.sub(lambda m: m.group(1) + stamp, source.read(_CORE))
    with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="deflate") as pool:
        deflations = {_CORE: _Deflation(pool, (core,), 6)}
        by_parts: dict[int, tuple[Parts, _Deflation]] = {}  # parts held: their id is the key
        for member, parts in replaced:
            if member not in names:
                raise ValueError(f"member not in the workbook: {member}")
            if id(parts) not in by_parts:
                by_parts[id(parts)] = parts, _Deflation(pool, parts, LIST_LEVEL)
            deflations[member] = by_parts[id(parts)][1]
        deflated = {member: d.result() for member, d in deflations.items()}
    out = io.BytesIO()
    central = []
    for info in infos:
        name = info.filename.encode()
        if info.filename in deflated:
            raw, crc, size = deflated[info.filename]
            method = zipfile.ZIP_DEFLATED
        else:
            name_len, extra_len = struct.unpack_from("<HH", xlsx, info.header_offset + 26)
            start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
            raw = xlsx[start : start + info.compress_size]
            crc, size, method = info.CRC, info.file_size, info.compress_type
        flags = info.flag_bits & 0x0800  # keep only "names are UTF-8"; sizes are in the header
        time, date = _dos_time(info.date_time)
        offset = out.tell()
        out.write(_LOCAL_HEADER.pack(0x04034B50, 20, flags, method, time, date, crc, len(raw),
                                     size, len(name), 0))  # fmt: skip
        out.write(name)
        out.write(raw)
        central.append(
            _CENTRAL_HEADER.pack(0x02014B50, 20, 20, flags, method, time, date, crc, len(raw),
                                 size, len(name), 0, 0, 0, 0, 0, offset) + name
        )  # fmt: skip
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    n = len(central)
    out.write(_END_RECORD.pack(0x06054B50, 0, 0, n, n, len(directory), start, 0))
    return out.getvalue()
