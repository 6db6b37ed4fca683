"""Pass-to-pass diff: records added / removed / changed by key, findings delta, layout changes.

``diff_runs`` compares two run folders; ``diff_record_file``, ``findings_delta`` and
``diff_layouts`` are its parts, usable on frames and Layout objects directly. Besides the
samples of its JSON form, a RunDiff carries the full lists (``ChangeLists``) of every added,
removed and changed record, as frames.
"""

from etl.diff.errors import DiffError
from etl.diff.finding_changes import findings_delta
from etl.diff.frames import diff_record_file, diff_record_file_lists
from etl.diff.layouts import diff_layouts
from etl.diff.model import (
    CHANGED_COLUMNS,
    ChangeLists,
    ChangeSample,
    CodeRename,
    CodeTableChange,
    CountPair,
    DuplicateKeys,
    FileDiff,
    FindingSample,
    FindingsDelta,
    ItemChange,
    ItemChangeCount,
    LayoutDiff,
    OutputCounts,
    ReasonCount,
    RecordFileChange,
    RecordSample,
    RuleDelta,
    RunDiff,
    RunInfo,
    SourceCounts,
)
from etl.diff.runs import diff_runs, open_run, read_output, scan_output, transcode_cp932

__all__ = [
    "CHANGED_COLUMNS",
    "ChangeLists",
    "ChangeSample",
    "CodeRename",
    "CodeTableChange",
    "CountPair",
    "DiffError",
    "DuplicateKeys",
    "FileDiff",
    "FindingSample",
    "FindingsDelta",
    "ItemChange",
    "ItemChangeCount",
    "LayoutDiff",
    "OutputCounts",
    "ReasonCount",
    "RecordFileChange",
    "RecordSample",
    "RuleDelta",
    "RunDiff",
    "RunInfo",
    "SourceCounts",
    "diff_layouts",
    "diff_record_file",
    "diff_record_file_lists",
    "diff_runs",
    "findings_delta",
    "open_run",
    "read_output",
    "scan_output",
    "transcode_cp932",
]
