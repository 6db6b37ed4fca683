"""The mapping vocabulary: one function per word (docs/mapping-spec.md lists them all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from etl.mapping.transforms.base import Check, CompileContext, Compiled, StepFn
from etl.mapping.transforms.codes import code_map
from etl.mapping.transforms.dates import date_format, seireki, wareki
from etl.mapping.transforms.sources import concat, const, take
from etl.mapping.transforms.text import digits_only, kana, pad, slice_, split, trim, width

SourceFn = Callable[[Any, CompileContext, str], Compiled]

SOURCES: dict[str, SourceFn] = {
    "take": take,
    "const": const,
    "concat": concat,  # takes `sep` from the item's extra keys (see etl.mapping.items)
    "wareki": wareki,
    "seireki": seireki,
}

STEPS: dict[str, StepFn] = {
    "trim": trim,
    "pad": pad,
    "kana": kana,
    "width": width,
    "split": split,
    "slice": slice_,
    "digits_only": digits_only,
    "code_map": code_map,
    "date_format": date_format,
}

__all__ = ["SOURCES", "STEPS", "Check", "CompileContext", "Compiled", "SourceFn", "StepFn"]
