"""The pass-to-pass diff as ONE self-contained HTML page in Japanese.

Rendered from ``RunDiff.to_dict()`` (or a stored diff.json), never from engine objects, so any
past diff can be rendered again. The diff already holds only counts and top-N samples, so the
page stays small however many records changed. Same style sheet, script and building blocks as
the run report (templates.markup); every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from etl.report.html import DASH, PASS_LABELS, severity_badge, when
from etl.report.templates.markup import NONE_HTML, bar_chart, cards, cell, esc, num, page, table

Diff = Mapping[str, Any]
CHART_ITEMS = 15  # bars per file; the table beside the chart lists every item
FINDING_KINDS = (
    ("new", "新規", "error"),
    ("fixed", "解消", "ok"),
    ("persisting", "継続", "warning"),
)
MIX = (("same", "変更なし"), ("changed", "変更"), ("added", "追加"), ("removed", "削除"))


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


def delta_html(old: int | None, new: int | None) -> str:
    """'202 → 201' with a coloured signed delta; '—' for a side that does not exist."""
    d = (new or 0) - (old or 0)
    css, sign = ("up", "+") if d > 0 else ("down", "−") if d < 0 else ("same", "±")
    side = [DASH if v is None else num(v) for v in (old, new)]
    return f'{side[0]} → {side[1]}<span class="delta {css}">{sign}{num(abs(d))}</span>'


def _value(shown: str) -> str:
    """A sample value; an empty one (null or "") says so instead of showing a blank cell."""
    return esc(shown) if shown else '<span class="muted">（空欄）</span>'


def _more(total: int, shown: int) -> str:
    if total <= shown:
        return ""
    return (
        f'<p class="note">先頭 {num(shown)} 件を表示しています。ほか {num(total - shown)} 件'
        "（件数は上の表に含まれます）。</p>"
    )


def _totals(diff: Diff) -> dict[str, int]:
    keys = ("added", "removed", "changed", "unchanged")
    return {k: sum(int(f[k]) for f in diff["files"]) for k in keys}


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
        parts.append(f"<h4>変更のサンプル</h4>{body}{_more(total, len(changes))}")
    for key, label in (("added", "追加"), ("removed", "削除")):
        samples = f[f"{key}_samples"]
        if samples:
            more = _more(int(f[key]), len(samples))
            parts.append(f"<h4>{label}のサンプル</h4>{_sample_rows(samples)}{more}")
    return (
        f'<details class="file" id="file-{i}"{"" if identical else " open"}><summary>'
        f"<code>{esc(f['gyomu'])}/{esc(f['record_file'])}</code> {esc(f['name'])} {tag}</summary>"
        f"<div>{''.join(parts)}</div></details>"
    )


def _files(diff: Diff) -> str:
    details = "".join(_file_detail(i, f) for i, f in enumerate(diff["files"], 1))
    return (
        '<section id="files"><h2>ファイル別の差分</h2>'
        '<p class="note">レコードはキー項目で照合しています。'
        "値は個人情報をマスクして表示しています。</p>"
        f"{_files_table(diff)}{details}</section>"
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


def _findings(diff: Diff) -> str:
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
        body = _finding_rows(samples) + _more(int(fd[key]), len(samples)) if samples else ""
        parts.append(head + (body or f"<p>{NONE_HTML}</p>"))
    return (
        '<section id="findings"><h2>不備の増減</h2>'
        f"<p>旧 {num(fd['old_total'])} 件 → 新 {num(fd['new_total'])} 件"
        f"（解消 {num(fd['fixed'])} 件、新規 {num(fd['new'])} 件、"
        f"継続 {num(fd['persisting'])} 件）。"
        "不備はルール・業務・ファイル・キー・項目で照合しています。</p>"
        f"{by_rule}{''.join(parts)}</section>"
    )


def _reasons(reasons: Iterable[Mapping[str, Any]]) -> str:
    lines = [
        f"{esc(r['reason'])}: {delta_html(r['count']['old'], r['count']['new'])}" for r in reasons
    ]
    return "<br>".join(lines) or NONE_HTML


def _pair(p: Mapping[str, Any]) -> str:
    return delta_html(p["old"], p["new"])


def _counts(diff: Diff) -> str:
    sources = table(
        ["ソース", "入力件数", "出力", "除外(読取不可)", "対象外の内訳"],
        ([esc(s["name"]), _pair(s["records_in"]), _pair(s["data_records"]),
          _pair(s["rejected"]), _reasons(s["filtered"])] for s in diff["sources"]),
        numeric=(1, 2, 3),
        caption="入力ファイル（旧 → 新）",
        css_class="",
    )  # fmt: skip
    names = {(f["gyomu"], f["record_file"]): f["name"] for f in diff["files"]}
    outputs = table(
        ["業務", "ファイル", "名称", "元データ件数", "出力件数", "対象外の内訳"],
        ([esc(o["gyomu"]), f"<code>{esc(o['record_file'])}</code>",
          esc(names.get((o["gyomu"], o["record_file"]), "")), _pair(o["source_data_records"]),
          _pair(o["written"]), _reasons(o["filtered"])] for o in diff["outputs"]),
        numeric=(3, 4),
        caption="V2.1 ファイル（旧 → 新）",
        css_class="",
    )  # fmt: skip
    return (
        '<section id="counts"><h2>件数の比較</h2>'
        '<p class="note">各実行の manifest.json の件数です。「—」はその実行にないファイルです。</p>'
        f"{sources}{outputs}</section>"
    )


def _layout(lay: Mapping[str, Any]) -> str:
    rows: list[list[str]] = []
    for rf in lay["record_files_added"]:
        rows.append(["レコードファイル追加", esc(rf), "", "", ""])
    for rf in lay["record_files_removed"]:
        rows.append(["レコードファイル削除", esc(rf), "", "", ""])
    for c in lay["record_files_changed"]:
        if c["name_old"] != c["name_new"]:
            rows.append(
                ["名称変更", esc(c["record_file"]), "", esc(c["name_old"]), esc(c["name_new"])]
            )
        if c["key_old"] != c["key_new"]:
            old, new = (esc(" + ".join(c[k])) for k in ("key_old", "key_new"))
            rows.append(["キー変更", esc(c["record_file"]), "", old, new])
        rows += [["項目追加", esc(c["record_file"]), esc(i), "", ""] for i in c["items_added"]]
        rows += [["項目削除", esc(c["record_file"]), esc(i), "", ""] for i in c["items_removed"]]
        rows += [[f"項目変更（{esc(i['attribute'])}）", esc(i["record_file"]), esc(i["item"]),
                  esc(i["old"]), esc(i["new"])] for i in c["items_changed"]]  # fmt: skip
    rows += [["コード表追加", esc(t), "", "", ""] for t in lay["code_tables_added"]]
    rows += [["コード表削除", esc(t), "", "", ""] for t in lay["code_tables_removed"]]
    for t in lay["code_tables_changed"]:
        name = esc(t["code_table"])
        rows += [["コード追加", name, esc(c), "", esc(v)] for c, v in t["added"].items()]
        rows += [["コード削除", name, esc(c), esc(v), ""] for c, v in t["removed"].items()]
        rows += [["コード名称変更", name, esc(r["code"]), esc(r["old"]), esc(r["new"])]
                 for r in t["renamed"]]  # fmt: skip
    version = _version(lay["old_version"], lay["new_version"])
    if not rows:
        return f"<h3><code>{esc(lay['gyomu'])}</code> {version}</h3><p>差分はありません。</p>"
    body = table(["区分", "レコードファイル / コード表", "項目 / コード", "旧", "新"], rows)
    return f"<h3><code>{esc(lay['gyomu'])}</code> {version}</h3>{body}"


def _version(old: str, new: str) -> str:
    return esc(new) if old == new else f"{esc(old)} → {esc(new)}"


def _layouts(diff: Diff) -> str:
    return (
        '<section id="layouts"><h2>レイアウト差分</h2>'
        '<p class="note">業務ごとのレイアウト（レコードファイル・項目・コード表）の違いです。</p>'
        + "".join(_layout(lay) for lay in diff["layouts"])
        + "</section>"
    )


def render_diff_html(diff: Diff) -> str:
    """The whole page from ``RunDiff.to_dict()`` (or the same dict read back from diff.json)."""
    toc = [("summary", "概要"), ("files", "ファイル別の差分"), ("findings", "不備の増減"),
           ("counts", "件数の比較")]  # fmt: skip
    sections = [_summary(diff), _files(diff), _findings(diff), _counts(diff)]
    if diff.get("layouts"):
        toc.append(("layouts", "レイアウト差分"))
        sections.append(_layouts(diff))
    old, new = (run_label(diff[k])[1] for k in ("old_run", "new_run"))
    return page(
        title=f"パス間差分レポート {old} → {new}",
        header_html=_header(diff),
        toc=toc,
        sections=sections,
        tool_version=str(diff["new_run"].get("tool_version", "")),
    )
