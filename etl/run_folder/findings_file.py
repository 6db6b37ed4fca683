"""findings.csv: every finding of a run, as municipal staff open it (Japanese headers, UTF-8
with BOM so Excel reads it, CRLF), and read back into FINDING_SCHEMA."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from etl.findings import FINDING_SCHEMA
from etl.write import CsvFormat, LineEnding, WrittenFile, write_csv

FINDINGS_FILE = "findings.csv"
FINDING_HEADERS = {
    "severity": "重大度",
    "rule": "ルール",
    "gyomu": "業務",
    "file": "ファイル",
    "record_no": "レコード番号",
    "key": "キー",
    "item": "項目",
    "value": "値",
    "message": "内容",
}
STAFF_CSV = CsvFormat(encoding="utf-8-sig", line_ending=LineEnding.CRLF)


def write_findings(stage: Path, findings: pl.DataFrame) -> WrittenFile:
    ordered = findings.select(list(FINDING_HEADERS)).rename(FINDING_HEADERS)
    return write_csv(ordered, stage / FINDINGS_FILE, STAFF_CSV)


class NotAFindingsFile(ValueError):
    """The file parses as CSV but is not findings.csv (``RunFolder.findings`` names it)."""


def parse_findings(source: Path | bytes) -> pl.DataFrame:
    """A findings.csv (its path or its bytes) checked by the caller to be the run's (regular
    file, SHA-256), typed."""
    try:
        raw = pl.read_csv(source, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise NotAFindingsFile(f"unreadable findings file: {exc}") from exc
    to_column = {ja: col for col, ja in FINDING_HEADERS.items()}
    headers = [h.lstrip("\ufeff") for h in raw.columns]
    if set(headers) != set(to_column):
        raise NotAFindingsFile(f"not a findings file: unexpected headers {headers}")
    frame = raw.rename(dict(zip(raw.columns, [to_column[h] for h in headers], strict=True)))
    try:
        return frame.select(list(FINDING_SCHEMA)).cast(FINDING_SCHEMA)  # type: ignore[arg-type]
    except pl.exceptions.InvalidOperationError as exc:
        raise NotAFindingsFile(f"not a findings file: {exc}") from exc
