"""The encodings a source profile may declare, by name (no I/O: read by the profile model and
by the decoder alike)."""

from __future__ import annotations

SUPPORTED = ("cp932", "shift_jis", "euc_jp", "utf-8", "utf-8-sig", "auto")
CODECS = {"cp932": "cp932", "shift_jis": "cp932", "euc_jp": "euc_jp", "utf-8": "utf-8"}
CODECS |= {"utf-8-sig": "utf-8"}
_ALIASES = {"sjis": "shift_jis", "shift-jis": "shift_jis", "windows-31j": "cp932", "ms932": "cp932"}
_ALIASES |= {"euc-jp": "euc_jp", "eucjp": "euc_jp", "utf8": "utf-8", "utf_8": "utf-8"}
_ALIASES |= {"utf8-sig": "utf-8-sig", "utf_8_sig": "utf-8-sig"}


def supported_name(declared: str) -> str:
    """The normalised name of ``declared`` (one of SUPPORTED); ValueError when unsupported, so a
    profile names its ``encoding`` key when it is read, not when a file is first extracted."""
    name = _ALIASES.get(declared.lower(), declared.lower())
    if name not in SUPPORTED:
        raise ValueError(f"unsupported encoding {declared!r}; use one of {', '.join(SUPPORTED)}")
    return name


__all__ = ["CODECS", "SUPPORTED", "supported_name"]
