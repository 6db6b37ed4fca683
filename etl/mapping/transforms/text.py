"""Text steps: trim, pad, kana, width, split, slice, digits_only."""

from __future__ import annotations

from etl.config import KeyPath
from etl.mapping.model import KanaArgs, PadArgs, SliceArgs, SplitArgs, WidthArgs
from etl.mapping.transforms.base import CompileContext, Compiled
from etl.text import (
    ascii_to_hankaku,
    ascii_to_zenkaku,
    hankaku_kana_to_zenkaku,
    hiragana_to_katakana,
    strip_spaces,
    zenkaku_kana_to_hankaku,
)


def trim(c: Compiled, args: None, ctx: CompileContext, at: KeyPath) -> Compiled:
    return c.then(strip_spaces(c.expr))


def pad(c: Compiled, args: PadArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    n, char = args.length, args.char
    expr = c.expr.str.pad_start(n, char) if args.side == "left" else c.expr.str.pad_end(n, char)
    return c.then(expr)


KANA = {
    "zenkaku": hankaku_kana_to_zenkaku,
    "hankaku": zenkaku_kana_to_hankaku,
    "katakana": hiragana_to_katakana,
}
WIDTH = {"zenkaku": ascii_to_zenkaku, "hankaku": ascii_to_hankaku}


def kana(c: Compiled, args: KanaArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    return c.then(KANA[args.to](c.expr))


def width(c: Compiled, args: WidthArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    return c.then(WIDTH[args.to](c.expr))


def split(c: Compiled, args: SplitArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    # splitn into index+2 parts puts exactly part ``index`` in field_<index> (null when there
    # are fewer parts) without building a list per row; the index is bounded by the model.
    parts = c.expr.str.splitn(args.sep, args.index + 2)
    return c.then(parts.struct.field(f"field_{args.index}"))


def slice_(c: Compiled, args: SliceArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    return c.then(c.expr.str.slice(args.start, args.length))


def digits_only(c: Compiled, args: None, ctx: CompileContext, at: KeyPath) -> Compiled:
    return c.then(ascii_to_hankaku(c.expr).str.replace_all(r"[^0-9]", ""))
