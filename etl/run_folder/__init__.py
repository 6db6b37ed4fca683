"""The run folder's contract: what a run writes, and the one way later commands read it.

    run = RunFolder.open(path)          # manifest.json (+ run.json) typed and checked
    run.manifest.outputs[0].written     # typed models (etl.run_folder.model), no dicts
    run.verified(entry.file_ref)        # a V2.1 file, after its size and SHA-256 are checked
    run.findings()                      # findings.csv, checked and typed
    run_layouts(run)                    # the layouts the run kept (standard/<version>/)

A run folder holds manifest.json, run.json (pass runs), findings.csv, the V2.1 files under
<業務>/, rejects/ and the snapshot (vendor/, standard/<version>/). Everything in it is read as
hostile: regular files below the folder only, sizes bounded, hashes checked.
"""

from etl.run_folder.findings_file import (
    FINDING_HEADERS,
    FINDINGS_FILE,
    STAFF_CSV,
    NotAFindingsFile,
    parse_findings,
    write_findings,
)
from etl.run_folder.folder import (
    MANIFEST_FILE,
    RUN_META_FILE,
    RunFolder,
    RunFolderError,
    write_manifest,
    write_run_meta,
)
from etl.run_folder.model import (
    SCHEMA_VERSION,
    Control,
    FileRef,
    FindingsSummary,
    KeptFolder,
    KeptVendorFolder,
    Manifest,
    Municipality,
    OutputEntry,
    OutputSettings,
    Reconciliation,
    RunMeta,
    Snapshot,
    SourceEntry,
    Tool,
)
from etl.run_folder.snapshot import (
    STANDARD_SNAPSHOT,
    VENDOR_SNAPSHOT,
    RunSnapshot,
    SnapshotError,
    read_snapshot,
    run_layouts,
)

__all__ = [
    "FINDINGS_FILE",
    "FINDING_HEADERS",
    "MANIFEST_FILE",
    "RUN_META_FILE",
    "SCHEMA_VERSION",
    "STAFF_CSV",
    "STANDARD_SNAPSHOT",
    "VENDOR_SNAPSHOT",
    "Control",
    "FileRef",
    "FindingsSummary",
    "KeptFolder",
    "KeptVendorFolder",
    "Manifest",
    "Municipality",
    "NotAFindingsFile",
    "OutputEntry",
    "OutputSettings",
    "Reconciliation",
    "RunFolder",
    "RunFolderError",
    "RunMeta",
    "RunSnapshot",
    "Snapshot",
    "SnapshotError",
    "SourceEntry",
    "Tool",
    "parse_findings",
    "read_snapshot",
    "run_layouts",
    "write_findings",
    "write_manifest",
    "write_run_meta",
]
