"""The pass-to-pass diff as ONE self-contained HTML page in Japanese (templates/diff.html.j2).

Rendered from ``RunDiff.to_dict()`` (or a stored diff.json), never from engine objects, so any
past diff can be rendered again. The diff already holds only counts and top-N samples, so the
page stays small however many records changed. Same page layout, style sheet, script and
macros as the run report (etl.render); every value is escaped by the template environment.
This module prepares what the template cannot say simply: run labels, the stacked bar of each
file, the notes on a file, the rows of a layout change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from etl.render import num, render
from etl.report.diff.lists import list_file
from etl.report.labels import FINDING_CHANGE_LABELS, PASS_LABELS, SEVERITY_LABELS

Diff = Mapping[str, Any]  # RunDiff.to_dict(), or the same dict read back from diff.json
PACKAGE = "etl.report.diff"  # whose templates/ folder holds diff.html.j2
CHART_ITEMS = 15  # bars per file; the table beside the chart lists every item
MIX = (("same", "変更なし"), ("changed", "変更"), ("added", "追加"), ("removed", "削除"))
MIX_WIDTH = 160


def run_label(info: Mapping[str, Any]) -> tuple[str, str]:
    """(pass, run id) of a diffed run; a diff.json without them falls back to its project path
    runs/<pass>/<run-id>, else to the folder name."""
    parts = PurePath(str(info.get("path", ""))).parts
    from_path = ("", parts[-1] if parts else "")
    if len(parts) >= 3 and parts[-3] == "runs":
        from_path = (parts[-2], parts[-1])
    pass_name = str(info.get("pass_name") or from_path[0])
    return pass_name, str(info.get("run_id") or from_path[1])


@dataclass(frozen=True, slots=True)
class MixPart:
    css_class: str
    label: str
    count: int
    x: int
    width: int


def mix_parts(f: Mapping[str, Any], width: int = MIX_WIDTH) -> list[MixPart]:
    """One stacked bar of a file: unchanged / changed / added / removed records."""
    counts = [int(f[k]) for k in ("unchanged", "changed", "added", "removed")]
    total = sum(counts) or 1
    parts, x = [], 0
    for (css, label), n in zip(MIX, counts, strict=True):
        w = max(2, round(width * n / total)) if n else 0  # a single record stays visible
        parts.append(MixPart(css, label, n, x, w))
        x += w
    return parts


def item_change_bars(f: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """The bars of a file's 項目別の変更件数 chart: the first CHART_ITEMS items."""
    return [(c["item"], int(c["changed"]), "change") for c in f["item_changes"][:CHART_ITEMS]]


def file_notes(f: Mapping[str, Any]) -> list[str]:
    """What staff must know before reading a file's counts: a side without the file, keys
    left out as duplicates, items a side does not have."""
    notes = []
    if not f["in_old"]:
        notes.append(
            "旧の実行にはこのファイルがありません。すべてのレコードを追加として数えています。"
        )
    if not f["in_new"]:
        notes.append(
            "新の実行にはこのファイルがありません。すべてのレコードを削除として数えています。"
        )
    for side, label in (("old", "旧"), ("new", "新")):
        dup = f[f"{side}_duplicates"]
        if dup["records"]:
            notes.append(
                f"{label}: キーが重複する {num(dup['keys'])} キー（{num(dup['records'])} レコード）"
                "は比較から除いています。"
            )
        if f[f"{side}_missing_items"]:
            missing = "、".join(f[f"{side}_missing_items"])
            notes.append(f"{label}: ファイルに項目がなく空として比較しました: {missing}")
    return notes


def layout_rows(lay: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """One 業務's layout change as rows: 区分, record file / code table, item / code, old, new."""
    rows: list[tuple[str, str, str, str, str]] = []
    for rf in lay["record_files_added"]:
        rows.append(("レコードファイル追加", rf, "", "", ""))
    for rf in lay["record_files_removed"]:
        rows.append(("レコードファイル削除", rf, "", "", ""))
    for c in lay["record_files_changed"]:
        if c["name_old"] != c["name_new"]:
            rows.append(("名称変更", c["record_file"], "", c["name_old"], c["name_new"]))
        if c["key_old"] != c["key_new"]:
            old, new = (" + ".join(c[k]) for k in ("key_old", "key_new"))
            rows.append(("キー変更", c["record_file"], "", old, new))
        rows += [("項目追加", c["record_file"], i, "", "") for i in c["items_added"]]
        rows += [("項目削除", c["record_file"], i, "", "") for i in c["items_removed"]]
        rows += [(f"項目変更（{i['attribute']}）", i["record_file"], i["item"], i["old"], i["new"])
                 for i in c["items_changed"]]  # fmt: skip
    rows += [("コード表追加", t, "", "", "") for t in lay["code_tables_added"]]
    rows += [("コード表削除", t, "", "", "") for t in lay["code_tables_removed"]]
    for t in lay["code_tables_changed"]:
        name = t["code_table"]
        rows += [("コード追加", name, c, "", v) for c, v in t["added"].items()]
        rows += [("コード削除", name, c, v, "") for c, v in t["removed"].items()]
        rows += [("コード名称変更", name, r["code"], r["old"], r["new"]) for r in t["renamed"]]
    return rows


def _totals(diff: Diff) -> dict[str, int]:
    keys = ("added", "removed", "changed", "unchanged")
    return {k: sum(int(f[k]) for f in diff["files"]) for k in keys}


def render_diff_html(diff: Diff) -> str:
    """The whole page from ``RunDiff.to_dict()`` (or the same dict read back from diff.json)."""
    toc = [("summary", "概要"), ("files", "ファイル別の差分"), ("findings", "不備の増減"),
           ("counts", "件数の比較")]  # fmt: skip
    if diff.get("layouts"):
        toc.append(("layouts", "レイアウト差分"))
    old, new = (run_label(diff[k])[1] for k in ("old_run", "new_run"))
    return render(
        PACKAGE,
        "diff.html.j2",
        title=f"パス間差分レポート {old} → {new}",
        toc=toc,
        tool_version=str(diff["new_run"].get("tool_version", "")),
        diff=diff,
        totals=_totals(diff),
        duplicates=sum(
            int(f["excluded_records_old"]) + int(f["excluded_records_new"]) for f in diff["files"]
        ),
        file_names={(f["gyomu"], f["record_file"]): f["name"] for f in diff["files"]},
        PASS_LABELS=PASS_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        FINDING_CHANGE_LABELS=FINDING_CHANGE_LABELS,
        MIX=MIX,
        MIX_WIDTH=MIX_WIDTH,
        item_change_bars=item_change_bars,
        run_label=run_label,
        mix_parts=mix_parts,
        file_notes=file_notes,
        layout_rows=layout_rows,
        list_file=list_file,
    )
