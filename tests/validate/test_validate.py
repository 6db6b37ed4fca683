"""validate_layout: schema findings of every record file plus rule findings, one frame."""

from __future__ import annotations

import polars as pl

from etl.conditions import Subject, value_in
from etl.findings import FINDING_SCHEMA, Severity
from etl.validate import ExactlyOne, RuleSet, validate_layout

from .cases import JUKI, JUMIN, RIREKI, clean_jumin_row, frame_of

ONE_HEAD = ExactlyOne(
    "juki.setai_one_head",
    Severity.ERROR,
    "jumin",
    "世帯に世帯主がちょうど1人いません",
    group_by=("世帯番号",),
    when=value_in(Subject.ITEM, "続柄", "02"),
)


def test_schema_and_rule_findings_together() -> None:
    frames = {
        "jumin": frame_of(JUMIN, [clean_jumin_row(1, 性別="7"), clean_jumin_row(2, 続柄="03")]),
        "rireki": frame_of(RIREKI, [{"宛名番号": "1", "履歴番号": None}]),
    }
    found = validate_layout(JUKI, frames, RuleSet("juki", (ONE_HEAD,)))
    assert found.schema == pl.Schema(FINDING_SCHEMA)
    assert sorted(found.select("rule", "file", "record_no").rows()) == [
        ("juki.setai_one_head", "jumin", 2),
        ("schema.code", "jumin", 1),
        ("schema.required", "rireki", 1),
    ]


def test_clean_layout_and_no_rules() -> None:
    frames = {"jumin": frame_of(JUMIN, [clean_jumin_row(1), clean_jumin_row(2)])}
    assert validate_layout(JUKI, frames, RuleSet("juki")).height == 0
