"""A Mapping as parsed from mappings/<vendor>/<layout>.yaml (format: docs/mapping-spec.md).

Only structure is checked here; each vocabulary word checks its own arguments when it is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One word of a `then:` list, e.g. ``trim`` or ``{code_map: sex}``."""

    word: str
    args: Any  # None for bare words; validated by the word's compiler
    where: str  # position in the spec, for error messages


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """How one target item is produced: one source word plus ordered steps."""

    source: str  # take | const | concat | wareki | seireki
    args: Any
    steps: tuple[StepSpec, ...]
    where: str
    extra: dict[str, Any]  # other keys next to the source word (e.g. concat's `sep`)


@dataclass(frozen=True, slots=True)
class FilterSpec:
    when: Any  # condition tree, compiled by etl.mapping.conditions
    reason: str
    where: str


@dataclass(frozen=True, slots=True)
class LookupSpec:
    name: str  # prefix for its fields: <name>.<field>
    source: str  # SourceFile name
    on: tuple[tuple[str, str], ...]  # (primary field, lookup field) pairs


@dataclass(frozen=True, slots=True)
class ControlSpec:
    """A control total for 件数・金額の突合: the source side as an item spec, the target item."""

    record_file: str
    kind: str  # "sum" (an amount) | "count_by" (records per code value)
    item: str  # 項目名 in the written V2.1 file
    source: ItemSpec  # how to read the same quantity from the source records
    where: str


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """Mapping of one V2.1 RecordFile."""

    record_file: str
    source: str  # primary SourceFile: one output row per kept input record
    lookups: tuple[LookupSpec, ...]
    filters: tuple[FilterSpec, ...]
    items: dict[str, ItemSpec]  # by 項目名, in spec order


@dataclass(frozen=True, slots=True)
class Mapping:
    path: Path
    layout: str
    tables: dict[str, dict[str, str]]  # code_map tables, already read
    targets: tuple[TargetSpec, ...]
    controls: tuple[ControlSpec, ...] = ()
