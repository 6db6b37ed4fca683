"""Members given to etl.render.with_created as parts end to end: the archive holds exactly the
joined bytes, deflated exactly as the joined bytes given in one piece are, however they are cut
(small pieces here, so parts cross piece and history boundaries)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from itertools import pairwise
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rvgsrust_xlsxwriter import Workbook

from etl.render import with_created
from etl.render.workbook import workbook_created

CREATED = workbook_created("2026-04-01T09:00:00+09:00")
SHEET = "xl/worksheets/sheet1.xml"


def _workbook() -> bytes:
    wb = Workbook()
    wb.add_worksheet("一覧").write(0, 0, "見出し")
    return bytes(wb.save_to_buffer())


XLSX = _workbook()


def _compressed(xlsx: bytes, member: str) -> tuple[bytes, zipfile.ZipInfo]:
    archive = zipfile.ZipFile(io.BytesIO(xlsx))
    info = archive.getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", xlsx, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    return xlsx[start : start + info.compress_size], info


data = st.binary(max_size=3000) | st.lists(
    st.sampled_from([b"<row>", b"</row>", b"\x00", "住所".encode(), b"a" * 40]), max_size=300
).map(b"".join)


@settings(max_examples=80, deadline=None)
@given(data, st.lists(st.integers(0, 3000), max_size=6), st.sampled_from([16, 100, 1 << 20]))
def test_parts_are_deflated_as_their_joined_bytes(
    content: bytes, cuts: list[int], piece: int
) -> None:
    bounds = sorted({0, len(content), *(c for c in cuts if c <= len(content))})
    parts = [memoryview(content)[a:b] for a, b in pairwise(bounds)]
    with mock.patch("etl.render.workbook.PIECE", piece):
        whole = with_created(XLSX, CREATED, [(SHEET, (content,))])
        cut = with_created(XLSX, CREATED, [(SHEET, parts)])
    assert cut == whole
    raw, info = _compressed(cut, SHEET)
    assert zlib.decompress(raw, -15) == content  # the oracle: zlib itself
    assert (info.CRC, info.file_size) == (zlib.crc32(content), len(content))
    assert zipfile.ZipFile(io.BytesIO(cut)).read(SHEET) == content
    if piece == 1 << 20:  # one piece: what zlib gives for the whole member at level 1
        assert raw == _one_stream(content)


def _one_stream(content: bytes) -> bytes:
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    return comp.compress(content) + comp.flush()


def test_a_member_not_in_the_workbook_is_refused() -> None:
    with pytest.raises(ValueError, match="sheet9"):
        with_created(XLSX, CREATED, [("xl/worksheets/sheet9.xml", (b"x",))])
