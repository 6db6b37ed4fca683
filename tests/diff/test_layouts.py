"""diff_layouts: record files, items and code tables added / removed / changed."""

from __future__ import annotations

import dataclasses

from etl.diff import diff_layouts
from etl.diff.model import to_plain
from etl.layout import CodeTable, ItemType, get_layout


def test_a_layout_equals_itself() -> None:
    juki = get_layout("juki")
    d = diff_layouts(juki, juki)
    assert d.identical
    assert d.record_files_changed == () and d.code_tables_changed == ()


def test_items_files_and_codes() -> None:
    old = get_layout("juki")
    jumin, setai = old.record_files
    items = list(jumin.items)
    sex = next(i for i in items if i.name == "性別")
    items[items.index(sex)] = dataclasses.replace(sex, digits=2, required=False)
    kana = next(i for i in items if i.name == "氏名カナ")
    items.remove(kana)
    items.insert(0, dataclasses.replace(items.pop(1), type=ItemType.TEXT))  # 世帯番号 first
    items.append(dataclasses.replace(kana, name="旧氏"))
    new_jumin = dataclasses.replace(jumin, items=tuple(items), key=("宛名番号", "世帯番号"))
    extra = dataclasses.replace(setai, id="kojin", name="個人情報")
    table = old.code_tables["seibetsu"]
    values = {k: v for k, v in table.values.items() if k != "9"} | {"1": "男性", "0": "未設定"}
    codes = dict(old.code_tables) | {
        "seibetsu": dataclasses.replace(table, values=values),
        "kokuseki": CodeTable(id="kokuseki", name="国籍", values={"JP": "日本"}),
    }
    del codes["ido_jiyu"]
    new = dataclasses.replace(
        old,
        version="2.2",
        record_files=(new_jumin, extra),
        code_tables=codes,
    )
    d = diff_layouts(old, new)
    assert not d.identical
    assert (d.old_version, d.new_version) == ("2.1", "2.2")
    assert d.record_files_added == ("kojin",)
    assert d.record_files_removed == ("setai",)
    (ch,) = d.record_files_changed
    assert ch.key_old == ("宛名番号",) and ch.key_new == ("宛名番号", "世帯番号")
    assert ch.items_added == ("旧氏",)
    assert ch.items_removed == ("氏名カナ",)
    changes = {(c.item, c.attribute): (c.old, c.new) for c in ch.items_changed}
    assert changes == {
        ("世帯番号", "type"): ("digits", "text"),
        ("性別", "digits"): ("1", "2"),
        ("性別", "required"): ("true", "false"),
        ("世帯番号", "position"): ("2", "1"),
        ("宛名番号", "position"): ("1", "2"),
    }
    assert d.code_tables_added == ("kokuseki",)
    assert d.code_tables_removed == ("ido_jiyu",)
    (tc,) = d.code_tables_changed
    assert tc.code_table == "seibetsu"
    assert tc.added == (("0", "未設定"),)
    assert tc.removed == (("9", table.values["9"]),)
    assert [(r.code, r.old, r.new) for r in tc.renamed] == [("1", table.values["1"], "男性")]
    plain = to_plain(d)
    assert plain["code_tables_changed"][0]["added"] == {"0": "未設定"}
