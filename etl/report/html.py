"""The run report as ONE self-contained HTML page in Japanese.

Inline CSS, inline JS, charts as inline SVG drawn in Python: the page opens offline, from a USB
stick or a mail attachment, and never fetches anything. Every value comes from data, so every
value is escaped (templates.markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from etl.findings import Severity
from etl.report.model import (
    EXTRA_SECTION_TITLES,
    SEVERITY_LABELS,
    OutputCount,
    RuleCount,
    RunReport,
)
from etl.report.reconciliation import reconciliation_html
from etl.report.templates.markup import (
    NONE_HTML,
    bar_chart,
    cards,
    cell,
    esc,
    num,
    page,
    table,
    value_html,
)

PASS_LABELS = {"test1": "テスト移行 1回目", "test2": "テスト移行 2回目", "production": "本番移行"}
CHART_RULES = 15  # bars in the chart; the table below it lists every rule
DASH = "—"


def when(value: str | None) -> str:
    """An ISO timestamp as 2026-11-23 16:08:14 (UTC+09:00); anything else as given."""
    if not value:
        return DASH
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = ts.strftime("%z")
    zone = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return ts.strftime("%Y-%m-%d %H:%M:%S") + zone


def severity_badge(sev: str) -> str:
    return f'<span class="sev {esc(sev)}">{esc(SEVERITY_LABELS.get(sev, sev))}</span>'


def _balanced(ok: bool) -> str:
    return cell("✓ 一致", "ok") if ok else cell("✗ 不一致", "ng")


def _reasons(reasons: Sequence[tuple[str, int]]) -> str:
    return "<br>".join(f"{esc(r)}: {num(n)}" for r, n in reasons) or NONE_HTML


def _written(o: OutputCount) -> str:
    if o.aggregated_records is None:
        return num(o.written)
    return f"{num(o.written)}<br>(集約元 {num(o.aggregated_records)} 件)"


def _rejected(o: OutputCount) -> str:
    listed = f"<br><code>{esc(o.rejects_path)}</code>" if o.rejects_path else ""
    return _reasons(o.rejected) + listed if o.rejected else NONE_HTML


def _file_labels(report: RunReport) -> dict[tuple[str, str], str]:
    """(業務, file) of a finding → what staff recognise: the V2.1 path or the delivered file."""
    labels = {
        (o.gyomu, o.record_file): f"{o.gyomu}/{o.record_file} {o.name}" for o in report.outputs
    }
    labels |= {("", s.name): f"入力 {s.file}" for s in report.sources}
    return labels


def _header(report: RunReport) -> str:
    meta = report.meta
    parts = (report.vendor, PASS_LABELS.get(meta.pass_name or "", meta.pass_name), meta.run_id)
    banner = ""
    if meta.override:
        banner = (
            '<div class="override" role="alert"><div class="wrap">'
            f"ゲートを上書きして実行されました: 理由 {esc(meta.override)}</div></div>"
        )
    return (
        '<header class="top"><div class="wrap"><h1>移行実行レポート</h1>'
        f'<p class="sub">{" · ".join(esc(p) for p in parts if p)}</p></div></header>{banner}'
    )


def _summary(report: RunReport) -> str:
    meta = report.meta
    errors = report.severity_total(Severity.ERROR)
    warnings = report.severity_total(Severity.WARNING)
    card_items = [
        ("", "入力レコード", num(sum(s.records_in for s in report.sources))),
        ("", "出力レコード (V2.1)", num(sum(o.written for o in report.outputs))),
        ("warning" if report.rejected_total else "ok", "除外レコード", num(report.rejected_total)),
        ("error" if errors else "ok", "エラー", num(errors)),
        ("warning" if warnings else "ok", "警告", num(warnings)),
        ("ok" if report.balanced else "error", "件数の整合", "✓" if report.balanced else "✗"),
    ]
    if errors:
        status = f"エラー {num(errors)} 件: 本番移行の前に解消が必要です"
        status_html = f'<span class="status error">{status}</span>'
    else:
        status_html = '<span class="status ok">本番移行を妨げるエラーはありません</span>'
    pass_label = PASS_LABELS.get(meta.pass_name or "", meta.pass_name or "")
    facts = [
        ("ベンダー", esc(report.vendor)),
        ("パス", f"{esc(pass_label)} <code>{esc(meta.pass_name)}</code>" if pass_label else DASH),
        ("実行ID", esc(meta.run_id or DASH)),
        ("実行者", esc(meta.started_by or DASH)),
        ("開始日時", esc(when(meta.started_at))),
        ("作成日時", esc(when(report.created_at))),
        ("レイアウト版", esc(report.layout_version)),
        ("ツール版", f"chukan-etl {esc(report.tool_version)}"),
    ]
    if meta.override:
        facts.append(("ゲートの上書き", f'<span class="status error">{esc(meta.override)}</span>'))
    facts_html = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    notice = ""
    if meta.gate_warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in meta.gate_warnings)
        notice = f'<div class="notice"><strong>ゲートの警告</strong><ul>{items}</ul></div>'
    return (
        f'<section id="summary"><h2>概要</h2><p>{status_html}</p>'
        f"{cards(card_items)}{notice}"
        f'<dl class="facts">{facts_html}</dl></section>'
    )


def _counts(report: RunReport) -> str:
    sources = table(
        ["ソース", "ファイル", "入力件数", "出力", "除外(読取不可)", "対象外", "対象外の内訳",
         "整合"],
        (
            [esc(s.name), esc(s.file), num(s.records_in), num(s.data_records), num(s.rejected),
             num(s.filtered_total), _reasons(s.filtered), _balanced(s.adds_up)]
            for s in report.sources
        ),
        numeric=(2, 3, 4, 5),
        caption="入力ファイル: 入力件数 = 出力 + 除外(読取不可) + 対象外",
    )  # fmt: skip
    outputs = table(
        ["業務", "ファイル", "名称", "元データ", "元データ件数", "出力件数", "除外(変換不可)",
         "除外の理由", "対象外", "対象外の理由", "整合"],
        (
            [esc(o.gyomu), f"<code>{esc(o.path)}</code>", esc(o.name), esc(o.source),
             num(o.source_data_records), _written(o), num(o.rejected_total), _rejected(o),
             num(o.filtered_total), _reasons(o.filtered), _balanced(o.adds_up)]
            for o in report.outputs
        ),
        numeric=(4, 5, 6, 8),
        caption="V2.1 ファイル: 元データ件数 = 出力件数 + 除外(変換不可) + 対象外"
        "（集約したファイルは出力件数の代わりに集約元の件数）",
    )  # fmt: skip
    note = (
        '<p class="note">除外(読取不可)のレコードは rejects/ フォルダに元のバイト列のまま、'
        "除外(変換不可)のレコード（存在しない日付など）は rejects/mapping/ フォルダに理由・キー・"
        "元の値とともに残し、対象外は理由ごとに数えています。"
        "すべての入力レコードの行き先がこの表で分かります。</p>"
    )
    return f'<section id="counts"><h2>件数</h2>{sources}{outputs}{note}</section>'


def _rule_details(
    report: RunReport, index: int, rc: RuleCount, labels: dict[tuple[str, str], str]
) -> str:
    rows = report.samples.filter((pl.col("rule") == rc.rule) & (pl.col("severity") == rc.severity))
    table_id = f"rule-{index}-rows"
    body = table(
        ["ファイル", "レコード番号", "キー", "項目", "値", "内容"],
        (
            [
                esc(labels.get((r["gyomu"], r["file"]), f"{r['gyomu']}/{r['file']}")),
                "" if r["record_no"] is None else num(r["record_no"]),
                esc(r["key"]),
                esc(r["item"]),
                cell(esc(r["value"]), "value"),
                esc(r["message"]),
            ]
            for r in rows.iter_rows(named=True)
        ),
        numeric=(1,),
        table_id=table_id,
        css_class="sortable rows",
        widths=("16%", "10%", "15%", "10%", "12%", "37%"),
    )
    more = rc.count - rows.height
    note = (
        f'<p class="note">先頭 {num(rows.height)} 件を表示しています。残り {num(more)} 件は '
        "report.xlsx の「不備一覧」または findings.csv を参照してください。</p>"
        if more > 0
        else ""
    )
    search = (
        f'<input class="filter" type="search" data-table="{table_id}" '
        'placeholder="この表を絞り込む（キー・項目・値・内容）">'
    )
    return (
        f'<details class="rule" id="rule-{index}" open><summary><code>{esc(rc.rule)}</code> '
        f"{severity_badge(rc.severity)} {num(rc.count)} 件</summary><div>{search}{body}{note}</div>"
        "</details>"
    )


def _findings(report: RunReport) -> str:
    if not report.total:
        return '<section id="findings"><h2>検査結果</h2><p>不備はありません。</p></section>'
    labels = _file_labels(report)
    shown = report.rule_counts[:CHART_RULES]
    chart = bar_chart([(c.rule, c.count, c.severity) for c in shown], "ルール別の件数")
    if len(report.rule_counts) > len(shown):
        chart += f'<p class="note">上位 {len(shown)} ルールを表示しています。</p>'
    by_rule = table(
        ["ルール", "重大度", "件数", "明細"],
        (
            [f"<code>{esc(c.rule)}</code>", severity_badge(c.severity), num(c.count),
             f'<a href="#rule-{i}">表示</a>']
            for i, c in enumerate(report.rule_counts, 1)
        ),
        numeric=(2,),
        caption="ルール別",
    )  # fmt: skip
    by_file = table(
        ["ファイル", "エラー", "警告", "計"],
        (
            [esc(labels.get((f.gyomu, f.file), f"{f.gyomu}/{f.file}")), num(f.errors),
             num(f.warnings), num(f.total)]
            for f in report.file_counts
        ),
        numeric=(1, 2, 3),
        caption="ファイル別",
    )  # fmt: skip
    details = "".join(
        _rule_details(report, i, c, labels) for i, c in enumerate(report.rule_counts, 1)
    )
    errors, warnings = (report.severity_total(s) for s in (Severity.ERROR, Severity.WARNING))
    return (
        f'<section id="findings"><h2>検査結果</h2><p>不備 {num(report.total)} 件'
        f"（エラー {num(errors)} 件、警告 {num(warnings)} 件）。"
        "値は個人情報をマスクして表示しています。</p>"
        f'<h3>ルール別の件数</h3><div class="chart">{chart}</div>{by_rule}{by_file}'
        f"<h3>明細（ルールごとに先頭 {num(report.top)} 件）</h3>{details}</section>"
    )


def _extra_section(report: RunReport, key: str, data: object) -> str:
    if key == "reconciliation":
        return reconciliation_html(data, report)
    return value_html(data)


def render_html(report: RunReport) -> str:
    extra = [
        (
            "reconciliation" if key == "reconciliation" else f"extra-{i}",
            EXTRA_SECTION_TITLES.get(key, key),
            _extra_section(report, key, data),
        )
        for i, (key, data) in enumerate(report.extra_sections.items(), 1)
    ]
    toc = [("summary", "概要"), ("counts", "件数"), ("findings", "検査結果")]
    toc += [(anchor, title) for anchor, title, _ in extra]
    sections = [_summary(report), _counts(report), _findings(report)]
    sections += [f'<section id="{a}"><h2>{esc(t)}</h2>{h}</section>' for a, t, h in extra]
    return page(
        title=f"移行実行レポート {report.vendor} {report.meta.pass_name or ''}".strip(),
        header_html=_header(report),
        toc=toc,
        sections=sections,
        tool_version=report.tool_version,
    )
