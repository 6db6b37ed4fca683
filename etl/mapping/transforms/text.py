"""Text steps: trim, pad, kana, width, split, slice, digits_only.

>>> import polars as pl
>>> from etl.mapping.transforms.text import strip_spaces
>>> pl.select(strip_spaces(pl.lit("　山田 "))).item()
'山田'
"""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.mapping.transforms.base import CompileContext, Compiled
from etl.text.kana import (
    ascii_to_hankaku,
    ascii_to_zenkaku,
    hankaku_kana_to_zenkaku,
    hiragana_to_katakana,
    zenkaku_kana_to_hankaku,
)

SPACES = " \u3000"  # legacy fields are padded with half- or full-width spaces


def strip_spaces(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(SPACES)


def trim(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if args not in (None, True):
        raise ctx.fail(where, "trim takes no arguments")
    return c.then(strip_spaces(c.expr))


def pad(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if not isinstance(args, dict) or not isinstance(args.get("length"), int):
        raise ctx.fail(where, "pad needs {length: N, char: '0', side: left|right}")
    char = str(args.get("char", " "))
    side = args.get("side", "left")
    if len(char) != 1 or side not in ("left", "right"):
        raise ctx.fail(where, "pad: char must be one character and side left or right")
    n = int(args["length"])
    expr = c.expr.str.pad_start(n, char) if side == "left" else c.expr.str.pad_end(n, char)
    return c.then(expr)


KANA = {
    "zenkaku": hankaku_kana_to_zenkaku,
    "hankaku": zenkaku_kana_to_hankaku,
    "katakana": hiragana_to_katakana,
}
WIDTH = {"zenkaku": ascii_to_zenkaku, "hankaku": ascii_to_hankaku}


def kana(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if args not in KANA:
        raise ctx.fail(where, f"kana takes one of {', '.join(KANA)}")
    return c.then(KANA[args](c.expr))


def width(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if args not in WIDTH:
        raise ctx.fail(where, f"width takes one of {', '.join(WIDTH)}")
    return c.then(WIDTH[args](c.expr))


def split(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if not isinstance(args, dict) or not isinstance(args.get("index"), int) or not args.get("sep"):
        raise ctx.fail(where, "split needs {sep: '-', index: N}")
    index = int(args["index"])
    # splitn into index+2 parts puts exactly part ``index`` in field_<index> (null when there
    # are fewer parts) without building a list per row.
    parts = c.expr.str.splitn(str(args["sep"]), index + 2)
    return c.then(parts.struct.field(f"field_{index}"))


def slice_(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if not isinstance(args, dict) or not isinstance(args.get("start"), int):
        raise ctx.fail(where, "slice needs {start: N, length: M}")
    length = args.get("length")
    if length is not None and not isinstance(length, int):
        raise ctx.fail(where, "slice: length must be an integer")
    return c.then(c.expr.str.slice(int(args["start"]), length))


def digits_only(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if args not in (None, True):
        raise ctx.fail(where, "digits_only takes no arguments")
    return c.then(ascii_to_hankaku(c.expr).str.replace_all(r"[^0-9]", ""))
