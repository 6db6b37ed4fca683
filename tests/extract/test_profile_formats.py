"""Format per source file: each file is validated by the plug-in of its own format, and errors
name the key path of the file entry; locations fit the format."""

from __future__ import annotations

import dataclasses
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from etl.errors import ExtractError, ProfileError
from etl.extract import (
    BYTES,
    CELLS,
    LINES,
    ByteOffset,
    CellRef,
    DelimitedOptions,
    FixedWidthOptions,
    FormatOptions,
    LineNumber,
    SourceField,
    SourceFile,
    load_profile,
    options_of,
    registry,
    reject_schema,
)
from etl.extract.chunk_frames import SetAside, records_frame
from etl.pipeline.sources import _reject_findings

FIXED_FILE: dict[str, Any] = {
    "name": "jumin",
    "path": "JUMIN.DAT",
    "record_length": 20,
    "fields": [{"name": "no", "offset": 0, "length": 5, "type": "digits"}],
}
CSV_FILE: dict[str, Any] = {
    "name": "setai",
    "path": "setai.csv",
    "format": "delimited",
    "delimiter": ";",
    "fields": [{"name": "no", "column": "番号"}, {"name": "x", "index": 3}],
}


def _load(tmp_path: Path, files: list[dict[str, Any]], fmt: str = "fixed_width") -> Any:
    doc = {"vendor": "t", "format": fmt, "encoding": "utf-8", "files": files}
    (tmp_path / "source.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return load_profile(tmp_path)


def _error(tmp_path: Path, files: list[dict[str, Any]], fmt: str = "fixed_width") -> ProfileError:
    with pytest.raises(ProfileError) as info:
        _load(tmp_path, files, fmt)
    return info.value


def test_a_file_names_its_own_format_the_profile_format_is_the_default(tmp_path: Path) -> None:
    profile = _load(tmp_path, [FIXED_FILE, CSV_FILE])
    jumin, setai = profile.files
    assert [profile.format_of(f) for f in profile.files] == ["fixed_width", "delimited"]
    assert isinstance(jumin.options, FixedWidthOptions) and jumin.options.record_stride() == 20
    assert isinstance(setai.options, DelimitedOptions) and setai.options.delimiter == ";"
    assert setai.options.record_stride() is None


def test_each_file_is_checked_by_its_own_format(tmp_path: Path) -> None:
    bad_csv = {**CSV_FILE, "fields": [{"name": "no", "offset": 0, "length": 5}]}
    exc = _error(tmp_path, [FIXED_FILE, bad_csv])
    assert exc.key_path == "files[1].fields[0].offset" and "not offset" in exc.reason
    bad_fixed = {**FIXED_FILE, "format": "fixed_width", "delimiter": ","}
    exc = _error(tmp_path, [CSV_FILE, bad_fixed], fmt="delimited")
    assert exc.key_path == "files[1].delimiter"
    assert exc.reason == "delimiter is for delimited files, not fixed_width"
    exc = _error(tmp_path, [FIXED_FILE, {**CSV_FILE, "options": {"columns": 0}}])
    assert exc.key_path == "files[1].options.columns" and "1..16384" in exc.reason
    exc = _error(tmp_path, [{**FIXED_FILE, "bogus": 1}])
    assert exc.key_path == "files[0].bogus" and "unknown key" in exc.reason


def test_an_unknown_format_is_named_where_it_is_declared(tmp_path: Path) -> None:
    exc = _error(tmp_path, [FIXED_FILE, {**CSV_FILE, "format": "excel"}])
    assert exc.key_path == "files[1].format" and "unknown extractor 'excel'" in exc.reason
    exc = _error(tmp_path, [FIXED_FILE], fmt="ebcdic_tape")
    assert exc.key_path == "format" and "known: delimited, fixed_width" in exc.reason


def test_a_plug_in_validates_its_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party format: its options model is all the profile reader needs to check it."""
    (tmp_path / "sheet_plugin.py").write_text(
        "from etl.config import KeyProblem\n"
        "from etl.extract import CELLS, FormatOptions\n"
        "from pydantic import model_validator\n"
        "class SheetOptions(FormatOptions):\n"
        "    FIELD_KEYS = ('column',)\n"
        "    sheet: str\n"
        "    header_row: int = 1\n"
        "    @model_validator(mode='after')\n"
        "    def _row(self):\n"
        "        if self.header_row < 1:\n"
        "            raise KeyProblem(('header_row',), 'rows count from 1')\n"
        "        return self\n"
        "class Sheet:\n"
        "    name = 'sheet'\n"
        "    location = CELLS\n"
        "    options_model = SheetOptions\n"
        "    def extract(self, path, source, profile, *, chunk_records=200_000):\n"
        "        return iter(())\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        EntryPoint(name="sheet", value="sheet_plugin:Sheet", group=registry.GROUP),
        EntryPoint(
            name="fixed_width", value="etl.extract:FixedWidthExtractor", group=registry.GROUP
        ),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    registry._entry_points.cache_clear()
    try:
        sheet = {"name": "s", "path": "s.xlsx", "format": "sheet", "sheet": "世帯"}
        sheet["fields"] = [{"name": "no", "column": "番号"}]
        profile = _load(tmp_path, [FIXED_FILE, sheet])
        assert profile.files[1].options.sheet == "世帯"
        exc = _error(tmp_path, [FIXED_FILE, {**sheet, "header_row": 0}])
        assert exc.key_path == "files[1].header_row" and exc.reason == "rows count from 1"
        exc = _error(tmp_path, [FIXED_FILE, {**sheet, "record_length": 3}])
        assert exc.reason == "record_length is for fixed_width files, not sheet"
        exc = _error(tmp_path, [{**FIXED_FILE, "sheet": "x"}])
        assert exc.reason == "sheet is for sheet files, not fixed_width"
    finally:
        registry._entry_points.cache_clear()


# ---- locations ------------------------------------------------------------------------------


def test_byte_offsets_keep_the_reject_columns() -> None:
    assert list(reject_schema(BYTES)) == [
        "source",
        "record_no",
        "byte_offset",
        "item",
        "reason",
        "raw",
    ]
    assert list(reject_schema(CELLS)) == [
        "source",
        "record_no",
        "sheet",
        "cell",
        "item",
        "reason",
        "raw",
    ]
    assert list(reject_schema(LINES)) == ["source", "record_no", "line", "item", "reason", "raw"]
    assert str(ByteOffset(5)) == "byte offset 5" and str(LineNumber(12)) == "line 12"
    assert CellRef("世帯", 12, 3).cell == "C12" and str(CellRef("世帯", 7, 28)) == "世帯!AB7"


def test_a_sheet_and_cell_location_travels_to_rejects_and_findings() -> None:
    out = SetAside("setai", CELLS)
    out.reject(12, CellRef("世帯", 12, 3), "zip", "not digits", b"")
    out.filter_out(1, CellRef("世帯", 1, 1), "header row")
    rejects, filtered = out.frames()
    assert rejects.select("sheet", "cell").rows() == [("世帯", "C12")]
    assert filtered.select("sheet", "cell").rows() == [("世帯", "A1")]
    message = _reject_findings(rejects, "juki", CELLS)["message"][0]
    assert message == "レコード12（世帯!C12）を読み取れず除外しました: not digits"
    with pytest.raises(TypeError, match="a byte_offset location in a file located by cell"):
        out.reject(3, ByteOffset(3), "", "", b"")
    frame = records_frame({"zip": pl.String()}, {}, CELLS)
    assert frame.columns == ["_record_no", "_sheet", "_cell", "zip"]


def test_byte_offset_findings_read_as_before() -> None:
    out = SetAside("jumin")
    out.reject(98, ByteOffset(29158), "shimei", "bad", b"\x81")
    rejects, _ = out.frames()
    message = _reject_findings(rejects, "", BYTES)["message"][0]
    assert (
        message
        == "レコード98（ファイル先頭から29158バイトの位置、0起点）を読み取れず除外しました: bad"
    )


def test_an_extractor_refuses_options_of_another_format(tmp_path: Path) -> None:
    path = tmp_path / "x.dat"
    path.write_bytes(b"12345")
    src = SourceFile(
        "x", "x.dat", (SourceField("no", offset=0, length=5),), options=DelimitedOptions()
    )
    with pytest.raises(ExtractError, match="has DelimitedOptions, not FixedWidthOptions"):
        options_of(path, src, FixedWidthOptions)
    assert options_of(path, dataclasses.replace(src, options=None), FixedWidthOptions) == (
        FixedWidthOptions()
    )

    class Needy(FormatOptions):
        sheet: str

    with pytest.raises(ExtractError, match="declares none of the keys its format needs"):
        options_of(path, dataclasses.replace(src, options=None), Needy)
