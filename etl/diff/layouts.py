"""Differences between two versions of a 業務's layout (V2.1 → a newer layout, or a fix)."""

from __future__ import annotations

from etl.diff.model import (
    CodeRename,
    CodeTableChange,
    ItemChange,
    LayoutDiff,
    RecordFileChange,
)
from etl.layout import CodeTable, Item, Layout, RecordFile

# Item attributes that change what a valid value is; description is prose and not compared.
ITEM_ATTRIBUTES = ("type", "digits", "scale", "required", "code_table", "sensitive")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _item_changes(record_file: str, old: Item, new: Item) -> list[ItemChange]:
    return [
        ItemChange(
            record_file, old.name, attr, _text(getattr(old, attr)), _text(getattr(new, attr))
        )
        for attr in ITEM_ATTRIBUTES
        if getattr(old, attr) != getattr(new, attr)
    ]


def _record_file_change(old: RecordFile, new: RecordFile) -> RecordFileChange | None:
    old_names, new_names = old.item_names, new.item_names
    common = [n for n in new_names if n in old_names]
    changes: list[ItemChange] = []
    for name in common:
        changes += _item_changes(new.id, old.item(name), new.item(name))
    # order matters: it is the column order of the V2.1 file
    old_order = [n for n in old_names if n in new_names]
    for was, now in zip(old_order, common, strict=True):
        if was != now:
            was_at, now_at = old_names.index(now) + 1, new_names.index(now) + 1
            changes.append(ItemChange(new.id, now, "position", str(was_at), str(now_at)))
    change = RecordFileChange(
        record_file=new.id,
        name_old=old.name,
        name_new=new.name,
        key_old=old.key,
        key_new=new.key,
        items_added=tuple(n for n in new_names if n not in old_names),
        items_removed=tuple(n for n in old_names if n not in new_names),
        items_changed=tuple(changes),
    )
    same = (
        old.name == new.name
        and old.key == new.key
        and not (change.items_added or change.items_removed or change.items_changed)
    )
    return None if same else change


def _code_table_change(old: CodeTable, new: CodeTable) -> CodeTableChange | None:
    added = tuple((c, n) for c, n in sorted(new.values.items()) if c not in old.values)
    removed = tuple((c, n) for c, n in sorted(old.values.items()) if c not in new.values)
    renamed = tuple(
        CodeRename(code=c, old=old.values[c], new=n)
        for c, n in sorted(new.values.items())
        if c in old.values and old.values[c] != n
    )
    if not (added or removed or renamed):
        return None
    return CodeTableChange(code_table=new.id, added=added, removed=removed, renamed=renamed)


def diff_layouts(old: Layout, new: Layout) -> LayoutDiff:
    """Record files, items and code tables added, removed or changed from ``old`` to ``new``."""
    old_files = {rf.id: rf for rf in old.record_files}
    new_files = {rf.id: rf for rf in new.record_files}
    file_changes = [
        ch
        for rf in new.record_files
        if rf.id in old_files and (ch := _record_file_change(old_files[rf.id], rf)) is not None
    ]
    table_changes = [
        tc
        for tid, table in sorted(new.code_tables.items())
        if tid in old.code_tables
        and (tc := _code_table_change(old.code_tables[tid], table)) is not None
    ]
    return LayoutDiff(
        gyomu=new.id,
        old_version=old.version,
        new_version=new.version,
        record_files_added=tuple(i for i in new_files if i not in old_files),
        record_files_removed=tuple(i for i in old_files if i not in new_files),
        record_files_changed=tuple(file_changes),
        code_tables_added=tuple(sorted(t for t in new.code_tables if t not in old.code_tables)),
        code_tables_removed=tuple(sorted(t for t in old.code_tables if t not in new.code_tables)),
        code_tables_changed=tuple(table_changes),
    )
