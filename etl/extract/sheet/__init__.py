"""The sheet source format: one worksheet of an .xlsx workbook (a セットアップシート) per source
file, one record per row, fields by the 項目名 of the header row (docs/setup-sheet.md).

.container checks the file before the reader touches it (a bounded ZIP of XML parts, the
sheet's extent); .cells turns typed cell values into the text the clerk sees; .extractor reads
the rows in chunks and locates everything by sheet and cell.
"""

from etl.extract.sheet.container import SheetFacts, check_workbook
from etl.extract.sheet.extractor import SheetExtractor, column_letters
from etl.extract.sheet.options import SheetOptions

__all__ = ["SheetExtractor", "SheetFacts", "SheetOptions", "check_workbook", "column_letters"]
