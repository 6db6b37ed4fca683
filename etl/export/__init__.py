"""Year-end exports: sealed standard-layout packages per fiscal year, for a project or a group."""

from etl.export.errors import ExportError, ExportLocked
from etl.export.group import Group, GroupMember, MemberResult, export_group, load_group
from etl.export.model import (
    DiffSummary,
    ExportCounts,
    ExportFinished,
    ExportResult,
    ExportStarted,
    ExportStatus,
)
from etl.export.year_end import configured_dump, export_fiscal_year

__all__ = [
    "DiffSummary",
    "ExportCounts",
    "ExportError",
    "ExportFinished",
    "ExportLocked",
    "ExportResult",
    "ExportStarted",
    "ExportStatus",
    "Group",
    "GroupMember",
    "MemberResult",
    "configured_dump",
    "export_fiscal_year",
    "export_group",
    "load_group",
]
