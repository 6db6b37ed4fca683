"""The canonical text of layout and code-table files (etl.layout.writer) and `chukan layouts
format`: a document re-read from its text is the same document, and a file's own choices
(head comment, the note's lines, values on one line or one per line) are kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import etl.layout.versions as versions
from etl.cli import cli
from etl.layout import (
    CodeTableDocument,
    code_table_text,
    layout_text,
    read_code_table_document,
    read_layout_document,
)
from etl.resources import data_dir


@pytest.mark.parametrize("one_line", [True, False, None])
@pytest.mark.parametrize("size", [2, 12])
def test_a_code_table_keeps_its_form(tmp_path: Path, one_line: bool | None, size: int) -> None:
    values = tuple((f"{n:02}", f"名称{n}") for n in range(size))
    doc = CodeTableDocument("t", "表", values, True, ("one line",), ("head",), one_line)
    path = tmp_path / "t.yaml"
    path.write_text(code_table_text(doc), "utf-8")
    again = read_code_table_document(path)
    assert code_table_text(again) == path.read_text("utf-8")
    expected = one_line if one_line is not None else size <= 7
    assert again.one_line is expected
    assert ("values: {" in path.read_text("utf-8")) is expected


@pytest.mark.parametrize(
    "text",
    ["true", "null", "12", "01", "a: b", "- x", "#x", "x #y", " lead", "{a}", "a,b", '"q"', "yes"],
)
def test_text_yaml_would_misread_is_quoted(tmp_path: Path, text: str) -> None:
    doc = CodeTableDocument("t", text, (("1", text),), True, (text,))
    path = tmp_path / "t.yaml"
    path.write_text(code_table_text(doc), "utf-8")
    again = read_code_table_document(path)
    assert again.name == text and again.values == (("1", text),) and again.note == text


def test_format_rewrites_only_what_left_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "layouts"
    shutil.copytree(data_dir("layouts"), home)
    monkeypatch.setattr(versions, "layouts_home", lambda: home)
    juki = home / "v2.1" / "juki.yaml"
    shipped = juki.read_text("utf-8")
    juki.write_text(shipped.replace("id: juki\nname: 住民基本台帳", "name: 住民基本台帳\nid: juki"))
    checked = CliRunner().invoke(cli, ["layouts", "format", "--check"])
    assert (
        checked.exit_code == 1
        and "not canonical" in checked.output
        and "juki.yaml" in checked.output
    )
    done = CliRunner().invoke(cli, ["layouts", "format"])
    assert done.exit_code == 0 and "formatted" in done.output
    assert juki.read_text("utf-8") == shipped
    assert CliRunner().invoke(cli, ["layouts", "format", "--check"]).exit_code == 0
    assert layout_text(read_layout_document(juki)) == shipped
