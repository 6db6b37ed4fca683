"""The Japanese words of the reports, in one place: what staff read for a pass, a severity,
a section, a control total, a finding change. HTML pages, workbooks and the console of the
reports take them from here (the findings.csv column headers belong to the run folder:
etl.run_folder.FINDING_HEADERS, re-exported here for the reports)."""

from __future__ import annotations

from etl.findings import Severity
from etl.run_folder import FINDING_HEADERS

PASS_LABELS = {"test1": "テスト移行 1回目", "test2": "テスト移行 2回目", "production": "本番移行"}
SEVERITY_LABELS = {Severity.ERROR.value: "エラー", Severity.WARNING.value: "警告"}
# run.json keys taken as extra report sections, with their Japanese titles.
EXTRA_SECTION_TITLES = {"diff": "差分", "reconciliation": "突合"}

# 突合 (control totals): the kind of a control, the columns of its table, the blocking warning.
CONTROL_KIND_LABELS = {"sum": "合計", "count_by": "コード別", "sum_by": "コード別合計"}
CONTROL_HEADERS = ("項目", "区分", "コード", "元データ", "出力", "対象外", "差(説明なし)", "判定")
UNEXPLAINED_WARNING = "説明のつかない差があります。本番移行はできません"

# How a finding changed between two runs (diff report), in the order the report lists them.
FINDING_CHANGE_LABELS = {"new": "新規", "fixed": "解消", "persisting": "継続"}

__all__ = [
    "CONTROL_HEADERS",
    "CONTROL_KIND_LABELS",
    "EXTRA_SECTION_TITLES",
    "FINDING_CHANGE_LABELS",
    "FINDING_HEADERS",
    "PASS_LABELS",
    "SEVERITY_LABELS",
    "UNEXPLAINED_WARNING",
]
