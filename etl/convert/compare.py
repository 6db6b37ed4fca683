"""``chukan layouts diff A B``: two layout versions compared per 業務, item and code.

The comparison itself is the pass diff's (``etl.diff.diff_layouts``); a version difference adds
the 業務 only one version has, and the renames a conversion spec between the two declares (a
layout alone cannot tell a renamed item from one removed and one added).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from etl.convert.spec import ConversionSpec
from etl.diff import LayoutDiff, diff_layouts
from etl.layout import Layout


@dataclass(frozen=True, slots=True)
class Rename:
    record_file: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class GyomuDiff:
    gyomu: str
    name: str
    status: str  # same | changed | added | removed
    diff: LayoutDiff | None  # None when one version lacks the 業務
    renamed: tuple[Rename, ...] = ()

    def items_added(self, record_file: str) -> tuple[str, ...]:
        renamed = {r.new for r in self.renamed if r.record_file == record_file}
        return tuple(n for n in self._change(record_file, "items_added") if n not in renamed)

    def items_removed(self, record_file: str) -> tuple[str, ...]:
        renamed = {r.old for r in self.renamed if r.record_file == record_file}
        return tuple(n for n in self._change(record_file, "items_removed") if n not in renamed)

    def _change(self, record_file: str, attr: str) -> tuple[str, ...]:
        for rf in self.diff.record_files_changed if self.diff else ():
            if rf.record_file == record_file:
                value: tuple[str, ...] = getattr(rf, attr)
                return value
        return ()


def diff_versions(
    old: dict[str, Layout], new: dict[str, Layout], spec: ConversionSpec | None = None
) -> tuple[GyomuDiff, ...]:
    out = []
    for gyomu in dict.fromkeys([*old, *new]):
        if gyomu not in new:
            out.append(GyomuDiff(gyomu, old[gyomu].name, "removed", None))
            continue
        if gyomu not in old:
            out.append(GyomuDiff(gyomu, new[gyomu].name, "added", None))
            continue
        diff = diff_layouts(old[gyomu], new[gyomu])
        renamed = tuple(
            Rename(file_id, was, now)
            for file_id, conv in (spec.model.gyomu.get(gyomu, {}) if spec else {}).items()
            for was, now in conv.rename.items()
        )
        same = not (
            diff.record_files_added
            or diff.record_files_removed
            or diff.record_files_changed
            or diff.code_tables_added
            or diff.code_tables_removed
            or diff.code_tables_changed
        )
        out.append(GyomuDiff(gyomu, new[gyomu].name, "same" if same else "changed", diff, renamed))
    return tuple(out)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): _plain(v) for k, v in value}  # code → 名称 pairs
        return [_plain(v) for v in value]
    return value


def versions_diff_dict(a: str, b: str, diffs: tuple[GyomuDiff, ...]) -> dict[str, Any]:
    """The JSON form of ``chukan layouts diff --json``."""
    return {"from": a, "to": b, "gyomu": [_plain(d) for d in diffs]}
