"""The 外字 ledger a group shares: every vendor 外字 code its runs met, where, and what was
decided (who, when, why; history kept), and the vendor gaiji table those decisions make.

    with open_ledger(path, create=True) as ledger:
        ledger.add_occurrences(run_occurrences(RunFolder.open(run), "cp932", None))
        decide(ledger, CodeKey("vendor-a", "cp932", "F0A0"), Status.IDENTIFIED,
               text="髙", decided_by="田中", reason="住基の氏名と照合")
        write_vendor_table(vendor_table(ledger, "vendor-a", "cp932", base), out)
"""

from etl.ledger.candidates import mj_candidates, propose
from etl.ledger.decisions import decide, vendor_table, write_vendor_table
from etl.ledger.ipamj import DEFAULT_MJ_FONT, MjFont, MjGlyph, mj_font
from etl.ledger.model import (
    Candidate,
    CodeKey,
    CodeState,
    Decision,
    LedgerError,
    Status,
    checked_code,
    parse_ucs,
    ucs_of,
)
from etl.ledger.review import review_page
from etl.ledger.scan import GAIJI_SECTION, run_gaiji_status, run_ledger_entries, run_occurrences
from etl.ledger.store import Ledger, open_ledger

__all__ = [
    "DEFAULT_MJ_FONT",
    "GAIJI_SECTION",
    "Candidate",
    "CodeKey",
    "CodeState",
    "Decision",
    "Ledger",
    "LedgerError",
    "MjFont",
    "MjGlyph",
    "Status",
    "checked_code",
    "decide",
    "mj_candidates",
    "mj_font",
    "open_ledger",
    "parse_ucs",
    "propose",
    "review_page",
    "run_gaiji_status",
    "run_ledger_entries",
    "run_occurrences",
    "ucs_of",
    "vendor_table",
    "write_vendor_table",
]
