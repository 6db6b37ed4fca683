"""The typed contract of a run folder: manifest.json and run.json as models.

Every field a later command reads is declared here with its type; a file that does not match
(a count that is text, a path that leaves the folder, a key nobody wrote) is refused when the
folder is opened, naming the key path, instead of failing deep inside a report or a load.
The models dump in declaration order, so manifest.json keeps the key order it always had.

``schema_version`` is 1 for every run so far; a run folder written before the field existed
reads as version 1. A later change of the contract raises it, and an older chukan refuses
a newer folder instead of misreading it.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    StringConstraints,
    model_serializer,
)
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from etl.reconcile import ControlRow, control_number
from etl.write import OutputFormat

SCHEMA_VERSION = 1


def _relative_inside(value: str) -> str:
    """A path a run folder names: relative, POSIX, never above the folder."""
    path = PurePosixPath(value)
    if not value or "\0" in value or "\\" in value:
        raise ValueError(f"{value!r} is not a path inside the run folder")
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{value!r} leaves the run folder")
    return value


RelPath = Annotated[str, AfterValidator(_relative_inside)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Counts = dict[str, NonNegativeInt]  # reason or rule → records


def _control_total(value: int | str) -> int | str:
    control_number(value)  # ValueError unless an int or a decimal's plain digits
    return value


ControlTotal = Annotated[int | str, AfterValidator(_control_total)]


class RunFolderModel(BaseModel):
    """Base of the run-folder models: strict types, no unknown keys, immutable.

    ``OMITTED_WHEN_NONE`` names optional keys that are left out of the file when unset (they
    were added to the format later, and runs without them keep their bytes); other None
    values are written as null.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)
    OMITTED_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in self.OMITTED_WHEN_NONE:
            if data.get(key, 0) is None:
                del data[key]
        return data


class FileRef(RunFolderModel):
    """A file the run wrote, as manifest.json lists it: where, how big, its SHA-256."""

    path: RelPath
    bytes: NonNegativeInt
    sha256: Sha256


class Tool(RunFolderModel):
    name: str
    version: str


class OutputSettings(RunFolderModel):
    """How the V2.1 files were written: their format (named only when not the standard's CSV)
    and, for CSV, the encoding and line ending (chukan.toml [csv] or the run's options)."""

    OMITTED_WHEN_NONE = frozenset({"format"})

    format: OutputFormat | None = None
    encoding: str
    line_ending: str

    @property
    def written_as(self) -> OutputFormat:
        return self.format or OutputFormat.CSV


class SourceEntry(RunFolderModel):
    """One input file of the dump and what became of its records."""

    name: str  # the profile's source name
    file: str  # the file's name in the dump folder
    bytes: NonNegativeInt
    sha256: Sha256
    records_in: NonNegativeInt
    data_records: NonNegativeInt
    rejected: NonNegativeInt
    filtered: Counts
    balanced: bool
    rejects: FileRef


class OutputEntry(RunFolderModel):
    """One V2.1 file written and the accounting of the records it came from."""

    OMITTED_WHEN_NONE = frozenset({"rejected", "rejects", "aggregated_records"})

    gyomu: str
    record_file: str
    name: str
    path: RelPath
    bytes: NonNegativeInt
    sha256: Sha256
    source: str
    source_data_records: NonNegativeInt
    written: NonNegativeInt
    filtered: Counts
    rejected: Counts | None = None  # records an item's `on_invalid: reject` refused
    rejects: FileRef | None = None  # rejects/mapping/<業務>/<file>.csv, when any were refused
    aggregated_records: NonNegativeInt | None = None  # a group_by file's input records
    balanced: bool

    @property
    def file_ref(self) -> FileRef:
        return FileRef(path=self.path, bytes=self.bytes, sha256=self.sha256)

    @property
    def rejected_total(self) -> int:
        return sum((self.rejected or {}).values())


class Control(RunFolderModel):
    """A control total (件数・金額) on both sides; decimals are written as their digits."""

    OMITTED_WHEN_NONE = frozenset({"by"})

    gyomu: str
    record_file: str
    kind: str
    item: str
    by: str | None = None  # a sum_by's code item (added later: left out when unset)
    code: str | None
    source: ControlTotal
    target: ControlTotal
    filtered: ControlTotal
    unexplained: ControlTotal

    @classmethod
    def of(cls, row: ControlRow) -> Control:
        return cls.model_validate(row.as_dict())

    def row(self) -> ControlRow:
        total = control_number
        return ControlRow(
            self.gyomu,
            self.record_file,
            self.kind,
            self.item,
            self.code,
            total(self.source),
            total(self.target),
            total(self.filtered),
            self.by,
        )


class Reconciliation(RunFolderModel):
    controls: tuple[Control, ...]
    unexplained: NonNegativeInt


class FindingsSummary(RunFolderModel):
    file: RelPath
    sha256: Sha256
    total: NonNegativeInt
    by_severity: Counts
    by_rule: Counts


class KeptFolder(RunFolderModel):
    """A folder the run copied into itself (vendor/, standard/<version>/) and its files."""

    path: RelPath
    files: tuple[FileRef, ...]


class KeptVendorFolder(RunFolderModel):
    gaiji_table: RelPath | None  # the vendor gaiji table's path in the copy, when one was used
    path: RelPath
    files: tuple[FileRef, ...]


class Snapshot(RunFolderModel):
    """What the run was made from, kept in the run folder (etl.pipeline.snapshot writes it)."""

    vendor: KeptVendorFolder
    standard: KeptFolder


class Manifest(RunFolderModel):
    """manifest.json: what a run read, wrote, rejected, filtered, found and reconciled."""

    OMITTED_WHEN_NONE = frozenset({"snapshot"})

    schema_version: Annotated[int, Field(ge=1)] = SCHEMA_VERSION
    tool: Tool
    created_at: str
    vendor: str
    layout_version: str
    dump_dir: str
    output: OutputSettings
    sources: tuple[SourceEntry, ...]
    outputs: tuple[OutputEntry, ...]
    reconciliation: Reconciliation
    findings: FindingsSummary
    override: str | None = None  # a production run made although a gate refused it says why
    snapshot: Snapshot | None = None  # None for a run made before runs kept one


class Municipality(RunFolderModel):
    code: str
    name: str


# a project pass, or a fiscal year's standard-layout export (chukan export: FY2026)
PassNameText = Annotated[str, StringConstraints(pattern=r"^(test1|test2|production|FY[0-9]{4})$")]


class RunMeta(RunFolderModel):
    """run.json: written beside the manifest by a project pass run (``chukan run --pass``) and
    by a year-end export's run.

    Only the pass and the run id are required; every other key is written when it has a
    value and omitted when it has none.
    """

    OMITTED_WHEN_NONE = frozenset(
        {
            "municipality",
            "started_by",
            "started_at",
            "override",
            "gate_warnings",
            "mapping_fingerprint",
            "layout_fingerprint",
            "dump_dir",
            "fiscal_year",
            "export_version",
            "input",
            "diff",
            "reconciliation",
        }
    )

    schema_version: Annotated[int, Field(ge=1)] = SCHEMA_VERSION
    pass_name: PassNameText = Field(validation_alias="pass", serialization_alias="pass")
    run_id: str
    municipality: Municipality | None = None
    started_by: str | None = None
    started_at: str | None = None
    override: str | None = None  # why a pass ran although a gate refused it
    gate_warnings: tuple[str, ...] | None = None
    mapping_fingerprint: str | None = None
    layout_fingerprint: str | None = None
    dump_dir: str | None = None
    fiscal_year: Annotated[int, Field(ge=1989, le=9999)] | None = None  # year-end exports
    export_version: Annotated[int, Field(ge=1)] | None = None
    input: dict[str, Any] | None = None  # the export's input fingerprint (etl.export)
    # sections shown on the run report (差分 / 突合) when a pass adds them
    diff: dict[str, Any] | list[Any] | None = None
    reconciliation: dict[str, Any] | list[Any] | None = None
