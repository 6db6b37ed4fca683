"""ファイル別の差分: the per-V2.1-file table and, per file, notes, item changes and samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from etl.report.diff_html_blocks import Diff, more_note
from etl.report.diff_lists import list_file
from etl.report.templates.markup import bar_chart, cell, esc, num, table

CHART_ITEMS = 15  # bars per file; the table beside the chart lists every item
MIX = (("same", "変更なし"), ("changed", "変更"), ("added", "追加"), ("removed", "削除"))


def _value(shown: str) -> str:
    """A sample value; an empty one (null or "") says so instead of showing a blank cell."""
    return esc(shown) if shown else '<span class="muted">（空欄）</span>'


def mix_svg(f: Mapping[str, Any], width: int = 160) -> str:
    """One stacked bar: unchanged / changed / added / removed records of a file."""
    counts = [int(f[k]) for k in ("unchanged", "changed", "added", "removed")]
    total = sum(counts) or 1
    parts, x = [], 0
    for (css, label), n in zip(MIX, counts, strict=True):
        w = max(2, round(width * n / total)) if n else 0  # a single record stays visible
        parts.append(
            f'<rect class="{css}" x="{x}" y="0" width="{w}" height="14">'
            f"<title>{esc(label)}: {num(n)}</title></rect>"
        )
        x += w
    return (
        f'<svg class="mix" role="img" aria-label="レコードの内訳" viewBox="0 0 {max(x, width)} 14"'
        f' width="{width}" height="14">{"".join(parts)}</svg>'
    )


def _files_table(diff: Diff) -> str:
    legend = "".join(f'<i class="{c}"></i>{esc(label)}' for c, label in MIX)
    body = table(
        ["業務", "ファイル", "名称", "キー", "旧件数", "新件数", "追加", "削除", "変更",
         "変更なし", "内訳"],
        (
            [esc(f["gyomu"]), f'<a href="#file-{i}"><code>{esc(f["record_file"])}</code></a>',
             esc(f["name"]), esc(" + ".join(f["key"])), num(f["old_records"]),
             num(f["new_records"]), num(f["added"]), num(f["removed"]), num(f["changed"]),
             num(f["unchanged"]), mix_svg(f)]
            for i, f in enumerate(diff["files"], 1)
        ),
        numeric=range(4, 10),
        caption="V2.1 ファイルごとの件数",
    )  # fmt: skip
    return f'{body}<p class="legend">内訳:{legend}</p>'


def _sample_rows(samples: Sequence[Mapping[str, Any]]) -> str:
    items = list(dict.fromkeys(k for s in samples for k in s["values"]))
    return table(
        ["キー", *items],
        ([esc(s["key"]), *(cell(esc(s["values"].get(i, "")), "value") for i in items)]
         for s in samples),
        css_class="sortable rows",
    )  # fmt: skip


def _file_notes(f: Mapping[str, Any]) -> str:
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
    return "".join(f'<div class="notice">{esc(n)}</div>' for n in notes)


def _file_detail(i: int, f: Mapping[str, Any]) -> str:
    counts = " · ".join(
        f"{label} {num(f[k])}" for k, label in (("added", "追加"), ("removed", "削除"),
                                                 ("changed", "変更"))
    )  # fmt: skip
    identical = not (f["added"] or f["removed"] or f["changed"])
    tag = (
        '<span class="tag ok">差分なし</span>'
        if identical
        else f'<span class="tag">{counts}</span>'
    )
    parts = [_file_notes(f)]
    if identical:
        parts.append(f"<p>{num(f['unchanged'])} 件すべて一致しています。</p>")
    if f["item_changes"]:
        shown = f["item_changes"][:CHART_ITEMS]
        chart = bar_chart(
            [(c["item"], int(c["changed"]), "change") for c in shown],
            "項目別の変更件数",
            label_w=150,
            bar_w=320,
        )
        items = table(
            ["項目", "変更件数"],
            ([esc(c["item"]), num(c["changed"])] for c in f["item_changes"]),
            numeric=(1,),
        )
        parts.append(
            f'<h4>項目別の変更件数</h4><div class="split">{items}'
            f'<div class="chart">{chart}</div></div>'
        )
    changes = f["changed_samples"]
    if changes:
        body = table(
            ["キー", "項目", "旧値", "新値"],
            ([esc(s["key"]), esc(s["item"]), cell(_value(s["old"]), "value old"),
              cell(_value(s["new"]), "value new")] for s in changes),
            css_class="sortable rows",
            widths=("22%", "18%", "30%", "30%"),
        )  # fmt: skip
        total = sum(int(c["changed"]) for c in f["item_changes"])
        full = list_file("changed", f["gyomu"], f["record_file"])
        parts.append(f"<h4>変更のサンプル</h4>{body}{more_note(total, len(changes), full)}")
    for key, label in (("added", "追加"), ("removed", "削除")):
        samples = f[f"{key}_samples"]
        if samples:
            full = list_file(key, f["gyomu"], f["record_file"])
            more = more_note(int(f[key]), len(samples), full)
            parts.append(f"<h4>{label}のサンプル</h4>{_sample_rows(samples)}{more}")
    return (
        f'<details class="file" id="file-{i}"{"" if identical else " open"}><summary>'
        f"<code>{esc(f['gyomu'])}/{esc(f['record_file'])}</code> {esc(f['name'])} {tag}</summary>"
        f"<div>{''.join(parts)}</div></details>"
    )


def files_section(diff: Diff) -> str:
    details = "".join(_file_detail(i, f) for i, f in enumerate(diff["files"], 1))
    return (
        '<section id="files"><h2>ファイル別の差分</h2>'
        '<p class="note">レコードはキー項目で照合しています。'
        "値は個人情報をマスクして表示しています。</p>"
        f"{_files_table(diff)}{details}</section>"
    )
