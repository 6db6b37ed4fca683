"""The extractor's control-row hint: screening only the rows it names finds what a full scan
finds, on data full of control characters, whatever the allowed ones."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from etl.extract import FieldType, FixedWidthOptions, SourceField, SourceFile, get_extractor
from etl.extract.fixed_width import FixedWidthExtras
from etl.pipeline.sources import ScreenedChunk, screen_chunk, source_reading
from etl.text import GaijiEntry, GaijiTable

from .conftest import profile_for

FIELDS = (
    SourceField("no", FieldType.DIGITS, 0, 3),
    SourceField("shimei", FieldType.TEXT, 3, 9),
    SourceField("kaisu", FieldType.ZONED, 12, 2),
    SourceField("kana", FieldType.TEXT, 14, 6),
)
LENGTH = 20
# C0 and C1 controls, DEL, and what they sit among; U+0085 and U+009F reach the text in UTF-8
# only (cp932 has no C1 but U+0080, a bad byte; euc_jp none)
_CHARS = "ab 1\x00\x01\x08\t\x0b\x0d\x1b\x1f\x7f\x80\x85\x9f山ｱ\u3000"
_NAMES = ["nul", "tab", "esc", "del", "cr", "U+0085", "U+001F"]


def _record(draw: st.DrawFn, codec: str) -> bytes:
    shimei = draw(st.text(_CHARS, max_size=9)).encode(codec, "ignore")[:9].ljust(9)
    kana = draw(st.text(_CHARS, max_size=6)).encode(codec, "ignore")[:6].ljust(6)
    no = draw(st.sampled_from([b"001", b"0 2", b"\x1b03"]))  # a control: a non-digit byte
    return no + shimei + b"12" + kana


@st.composite
def dumps(draw: st.DrawFn) -> tuple[str, list[bytes], list[str], int]:
    codec = draw(st.sampled_from(["cp932", "euc_jp", "utf-8"]))
    records = [_record(draw, codec) for _ in range(draw(st.integers(1, 30)))]
    allowed = draw(st.lists(st.sampled_from(_NAMES), unique=True, max_size=3))
    return codec, records, allowed, draw(st.integers(1, 12))


def _screened(chunk: object, reading: object) -> ScreenedChunk:
    return screen_chunk(reading, chunk, None)[1]  # type: ignore[arg-type]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dumps())
def test_hinted_screen_finds_what_a_full_screen_finds(dump: tuple) -> None:
    codec, records, allowed, chunk_records = dump
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "JUMIN.DAT"
        path.write_bytes(b"".join(records))
        options = FixedWidthOptions(record_length=LENGTH).model_copy(
            update={"extras": FixedWidthExtras(allow_control=allowed)}
        )
        src = SourceFile(name="jumin", path="JUMIN.DAT", fields=FIELDS, options=options)
        profile = profile_for(folder, src, "fixed_width", codec)
        reading = source_reading(src, profile, None, None)
        extractor = get_extractor("fixed_width")
        for chunk in extractor.extract(path, src, profile, chunk_records=chunk_records):
            assert chunk.control_rows is not None  # the fixed-width extractor always tells
            hinted = _screened(chunk, reading)
            full = _screened(dataclasses.replace(chunk, control_rows=None), reading)
            assert_frame_equal(hinted.controls, full.controls)
            assert (hinted.flagged is None) == (full.flagged is None)
            if full.flagged is not None:
                assert_frame_equal(hinted.flagged, full.flagged)
            rows = set(chunk.control_rows.tolist())
            assert rows <= set(range(chunk.records.height))
            assert np.all(np.diff(chunk.control_rows) > 0)


def test_a_chunk_without_a_hint_is_screened_whole(tmp_path: Path) -> None:
    src = SourceFile(
        name="jumin", path="JUMIN.DAT", fields=FIELDS, options=FixedWidthOptions(record_length=20)
    )
    profile = profile_for(tmp_path, src, "fixed_width")
    path = tmp_path / "JUMIN.DAT"
    path.write_bytes(b"001" + b"a\x1bb".ljust(9) + b"12" + b"c".ljust(6))
    chunk = next(get_extractor("fixed_width").extract(path, src, profile))
    assert chunk.control_rows is not None and chunk.control_rows.tolist() == [0]
    assert chunk.private_use is None  # no gaiji table: the fields are not looked at
    reading = source_reading(src, profile, None, None)
    # a hint that names no row: nothing screened (the hint is trusted)
    none = dataclasses.replace(chunk, control_rows=np.empty(0, dtype=np.int64))
    assert _screened(none, reading).controls.height == 0
    unknown = dataclasses.replace(chunk, control_rows=None)
    controls = _screened(unknown, reading).controls
    assert controls.select("record_no", "item", "value").rows() == [(1, "shimei", "U+001B (ESC)")]
    assert controls.equals(_screened(chunk, reading).controls)
    assert isinstance(controls, pl.DataFrame)


_GAIJI = GaijiTable((GaijiEntry("F040", "\u9089\U000e0101"), GaijiEntry("F041", "辺")))
_GAIJI_CHARS = "ab 1山ｱ\u3000\ue000\ue001\ue002"  # U+E002 (F042): a gaiji the table lacks


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(_GAIJI_CHARS, max_size=9), st.text(_GAIJI_CHARS, max_size=6)),
        min_size=1,
    ),
    st.integers(1, 12),
)
def test_gaiji_hint_replaces_what_every_column_replaced(texts: list, size: int) -> None:
    records = [
        b"001" + a.encode("cp932")[:9].ljust(9) + b"12" + b.encode("cp932")[:6].ljust(6)
        for a, b in texts
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "JUMIN.DAT"
        path.write_bytes(b"".join(records))
        options = FixedWidthOptions(record_length=LENGTH)
        src = SourceFile(name="jumin", path="JUMIN.DAT", fields=FIELDS, options=options)
        profile = profile_for(folder, src, "fixed_width", "cp932")
        # the profile maps 外字 (the table itself is given: _GAIJI)
        profile = dataclasses.replace(profile, gaiji_table=folder / "gaiji.csv")
        reading = source_reading(src, profile, _GAIJI, None)
        chunks = get_extractor("fixed_width").extract(path, src, profile, chunk_records=size)
        for chunk in chunks:
            assert chunk.private_use is not None  # the fixed-width extractor tells
            hinted = screen_chunk(reading, chunk, None)[0]
            whole = screen_chunk(reading, dataclasses.replace(chunk, private_use=None), None)[0]
            assert_frame_equal(hinted, whole)
            rows = (chunk.records["_record_no"] - 1).to_list()
            cut = {"shimei": (3, 12), "kana": (14, 20)}  # each value as Python decodes it
            for name, (start, end) in cut.items():  # a column the hint leaves out holds none
                values = [records[i][start:end].decode("cp932", "replace") for i in rows]
                if name not in chunk.private_use:
                    assert not any("\ue000" <= ch <= "\ue002" for v in values for ch in v)
