from __future__ import annotations

import numpy as np

from etl.extract.decode import check_digits, decode_field


def rows(*values: bytes, width: int) -> np.ndarray:
    return np.frombuffer(b"".join(v.ljust(width) for v in values), dtype=np.uint8).reshape(
        len(values), width
    )


def test_cp932_text_kana_and_gaiji_kept() -> None:
    values = [
        "山田　太郎".encode("cp932"),
        "ﾔﾏﾀﾞ ﾀﾛｳ".encode("cp932"),
        b"\xf0\x40" + "子".encode("cp932"),  # 外字 F040 → U+E000, must survive
        "ｱ　".encode("cp932") + "　　".encode("cp932"),  # full-width padding stripped
        b"",
    ]
    arr = rows(*values, width=12)
    col = decode_field(arr, 0, 12, "cp932")
    assert col.bad == ()
    assert col.values.to_list() == ["山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "\ue000子", "ｱ", ""]


def test_field_inside_record_uses_offset() -> None:
    arr = rows(b"XX" + "花子".encode("cp932") + b"  YY", width=10)
    col = decode_field(arr, 2, 6, "cp932")
    assert col.values.to_list() == ["花子"]


def test_invalid_byte_reports_row_and_record_offset() -> None:
    arr = rows(b"AB  ABCDEF", b"ZZ  A\x85\x40CDE", width=10)
    col = decode_field(arr, 4, 6, "cp932")
    assert [(b.row, b.offset, b.raw) for b in col.bad] == [(1, 5, b"\x85")]
    assert "0x85 0x40" in col.bad[0].reason


def test_double_byte_cut_at_field_end_is_an_error() -> None:
    # 漢 = 0x8ABF: lead byte is the field's last byte, trail byte is in the next field
    arr = rows(b"ABC\x8a\xbfDE", width=8)
    col = decode_field(arr, 0, 4, "cp932")
    assert [(b.row, b.offset, b.raw) for b in col.bad] == [(0, 3, b"\x8a")]
    assert "cut at the field end" in col.bad[0].reason
    # the next field is decoded on its own (0xBF alone is half-width ｿ): nothing merged
    assert decode_field(arr, 4, 4, "cp932").values.to_list() == ["ｿDE"]


def test_line_feed_inside_field_keeps_rows_aligned() -> None:
    arr = rows(b"ab\ncd", b"efgh", b"ij\n\nk", b"lm", width=6)
    col = decode_field(arr, 0, 6, "cp932")
    assert [(b.row, b.offset) for b in col.bad] == [(0, 2), (2, 2)]
    values = col.values.to_list()
    assert values[1] == "efgh" and values[3] == "lm" and len(values) == 4


def test_cp932_silent_single_bytes_are_bad() -> None:
    arr = rows(b"a\x80b", b"\xa0", b"\xfd\xfe\xff", "死".encode("cp932"), width=4)
    col = decode_field(arr, 0, 4, "cp932")
    assert [(b.row, b.offset) for b in col.bad] == [(0, 1), (1, 0), (2, 0), (2, 1), (2, 2)]
    assert col.values[3] == "死"  # 0x8E80: 0x80 as a trail byte is fine


def test_euc_jp_and_utf8() -> None:
    arr = rows("住所　".encode("euc_jp"), width=10)
    assert decode_field(arr, 0, 10, "euc_jp").values.to_list() == ["住所"]
    arr = rows("住所".encode(), b"\xe4\xbd", width=8)
    col = decode_field(arr, 0, 8, "utf-8")
    assert col.values[0] == "住所" and [(b.row, b.offset) for b in col.bad] == [(1, 0)]


def test_digits() -> None:
    arr = rows(b"0012 ", b"12a4 ", b"     ", width=5)
    col = check_digits(arr, 0, 5)
    assert col.values.to_list()[0] == "0012" and col.values.to_list()[2] == ""
    assert [(b.row, b.offset, b.raw) for b in col.bad] == [(1, 2, b"a")]


def test_empty_input() -> None:
    arr = np.zeros((0, 8), dtype=np.uint8)
    assert decode_field(arr, 0, 8, "cp932").values.len() == 0
    assert check_digits(arr, 0, 8).values.len() == 0


def test_trailing_spaces_are_trimmed_whatever_the_row() -> None:
    rng = np.random.default_rng(11)
    for width in (1, 2, 7, 40):
        # rows of spaces, of no space, and of spaces here and there (0x20 or "a")
        arr = np.where(rng.random((300, width)) < 0.5, 0x20, 0x61).astype(np.uint8)
        arr[0] = 0x20
        arr[1] = 0x61
        col = decode_field(arr, 0, width, "cp932")
        assert col.values.to_list() == [bytes(r).rstrip(b" ").decode() for r in arr]
