"""Hostile configuration files (issue 9): every malformed source.yaml, layout, code table, era
table, validator file, chukan.toml and group file is one ConfigError — ``FILE: key.path
(line N): reason`` — exit 2 through the CLI, never a traceback, never silently accepted."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.cli import cli
from etl.config import ConfigError, read_yaml
from etl.errors import LayoutError, ProfileError, RuleError
from etl.export.errors import ExportError
from etl.export.group import GroupFileError, load_group
from etl.extract.profile import load_profile
from etl.layout.load import _code_tables, load_code_table, load_layout_file, load_layout_folder
from etl.passes.project import ProjectError, init_project, load_project
from etl.resources import data_dir
from etl.schemas import SCHEMAS, json_schema, schema_text
from etl.text.wareki import load_eras
from etl.validate.rules import RULE_KINDS, load_rules

REPO = Path(__file__).resolve().parents[1]
DELETE = object()

# ---- valid starting points, one per kind of file ---------------------------------------------

FIXED: dict[str, Any] = {
    "vendor": "t",
    "format": "fixed_width",
    "encoding": "cp932",
    "files": [
        {
            "name": "jumin",
            "path": "JUMIN.DAT",
            "record_length": 20,
            "line_break": "none",
            "record_types": {
                "offset": 0,
                "length": 1,
                "header": "1",
                "data": "2",
                "trailer": "9",
                "trailer_count": {"offset": 1, "length": 5},
            },
            "fields": [
                {"name": "no", "offset": 1, "length": 5, "type": "digits"},
                {"name": "shimei", "offset": 6, "length": 10},
                {"name": "kingaku", "offset": 16, "length": 3, "type": "packed"},
            ],
        },
        {
            "name": "setai",
            "path": "SETAI.DAT",
            "record_length": 4,
            "fields": [{"name": "x", "offset": 0, "length": 4}],
        },
    ],
}
DELIMITED: dict[str, Any] = {
    "vendor": "t",
    "format": "delimited",
    "encoding": "utf-8",
    "files": [
        {
            "name": "jumin",
            "path": "jumin.csv",
            "delimiter": ",",
            "quote": '"',
            "header": True,
            "fields": [{"name": "no", "column": "宛名番号"}, {"name": "kubun", "index": 3}],
        }
    ],
}
LAYOUT: dict[str, Any] = {
    "id": "juki",
    "name": "住民基本台帳",
    "version": "2.1",
    "provenance": {"source": "authored", "authored_parts": ["items"], "note": "test"},
    "record_files": [
        {
            "id": "jumin",
            "name": "住民情報",
            "key": ["宛名番号"],
            "items": [
                {"name": "宛名番号", "type": "digits", "digits": 15, "required": True},
                {"name": "性別", "type": "code", "digits": 1, "code_table": "seibetsu"},
                {"name": "生年月日", "type": "date", "digits": 8},
            ],
        }
    ],
}
CODES: dict[str, Any] = {"id": "seibetsu", "name": "性別コード", "values": {"1": "男", "2": "女"}}
ERAS: dict[str, Any] = {
    "eras": [
        {"code": "04", "name": "平成", "start": "1989-01-08"},
        {"code": "05", "name": "令和", "start": "2019-05-01"},
    ]
}
RULES: dict[str, Any] = {
    "layout": "juki",
    "rules": [
        {
            "id": "r1",
            "kind": "exactly_one",
            "severity": "error",
            "file": "jumin",
            "group_by": ["世帯番号"],
            "when": {"item": "続柄", "in": ["02"]},
            "message": "m",
        },
        {
            "id": "r2",
            "kind": "exists_in",
            "file": "setai",
            "items": ["世帯主宛名番号"],
            "reference": {"layout": "juki", "file": "jumin", "items": ["宛名番号"]},
            "message": "m",
        },
    ],
}
PROJECT: dict[str, Any] = {
    "municipality": {"code": "012343", "name": "模擬市"},
    "source": {"vendor": "vendor-a"},
    "scope": {"gyomu": ["juki"]},
    "output": {"encoding": "utf-8", "line_ending": "lf"},
    "dumps": {"test1": "dumps/test1"},
}
GROUP: dict[str, Any] = {
    "group": {"name": "g"},
    "members": [{"name": "north", "project": "north"}, {"name": "south", "project": "south"}],
}


def changed(base: dict[str, Any], *edits: tuple[tuple[str | int, ...], Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with each (key path, value) set, or deleted for DELETE."""
    doc = copy.deepcopy(base)
    for path, value in edits:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return doc


def _yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


# ---- writing a case and reading it the way chukan does ---------------------------------------


@dataclass(frozen=True)
class Written:
    path: Path  # the file the message must name
    load: Callable[[], object]
    cli: list[str] | None  # chukan arguments that read the file, if a command does


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_profile(tmp: Path, content: str | bytes) -> Written:
    path = _write(tmp / "vendor" / "source.yaml", content)
    data = _write(tmp / "JUMIN.DAT", b"2" + b"0" * 19)
    return Written(
        path,
        lambda: load_profile(path.parent),
        ["inspect", str(data), "--vendor", str(path.parent)],
    )


def write_layout(tmp: Path, content: str | bytes) -> Written:
    _write(tmp / "v2.1" / "codes" / "seibetsu.yaml", _yaml(CODES))
    path = _write(tmp / "v2.1" / "juki.yaml", content)
    return Written(path, lambda: load_layout_folder(tmp / "v2.1"), None)


def write_codes(tmp: Path, content: str | bytes) -> Written:
    _write(tmp / "v2.1" / "juki.yaml", _yaml(LAYOUT))
    path = _write(tmp / "v2.1" / "codes" / "seibetsu.yaml", content)
    return Written(path, lambda: load_layout_folder(tmp / "v2.1"), None)


def write_eras(tmp: Path, content: str | bytes) -> Written:
    path = _write(tmp / "eras.yaml", content)
    return Written(path, lambda: load_eras(path), None)


def write_rules(tmp: Path, content: str | bytes) -> Written:
    path = _write(tmp / "juki.yaml", content)
    return Written(path, lambda: load_rules(path), None)


def write_project(tmp: Path, content: str | bytes) -> Written:
    path = _write(tmp / "proj" / "chukan.toml", content)
    return Written(path, lambda: load_project(path.parent), ["runs", "--project", str(path.parent)])


def write_group(tmp: Path, content: str | bytes) -> Written:
    path = _write(tmp / "group.toml", content)
    return Written(
        path, lambda: load_group(path), ["export", "--group", str(path), "--fiscal-year", "2025"]
    )


WRITERS = {
    "profile": write_profile,
    "layout": write_layout,
    "codes": write_codes,
    "eras": write_eras,
    "rules": write_rules,
    "project": write_project,
    "group": write_group,
}
YAML_KINDS = {"profile", "layout", "codes", "eras", "rules"}
ERROR_OF = {
    "profile": ProfileError,
    "layout": LayoutError,
    "codes": LayoutError,
    "eras": LayoutError,
    "rules": RuleError,
    "project": ProjectError,
    "group": GroupFileError,
}

F0 = ("files", 0)
FIELDS = (*F0, "fields")
RT = (*F0, "record_types")
RF = ("record_files", 0)
ITEMS = (*RF, "items")
R0 = ("rules", 0)


def fixed(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return _yaml(changed(FIXED, *edits))


def delimited(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return _yaml(changed(DELIMITED, *edits))


def layout(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return _yaml(changed(LAYOUT, *edits))


def codes(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return _yaml(changed(CODES, *edits))


def eras(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return (
        _yaml(changed(ERAS, *edits))
        .replace("'1989-01-08'", "1989-01-08")
        .replace("'2019-05-01'", "2019-05-01")
    )


def rules(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return _yaml(changed(RULES, *edits))


def project(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return tomli_w.dumps(changed(PROJECT, *edits))


def group(*edits: tuple[tuple[str | int, ...], Any]) -> str:
    return tomli_w.dumps(changed(GROUP, *edits))


# (kind, content, key path the message names, words of the reason)
BAD: list[tuple[str, str | bytes, str, str]] = [
    # ---- source.yaml, fixed width
    (
        "profile",
        fixed(((*FIELDS, 0, "offset"), "1")),
        "files[0].fields[0].offset",
        "valid integer, got str '1'",
    ),
    (
        "profile",
        fixed(((*F0, "record_length"), 300.5)),
        "files[0].record_length",
        "valid integer, got float",
    ),
    (
        "profile",
        fixed(((*F0, "record_length"), 0)),
        "files[0].record_length",
        "greater than or equal to 1",
    ),
    (
        "profile",
        fixed(((*F0, "record_length"), -20)),
        "files[0].record_length",
        "greater than or equal to 1",
    ),
    (
        "profile",
        fixed(((*F0, "record_length"), 10**12)),
        "files[0].record_length",
        "less than or equal to",
    ),
    (
        "profile",
        fixed(((*FIELDS, 1, "length"), 0)),
        "files[0].fields[1].length",
        "greater than or equal to 1",
    ),
    (
        "profile",
        fixed(((*FIELDS, 0, "offset"), -1)),
        "files[0].fields[0].offset",
        "greater than or equal to 0",
    ),
    ("profile", fixed(((*FIELDS, 0, "offset"), 2**40)), "files[0].fields[0].offset", "less than"),
    ("profile", fixed((("files",), "JUMIN.DAT")), "files", "valid list, got str"),
    ("profile", fixed((("files",), [])), "files", "at least 1 item"),
    ("profile", fixed(((*F0, "fields"), {"no": 1})), "files[0].fields", "valid list, got dict"),
    (
        "profile",
        fixed(((*F0, "line_break"), "cr")),
        "files[0].line_break",
        "'none', 'lf' or 'crlf', got str 'cr'",
    ),
    (
        "profile",
        fixed(((*FIELDS, 1, "offset"), 3)),
        "files[0].fields[1].offset",
        "overlap field 'no'",
    ),
    (
        "profile",
        fixed(((*FIELDS, 2, "offset"), 10)),
        "files[0].fields[2].offset",
        "overlap field 'shimei'",
    ),
    (
        "profile",
        fixed(((*FIELDS, 1, "name"), "no")),
        "files[0].fields[1].name",
        "duplicate field 'no'",
    ),
    ("profile", fixed((("files", 1, "name"), "jumin")), "files[1].name", "duplicate file 'jumin'"),
    (
        "profile",
        fixed(((*RT, "offset"), 20)),
        "files[0].record_types.offset",
        "exceed record_length 20",
    ),
    (
        "profile",
        fixed(((*RT, "trailer_count", "offset"), 18)),
        "files[0].record_types.trailer_count.offset",
        "exceed record_length",
    ),
    (
        "profile",
        fixed(((*RT, "trailer"), DELETE)),
        "files[0].record_types.trailer_count",
        "needs 'trailer'",
    ),
    ("profile", fixed(((*RT, "data"), 2)), "files[0].record_types.data", "got int 2 (quote codes"),
    (
        "profile",
        fixed(((*RT, "header"), [1, "3"])),
        "files[0].record_types.header[0]",
        "got int 1 (quote codes",
    ),
    (
        "profile",
        fixed(((*RT, "header"), "2")),
        "files[0].record_types.header",
        "'2' is already data",
    ),
    (
        "profile",
        fixed(((*F0, "options"), {"zoned_sign": "EBCDIC"})),
        "files[0].options.zoned_sign",
        "must be 'ascii' or 'ebcdic', not 'EBCDIC'",
    ),
    (
        "profile",
        delimited(((*F0, "options"), {"columns": "3"})),
        "files[0].options.columns",
        "must be a whole number 1..16384, not '3'",
    ),
    (
        "profile",
        fixed(((*RT, "trailer"), "99")),
        "files[0].record_types.trailer",
        "'99' is 2 bytes, length is 1",
    ),
    (
        "profile",
        fixed(((*F0, "record_length"), DELETE)),
        "files[0].record_length",
        "fixed_width needs record_length",
    ),
    (
        "profile",
        fixed(((*FIELDS, 0, "offset"), DELETE)),
        "files[0].fields[0].offset",
        "needs offset and length",
    ),
    (
        "profile",
        fixed(((*FIELDS, 2, "length"), 5)),
        "files[0].fields[2].length",
        "bytes 16..21 exceed record_length 20",
    ),
    ("profile", fixed(((*FIELDS, 0, "column"), "宛名")), "files[0].fields[0].column", "not column"),
    (
        "profile",
        fixed(((*FIELDS, 0, "type"), "numeric")),
        "files[0].fields[0].type",
        "'text', 'digits', 'zoned', 'packed', 'date' or 'binary'",
    ),
    ("profile", fixed(((*FIELDS, 0, "ofset"), 1)), "files[0].fields[0].ofset", "unknown key"),
    ("profile", fixed((("format",), DELETE)), "format", "required key missing"),
    (
        "profile",
        fixed(((*FIELDS, 0, "sensitive"), "yes")),
        "files[0].fields[0].sensitive",
        "valid boolean",
    ),
    (
        "profile",
        fixed(((*FIELDS, 2, "scale"), 30)),
        "files[0].fields[2].scale",
        "less than or equal to 18",
    ),
    (
        "profile",
        fixed(((*FIELDS, 0, "name"), 123)),
        "files[0].fields[0].name",
        "got int 123 (quote",
    ),
    ("profile", fixed(((*F0, "options"), ["zoned_sign"])), "files[0].options", "valid dictionary"),
    ("profile", fixed((("encoding",), 932)), "encoding", "valid string, got int 932"),
    ("profile", fixed(((*F0, "path"), "")), "files[0].path", "at least 1 character"),
    ("profile", "- format: fixed_width\n", "", "valid dictionary"),
    ("profile", "", "", "valid dictionary"),
    (
        "profile",
        "vendor: 住民\nformat: fixed_width\n".encode("cp932"),
        "",
        "not UTF-8 at byte offset 8 (it looks like CP932",
    ),
    ("profile", "format: fixed_width\nformat: delimited\n", "", "duplicate key 'format'"),
    # ---- source.yaml, delimited
    ("profile", delimited(((*F0, "delimiter"), ";;")), "files[0].delimiter", "at most 1 character"),
    ("profile", delimited(((*F0, "delimiter"), "\n")), "files[0].delimiter", "one ASCII character"),
    (
        "profile",
        delimited(((*FIELDS, 0, "column"), DELETE)),
        "files[0].fields[0]",
        "'column' (header name) or 'index'",
    ),
    ("profile", delimited(((*FIELDS, 0, "index"), 2)), "files[0].fields[0].index", "not both"),
    (
        "profile",
        delimited(((*FIELDS, 1, "index"), -1)),
        "files[0].fields[1].index",
        "greater than or equal to 0",
    ),
    (
        "profile",
        delimited(((*FIELDS, 1, "index"), 10**9)),
        "files[0].fields[1].index",
        "less than 16384",
    ),
    (
        "profile",
        delimited(((*F0, "record_types"), {"offset": 0, "data": "2"})),
        "files[0].record_types",
        "for fixed_width files",
    ),
    ("profile", delimited(((*F0, "header"), "true")), "files[0].header", "valid boolean"),
    (
        "profile",
        delimited(((*F0, "quote"), ",")),
        "files[0].quote",
        "quote and delimiter must differ",
    ),
    (
        "profile",
        delimited(((*F0, "header"), False)),
        "files[0].fields[0].column",
        "needs header: true",
    ),
    ("profile", delimited(((*FIELDS, 0, "offset"), 0)), "files[0].fields[0].offset", "not offset"),
    # ---- layouts/<version>/<id>.yaml
    ("layout", layout((("record_files",), {"jumin": {}})), "record_files", "valid list, got dict"),
    (
        "layout",
        layout(((*ITEMS, 0, "digits"), "15")),
        "record_files[0].items[0].digits",
        "valid integer, got str",
    ),
    (
        "layout",
        layout(((*ITEMS, 0, "digits"), 0)),
        "record_files[0].items[0].digits",
        "greater than or equal to 1",
    ),
    (
        "layout",
        layout(((*ITEMS, 0, "type"), "number")),
        "record_files[0].items[0].type",
        "'text', 'digits', 'integer', 'decimal', 'date', 'registry_date' or 'code'",
    ),
    (
        "layout",
        layout(((*ITEMS, 2, "name"), "宛名番号")),
        "record_files[0].items[2].name",
        "duplicate item '宛名番号'",
    ),
    (
        "layout",
        layout(((*RF, "key"), ["世帯番号"])),
        "record_files[0].key[0]",
        "not among the items",
    ),
    (
        "layout",
        layout(((*RF, "key"), ["宛名番号", "宛名番号"])),
        "record_files[0].key[1]",
        "listed twice",
    ),
    ("layout", layout(((*RF, "key"), [])), "record_files[0].key", "at least 1 item"),
    (
        "layout",
        layout(((*ITEMS, 1, "code_table"), DELETE)),
        "record_files[0].items[1].code_table",
        "needs a code_table",
    ),
    (
        "layout",
        layout(((*ITEMS, 0, "code_table"), "seibetsu")),
        "record_files[0].items[0].code_table",
        "only type code",
    ),
    (
        "layout",
        layout(((*ITEMS, 1, "code_table"), "zokugara")),
        "record_files[0].items[1].code_table",
        "unknown code table 'zokugara'; known: seibetsu",
    ),
    (
        "layout",
        layout(((*ITEMS, 2, "digits"), 6)),
        "record_files[0].items[2].digits",
        "digits must be 8",
    ),
    ("layout", layout((("version",), 2.1)), "version", "got float 2.1 (quote"),
    ("layout", layout(((*RF, "id"), "../etc")), "record_files[0].id", "should match pattern"),
    ("layout", layout((("id",), "juki/x")), "id", "should match pattern"),
    (
        "layout",
        layout(((*ITEMS, 0, "required"), 1)),
        "record_files[0].items[0].required",
        "valid boolean",
    ),
    (
        "layout",
        layout((("record_files",), [copy.deepcopy(rf) for rf in LAYOUT["record_files"] * 2])),
        "record_files[1].id",
        "repeats record_files[0]",
    ),
    (
        "layout",
        layout((("provenance", "source"), "guessed")),
        "provenance.source",
        "'authored', 'official' or 'mixed'",
    ),
    ("layout", layout((("name",), DELETE)), "name", "required key missing"),
    ("layout", "id: juki\nname: &n x\nversion: *n\n", "", "YAML aliases"),
    # ---- layouts/<version>/codes/<id>.yaml
    ("codes", "id: seibetsu\nvalues: {1: 男, 2: 女}\n", "values.1", "got int 1 (quote codes"),
    (
        "codes",
        "id: seibetsu\nvalues: {'01': 男, '02': 2}\n",
        "values.02",
        "valid string, got int 2",
    ),
    ("codes", codes((("values",), {})), "values", "at least 1 item"),
    ("codes", codes((("values",), ["1", "2"])), "values", "valid dictionary"),
    ("codes", codes((("id",), "seibetsu code")), "id", "should match pattern"),
    ("codes", codes((("authored",), "no")), "authored", "valid boolean"),
    # ---- layouts/eras.yaml
    ("eras", eras((("eras", 1, "code"), "5")), "eras[1].code", "should match pattern"),
    (
        "eras",
        "eras:\n  - {code: 04, name: 平成, start: 1989-01-08}\n",
        "eras[0].code",
        "got int 4 (quote codes",
    ),
    (
        "eras",
        "eras:\n  - {code: '04', name: 平成, start: 1989-02-30}\n",
        "eras[0].start",
        "'1989-02-30' is not a valid date",
    ),
    (
        "eras",
        "eras:\n  - {code: '04', name: 平成, start: 1989-01-08 10:00:00}\n",
        "eras[0].start",
        "valid date",
    ),
    ("eras", eras((("eras", 1, "start"), "1989-01-08")), "eras[1].start", "chronological order"),
    ("eras", eras((("eras", 1, "code"), "04")), "eras[1].code", "duplicate 年号コード '04'"),
    (
        "eras",
        eras((("eras", 0, "reckoning_start"), 1990)),
        "eras[0].reckoning_start",
        "is after start",
    ),
    ("eras", eras((("eras",), [])), "eras", "at least 1 item"),
    # ---- validators/<layout id>.yaml
    (
        "rules",
        "layout: juki\nrules:\n  - {id: r1, kind: exactly_one, file: jumin, group_by: [世帯番号],\n"
        "     when: {item: 続柄, in: [02, 03]}, message: m}\n",
        "rules[0].when.in[0]",
        "got int 2 (quote codes",
    ),
    (
        "rules",
        rules(((*R0, "kind"), "at_most_one")),
        "rules[0].kind",
        "unknown kind 'at_most_one'; known: " + ", ".join(RULE_KINDS),
    ),
    ("rules", rules(((*R0, "kind"), DELETE)), "rules[0]", "required key 'kind' missing"),
    ("rules", rules(((*R0, "kind"), ["unique"])), "rules[0].kind", "unknown kind ['unique']"),
    ("rules", rules(((*R0, "severity"), "fatal")), "rules[0].severity", "'error' or 'warning'"),
    ("rules", rules(((*R0, "group_by"), "世帯番号")), "rules[0].group_by", "valid list, got str"),
    ("rules", rules(((*R0, "when", "in"), [])), "rules[0].when.in", "at least 1 item"),
    ("rules", rules(((*R0, "when", "values"), ["1"])), "rules[0].when.values", "unknown key"),
    (
        "rules",
        rules((("rules", 1, "reference", "items"), ["a", "b"])),
        "rules[1].reference.items",
        "has 2 items, 'items' has 1",
    ),
    ("rules", rules((("rules", 1, "id"), "r1")), "rules[1].id", "duplicate rule id 'r1'"),
    ("rules", rules((("rules",), {"r1": {}})), "rules", "valid list"),
    ("rules", rules((("rules", 1), "unique")), "rules[1]", "valid dictionary"),
    ("rules", rules((("layout",), DELETE)), "layout", "required key missing"),
    ("rules", rules(((*R0, "message"), "")), "rules[0].message", "at least 1 character"),
    ("rules", rules(((*R0, "op"), "<")), "rules[0].op", "unknown key"),
    (
        "rules",
        rules(
            (
                ("rules", 1),
                {
                    "id": "cd",
                    "kind": "check_digit",
                    "file": "jumin",
                    "item": "個人番号",
                    "length": 12,
                    "weights": [2, 3],
                    "modulus": 11,
                    "zero_remainders": [0, 1],
                    "message": "m",
                },
            )
        ),
        "rules[1].weights",
        "'weights' needs 11 values, one per digit before the check digit (rule cd)",
    ),
    # ---- chukan.toml
    (
        "project",
        project((("municipality", "code"), "12345")),
        "municipality.code",
        "must be 6 digits",
    ),
    (
        "project",
        project((("municipality", "code"), "０１２３４５")),
        "municipality.code",
        "must be 6 digits",
    ),
    (
        "project",
        project((("municipality", "code"), 12345)),
        "municipality.code",
        "valid string, got int",
    ),
    (
        "project",
        project((("municipality", "name"), "a\nb")),
        "municipality.name",
        "should match pattern",
    ),
    ("project", project((("scope", "gyomu"), "juki")), "scope.gyomu", "valid list"),
    ("project", project((("scope", "gyomu"), [])), "scope.gyomu", "at least 1 item"),
    (
        "project",
        project((("scope", "gyomu"), ["juki", "juki"])),
        "scope.gyomu",
        "listed twice: juki",
    ),
    ("project", project((("output", "line_ending"), "cr")), "output.line_ending", "'lf' or 'crlf'"),
    (
        "project",
        project((("output", "encoding"), "latin-1")),
        "output.encoding",
        "'utf-8', 'utf-8-sig' or 'cp932'",
    ),
    ("project", project((("dumps", "test3"), "dumps/test3")), "dumps.test3", "unknown key"),
    ("project", project((("source",), DELETE)), "source", "required key missing"),
    ("project", project((("export",), {"dump": 3})), "export.dump", "valid string"),
    ("project", 'municipality = { code = "012343", name = "x\n', "", "invalid TOML"),
    (
        "project",
        "[municipality]\ncode = '012343'\nname = '模擬市'\n".encode("cp932"),
        "",
        "not UTF-8",
    ),
    # ---- group file (chukan export --group)
    ("group", group((("members",), DELETE)), "members", "required key missing"),
    ("group", group((("members",), [])), "members", "at least 1 item"),
    ("group", group((("members", 1, "name"), "north")), "members[1].name", "repeats members[0]"),
    (
        "group",
        group((("members", 0, "project"), DELETE)),
        "members[0].project",
        "required key missing",
    ),
    ("group", group((("members", 0, "dump"), 1)), "members[0].dump", "valid string"),
    ("group", group((("group", "name"), "")), "group.name", "at least 1 character"),
    ("group", group((("members", 0, "projct"), "x")), "members[0].projct", "unknown key"),
]


def _id(case: tuple[str, str | bytes, str, str]) -> str:
    return f"{case[0]}:{case[2] or 'file'}:{case[3][:30]}"


def test_the_table_is_wide() -> None:
    assert len(BAD) >= 60
    assert {kind for kind, *_ in BAD} == set(WRITERS)


@pytest.mark.parametrize("case", BAD, ids=[_id(c) for c in BAD])
def test_bad_configuration_is_one_located_error(
    tmp_path: Path, case: tuple[str, str | bytes, str, str]
) -> None:
    kind, content, key_path, reason = case
    written = WRITERS[kind](tmp_path, content)
    with pytest.raises(ConfigError) as info:
        written.load()
    exc = info.value
    message = str(exc)
    assert isinstance(exc, ERROR_OF[kind])  # callers catching the stage's error still see it
    assert exc.exit_code == 2
    assert exc.path == written.path
    assert "\n" not in message
    assert message.startswith(f"{written.path}: ")
    assert exc.key_path == key_path, message
    if key_path and kind in YAML_KINDS:
        assert f": {key_path} (line " in message, message
    elif key_path:
        assert f": {key_path}: " in message, message
    assert reason in message
    if written.cli is not None:
        result = CliRunner().invoke(cli, written.cli)
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        flat = "".join(result.output.split())  # the console may wrap long lines at a space
        for words in (str(written.path), key_path, reason):
            assert "".join(words.split()) in flat, result.output


def test_the_line_is_the_offending_keys(tmp_path: Path) -> None:
    text = (
        "format: fixed_width\nfiles:\n  - name: a\n    path: A\n    record_length: 10\n"
        "    fields:\n      - {name: x, offset: 0, length: 4}\n"
        "      - {name: y, offset: 2, length: 4}\n"
    )
    with pytest.raises(ProfileError) as info:
        write_profile(tmp_path, text).load()
    assert info.value.line == 8
    assert "files[0].fields[1].offset (line 8): bytes 2..6 overlap field 'x'" in str(info.value)


def test_layout_errors_go_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import etl.layout.versions as versions

    write_layout(tmp_path, layout(((*ITEMS, 0, "digits"), "15")))
    monkeypatch.setattr(versions, "layouts_home", lambda: tmp_path)
    result = CliRunner().invoke(cli, ["layouts", "list"])  # layouts are cached by folder
    assert result.exit_code == 2
    assert "record_files[0].items[0].digits (line" in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_error_family() -> None:
    for kind in (ProfileError, LayoutError, RuleError, ProjectError, GroupFileError):
        assert issubclass(kind, ConfigError)
    assert issubclass(GroupFileError, ExportError)
    exc = GroupFileError("g.toml", "bad", key_path=("members", 0, "name"))
    assert (str(exc), exc.path, exc.reason) == (
        "g.toml: members[0].name: bad",
        Path("g.toml"),
        "bad",
    )


# ---- chukan.toml is written by a TOML writer --------------------------------------------------


@pytest.mark.parametrize("name", ['模擬"市', "a\\b", "'quoted'", "市 # not a comment", "]["])
def test_init_writes_valid_toml_for_any_name(tmp_path: Path, name: str) -> None:
    root = tmp_path / "mig"
    proj = init_project(root, code="012343", name=name, vendor="vendor-a", gyomu=("juki",))
    assert proj.municipality_name == name
    assert load_project(root).municipality_name == name
    assert (root / "chukan.toml").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("args", "key_path"),
    [
        (["--code", "12345", "--name", "x"], "municipality.code"),
        (["--code", "012343", "--name", "a\nb"], "municipality.name"),
        (["--code", "012343", "--name", "x", "--gyomu", "juki", "--gyomu", "juki"], "scope.gyomu"),
    ],
)
def test_init_refuses_bad_options_by_key(tmp_path: Path, args: list[str], key_path: str) -> None:
    root = tmp_path / "mig"
    result = CliRunner().invoke(cli, ["init", str(root), *args])
    assert result.exit_code == 2, result.output
    assert f"chukan.toml: {key_path}: " in result.output.replace("\n", "")
    assert not (root / "chukan.toml").exists()


# ---- JSON Schemas -----------------------------------------------------------------------------


def test_schemas_are_up_to_date() -> None:
    folder = REPO / "docs" / "schemas"
    on_disk = {p.name for p in folder.glob("*.schema.json")}
    assert on_disk == {f"{name}.schema.json" for name in SCHEMAS}, (
        "python -m etl.schemas docs/schemas"
    )
    for name in SCHEMAS:
        assert (folder / f"{name}.schema.json").read_text("utf-8") == schema_text(name), (
            f"docs/schemas/{name}.schema.json is stale: run python -m etl.schemas docs/schemas"
        )


def _bundled() -> Iterator[tuple[str, Path]]:
    for vendor in sorted(data_dir("mappings").glob("*/source.yaml")):
        yield "source-profile", vendor
    for path in sorted((data_dir("layouts") / "v2.1").glob("*.yaml")):
        yield "layout", path
    for path in sorted((data_dir("layouts") / "v2.1" / "codes").glob("*.yaml")):
        yield "code-table", path
    yield "eras", data_dir("layouts") / "eras.yaml"
    for path in sorted(data_dir("validators").glob("*.yaml")):
        yield "validators", path
    for path in sorted(data_dir("mappings").glob("*/*.yaml")):
        if path.name != "source.yaml":
            yield "mapping-spec", path


def test_bundled_files_satisfy_their_schemas() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for name, path in _bundled():
        data = json.loads(json.dumps(read_yaml(path).data, default=str))  # dates as text
        jsonschema.Draft202012Validator(json_schema(name)).validate(data)
    for text in (project(), group()):
        import tomllib

        doc = tomllib.loads(text)
        jsonschema.Draft202012Validator(
            json_schema("chukan-toml" if "municipality" in doc else "group")
        ).validate(doc)


# ---- random mutations of the bundled files: data or a ConfigError, never another exception ----

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["", "02", "0", "-1", "fixed_width", "delimited", "code", "date", "cr", "../x"]
    ),
    st.lists(st.one_of(st.integers(-5, 400), st.text(max_size=4)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 400), max_size=2),
    st.dates(),
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*at, i))


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        at = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["delete", "replace", "insert"]))
        if not at:
            if op == "replace":
                doc = draw(JUNK)
            continue
        parent: Any = doc
        for part in at[:-1]:
            parent = parent[part]
        if op == "delete":
            del parent[at[-1]]
        elif op == "replace":
            parent[at[-1]] = draw(JUNK)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JUNK)
        else:
            parent.insert(at[-1], draw(JUNK))
    return doc


def _bundled_doc(path: Path) -> Any:
    return read_yaml(path).data


def _check_mutant(path: Path, doc: Any, load: Callable[[Path], object]) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        load(path)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)


MUTATION = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TABLES = _code_tables(data_dir("layouts") / "v2.1")


@MUTATION
@given(st.data())
def test_mutated_source_profiles(tmp_path: Path, data: st.DataObject) -> None:
    vendor = data.draw(st.sampled_from(["vendor-a", "vendor-b"]))
    doc = data.draw(mutated(_bundled_doc(data_dir("mappings") / vendor / "source.yaml")))
    _check_mutant(tmp_path / "source.yaml", doc, load_profile)


@MUTATION
@given(st.data())
def test_mutated_layouts(tmp_path: Path, data: st.DataObject) -> None:
    doc = data.draw(mutated(_bundled_doc(data_dir("layouts") / "v2.1" / "juki.yaml")))
    _check_mutant(tmp_path / "juki.yaml", doc, lambda p: load_layout_file(p, TABLES))
    doc = data.draw(mutated(_bundled_doc(data_dir("layouts") / "v2.1" / "codes" / "zokugara.yaml")))
    _check_mutant(tmp_path / "zokugara.yaml", doc, load_code_table)


@MUTATION
@given(st.data())
def test_mutated_validators(tmp_path: Path, data: st.DataObject) -> None:
    doc = data.draw(mutated(_bundled_doc(data_dir("validators") / "juki.yaml")))
    _check_mutant(tmp_path / "juki.yaml", doc, load_rules)


@MUTATION
@given(st.data())
def test_mutated_eras(tmp_path: Path, data: st.DataObject) -> None:
    doc = data.draw(mutated(_bundled_doc(data_dir("layouts") / "eras.yaml")))
    _check_mutant(tmp_path / "eras.yaml", doc, load_eras.__wrapped__)


@MUTATION
@given(st.data())
def test_mutated_project_and_group_files(tmp_path: Path, data: st.DataObject) -> None:
    for base, path, load in (
        (PROJECT, tmp_path / "chukan.toml", lambda: load_project(tmp_path)),
        (GROUP, tmp_path / "group.toml", lambda: load_group(tmp_path / "group.toml")),
    ):
        doc = data.draw(mutated(base))
        try:
            text = tomli_w.dumps(doc)
        except Exception:  # not representable in TOML (a null, a non-table root): nothing to read
            continue
        path.write_text(text, encoding="utf-8")
        try:
            load()
        except ConfigError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)


def test_strange_keys_are_quoted_in_the_one_line_message(tmp_path: Path) -> None:
    written = write_project(tmp_path, project((("scope", "gy\nomu"), ["x"])))
    with pytest.raises(ProjectError) as info:
        written.load()
    assert str(info.value) == f"{written.path}: scope['gy\\nomu']: unknown key"


# ---- the reader's help for models (etl.config) -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("2", None),
        (2, "files[0].record_types.data: Input should be a valid string, got int 2"),
        (["2", 9], "files[0].record_types.data[1]: Input should be a valid string, got int 9"),
        ([], "files[0].record_types.data: List should have at least 1 item"),
    ],
)
def test_a_union_is_explained_by_the_branch_that_got_furthest(
    tmp_path: Path, data: Any, expected: str | None
) -> None:
    written = write_profile(tmp_path, fixed(((*RT, "data"), data)))
    if expected is None:
        assert written.load()
        return
    with pytest.raises(ProfileError) as info:
        written.load()
    key_path, reason = expected.split(": ", 1)
    assert info.value.key_path == key_path and reason in str(info.value)
    assert "more problem" not in str(info.value)  # the other branch is not another problem


def test_other_problems_are_counted(tmp_path: Path) -> None:
    edits = (((*FIELDS, 0, "offset"), "1"), ((*FIELDS, 1, "length"), "2"), (("vendor",), 3))
    with pytest.raises(ProfileError, match=r"\(and 2 more problem\(s\) in this file\)$"):
        write_profile(tmp_path, fixed(*edits)).load()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!int x\n", "a (line 1): 'x' is not a valid int"),
        ("a: !!float x\n", "a (line 1): 'x' is not a valid float"),
        ("a: !!bool x\n", "a (line 1): 'x' is not a valid bool"),
        ("a:\n  b: 2001-02-29\n", "a.b (line 2): '2001-02-29' is not a valid date"),
    ],
)
def test_scalars_yaml_cannot_build_are_located(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path / "x.yaml", text)
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert str(info.value) == f"{path}: {expected}"
