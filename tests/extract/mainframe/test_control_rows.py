"""The mainframe extractor's control-row hint (from the charset's lookup tables): screening
only the rows it names finds what a full scan of every text column finds, on random JEF
records full of the EBCDIC bytes that decode to control characters, with OCCURS as indexed
columns and as child records, rejected records among them, at several chunk sizes."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from etl.extract import get_extractor, load_profile
from etl.extract.base import ExtractChunk
from etl.pipeline.sources import ScreenedChunk, SourceReading, screen_chunk, source_reading
from tests.extract.mainframe.test_extractor import KI, KO, PROFILE, dump, packed, rdw, zoned

# EBCDIC bytes that decode to C0/C1 controls (0x05 HT, 0x15 NEL U+0085, 0x25 LF, 0x27 ESC,
# 0x07 DEL, 0x00 NUL, 0x3F SUB), letters, digits, spaces and the JEF shift codes
SBCS = [0x05, 0x15, 0x25, 0x27, 0x07, 0x00, 0x3F, 0xC1, 0xC2, 0xF1, 0x40, 0x40, 0x40]
MIXED = [*SBCS, KI[0], KO[0]]
KANJI = ["山".encode("euc_jp"), b"\xa1\xa1", "本".encode("euc_jp")]


@st.composite
def text(draw: st.DrawFn, width: int, alphabet: list[int]) -> bytes:
    return bytes(draw(st.lists(st.sampled_from(alphabet), min_size=width, max_size=width)))


@st.composite
def dbcs(draw: st.DrawFn, width: int) -> bytes:
    pairs = draw(st.lists(st.sampled_from(KANJI), min_size=width // 2, max_size=width // 2))
    return b"".join(pairs)


@st.composite
def person(draw: st.DrawFn, no: int) -> bytes:
    mixed = draw(text(14, MIXED))
    if draw(st.booleans()):  # a proper kanji run now and then
        mixed = (KI + draw(dbcs(4)) + KO + mixed)[:14]
    body = b"\xf2" + zoned(no, 6) + draw(dbcs(8)) + mixed
    times = draw(st.integers(0, 4))
    body += packed(no, 4) + no.to_bytes(4, "big") + draw(text(1, SBCS)) + zoned(times, 2)
    for _ in range(times):
        body += draw(text(2, SBCS)) + packed(20200101, 5)
    return rdw(body)


@st.composite
def dumps(draw: st.DrawFn) -> tuple[bytes, bool, int]:
    records = [draw(person(no)) for no in range(1, draw(st.integers(1, 25)) + 1)]
    return dump(records), draw(st.booleans()), draw(st.integers(1, 12))


def screened(chunk: ExtractChunk, reading: SourceReading) -> ScreenedChunk:
    return screen_chunk(reading, chunk, None)[1]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dumps())
def test_hinted_screen_finds_what_a_full_screen_finds(case: tuple[bytes, bool, int]) -> None:
    data, children, chunk_records = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "gaiji.csv").write_text("code,ucs,name\n80A1,U+9AD9,髙\n", encoding="utf-8")
        text = PROFILE.replace("CHILDREN", "children: RIREKI" if children else "")
        (folder / "source.yaml").write_text(text, encoding="utf-8")
        (folder / "JUKI.DAT").write_bytes(data)
        profile = load_profile(folder)
        source = profile.files[0]
        reading = source_reading(source, profile, None, None)
        chunks = get_extractor("mainframe").extract(
            folder / "JUKI.DAT", source, profile, chunk_records=chunk_records
        )
        for chunk in chunks:
            assert chunk.control_rows is not None
            hinted = screened(chunk, reading)
            full = screened(dataclasses.replace(chunk, control_rows=None), reading)
            assert_frame_equal(hinted.controls, full.controls)
            rows = chunk.control_rows
            assert np.all(np.diff(rows) > 0)
            assert rows.size == 0 or 0 <= rows[0] <= rows[-1] < chunk.records.height
            # exact, not only enough: the rows named are those the full screen flags
            flagged = set(full.controls["record_no"].to_list())
            named = set(chunk.records["_record_no"].gather(rows).to_list())
            assert named == flagged


def test_a_control_in_a_parent_or_a_child_field_names_its_child_records(tmp_path: Path) -> None:
    (tmp_path / "gaiji.csv").write_text("code,ucs,name\n80A1,U+9AD9,髙\n", encoding="utf-8")
    text = PROFILE.replace("CHILDREN", "children: RIREKI")
    (tmp_path / "source.yaml").write_text(text, encoding="utf-8")

    def one(no: int, mixed: bytes, jiyu: list[bytes]) -> bytes:
        body = b"\xf2" + zoned(no, 6) + KANJI[0] * 4 + mixed.ljust(14, b"\x40")
        body += packed(no, 4) + no.to_bytes(4, "big") + b"\xc1" + zoned(len(jiyu), 2)
        return rdw(body + b"".join(j + packed(20200101, 5) for j in jiyu))

    records = [
        one(1, b"\xc1", [b"\xf0\xf1", b"\xf0\xf2"]),  # clean: child rows 0, 1
        one(2, b"\xc1\x05", [b"\xf0\xf1", b"\xf0\xf2"]),  # HT in the parent: rows 2, 3
        one(3, b"\xc1", [b"\xf0\xf1", b"\x27\xf2", b"\xf0\xf3"]),  # ESC in child row 5
    ]
    (tmp_path / "JUKI.DAT").write_bytes(dump(records))
    profile = load_profile(tmp_path)
    (chunk,) = get_extractor("mainframe").extract(tmp_path / "JUKI.DAT", profile.files[0], profile)
    assert chunk.control_rows is not None
    assert chunk.control_rows.tolist() == [2, 3, 5]
