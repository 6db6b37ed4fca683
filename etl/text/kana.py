"""Kana and width conversion as polars expressions, with jaconv's tables.

The tables are built once, on first use, by asking jaconv about every candidate character (and
every half-width kana + ﾞ/ﾟ pair), so they are never typed by hand and match jaconv exactly.
Each conversion touches only its own characters: kana conversions leave ASCII (including the
half-width space) alone, width conversions leave kana alone. NFKC is never used: it would also
rewrite ①→1 and ㈱→(株) in names and addresses.

jaconv's behaviour is kept on purpose, including where it leaves characters as they are: a lone
half-width ﾞ or ﾟ, or a pair without a precomposed kana (ｷﾟ → キﾟ), stays half-width, so a
width check can still find it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

import jaconv
import polars as pl

from etl.text.distinct import per_distinct
from etl.text.utf8 import any_edge_space

_Table = tuple[tuple[str, ...], tuple[str, ...]]

SPACES = " \u3000"  # legacy fields are padded with half- or full-width spaces


def strip_spaces(expr: pl.Expr) -> pl.Expr:
    """``expr`` without leading and trailing half- and full-width spaces.

    >>> pl.select(strip_spaces(pl.lit("　山田 "))).item()
    '山田'
    """
    return expr.map_batches(_strip_spaces, return_dtype=pl.String, is_elementwise=True)


def _strip_spaces(values: pl.Series) -> pl.Series:
    # The fixed-width decoder has stripped trailing padding already, and most values start with
    # no space: looking at both ends (one pass over the bytes) costs a fraction of stripping,
    # which rebuilds every value.
    if not any_edge_space(values):
        return values
    return values.str.strip_chars(SPACES)


# Where jaconv's conversions can apply: ASCII, CJK symbols, hiragana/katakana, half/full forms.
_CANDIDATES = "".join(
    chr(c)
    for lo, hi in ((0x20, 0x7E), (0x3000, 0x30FF), (0xFF01, 0xFFEF))
    for c in range(lo, hi + 1)
)
_HALF_KANA = "".join(chr(c) for c in range(0xFF61, 0xFFA0))  # ｡ … ﾟ
_VOICING = "\uff9e\uff9f"  # ﾞ ﾟ


def _single_chars(convert: Callable[[str], str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for ch in _CANDIDATES:
        out = convert(ch)
        if out != ch:
            table[ch] = out
    return table


def _ordered(table: dict[str, str]) -> _Table:
    # replace_many(leftmost=True) is leftmost-FIRST: at one position the earliest pattern wins,
    # so longer patterns go first ("ｶﾞ" → "ガ" before "ｶ" → "カ").
    keys = sorted(table, key=lambda k: (-len(k), k))
    return tuple(keys), tuple(table[k] for k in keys)


@lru_cache(maxsize=1)
def _h2z_kana() -> _Table:
    def conv(s: str) -> str:
        return str(jaconv.h2z(s, kana=True, ascii=False, digit=False))

    table = _single_chars(conv)
    for base in _HALF_KANA:
        for mark in _VOICING:
            out = conv(base + mark)
            if len(out) == 1:  # jaconv has a precomposed kana for this pair
                table[base + mark] = out
    return _ordered(table)


@lru_cache(maxsize=1)
def _z2h_kana() -> _Table:
    return _ordered(
        _single_chars(lambda s: str(jaconv.z2h(s, kana=True, ascii=False, digit=False)))
    )


@lru_cache(maxsize=1)
def _hira2kata() -> _Table:
    return _ordered(_single_chars(lambda s: str(jaconv.hira2kata(s))))


@lru_cache(maxsize=1)
def _ascii_h2z() -> _Table:
    return _ordered(_single_chars(lambda s: str(jaconv.h2z(s, kana=False, ascii=True, digit=True))))


@lru_cache(maxsize=1)
def _ascii_z2h() -> _Table:
    return _ordered(_single_chars(lambda s: str(jaconv.z2h(s, kana=False, ascii=True, digit=True))))


def _apply(expr: pl.Expr, table: _Table) -> pl.Expr:
    return expr.map_batches(
        partial(_replace_distinct, table), return_dtype=pl.String, is_elementwise=True
    )


def _replace_distinct(table: _Table, values: pl.Series) -> pl.Series:
    """The table applied to each distinct value once: a name column repeats its values (≈17k
    distinct 氏名カナ in 100k records), and the replacement costs more than a lookup."""
    patterns, replacements = list(table[0]), list(table[1])
    return per_distinct(
        values,
        lambda v: v.str.replace_many(patterns, replacements, leftmost=True),
        most=0.5,  # mostly distinct: converting every row is cheaper
    )


def hankaku_kana_to_zenkaku(expr: pl.Expr) -> pl.Expr:
    """Half-width katakana (ﾞﾟ pairs merged, ｰ, ｡｢｣､･) → full width; ASCII untouched.

    >>> pl.select(hankaku_kana_to_zenkaku(pl.lit("ﾔﾏﾀﾞ ﾀﾛｳ"))).item()
    'ヤマダ タロウ'
    """
    return _apply(expr, _h2z_kana())


def zenkaku_kana_to_hankaku(expr: pl.Expr) -> pl.Expr:
    """Full-width katakana → half width (ガ → ｶﾞ); ASCII and hiragana untouched.

    >>> pl.select(zenkaku_kana_to_hankaku(pl.lit("ヤマダ　ガロウ"))).item()
    'ﾔﾏﾀﾞ\u3000ｶﾞﾛｳ'
    """
    return _apply(expr, _z2h_kana())


def hiragana_to_katakana(expr: pl.Expr) -> pl.Expr:
    """Hiragana → full-width katakana.

    >>> pl.select(hiragana_to_katakana(pl.lit("やまだ たろう"))).item()
    'ヤマダ タロウ'
    """
    return _apply(expr, _hira2kata())


def ascii_to_zenkaku(expr: pl.Expr) -> pl.Expr:
    """ASCII letters, digits, symbols and space → full width (space → U+3000); kana untouched.

    >>> pl.select(ascii_to_zenkaku(pl.lit("A-1 b"))).item()
    'Ａ－１\u3000ｂ'
    """
    return _apply(expr, _ascii_h2z())


def ascii_to_hankaku(expr: pl.Expr) -> pl.Expr:
    """Full-width ASCII letters, digits, symbols and U+3000 → ASCII; kana untouched.

    >>> pl.select(ascii_to_hankaku(pl.lit("Ａ－１\u3000ｂ①"))).item()
    'A-1 b①'
    """
    return _apply(expr, _ascii_z2h())
