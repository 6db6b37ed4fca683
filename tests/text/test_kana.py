"""etl.text.kana: the expressions give jaconv's results, vectorised."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jaconv
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.text import (
    ascii_to_hankaku,
    ascii_to_zenkaku,
    hankaku_kana_to_zenkaku,
    hiragana_to_katakana,
    zenkaku_kana_to_hankaku,
)

HALF_KANA = "".join(chr(c) for c in range(0xFF61, 0xFFA0))  # ｡ … ﾟ
FULL_KANA = "".join(chr(c) for c in range(0x30A1, 0x30FF))  # ァ … ヾ
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x309F))  # ぁ … ゞ
ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
FULL_ASCII = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
OTHER = "山田太郎渡邉髙橋①㈱〜・「」、。ー\u3000"

# Dakuten-heavy on purpose, so that base + ﾞ/ﾟ pairs (and lone marks) come up often.
text = st.text(
    alphabet=st.one_of(
        st.sampled_from(HALF_KANA),
        st.sampled_from("ｶｷｸﾊﾋﾌﾍﾎｳﾞﾟ"),
        st.sampled_from(FULL_KANA + HIRAGANA),
        st.sampled_from(ASCII + FULL_ASCII + OTHER),
    ),
    max_size=30,
)

Conv = Callable[[pl.Expr], pl.Expr]
CASES: list[tuple[Conv, Callable[[str], str]]] = [
    (hankaku_kana_to_zenkaku, lambda s: jaconv.h2z(s, kana=True, ascii=False, digit=False)),
    (zenkaku_kana_to_hankaku, lambda s: jaconv.z2h(s, kana=True, ascii=False, digit=False)),
    (hiragana_to_katakana, jaconv.hira2kata),
    (ascii_to_zenkaku, lambda s: jaconv.h2z(s, kana=False, ascii=True, digit=True)),
    (ascii_to_hankaku, lambda s: jaconv.z2h(s, kana=False, ascii=True, digit=True)),
]


def run(conv: Conv, values: Sequence[str | None]) -> list[str | None]:
    series = pl.Series("s", list(values), dtype=pl.String)
    return pl.DataFrame([series]).select(conv(pl.col("s"))).to_series().to_list()


@pytest.mark.parametrize(("conv", "ref"), CASES, ids=[c[0].__name__ for c in CASES])
@settings(max_examples=60)
@given(values=st.lists(text, max_size=50))
def test_matches_jaconv(conv: Conv, ref: Callable[[str], str], values: list[str]) -> None:
    assert run(conv, values) == [ref(v) for v in values]


@pytest.mark.parametrize(("conv", "ref"), CASES, ids=[c[0].__name__ for c in CASES])
@settings(max_examples=40)
@given(pool=st.lists(text, min_size=1, max_size=5), picks=st.lists(st.integers(0, 5), max_size=60))
def test_repeated_values_match_jaconv(
    conv: Conv, ref: Callable[[str], str], pool: list[str], picks: list[int]
) -> None:
    # Few distinct values among many rows: converted once each, then looked up (nulls kept).
    values = [pool[i] if i < len(pool) else None for i in picks]
    assert run(conv, values) == [None if v is None else ref(v) for v in values]


@pytest.mark.parametrize(
    ("conv", "given_", "expected"),
    [
        # Kana conversion leaves ASCII, the half-width space included, as it is.
        (hankaku_kana_to_zenkaku, "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        (hankaku_kana_to_zenkaku, "ｶﾞｶﾞｶ", "ガガカ"),  # the pair wins over its base
        (hankaku_kana_to_zenkaku, "ﾊﾟﾋﾟｳﾞｰ｡｢｣､･", "パピヴー。「」、・"),
        (hankaku_kana_to_zenkaku, "ﾞｷﾟ", "ﾞキﾟ"),  # like jaconv: no precomposed form, kept
        (hankaku_kana_to_zenkaku, "ABC123", "ABC123"),
        (zenkaku_kana_to_hankaku, "ガッコウ　ABC", "ｶﾞｯｺｳ\u3000ABC"),
        (hiragana_to_katakana, "やまだ　たろう", "ヤマダ　タロウ"),
        (ascii_to_zenkaku, "Tokyo 1-2", "Ｔｏｋｙｏ\u3000１－２"),
        (ascii_to_zenkaku, "ｶﾞ", "ｶﾞ"),  # width conversion leaves kana alone
        (ascii_to_hankaku, "Ｔｏｋｙｏ\u3000１－２", "Tokyo 1-2"),
        (ascii_to_hankaku, "①㈱Ａ", "①㈱A"),  # never NFKC
    ],
)
def test_examples(conv: Conv, given_: str, expected: str) -> None:
    assert run(conv, [given_]) == [expected]


@pytest.mark.parametrize(("conv", "ref"), CASES, ids=[c[0].__name__ for c in CASES])
def test_null_and_empty(conv: Conv, ref: Callable[[str], str]) -> None:
    assert run(conv, [None, ""]) == [None, ""]
