"""What the 外字 ledger records: codes a vendor's data holds, where they occur, what was decided.

A code is identified by (vendor, charset, code): the same vendor's F0A0 means the same
character in every member municipality of a group, so it is decided once. Decisions are
appended, never overwritten: the current one is the latest, the others are its history.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from etl.errors import ChukanError


class LedgerError(ChukanError):
    """The ledger file, or what a command asked of it, is not usable (exit 2)."""


class Status(StrEnum):
    """Where a code stands (the Japanese words staff use, as stored and shown)."""

    UNIDENTIFIED = "未同定"  # seen, nobody has decided
    CANDIDATE = "候補あり"  # candidates proposed, not yet decided
    IDENTIFIED = "同定済"  # mapped to the character it is (Unicode, IVS kept)
    DEGENERATED = "縮退して移行"  # mapped to a close standard character, knowingly
    NEW = "新規追加"  # a character to be added to the new system's 外字

    @property
    def maps(self) -> bool:
        """Whether a decision with this status gives the extractors a character to use."""
        return self in (Status.IDENTIFIED, Status.DEGENERATED, Status.NEW)


@dataclass(frozen=True, slots=True)
class CodeKey:
    vendor: str
    charset: str
    code: str  # upper hex, as the vendor table writes it: "F0A0"

    def __str__(self) -> str:
        return f"{self.vendor}:{self.charset}:{self.code}"


_CODE = re.compile(r"[0-9A-F]{4,8}")
_UCS = re.compile(r"U\+([0-9A-F]{4,6})")


def checked_code(code: str) -> str:
    """A vendor code as the ledger keys it: 4–8 hex digits, upper case."""
    upper = code.strip().upper()
    if not _CODE.fullmatch(upper):
        raise LedgerError(f"code {code!r} is not a vendor code (4 to 8 hex digits, e.g. F0A0)")
    return upper


def parse_ucs(text: str) -> str:
    """``U+9089 U+E0101`` (a base character and its variation selector) as the text it means."""
    tokens = text.upper().split()
    chars = []
    for token in tokens:
        m = _UCS.fullmatch(token)
        if m is None:
            raise LedgerError(f"--as {text!r}: {token!r} is not U+XXXX")
        cp = int(m.group(1), 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise LedgerError(f"--as {text!r}: {token} is not a Unicode scalar value")
        if unicodedata.category(chr(cp)) == "Co":
            raise LedgerError(f"--as {text!r}: {token} is itself a private-use character")
        chars.append(chr(cp))
    if not chars:
        raise LedgerError("--as is empty: give U+XXXX (and U+E01xx for an IVS)")
    return "".join(chars)


def ucs_of(text: str) -> str:
    """The text as the vendor table and the ledger write it: ``U+845B U+E0100``."""
    return " ".join(f"U+{ord(c):04X}" for c in text)


@dataclass(frozen=True, slots=True)
class Decision:
    """One entry of a code's history."""

    key: CodeKey
    status: Status
    text: str | None  # the Unicode the code becomes (None while undecided)
    mj_name: str | None  # MJ文字図形名, e.g. MJ012345, when known
    juki_code: str | None  # 住基ネット統一文字コード, when known
    decided_by: str
    decided_at: str  # ISO 8601, UTC
    reason: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A character proposed for a code, and where the proposal came from."""

    text: str  # one character, or base + variation selector
    source: str  # "vendor table", "hint", "MJ縮退マップ", "IPAmj明朝"
    proposed_at: str
    mj_name: str | None = None  # MJ文字図形名 of the glyph, when IPAmj明朝 names it


@dataclass(frozen=True, slots=True)
class CodeState:
    """A code as it stands: its latest decision (None: never decided) and where it occurs."""

    key: CodeKey
    decision: Decision | None
    occurrences: int  # values holding it, over every scanned run
    municipalities: tuple[str, ...]

    @property
    def status(self) -> Status:
        return self.decision.status if self.decision is not None else Status.UNIDENTIFIED
