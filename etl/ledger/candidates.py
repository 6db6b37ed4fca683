"""Candidates for open codes: from the Unicode the vendor's table (or a person) gives, widened
through the MJ縮退マップ and JIS縮退マップ (jntajis-python, which ships CITPC's MJ data).

A code nothing names a character for gets no candidate: it stays 未同定, a blocking finding
on every run that holds it, until someone decides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import reduce
from operator import or_

import jntajis

from etl.ledger.decisions import decide
from etl.ledger.ipamj import MjFont
from etl.ledger.model import Candidate, CodeKey, Status
from etl.ledger.store import Ledger, now
from etl.text import GaijiTable

VENDOR_TABLE = "vendor table"
HINT = "hint"
MJ_SHRINK = "MJ縮退マップ"
MJ_GLYPHS = "IPAmj明朝"
_ALL_SCHEMES = reduce(or_, (int(c) for c in jntajis.MJShrinkSchemeCombo))
OPEN = (Status.UNIDENTIFIED, Status.CANDIDATE)


def mj_candidates(text: str) -> list[str]:
    """``text`` itself and the characters the MJ縮退マップ relates it to (every scheme: JIS
    incorporation / UCS unification, reading and glyph, 法務省告示582号, 戸籍法関連通達)."""
    found = jntajis.mj_shrink_candidates(text, _ALL_SCHEMES)
    return list(dict.fromkeys([text, *found]))


def _widened(text: str, source: str, at: str, font: MjFont | None) -> list[Candidate]:
    """``text``, what the MJ縮退マップ relates it to, and (with IPAmj明朝) every MJ glyph of
    those characters with its MJ文字図形名 and IVS; each text once, in that order."""
    found: dict[str, Candidate] = {}

    def add(candidate: Candidate) -> None:
        known = found.get(candidate.text)
        if known is None:
            found[candidate.text] = candidate
        elif known.mj_name is None and candidate.mj_name is not None:
            found[candidate.text] = replace(known, mj_name=candidate.mj_name)

    shrunk = mj_candidates(text)
    add(Candidate(text, source, at))
    for other in shrunk[1:]:
        add(Candidate(other, MJ_SHRINK, at))
    if font is not None:
        for other in shrunk:
            for glyph in font.glyphs(other):
                add(Candidate(glyph.text, MJ_GLYPHS, at, glyph.mj_name))
    return list(found.values())


def propose(
    ledger: Ledger,
    vendor: str,
    charset: str,
    table: GaijiTable | None = None,
    hints: Mapping[str, str] | None = None,
    font: MjFont | None = None,
) -> dict[CodeKey, list[Candidate]]:
    """Candidates for every open code of ``vendor`` that the table or a hint names a character
    for; recorded in the ledger, and a code that gets its first candidates moves to 候補あり
    (a decision by chukan, in its history)."""
    named = {e.code: (e.text, VENDOR_TABLE) for e in (table.entries if table else ())}
    named |= {code: (text, HINT) for code, text in (hints or {}).items()}
    at = now()
    proposed: dict[CodeKey, list[Candidate]] = {}
    for state in ledger.states(vendor):
        key = state.key
        if key.charset != charset or state.status not in OPEN or key.code not in named:
            continue
        text, source = named[key.code]
        ledger.add_candidates(key, _widened(text, source, at, font))
        proposed[key] = ledger.candidates(key)
        if state.status is Status.UNIDENTIFIED:
            decide(
                ledger,
                key,
                Status.CANDIDATE,
                text=None,
                decided_by="chukan gaiji candidates",
                reason=f"{len(proposed[key])} candidate(s) from the {source} and {MJ_SHRINK}",
            )
    return proposed
