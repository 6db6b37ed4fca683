"""A conversion spec: how the record files of one layout version become those of another.

``layouts/conversions/<from>--<to>.yaml`` (docs/layouts.md "Convert a run"): per 業務 and
record file, items renamed (old → new name), added (a default, or empty with a finding),
removed (kept beside the run in a side file) and code maps (per item of the target: old code →
new code). The spec is data; ``check_spec`` holds it against both versions' layouts before a
record is read, and refuses one that leaves a difference of the two layouts unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints

from etl.config import StrictModel, errors_as, read_yaml
from etl.errors import ConfigError, KeyPath
from etl.layout import ItemType, Layout, RecordFile, layouts_home

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
CONVERSIONS = "conversions"  # layouts/conversions/


class ConversionError(ConfigError):
    """A conversion spec is malformed or does not fit the two layout versions (exit 2)."""


class AddedItem(StrictModel):
    """A target item the source version lacks: ``default`` fills it; without one it stays
    empty and the converted run gets one finding per record file saying so."""

    default: Annotated[str, StringConstraints(max_length=1000)] | None = None


class RecordFileConversion(StrictModel):
    rename: dict[Name, Name] = Field(default_factory=dict)  # old 項目名 → new 項目名
    add: dict[Name, AddedItem] = Field(default_factory=dict)
    remove: list[Name] = Field(default_factory=list)  # kept in removed/<業務>/<file>.csv
    codes: dict[Name, dict[Code, Code]] = Field(default_factory=dict)  # target item → map


class ConversionSpecModel(StrictModel):
    """``layouts/conversions/<from>--<to>.yaml``."""

    from_version: Version = Field(alias="from")
    to_version: Version = Field(alias="to")
    note: str = ""
    # 業務 id → record file id → what changes; a record file not named is carried unchanged
    gyomu: dict[Name, dict[Name, RecordFileConversion]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FilePlan:
    """The checked conversion of one record file."""

    gyomu: str
    old: RecordFile
    new: RecordFile
    rename: dict[str, str]
    add: dict[str, str | None]  # item → default (None: empty, with a finding)
    remove: tuple[str, ...]
    codes: dict[str, dict[str, str]]  # target item → old code → new code
    # target item → codes its old table had, the new one lacks and ``codes`` does not map
    unmapped: dict[str, tuple[str, ...]] = field(default_factory=dict)
    versions: tuple[str, str] = ("", "")  # from, to (the spec's names)


@dataclass(frozen=True, slots=True)
class ConversionSpec:
    path: Path
    model: ConversionSpecModel

    @property
    def from_version(self) -> str:
        return self.model.from_version

    @property
    def to_version(self) -> str:
        return self.model.to_version


def default_spec_path(from_version: str, to_version: str) -> Path:
    return layouts_home() / CONVERSIONS / f"{from_version}--{to_version}.yaml"


def load_spec(path: Path) -> ConversionSpec:
    with errors_as(ConversionError):
        model = read_yaml(path, what="conversion spec").parse(ConversionSpecModel)
    return ConversionSpec(path, model)


def _problem(spec: ConversionSpec, at: KeyPath, reason: str) -> ConversionError:
    return ConversionError(spec.path, reason, key_path=at)


def _check_file(
    spec: ConversionSpec,
    gyomu: str,
    old_layout: Layout,
    layout: Layout,
    file_id: str,
    conv: RecordFileConversion,
) -> FilePlan:
    tables = layout.code_tables
    old, new = old_layout.record_file(file_id), layout.record_file(file_id)
    at: KeyPath = ("gyomu", gyomu, old.id)
    old_names, new_names = set(old.item_names), set(new.item_names)
    for was, now in conv.rename.items():
        if was not in old_names:
            raise _problem(spec, (*at, "rename", was), f"{old.id} of the old version has no {was}")
        if now not in new_names:
            raise _problem(spec, (*at, "rename", was), f"{new.id} of the new version has no {now}")
    for name, added in conv.add.items():
        if name not in new_names or name in old_names:
            raise _problem(
                spec, (*at, "add", name), f"{name} is not an item the new version adds to {new.id}"
            )
        if added.default is not None:
            _check_default(spec, (*at, "add", name, "default"), new, name, added.default)
    for k, name in enumerate(conv.remove):
        if name in old.key:
            raise _problem(spec, (*at, "remove", k), f"{name} is a key item of {old.id}")
        if name not in old_names or name in new_names:
            raise _problem(
                spec,
                (*at, "remove", k),
                f"{name} is not an item the new version drops from {old.id}",
            )
    carried = (old_names - set(conv.rename) - set(conv.remove)) | set(conv.rename.values())
    for name in new.item_names:
        if name not in carried and name not in conv.add:
            raise _problem(
                spec, at, f"{new.id}.{name} of the new version comes from nothing: rename or add it"
            )
    for name in old.item_names:
        if name not in new_names and name not in conv.rename and name not in conv.remove:
            raise _problem(
                spec, at, f"{old.id}.{name} is not in the new version: rename or remove it"
            )
    for name, mapping in conv.codes.items():
        if name not in new_names or new.item(name).type is not ItemType.CODE:
            raise _problem(spec, (*at, "codes", name), f"{name} is not a code item of {new.id}")
        table = tables[new.item(name).code_table or ""]
        for was, now in mapping.items():
            if now not in table.values:
                raise _problem(
                    spec, (*at, "codes", name, was), f"{now!r} is not a code of {table.id}"
                )
    return FilePlan(
        gyomu=gyomu,
        old=old,
        new=new,
        rename=dict(conv.rename),
        add={n: a.default for n, a in conv.add.items()},
        remove=tuple(conv.remove),
        codes={n: dict(m) for n, m in conv.codes.items()},
        unmapped=_unmapped(old_layout, layout, old, new, conv),
        versions=(spec.from_version, spec.to_version),
    )


def _unmapped(
    old_layout: Layout, layout: Layout, old: RecordFile, new: RecordFile, conv: RecordFileConversion
) -> dict[str, tuple[str, ...]]:
    """Per code item carried over: the old table's codes the new table lacks, unmapped."""
    was = {now: before for before, now in conv.rename.items()}
    found = {}
    for item in new.items:
        source = was.get(item.name, item.name)
        if item.code_table is None or source not in old.item_names:
            continue
        old_table = old_layout.code_tables.get(old.item(source).code_table or "")
        if old_table is None:
            continue
        new_codes = layout.code_tables[item.code_table].values
        mapped = conv.codes.get(item.name, {})
        lost = tuple(c for c in old_table.values if c not in new_codes and c not in mapped)
        if lost:
            found[item.name] = lost
    return found


def _check_default(
    spec: ConversionSpec, at: KeyPath, rf: RecordFile, name: str, value: str
) -> None:
    item = rf.item(name)
    if len(value) > item.digits:
        raise _problem(spec, at, f"default {value!r} is longer than {name}'s 桁数 {item.digits}")


def check_spec(
    spec: ConversionSpec, old: dict[str, Layout], new: dict[str, Layout], gyomu: list[str]
) -> list[FilePlan]:
    """The plan of every record file of ``gyomu`` (the run's 業務), or ConversionError.
    ``old`` are the layouts the run kept, ``new`` the target version's."""
    for g in spec.model.gyomu:  # a 業務 the run does not hold is not converted, but must exist
        for version, layouts in ((spec.from_version, old), (spec.to_version, new)):
            if g not in layouts:
                raise _problem(spec, ("gyomu", g), f"version {version} has no 業務 {g}")
    plans = []
    for g in gyomu:
        if g not in new:
            raise _problem(spec, ("gyomu", g), f"version {spec.to_version} has no 業務 {g}")
        old_files = {rf.id: rf for rf in old[g].record_files}
        new_files = {rf.id: rf for rf in new[g].record_files}
        if set(old_files) != set(new_files):
            raise _problem(
                spec,
                ("gyomu", g),
                f"the record files of {g} differ between the versions"
                f" ({', '.join(old_files)} → {', '.join(new_files)}): not convertible by item",
            )
        wanted = spec.model.gyomu.get(g, {})
        for f in wanted:
            if f not in old_files:
                raise _problem(spec, ("gyomu", g, f), f"{g} has no record file {f}")
        for file_id in old_files:
            conv = wanted.get(file_id, RecordFileConversion())
            plans.append(_check_file(spec, g, old[g], new[g], file_id, conv))
    return plans
