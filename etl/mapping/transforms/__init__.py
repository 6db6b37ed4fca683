"""The mapping vocabulary: one function per word (docs/mapping-spec.md lists them all)."""

from __future__ import annotations

from etl.mapping.model import STEP_WORDS
from etl.mapping.transforms.base import CompileContext, Compiled, SourceFn, StepFn, ValueCheck
from etl.mapping.transforms.codes import code_map
from etl.mapping.transforms.dates import REJECTING_RULES, date_format, seireki, wareki
from etl.mapping.transforms.groups import count, first, last, sum_
from etl.mapping.transforms.sources import concat, const, take
from etl.mapping.transforms.text import digits_only, kana, pad, slice_, split, trim, width

SOURCES: dict[str, SourceFn] = {
    "take": take,
    "const": const,
    "concat": concat,
    "wareki": wareki,
    "seireki": seireki,
    # aggregates: only on a record file with group_by (etl.mapping.load refuses them elsewhere)
    "count": count,
    "sum": sum_,
    "first": first,
    "last": last,
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
assert STEPS.keys() == STEP_WORDS.keys(), "every step word has its argument model and compiler"

__all__ = [
    "REJECTING_RULES",
    "SOURCES",
    "STEPS",
    "CompileContext",
    "Compiled",
    "SourceFn",
    "StepFn",
    "ValueCheck",
]
