"""件数の比較 and レイアウト差分: the manifests' counts and the layouts, old → new, side by side."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from etl.report.diff_html_blocks import Diff, delta_html
from etl.report.templates.markup import NONE_HTML, esc, table


def _reasons(reasons: Iterable[Mapping[str, Any]]) -> str:
    lines = [
        f"{esc(r['reason'])}: {delta_html(r['count']['old'], r['count']['new'])}" for r in reasons
    ]
    return "<br>".join(lines) or NONE_HTML


def _pair(p: Mapping[str, Any]) -> str:
    return delta_html(p["old"], p["new"])


def counts_section(diff: Diff) -> str:
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


def layouts_section(diff: Diff) -> str:
    return (
        '<section id="layouts"><h2>レイアウト差分</h2>'
        '<p class="note">業務ごとのレイアウト（レコードファイル・項目・コード表）の違いです。</p>'
        + "".join(_layout(lay) for lay in diff["layouts"])
        + "</section>"
    )
