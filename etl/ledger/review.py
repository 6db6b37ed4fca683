"""The 外字 review page (外字確認表): one self-contained Japanese HTML page where each open code
shows the vendor's glyph (from the vendor's 外字 font: TrueType/EUDC .tte, or a BDF bitmap
font) beside its candidates in IPAmj明朝, with where it occurs and how often.

Both fonts are embedded as subsets holding only the glyphs on the page (data: URLs; a BDF
glyph as a PNG image), so the page opens offline on any PC and shows the same glyphs.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import BdfFontFile

from etl.ledger.candidates import OPEN
from etl.ledger.ipamj import MjFont, subset_font
from etl.ledger.model import LedgerError, ucs_of
from etl.ledger.store import Ledger
from etl.paths import NotARegularFile, read_regular
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
    pua: str  # the private-use character a TrueType vendor font draws the code at
    candidates: tuple[ShownCandidate, ...]
    occurrences: tuple[dict[str, object], ...]
    image: str = ""  # the glyph of a bitmap (BDF) vendor font, as a PNG data: URL


MAX_BDF_BYTES = 64 << 20  # a 外字 font of a few thousand 24- or 32-dot glyphs is far smaller


def bdf_glyphs(path: Path, codes: dict[str, str]) -> dict[str, str]:
    """The glyphs of ``codes`` (vendor code → its private-use character) in a BDF font, as PNG
    data: URLs. A glyph is found by its ENCODING: the vendor code (F0A0 = 61600) or the
    private-use code point it decodes to."""
    wanted = {int(code, 16): code for code in codes} | {ord(c): code for code, c in codes.items()}
    found: dict[str, str] = {}
    try:
        data = read_regular(path, MAX_BDF_BYTES)
        fp = io.BytesIO(data)
        if not fp.readline().startswith(b"STARTFONT"):
            raise ValueError("no STARTFONT line")
        while (glyph := BdfFontFile.bdf_char(fp)) is not None:
            _, encoding, _, image = glyph
            code = wanted.get(encoding)
            if code is not None and code not in found:
                png = io.BytesIO()
                image.convert("L").point(lambda v: 255 - v).save(png, "PNG")
                found[code] = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    except NotARegularFile as exc:
        raise LedgerError(str(exc)) from None
    except Exception as exc:  # Pillow's parser raises many kinds on what is no BDF
        raise LedgerError(f"{path}: not a BDF 外字 font: {exc}") from None
    return found


def vendor_font_subset(path: Path, chars: str) -> bytes:
    """The vendor's font cut down to ``chars`` (its 外字 on the page)."""
    try:
        return subset_font(path, chars)
    except Exception as exc:  # fontTools raises many kinds on what is no TrueType font
        raise LedgerError(f"{path}: not a TrueType 外字 font (.ttf/.tte): {exc}") from None


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
    if vendor_font is not None and codes and vendor_font.suffix.lower() == ".bdf":
        images = bdf_glyphs(vendor_font, {c.code: c.pua for c in codes})
        codes = [replace(c, image=images.get(c.code, "")) for c in codes]
    elif vendor_font is not None and codes:
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
        has_vendor_font=vendor_font is not None,
        mj_font=mj_b64,
        OCCURRENCE_HEADERS=OCCURRENCE_HEADERS,
    )
