"""What every workbook staff open has in common (run report, diff report, data dictionary):
options that keep data as data, the header style, Excel's limits, a reproducible date.

Beside the HTML environment because a workbook is the other rendering of the same pages.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime

from rvgsrust_xlsxwriter import Format, Workbook, Worksheet

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
_STRINGS = "xl/sharedStrings.xml"
_STRING_COUNT = re.compile(rb'\bcount="(\d+)"')


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    return h << 11 | mi << 5 | s // 2, (y - 1980) << 9 | mo << 5 | d


def _rewritten(member: str, data: bytes, stamp: bytes, string_refs: int) -> tuple[bytes, int]:
    """A member rebuilt by ``with_created`` and its deflate level: core.xml with the run's
    date; sharedStrings.xml with ``string_refs`` more cells in its count (megabytes on a
    findings-heavy run, rebuilt for one number: deflated fast)."""
    if member == _CORE:
        return _CORE_DATES.sub(lambda m: m.group(1) + stamp, data), 6
    counted = _STRING_COUNT.sub(lambda m: b'count="%d"' % (int(m[1]) + string_refs), data, 1)
    return counted, 1


def with_created(
    xlsx: bytes,
    created: datetime,
    twins: Mapping[str, str] | None = None,
    twin_string_refs: int = 0,
) -> bytes:
    """The workbook with ``created`` as its creation and modification date.

    rust_xlsxwriter's Python binding stamps docProps/core.xml with the time of writing and has
    no option for it; a run's report must be the same bytes whenever it is rendered. So the
    archive is rebuilt around a new core.xml: every other member is copied still compressed
    (no second deflate of the large sheets), in order, with the same names and DOS times.

    ``twins`` (member → member): a sheet that would hold exactly the rows of another, written
    with its header only, takes that other's compressed bytes here, so a long list is deflated
    once (deflate is most of a findings-heavy workbook's cost). ``twin_string_refs``: the
    shared-string cells the twins' rows would have held, added to sharedStrings.xml's count so
    every member reads as if each sheet had been written in full.
    """
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    infos = {info.filename: info for info in source.infolist()}
    twins = dict(twins or {})
    if not set(twins) | set(twins.values()) <= set(infos):
        raise ValueError(f"twin sheets not in the workbook: {twins}")
    out = io.BytesIO()
    central = []
    for info in source.infolist():
        name = info.filename.encode()
        if info.filename == _CORE or (info.filename == _STRINGS and twin_string_refs):
            data, level = _rewritten(info.filename, source.read(info), stamp, twin_string_refs)
            packer = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate, as in a ZIP
            raw = packer.compress(data) + packer.flush()
            crc, size, method = zlib.crc32(data), len(data), zipfile.ZIP_DEFLATED
        else:
            copied = infos[twins.get(info.filename, info.filename)]
            name_len, extra_len = struct.unpack_from("<HH", xlsx, copied.header_offset + 26)
            start = copied.header_offset + _LOCAL_HEADER.size + name_len + extra_len
            raw = xlsx[start : start + copied.compress_size]
            crc, size, method = copied.CRC, copied.file_size, copied.compress_type
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
