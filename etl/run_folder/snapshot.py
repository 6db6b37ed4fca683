"""What a finished run kept of what it was made from (vendor/, standard/<version>/), read back.

The copies are written by etl.pipeline.snapshot when the run is made; package, load and export
use them through this module, each file checked against the SHA-256 the manifest lists,
never the vendor folder found by name (it may have moved or changed since).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from etl.errors import ChukanError
from etl.layout import Layout, load_layout_folder, load_layouts
from etl.run_folder.folder import RunFolder
from etl.run_folder.model import FileRef

VENDOR_SNAPSHOT = "vendor"
STANDARD_SNAPSHOT = "standard"  # + /<layout version>/, shaped like layouts/<version>/


class SnapshotError(ChukanError):
    """A folder a run is made from cannot be kept, or a run's kept copy is missing or changed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """What a finished run kept. ``vendor`` is None for a run made before runs kept one."""

    run: RunFolder
    vendor: tuple[FileRef, ...] | None
    gaiji_table: FileRef | None
    standard: Path | None  # the kept layouts folder, None when the run has none
    standard_files: tuple[FileRef, ...]  # empty for an older run's unlisted standard/

    def checked(self, ref: FileRef) -> Path:
        """A kept file after checking it is still what the run copied."""
        return self.run.verified(ref, "snapshot")


def read_snapshot(run: RunFolder) -> RunSnapshot:
    """The snapshot manifest.json lists; older runs have none (their standard/ is unlisted)."""
    section = run.manifest.snapshot
    if section is None:
        legacy = run.path / STANDARD_SNAPSHOT / run.manifest.layout_version
        return RunSnapshot(run, None, None, legacy if legacy.is_dir() else None, ())
    gaiji = None
    if section.vendor.gaiji_table is not None:
        gaiji = next(
            (f for f in section.vendor.files if f.path == section.vendor.gaiji_table), None
        )
        if gaiji is None:
            raise SnapshotError(
                run.path / "manifest.json",
                f"gaiji table {section.vendor.gaiji_table!r} is not a listed file",
            )
    standard = run.file(section.standard.path)
    return RunSnapshot(run, section.vendor.files, gaiji, standard, section.standard.files)


def run_layouts(run: RunFolder) -> dict[str, Layout]:
    """The layouts a run was made with: its checked snapshot; a run that kept none (an older
    one-off run) names its layout version, read from the bundled standard."""
    snapshot = read_snapshot(run)
    if snapshot.standard is None:
        return dict(load_layouts(run.manifest.layout_version))
    for ref in snapshot.standard_files:
        snapshot.checked(ref)
    return dict(load_layout_folder(snapshot.standard))
