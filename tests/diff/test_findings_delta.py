"""findings_delta: fixed / new / persisting by identity; findings.csv read back."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from etl.diff import findings_delta
from etl.findings import FINDING_SCHEMA, concat_findings, empty_findings
from etl.run_folder import parse_findings, write_findings


def findings(*rows: tuple[str, str, str, int | None, str, str, str]) -> pl.DataFrame:
    """Rows of (rule, gyomu, file, record_no, key, item, value)."""
    data = [
        {
            "rule": r,
            "severity": "error",
            "gyomu": g,
            "file": f,
            "record_no": n,
            "key": k,
            "item": i,
            "value": v,
            "message": f"{r} {k}",
        }
        for r, g, f, n, k, i, v in rows
    ]
    return concat_findings([pl.DataFrame(data, schema=FINDING_SCHEMA)])


OLD = findings(
    ("schema.required", "juki", "jumin", 3, "200", "氏名", ""),
    ("schema.code", "juki", "jumin", 5, "400", "性別", "X"),
    ("extract.rejected", "", "jumin", 98, "", "shimei", ""),
    ("extract.rejected", "", "jumin", 120, "", "shimei", ""),
)
NEW = findings(
    ("schema.code", "juki", "jumin", 4, "400", "性別", "X"),  # moved record: same identity
    ("extract.rejected", "", "jumin", 97, "", "shimei", ""),  # one of two rejects left
    ("mapping.invalid_date", "juki", "jumin", 9, "800", "生年月日", "H310230"),
)


def test_matched_by_identity_not_record_number() -> None:
    d = findings_delta(OLD, NEW)
    assert (d.old_total, d.new_total, d.fixed, d.new, d.persisting) == (4, 3, 2, 1, 2)
    table = {r.rule: (r.old_total, r.new_total, r.fixed, r.new, r.persisting) for r in d.by_rule}
    assert table == {
        "extract.rejected": (2, 1, 1, 0, 1),
        "mapping.invalid_date": (0, 1, 0, 1, 0),
        "schema.code": (1, 1, 0, 0, 1),
        "schema.required": (1, 0, 1, 0, 0),
    }
    assert [s.rule for s in d.fixed_samples] == ["extract.rejected", "schema.required"]
    assert [(s.rule, s.key, s.value) for s in d.new_samples] == [
        ("mapping.invalid_date", "800", "H310230")
    ]
    assert {s.record_no for s in d.persisting_samples} == {4, 97}  # as in the new run


def test_symmetric_and_empty() -> None:
    d, back = findings_delta(OLD, NEW), findings_delta(NEW, OLD)
    assert (back.fixed, back.new, back.persisting) == (d.new, d.fixed, d.persisting)
    none = findings_delta(empty_findings(), empty_findings())
    assert (none.fixed, none.new, none.persisting, none.by_rule) == (0, 0, 0, ())
    all_new = findings_delta(empty_findings(), NEW, samples=1)
    assert all_new.new == 3 and len(all_new.new_samples) == 1


def test_null_and_empty_identity_parts_match() -> None:
    old = OLD.with_columns(pl.when(pl.col("key") == "").then(None).otherwise("key").alias("key"))
    d = findings_delta(old, OLD)
    assert (d.fixed, d.new, d.persisting) == (0, 0, 4)


def test_read_findings_csv_round_trips(tmp_path: Path) -> None:
    write_findings(tmp_path, OLD)
    raw = (tmp_path / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = parse_findings(tmp_path / "findings.csv")
    assert back.schema == pl.Schema(FINDING_SCHEMA)
    assert back.fill_null("").equals(OLD.fill_null(""))
    d = findings_delta(back, OLD)
    assert (d.fixed, d.new, d.persisting) == (0, 0, 4)
