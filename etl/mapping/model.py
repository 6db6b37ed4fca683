"""A Mapping as parsed from mappings/<vendor>/<layout>.yaml (format: docs/mapping-spec.md).

Everything that can be checked without the layout and the source profile is checked when the
spec is read (etl.mapping.load): structure, each word's arguments (typed models below), code
tables, strftime formats, nesting depth. Names of fields, items and tables are resolved when it
is compiled (etl.mapping.compile). Every position is kept as a key path, so any later error
still names the key and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from etl.conditions import Condition
from etl.config import KeyPath, StrictModel
from etl.errors import MappingError

MAX_EXPR_DEPTH = 16  # concat inside concat (conditions: etl.conditions)
MAX_TEXT_LENGTH = 4096  # pad/slice bounds: longer than any V2.1 item
MAX_SPLIT_INDEX = 255

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
NonBlank = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
OnInvalid = Literal["reject", "keep_empty"]
ON_INVALID_DEFAULT: OnInvalid = "reject"


# --- arguments of the words, validated when the spec is read ---------------------------------


class WarekiArgs(StrictModel):
    era: Name
    date: Name
    era_table: Name | None = None
    on_invalid: OnInvalid = ON_INVALID_DEFAULT


class SeirekiArgs(StrictModel):
    date: Name
    part: Literal["all", "era", "yymmdd"] = "all"
    on_invalid: OnInvalid = ON_INVALID_DEFAULT


class PadArgs(StrictModel):
    length: Annotated[int, Field(ge=1, le=MAX_TEXT_LENGTH)]
    char: Annotated[str, StringConstraints(min_length=1, max_length=1)] = " "
    side: Literal["left", "right"] = "left"


class SplitArgs(StrictModel):
    sep: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    index: Annotated[int, Field(ge=0, le=MAX_SPLIT_INDEX)]


class SliceArgs(StrictModel):
    start: Annotated[int, Field(ge=-MAX_TEXT_LENGTH, le=MAX_TEXT_LENGTH)]
    length: Annotated[int, Field(ge=0, le=MAX_TEXT_LENGTH)] | None = None


class KanaArgs(StrictModel):
    to: Literal["zenkaku", "hankaku", "katakana"]


class WidthArgs(StrictModel):
    to: Literal["zenkaku", "hankaku"]


class CodeMapArgs(StrictModel):
    table: Name
    unmapped: Literal["keep", "null"] = "keep"


class DateFormatArgs(StrictModel):
    format: Annotated[str, StringConstraints(min_length=2, max_length=64)]
    on_invalid: OnInvalid = ON_INVALID_DEFAULT


StepArgs = (
    PadArgs | SplitArgs | SliceArgs | KanaArgs | WidthArgs | CodeMapArgs | DateFormatArgs | None
)


@dataclass(frozen=True, slots=True)
class StepWord:
    """How a step's arguments are written: a model (or none), and its one-value shorthand."""

    args: type[StrictModel] | None  # None: a bare word without arguments (trim)
    shorthand: str | None = None  # `{code_map: sex}` means `{code_map: {table: sex}}`


STEP_WORDS: dict[str, StepWord] = {
    "trim": StepWord(None),
    "digits_only": StepWord(None),
    "pad": StepWord(PadArgs),
    "split": StepWord(SplitArgs),
    "slice": StepWord(SliceArgs),
    "kana": StepWord(KanaArgs, "to"),
    "width": StepWord(WidthArgs, "to"),
    "code_map": StepWord(CodeMapArgs, "table"),
    "date_format": StepWord(DateFormatArgs, "format"),
}


# --- the parsed spec ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One word of a `then:` list, e.g. ``trim`` or ``{code_map: sex}``."""

    word: str
    args: StepArgs
    at: KeyPath  # position in the spec, for error messages


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """How one item is produced: one source word plus ordered steps.

    ``args`` by word: take/sum/first/last → field name; const → text or None; count → None;
    concat → tuple of ItemSpec; wareki → WarekiArgs; seireki → SeirekiArgs.
    """

    source: str
    args: object
    steps: tuple[StepSpec, ...]
    at: KeyPath
    sep: str = ""  # concat only
    order_by: tuple[str, ...] = ()  # first/last only
    occurrence: str | None = None  # take only: "first" / "last" present occurrence of an OCCURS


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """A filter: records matching ``when`` (a condition on source fields) are not written."""

    when: Condition
    reason: str
    at: KeyPath


@dataclass(frozen=True, slots=True)
class LookupSpec:
    name: str  # prefix for its fields: <name>.<field>
    source: str  # SourceFile name
    on: tuple[tuple[str, str], ...]  # (primary field, lookup field) pairs


@dataclass(frozen=True, slots=True)
class ControlSpec:
    """A control total for 件数・金額の突合: source side as an item spec, and its item."""

    record_file: str
    kind: Literal["sum", "count_by", "sum_by"]  # an amount | records per code | amount per code
    item: str  # 項目名 in the written V2.1 file
    source: ItemSpec  # how to read the same quantity from the source records
    at: KeyPath
    by: str | None = None  # sum_by: the code item the amount is summed per value of
    by_source: ItemSpec | None = None  # sum_by: how to read that code from the source records


@dataclass(frozen=True, slots=True)
class RecordFileSpec:
    """Mapping of one V2.1 RecordFile."""

    record_file: str
    source: str  # primary SourceFile: one output row per kept input record (or per group)
    lookups: tuple[LookupSpec, ...]
    filters: tuple[FilterSpec, ...]
    items: dict[str, ItemSpec]  # by 項目名, in spec order
    group_by: tuple[str, ...] = ()  # one output row per distinct value of these fields
    at: KeyPath = ()


@dataclass(frozen=True, slots=True)
class Mapping:
    path: Path
    layout: str
    tables: dict[str, dict[str, str]]  # code_map tables, already read
    record_files: tuple[RecordFileSpec, ...]
    controls: tuple[ControlSpec, ...] = ()
    lines: dict[KeyPath, int] = field(default_factory=dict, compare=False, repr=False)

    def error(self, at: KeyPath, reason: str) -> MappingError:
        """A MappingError at ``at``, with the line of that key (or its nearest ancestor)."""
        for end in range(len(at), -1, -1):
            line = self.lines.get(at[:end])
            if line is not None:
                return MappingError(self.path, reason, where=at, line=line)
        return MappingError(self.path, reason, where=at)


__all__ = [
    "MAX_EXPR_DEPTH",
    "STEP_WORDS",
    "CodeMapArgs",
    "ControlSpec",
    "DateFormatArgs",
    "FilterSpec",
    "ItemSpec",
    "KanaArgs",
    "LookupSpec",
    "Mapping",
    "PadArgs",
    "RecordFileSpec",
    "SeirekiArgs",
    "SliceArgs",
    "SplitArgs",
    "StepSpec",
    "StepWord",
    "WarekiArgs",
    "WidthArgs",
]
