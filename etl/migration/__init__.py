"""The documents a migration files: the 移行用データ作成報告書 of a project across its passes.

report = build_report(load_project(root))
write_documents(report, root / "migration-report", chromium=Path("/usr/bin/chromium"))
"""

from etl.migration.build import build_report
from etl.migration.documents import (
    render_html,
    workbook_bytes,
    write_documents,
    write_group_documents,
)
from etl.migration.model import MigrationReport

__all__ = [
    "MigrationReport",
    "build_report",
    "render_html",
    "workbook_bytes",
    "write_documents",
    "write_group_documents",
]
