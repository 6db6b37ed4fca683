"""不備の増減: findings per rule old → new, and samples of new, fixed and persisting ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from etl.report.diff_html_blocks import Diff, delta_html, more_note
from etl.report.html import severity_badge
from etl.report.templates.markup import NONE_HTML, cell, esc, num, table

FINDING_KINDS = (
    ("new", "新規", "error"),
    ("fixed", "解消", "ok"),
    ("persisting", "継続", "warning"),
)


def _finding_rows(samples: Sequence[Mapping[str, Any]]) -> str:
    def where(s: Mapping[str, Any]) -> str:
        return f"入力 {s['file']}" if not s["gyomu"] else f"{s['gyomu']}/{s['file']}"

    return table(
        ["ルール", "重大度", "ファイル", "レコード番号", "キー", "項目", "値", "内容"],
        ([f"<code>{esc(s['rule'])}</code>", severity_badge(s["severity"]), esc(where(s)),
          "" if s["record_no"] is None else num(s["record_no"]), esc(s["key"]), esc(s["item"]),
          cell(esc(s["value"]), "value"), esc(s["message"])] for s in samples),
        numeric=(3,),
        css_class="sortable rows",
        widths=("15%", "6%", "9%", "7%", "14%", "9%", "11%", "29%"),
    )  # fmt: skip


def findings_section(diff: Diff) -> str:
    fd = diff["findings"]
    by_rule = table(
        ["ルール", "旧 → 新", "解消", "新規", "継続"],
        ([f"<code>{esc(r['rule'])}</code>", delta_html(r["old_total"], r["new_total"]),
          num(r["fixed"]), cell(num(r["new"]), "num ng") if r["new"] else num(r["new"]),
          num(r["persisting"])] for r in fd["by_rule"]),
        numeric=(1, 2, 3, 4),
        caption="ルール別（旧 → 新）",
    )  # fmt: skip
    parts = []
    for key, label, css in FINDING_KINDS:
        samples = fd[f"{key}_samples"]
        tag = css if fd[key] else "ok" if key == "new" else ""
        head = f'<h3>{label} <span class="tag {tag}">{num(fd[key])} 件</span></h3>'
        body = _finding_rows(samples) + more_note(int(fd[key]), len(samples)) if samples else ""
        parts.append(head + (body or f"<p>{NONE_HTML}</p>"))
    return (
        '<section id="findings"><h2>不備の増減</h2>'
        f"<p>旧 {num(fd['old_total'])} 件 → 新 {num(fd['new_total'])} 件"
        f"（解消 {num(fd['fixed'])} 件、新規 {num(fd['new'])} 件、"
        f"継続 {num(fd['persisting'])} 件）。"
        "不備はルール・業務・ファイル・キー・項目で照合しています。</p>"
        f"{by_rule}{''.join(parts)}</section>"
    )
