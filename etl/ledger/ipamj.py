"""IPAmj明朝, the font of the MJ文字情報一覧表: its glyph names are the MJ文字図形名 (mj025760),
its cmap format 14 the IVS of each MJ glyph. Used to name candidates and to render them.

Debian ships it (fonts-ipamj-mincho, IPA Font License: a subset embedded in a document is
allowed); chukan reads it where it is installed and never copies it into the repository.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from etl.ledger.model import LedgerError

DEFAULT_MJ_FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
VS_FIRST, VS_LAST = 0xE0100, 0xE01EF  # Ideographic Variation Selectors


@dataclass(frozen=True, slots=True)
class MjGlyph:
    text: str  # a character, or a character and its IVS
    mj_name: str  # MJ文字図形名: MJ025760


class MjFont:
    """An installed IPAmj明朝, opened lazily (the file is ~45 MB; only the tables read load)."""

    def __init__(self, path: Path = DEFAULT_MJ_FONT) -> None:
        if not path.is_file():
            raise LedgerError(
                f"{path}: IPAmj明朝 not found; install fonts-ipamj-mincho or give --mj-font"
            )
        self.path = path
        try:
            self._font = TTFont(str(path), lazy=True)
            self._cmap = self._font.getBestCmap()
            uvs = next(t for t in self._font["cmap"].tables if t.format == 14).uvsDict
        except Exception as exc:  # fontTools raises many kinds on a file that is no font
            raise LedgerError(f"{path}: not a readable font ({exc})") from None
        self._variants: dict[int, list[tuple[int, str]]] = {}
        for selector, entries in uvs.items():
            for base, glyph in entries:
                if glyph is not None and VS_FIRST <= selector <= VS_LAST:
                    self._variants.setdefault(base, []).append((selector, glyph))

    def glyphs(self, char: str) -> list[MjGlyph]:
        """The MJ glyphs of a character: its default glyph, then each IVS it has, in order."""
        base = ord(char[0])
        found = []
        if (name := self._cmap.get(base)) is not None and name.startswith("mj"):
            found.append(MjGlyph(char[0], name.upper()))
        for selector, name in sorted(self._variants.get(base, [])):
            if name.startswith("mj"):
                found.append(MjGlyph(char[0] + chr(selector), name.upper()))
        return found

    def subset_ttf(self, texts: list[str]) -> bytes:
        """A font holding only the glyphs of ``texts`` (IVS sequences kept), for embedding."""
        return subset_font(self.path, "".join(texts))


def subset_font(path: Path, text: str) -> bytes:
    """The TrueType font at ``path`` cut down to the glyphs of ``text`` (variation sequences
    kept), for embedding in a page; fontTools' errors pass to the caller."""
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]  # the licence and copyright notices stay with the subset
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    font = TTFont(str(path), lazy=True)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@cache
def mj_font(path: Path = DEFAULT_MJ_FONT) -> MjFont:
    return MjFont(path)
