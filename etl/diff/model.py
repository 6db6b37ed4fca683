"""What a pass-to-pass diff reports, as frozen objects; ``RunDiff.to_dict()`` is the JSON form.

The report renderer and the run catalog consume these objects (or their dict form), so every
count is a plain ``int`` and every collection a tuple in a stable order:
record files by 業務 then RecordFile id, items in layout order, samples by record key.
Values in samples are shown as in findings: sensitive items masked (etl.findings.shown_expr),
an empty value (null or "") shown as "".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import polars as pl

# Field metadata: a tuple of (name, value) pairs rendered as a JSON object, not a list of pairs.
AS_OBJECT = {"json": "object"}
# Field metadata: frames that are written beside the JSON (full lists), never inside it.
NOT_IN_JSON = {"json": "skip"}


def to_plain(obj: Any) -> Any:
    """Dataclasses → dicts in field order, tuples → lists; leaves ints, strs, bools, None."""
    if is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if f.metadata.get("json") == "skip":
                continue
            if f.metadata.get("json") == "object":
                out[f.name] = {str(k): to_plain(v) for k, v in value}
            else:
                out[f.name] = to_plain(value)
        return out
    if isinstance(obj, tuple | list):
        return [to_plain(v) for v in obj]
    return obj


# --- record files -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSample:
    """An added or removed record: its key and the shown values of a few items."""

    key: str  # record key as in findings ("a|b"), sensitive key items masked
    values: tuple[tuple[str, str], ...] = field(metadata=AS_OBJECT)  # (項目名, shown value)


@dataclass(frozen=True, slots=True)
class ChangeSample:
    """One changed item of a record present in both runs."""

    key: str
    item: str  # 項目名
    old: str  # shown value in the old run ("" = empty)
    new: str  # shown value in the new run


@dataclass(frozen=True, slots=True)
class ItemChangeCount:
    item: str  # 項目名
    changed: int  # records (compared by key) whose value of this item differs


@dataclass(frozen=True, slots=True)
class DuplicateKeys:
    """Records sharing a key within one run (possible after schema.key_unique findings).

    Every key duplicated on either side is left out of the comparison on both sides, so a
    duplicate is counted here and never shows up as added, removed or changed.
    """

    keys: int = 0  # distinct keys that occur more than once
    records: int = 0  # records carrying such a key


@dataclass(frozen=True, slots=True)
class FileDiff:
    """The diff of one V2.1 record file between two runs, by record key (RecordFile.key)."""

    gyomu: str  # Layout id ("" when diffed outside a run)
    record_file: str  # RecordFile id
    name: str  # RecordFile name (住民情報 …)
    key: tuple[str, ...]  # the key items
    in_old: bool  # the file exists in the old run (False: every record is added)
    in_new: bool  # the file exists in the new run (False: every record is removed)
    old_records: int
    new_records: int
    added: int  # keys in new only
    removed: int  # keys in old only
    changed: int  # keys in both, some item differs
    unchanged: int  # keys in both, every item equal
    old_duplicates: DuplicateKeys
    new_duplicates: DuplicateKeys
    excluded_records_old: int  # old records left out because their key is duplicated somewhere
    excluded_records_new: int
    item_changes: tuple[ItemChangeCount, ...]  # items with at least one change, layout order
    added_samples: tuple[RecordSample, ...]
    removed_samples: tuple[RecordSample, ...]
    changed_samples: tuple[ChangeSample, ...]  # by key, then item in layout order
    # items of the layout missing from a run's CSV header (read as empty): a layout change
    old_missing_items: tuple[str, ...] = ()
    new_missing_items: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        dup = self.old_duplicates.records + self.new_duplicates.records
        return not (self.added or self.removed or self.changed or dup)


@dataclass(frozen=True, slots=True, eq=False)
class ChangeLists:
    """Every added, removed and changed record of one record file, not only the samples.

    Columnar (polars frames, one row per record or per changed item), values shown as in the
    samples: sensitive items masked, empty as "". Ordered by key, then item in layout order.
    """

    gyomu: str
    record_file: str
    name: str  # RecordFile name
    key: tuple[str, ...]  # the key items: the first columns of every frame
    added: pl.DataFrame  # key items of the records in the new run only
    removed: pl.DataFrame  # key items of the records in the old run only
    changed: pl.DataFrame  # key items, 項目, 旧値, 新値: one row per changed item


CHANGED_COLUMNS = ("項目", "旧値", "新値")  # after the key items in ChangeLists.changed


# --- findings -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingSample:
    rule: str
    severity: str
    gyomu: str
    file: str
    record_no: int | None
    key: str
    item: str
    value: str  # already masked when the item is sensitive (findings are written masked)
    message: str


@dataclass(frozen=True, slots=True)
class RuleDelta:
    rule: str
    old_total: int  # findings of this rule in the old run
    new_total: int  # … in the new run
    fixed: int  # in old only
    new: int  # in new only
    persisting: int  # in both


@dataclass(frozen=True, slots=True)
class FindingsDelta:
    """Findings matched by identity (rule, 業務, file, key, item) between two runs.

    An identity that occurs n times in one run and m times in the other counts min(n, m)
    persisting and the rest fixed or new: extract findings have no key, so several rejected
    records of one source field share an identity.
    """

    old_total: int
    new_total: int
    fixed: int  # in old only
    new: int  # in new only
    persisting: int  # in both
    by_rule: tuple[RuleDelta, ...]  # sorted by rule
    fixed_samples: tuple[FindingSample, ...]
    new_samples: tuple[FindingSample, ...]
    persisting_samples: tuple[FindingSample, ...]  # as found in the new run


# --- layouts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemChange:
    record_file: str
    item: str
    attribute: str  # type | digits | scale | required | code_table | sensitive | position
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class RecordFileChange:
    record_file: str
    name_old: str
    name_new: str
    key_old: tuple[str, ...]
    key_new: tuple[str, ...]
    items_added: tuple[str, ...]
    items_removed: tuple[str, ...]
    items_changed: tuple[ItemChange, ...]


@dataclass(frozen=True, slots=True)
class CodeRename:
    code: str
    old: str  # 名称 in the old table
    new: str


@dataclass(frozen=True, slots=True)
class CodeTableChange:
    code_table: str
    added: tuple[tuple[str, str], ...] = field(metadata=AS_OBJECT)  # code → 名称
    removed: tuple[tuple[str, str], ...] = field(metadata=AS_OBJECT)
    renamed: tuple[CodeRename, ...] = ()


@dataclass(frozen=True, slots=True)
class LayoutDiff:
    """Differences between two versions of one 業務's layout."""

    gyomu: str
    old_version: str
    new_version: str
    record_files_added: tuple[str, ...]
    record_files_removed: tuple[str, ...]
    record_files_changed: tuple[RecordFileChange, ...]
    code_tables_added: tuple[str, ...]
    code_tables_removed: tuple[str, ...]
    code_tables_changed: tuple[CodeTableChange, ...]

    @property
    def identical(self) -> bool:
        return not (
            self.record_files_added
            or self.record_files_removed
            or self.record_files_changed
            or self.code_tables_added
            or self.code_tables_removed
            or self.code_tables_changed
            or self.old_version != self.new_version
        )


# --- runs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountPair:
    old: int | None  # None: the source / output is absent from that run
    new: int | None

    @property
    def delta(self) -> int:
        return (self.new or 0) - (self.old or 0)


@dataclass(frozen=True, slots=True)
class ReasonCount:
    reason: str
    count: CountPair


@dataclass(frozen=True, slots=True)
class SourceCounts:
    """Manifest ``sources[]`` of both runs side by side (one input file of the dump)."""

    name: str
    records_in: CountPair
    data_records: CountPair
    rejected: CountPair
    filtered: tuple[ReasonCount, ...]  # by reason, sorted


@dataclass(frozen=True, slots=True)
class OutputCounts:
    """Manifest ``outputs[]`` of both runs side by side (one V2.1 record file)."""

    gyomu: str
    record_file: str
    source_data_records: CountPair
    written: CountPair
    filtered: tuple[ReasonCount, ...]


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Identity of a run as its manifest (and run.json, for a pass) states it."""

    path: str
    pass_name: str  # test1 | test2 | production, "" for a one-off run
    run_id: str  # the run id, or the folder name of a one-off run
    created_at: str
    vendor: str
    layout_version: str
    tool_version: str
    output_encoding: str


@dataclass(frozen=True, slots=True)
class RunDiff:
    """Everything that differs between two runs: records, findings, counts, layouts."""

    old_run: RunInfo
    new_run: RunInfo
    files: tuple[FileDiff, ...]
    findings: FindingsDelta
    sources: tuple[SourceCounts, ...]
    outputs: tuple[OutputCounts, ...]
    layouts: tuple[LayoutDiff, ...] = ()  # only when the old run's layouts were given
    # per record file, in ``files`` order: the full lists (CSV beside diff.json, not in it)
    lists: tuple[ChangeLists, ...] = field(default=(), metadata=NOT_IN_JSON, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: field order as declared here, plain ints and strings only."""
        plain = to_plain(self)
        assert isinstance(plain, dict)
        return plain
