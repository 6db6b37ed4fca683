"""Deciding a code, and the vendor gaiji table the decisions make (what the extractors read)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from etl.ledger.model import CodeKey, Decision, LedgerError, Status, ucs_of
from etl.ledger.store import Ledger, now
from etl.text import GaijiEntry, GaijiTable
from etl.write import WrittenFile, write_bytes_atomic


def _in_user_area(key: CodeKey) -> None:
    """The code must be one the charset decodes to a private-use character (its 外字 area)."""
    try:
        decoded = bytes.fromhex(key.code).decode(key.charset)
    except (UnicodeDecodeError, LookupError, ValueError):
        decoded = ""
    if len(decoded) != 1 or not 0xE000 <= ord(decoded) <= 0xF8FF:
        raise LedgerError(f"code {key.code} is not in the {key.charset} user-defined (外字) area")


def decide(
    ledger: Ledger,
    key: CodeKey,
    status: Status,
    *,
    text: str | None,
    decided_by: str,
    reason: str,
    mj_name: str | None = None,
    juki_code: str | None = None,
) -> Decision:
    """Append a decision on ``key``: who, why, and (for a status that maps) the character."""
    _in_user_area(key)
    if not ledger.known(key):
        raise LedgerError(
            f"{key.vendor} {key.code} ({key.charset}) is not in the ledger: scan a run that holds"
            " it first (`chukan gaiji scan`), so the decision has an occurrence to stand for"
        )
    if not decided_by.strip() or not reason.strip():
        raise LedgerError("a decision needs --by (who decides) and --reason (why)")
    if status.maps and text is None:
        raise LedgerError(f"status {status.value} needs --as U+XXXX: the character it becomes")
    if not status.maps and text is not None:
        raise LedgerError(f"status {status.value} maps to nothing: leave out --as")
    decision = Decision(
        key, status, text, mj_name, juki_code, decided_by.strip(), now(), reason.strip()
    )
    ledger.decide(decision)
    return decision


def vendor_table(
    ledger: Ledger, vendor: str, charset: str, base: GaijiTable | None = None
) -> list[GaijiEntry]:
    """The vendor's gaiji table: the rows of ``base`` (the vendor's own table), then every
    code whose decision maps it. A decision that contradicts a base row is an error: the
    ledger does not silently overrule the vendor's table, nor the other way round."""
    rows = {e.code: e for e in (base.entries if base is not None else ())}
    for state in ledger.states(vendor):
        d = state.decision
        if state.key.charset != charset or d is None or not d.status.maps or d.text is None:
            continue
        name = f"{d.status.value}: {d.reason}" + (f" ({d.mj_name})" if d.mj_name else "")
        given = rows.get(state.key.code)
        if given is not None and given.text != d.text:
            raise LedgerError(
                f"code {state.key.code}: the vendor table maps it to {ucs_of(given.text)}, the"
                f" ledger to {ucs_of(d.text)}; decide it again, or correct the vendor table"
            )
        if given is None:
            rows[state.key.code] = GaijiEntry(state.key.code, d.text, name)
    return [rows[code] for code in sorted(rows)]


def write_vendor_table(entries: list[GaijiEntry], out: Path) -> WrittenFile:
    """The table as the extractors read it (UTF-8 CSV: code,ucs,name), atomically, 0600."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "ucs", "name"])
    writer.writerows([e.code, ucs_of(e.text), e.name] for e in entries)
    return write_bytes_atomic(out, buffer.getvalue().encode("utf-8"))
