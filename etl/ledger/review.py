"""The 外字 review page (外字確認表): one self-contained Japanese HTML page where each open code
shows the vendor's glyph (from the vendor's 外字 font, TrueType/EUDC .tte) beside its
candidates in IPAmj明朝, with where it occurs and how often.

Both fonts are embedded as subsets holding only the glyphs on the page (data: URLs), so the
page opens offline on any PC and shows the same glyphs everywhere.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from etl.ledger.candidates import OPEN
from etl.ledger.ipamj import MjFont
from etl.ledger.model import LedgerError, ucs_of
from etl.ledger.store import Ledger
from etl.render import render

OCCURRENCE_HEADERS = ("団体コード", "実行", "業務", "ファイル", "項目", "件数")


@dataclass(frozen=True, slots=True)
class ShownCandidate:
    text: str
    ucs: str
    mj_name: str | None
    source: str


@dataclass(frozen=True, slots=True)
class ShownCode:
    code: str
    status: str
    pua: str  # the private-use character the vendor font draws the code at
    candidates: tuple[ShownCandidate, ...]
    occurrences: tuple[dict[str, object], ...]


def vendor_font_subset(path: Path, chars: str) -> bytes:
    """The vendor's font cut down to ``chars`` (its 外字 on the page)."""
    try:
        font = TTFont(str(path), lazy=True)
        options = subset.Options()
        options.notdef_outline = True
        options.name_IDs = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    except Exception as exc:  # fontTools raises many kinds on what is no TrueType font
        raise LedgerError(f"{path}: not a TrueType 外字 font (.ttf/.tte): {exc}") from None
    return out.getvalue()


def review_page(
    ledger: Ledger,
    vendor: str,
    charset: str,
    *,
    vendor_font: Path | None,
    mj: MjFont | None,
    tool_version: str,
) -> str:
    codes = []
    for state in ledger.states(vendor):
        key = state.key
        if key.charset != charset or state.status not in OPEN:
            continue
        shown = tuple(
            ShownCandidate(c.text, ucs_of(c.text), c.mj_name, c.source)
            for c in ledger.candidates(key)
        )
        where = tuple(ledger.occurrences(key).to_dicts())
        pua = bytes.fromhex(key.code).decode(charset)
        codes.append(ShownCode(key.code, state.status.value, pua, shown, where))
    vendor_b64 = mj_b64 = ""
    if vendor_font is not None and codes:
        data = vendor_font_subset(vendor_font, "".join(c.pua for c in codes))
        vendor_b64 = base64.b64encode(data).decode("ascii")
    texts = [k.text for c in codes for k in c.candidates]
    if mj is not None and texts:
        mj_b64 = base64.b64encode(mj.subset_ttf(texts)).decode("ascii")
    undecided = sum(1 for c in codes if not c.candidates)
    return render(
        "etl.ledger",
        "review.html.j2",
        title=f"外字確認表 {vendor}",
        subtitle=f"{charset} の未同定・候補ありの外字 {len(codes)} 件",
        toc=[("summary", "概要"), *((f"code-{c.code}", c.code) for c in codes)],
        tool_version=tool_version,
        cards=[
            ("accent", "確認が必要な外字", str(len(codes))),
            ("warning" if undecided else "ok", "候補なし", str(undecided)),
        ],
        codes=codes,
        vendor_font=vendor_b64,
        mj_font=mj_b64,
        OCCURRENCE_HEADERS=OCCURRENCE_HEADERS,
    )
