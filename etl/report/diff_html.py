"""The pass-to-pass diff as ONE self-contained HTML page in Japanese.

Rendered from ``RunDiff.to_dict()`` (or a stored diff.json), never from engine objects, so any
past diff can be rendered again. The diff already holds only counts and top-N samples, so the
page stays small however many records changed. Same style sheet, script and building blocks as
the run report (templates.markup); every value is escaped.

This module assembles the page (header, 概要, contents); each further section has its own
module: diff_html_files (ファイル別の差分), diff_html_findings (不備の増減), diff_html_counts
(件数の比較, レイアウト差分).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from etl.report.diff_html_blocks import Diff
from etl.report.diff_html_counts import counts_section, layouts_section
from etl.report.diff_html_files import files_section
from etl.report.diff_html_findings import findings_section
from etl.report.html import DASH, PASS_LABELS, when
from etl.report.templates.markup import cards, esc, num, page, table


def run_label(info: Mapping[str, Any]) -> tuple[str, str]:
    """(pass, run id) of a diffed run; a diff.json without them falls back to its project path
    runs/<pass>/<run-id>, else to the folder name."""
    parts = PurePath(str(info.get("path", ""))).parts
    from_path = ("", parts[-1] if parts else "")
    if len(parts) >= 3 and parts[-3] == "runs":
        from_path = (parts[-2], parts[-1])
    pass_name = str(info.get("pass_name") or from_path[0])
    return pass_name, str(info.get("run_id") or from_path[1])


def _run_html(info: Mapping[str, Any]) -> str:
    pass_name, run_id = run_label(info)
    label = PASS_LABELS.get(pass_name, pass_name)
    return " ".join(x for x in (esc(label), f"<code>{esc(run_id)}</code>" if run_id else "") if x)


def _totals(diff: Diff) -> dict[str, int]:
    keys = ("added", "removed", "changed", "unchanged")
    return {k: sum(int(f[k]) for f in diff["files"]) for k in keys}


def _header(diff: Diff) -> str:
    old, new = diff["old_run"], diff["new_run"]
    sub = [new.get("vendor", ""), f"レイアウト {new.get('layout_version', '')}"]
    return (
        '<header class="top"><div class="wrap"><h1>パス間差分レポート</h1>'
        f'<p class="sub">{" · ".join(esc(s) for s in sub if s)}</p>'
        f'<p class="runs">旧 {_run_html(old)}<span class="arrow">→</span>新 {_run_html(new)}</p>'
        "</div></header>"
    )


def _summary(diff: Diff) -> str:
    t, fd = _totals(diff), diff["findings"]
    records = cards(
        [
            ("added", "追加", num(t["added"])),
            ("removed", "削除", num(t["removed"])),
            ("changed", "変更", num(t["changed"])),
            ("same", "変更なし", num(t["unchanged"])),
        ]
    )
    findings = cards(
        [
            ("ok" if fd["fixed"] else "", "解消", num(fd["fixed"])),
            ("error" if fd["new"] else "ok", "新規", num(fd["new"])),
            ("warning" if fd["persisting"] else "ok", "継続", num(fd["persisting"])),
        ]
    )
    if fd["new"]:
        status = f'<span class="status error">新たな不備が {num(fd["new"])} 件あります</span>'
    else:
        status = '<span class="status ok">新たな不備はありません</span>'
    dup = sum(
        int(f["excluded_records_old"]) + int(f["excluded_records_new"]) for f in diff["files"]
    )
    notice = (
        f'<div class="notice">キーが重複するレコード {num(dup)} 件（旧・新の合計）は比較から'
        "除いています。重複は各実行の検査結果（schema.key_unique）を確認してください。</div>"
        if dup
        else ""
    )
    old, new = diff["old_run"], diff["new_run"]
    rows = [
        ("パス", *(esc(PASS_LABELS.get(p, p) or DASH) for p, _ in map(run_label, (old, new)))),
        ("実行ID", *(esc(r or DASH) for _, r in map(run_label, (old, new)))),
        ("作成日時", esc(when(old.get("created_at"))), esc(when(new.get("created_at")))),
    ]
    for label, key in (("ベンダー", "vendor"), ("レイアウト版", "layout_version"),
                       ("ツール版", "tool_version"), ("出力文字コード", "output_encoding"),
                       ("フォルダ", "path")):  # fmt: skip
        rows.append((label, esc(old.get(key) or DASH), esc(new.get(key) or DASH)))
    facts = table(
        ["", "旧", "新"], ([f"<strong>{k}</strong>", o, n] for k, o, n in rows), css_class=""
    )
    return (
        f'<section id="summary"><h2>概要</h2><p>{status}</p>'
        f'<h3 class="group">レコード（V2.1 ファイルの合計、キーで照合）</h3>{records}'
        f'<h3 class="group">不備（旧 {num(fd["old_total"])} 件 → '
        f"新 {num(fd['new_total'])} 件）</h3>"
        f"{findings}{notice}<h3>比較した実行</h3>{facts}</section>"
    )


def render_diff_html(diff: Diff) -> str:
    """The whole page from ``RunDiff.to_dict()`` (or the same dict read back from diff.json)."""
    toc = [("summary", "概要"), ("files", "ファイル別の差分"), ("findings", "不備の増減"),
           ("counts", "件数の比較")]  # fmt: skip
    sections = [_summary(diff), files_section(diff), findings_section(diff), counts_section(diff)]
    if diff.get("layouts"):
        toc.append(("layouts", "レイアウト差分"))
        sections.append(layouts_section(diff))
    old, new = (run_label(diff[k])[1] for k in ("old_run", "new_run"))
    return page(
        title=f"パス間差分レポート {old} → {new}",
        header_html=_header(diff),
        toc=toc,
        sections=sections,
        tool_version=str(diff["new_run"].get("tool_version", "")),
    )
