"""What every workbook staff open has in common (run report, diff report, data dictionary):
options that keep data as data, the header style, Excel's limits, a reproducible date.

Beside the HTML environment because a workbook is the other rendering of the same pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_CELL = 32_767  # Excel's limit on characters in one cell
EXCEL_ROWS = 1_048_576  # rows of a worksheet, the header included
# Values are data: never let a leading "=" or "http" turn into a formula or a link.
DATA_ONLY = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
HEADER_FORMAT = {"bold": True, "bg_color": "#DCE6F1", "border": 1}


def workbook_created(timestamp: str) -> datetime:
    """A run's own ISO timestamp as the workbook's creation date (naive UTC, what xlsxwriter
    takes), so the same run always gives the same bytes; 2000-01-01 when it is not one."""
    try:
        ts = datetime.fromisoformat(timestamp)
    except ValueError:
        ts = datetime(2000, 1, 1, tzinfo=UTC)
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts
