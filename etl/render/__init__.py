"""Rendering shared by every page the toolkit writes (run report, diff report, the package's
data dictionary): one Jinja environment with autoescaping, the page layout and macros
(templates/), the style sheet and script (assets/) inlined so each page is one self-contained
file, and the number and date formats.

A low layer: it imports nothing from the stages or applications that use it.
"""

from etl.render.charts import BarChart, bar_chart_geometry
from etl.render.chromium import PrintError, print_pdf
from etl.render.list_sheets import SHARED_STRINGS, ListSheetError, filled_lists
from etl.render.pages import (
    ASSETS,
    DASH,
    asset_text,
    environment,
    num,
    render,
    when,
)
from etl.render.setup_sheet import (
    DATA_ROW,
    HEADER_ROW,
    HINT_ROW,
    INSTRUCTIONS_SHEET,
    LIST_SHEET,
    code_choice,
    setup_template,
    sheet_name,
)
from etl.render.workbook import (
    DATA_ONLY,
    EXCEL_ROWS,
    HEADER_FORMAT,
    MAX_CELL,
    header_format,
    print_ready,
    with_created,
    workbook_created,
)

__all__ = [
    "ASSETS",
    "DASH",
    "DATA_ONLY",
    "DATA_ROW",
    "EXCEL_ROWS",
    "HEADER_FORMAT",
    "HEADER_ROW",
    "HINT_ROW",
    "INSTRUCTIONS_SHEET",
    "LIST_SHEET",
    "MAX_CELL",
    "SHARED_STRINGS",
    "BarChart",
    "ListSheetError",
    "PrintError",
    "asset_text",
    "bar_chart_geometry",
    "code_choice",
    "environment",
    "filled_lists",
    "header_format",
    "num",
    "print_pdf",
    "print_ready",
    "render",
    "setup_template",
    "sheet_name",
    "when",
    "with_created",
    "workbook_created",
]
