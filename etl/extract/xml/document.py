"""An XML file's bytes as the parser gets them: encoding, refused prologs, UTF-8 blocks.

The encoding is the one the XML declaration names (none: UTF-8, as XML says); the file's
``encoding`` in source.yaml, unless ``auto``, has to agree with it, and a declaration its bytes
contradict (declared Shift_JIS, written in UTF-8) is refused, naming both. The bytes are decoded
here with Python's codecs, as every other format is (Shift_JIS read as its superset cp932, with
its NEC/IBM characters and 外字), and lxml parses the UTF-8 this gives, so libxml2 never
converts encodings itself. A bad byte becomes U+FDD0 (a noncharacter, never text) and is
remembered with its line: the record holding it is rejected, the others are read.

A prolog with a DOCTYPE that has an internal subset (entity declarations: billion laughs,
XXE) or names an external DTD is refused before the parser sees it; the parser itself runs
without entity resolution, DTD loading or network access, and with libxml2's default limits
(depth, text size: no ``huge_tree``).
"""

from __future__ import annotations

import codecs
import re
import threading
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from etl.errors import ExtractError
from etl.extract.codecs import CODECS, supported_name
from etl.extract.decode import hex_bytes
from etl.extract.encoding import ResolvedEncoding, extract_finding, resolve_encoding
from etl.extract.guess import UTF8_BOM, guess_encoding
from etl.findings import Severity, concat_findings

BLOCK_BYTES = 1 << 20  # raw bytes decoded and fed at a time
MAX_BAD_PER_BLOCK = 1000  # bad byte sequences whose line is kept, per block
PROLOG_CHARS = 1 << 16  # the prolog (declaration, comments, DOCTYPE) must end within this
BAD_BYTE = "\ufdd0"  # stands for an undecodable byte sequence in the text the parser reads
# cp932 decodes these bytes without error to characters that are no text (etl.extract.decode)
CP932_SILENT = {"\x80": 0x80, "\uf8f0": 0xA0, "\uf8f1": 0xFD, "\uf8f2": 0xFE, "\uf8f3": 0xFF}
_STRUCTURAL_BELOW = 0x40  # '<', '>', '"', '&', '=' and line feeds are never inside a character
_HANDLER = "chukan.xml_bad_bytes"
_DECLARATION = re.compile(
    rb"<\?xml\s+version\s*=\s*[\"']1\.[0-9]+[\"']"
    rb"(?:\s+encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._\-]*)[\"'])?"
)
# names XML files carry for encodings chukan reads, beside etl.extract.codecs' aliases
_XML_NAMES = {
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "x-sjis": "shift_jis",
    "csshiftjis": "shift_jis",
}
_XML_NAMES |= {"cseucpkdfmtjapanese": "euc_jp", "x-euc-jp": "euc_jp"}
_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\x00\x00\xfe\xff": "UTF-32"}


class _Spans(threading.local):
    """The bad byte runs of the decode in progress, per thread."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int]] = []


_spans = _Spans()


def _record(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    end = err.end
    for i in range(err.start + 1, err.end):  # resume at a structural byte: markup survives
        if err.object[i] < _STRUCTURAL_BELOW:
            end = i
            break
    _spans.found.append((err.start, end))
    return BAD_BYTE, end


@cache
def _register() -> None:
    codecs.register_error(_HANDLER, _record)


@dataclass(frozen=True, slots=True)
class BadBytes:
    line: int
    raw: bytes


def declared_encoding(path: Path, head: bytes) -> str | None:
    """The encoding the XML declaration names, as written (None: no declaration or none in it)."""
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            raise ExtractError(path, f"is {name} (byte order mark): {_READ_AS}")
    if b"\x00" in head[:4]:
        raise ExtractError(path, f"is UTF-16 or UTF-32 (NUL bytes at the start): {_READ_AS}")
    body = head[len(UTF8_BOM) :] if head.startswith(UTF8_BOM) else head
    match = _DECLARATION.match(body)
    return match.group(1).decode("ascii") if match and match.group(1) else None


_READ_AS = "chukan reads XML in UTF-8, Shift_JIS, Windows-31J (CP932) or EUC-JP"


def resolve_xml_encoding(
    path: Path, name: str, profile_encoding: str, head: bytes, *, overrule: bool = False
) -> ResolvedEncoding:
    """The encoding of the XML file at ``path`` (source ``name``): its declaration, checked
    against the profile's ``profile_encoding`` and against its own bytes. ``overrule``
    (``options: {overrule_declaration: true}``): the profile's encoding is used whatever the
    file declares, and a warning finding says so."""
    written = declared_encoding(path, head)
    declared = written or "UTF-8"
    said = f"declares encoding {written}" if written else "has no encoding declaration (UTF-8)"
    wanted = supported_name(profile_encoding)
    if overrule and wanted == "auto":
        raise ExtractError(
            path, "options.overrule_declaration needs the file's encoding in source.yaml, not auto"
        )
    overruled = overrule
    try:
        encoding = supported_name(_XML_NAMES.get(declared.lower(), declared))
        if encoding == "auto":  # a profile's word, not an encoding
            raise ValueError(declared)
    except ValueError:
        if not overruled:
            raise ExtractError(
                path,
                f"line 1: declares encoding {declared!r}, which chukan does not read; {_READ_AS}",
            ) from None
        encoding = wanted
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    if overruled:
        encoding = "utf-8" if wanted == "utf-8-sig" else wanted
    elif wanted != "auto" and CODECS[wanted] != CODECS[encoding]:
        raise ExtractError(
            path,
            f"line 1: {said}, but source.yaml says {profile_encoding}: make them agree "
            "(encoding: auto follows the declaration)",
        )
    bom = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    if bom and CODECS[encoding] != "utf-8":
        raise ExtractError(
            path, f"line 1: starts with a UTF-8 byte order mark but reads as {encoding}"
        )
    guess = guess_encoding(head[bom:])
    if not guess.ambiguous and CODECS.get(guess.encoding, guess.encoding) != CODECS[encoding]:
        what = f"source.yaml says {profile_encoding}" if overruled else said
        raise ExtractError(
            path,
            f"line 1: {what}, but its bytes read as {guess.encoding} ({guess.reason}): "
            + (
                "correct the file's encoding in source.yaml"
                if overruled
                else "the declaration is wrong; have the file exported again, or name the "
                "encoding in source.yaml with options: {overrule_declaration: true}"
            ),
        )
    resolved = resolve_encoding(encoding, path, name, head)
    findings = resolved.findings
    declared_codec = CODECS.get(_supported_or_none(declared), "")
    if overruled and (written is None or declared_codec != CODECS[encoding]):
        findings = concat_findings(
            [
                findings,
                extract_finding(
                    "extract.xml_declaration_overruled",
                    Severity.WARNING,
                    name,
                    f"{path.name} の XML 宣言（{declared}）ではなく、source.yaml の"
                    f" {profile_encoding} で読み込みました（overrule_declaration）。",
                    value=declared,
                ),
            ]
        )
    return ResolvedEncoding(written or "", resolved.encoding, resolved.codec, bom, None, findings)


def _supported_or_none(declared: str) -> str:
    """The normalised name of a declared encoding, or "" when chukan does not read it."""
    try:
        return supported_name(_XML_NAMES.get(declared.lower(), declared))
    except ValueError:
        return ""


_DOCTYPE_BARE = re.compile(r"<!DOCTYPE\s+[^\s\[>]+\s*>")


def refuse_hostile_prolog(path: Path, text: str) -> None:
    """Refuse a DOCTYPE that declares entities (an internal subset) or names an external DTD,
    before any parser reads it. ``text`` is the start of the decoded file."""
    at = 0
    if text.startswith("<?xml"):
        at = _end_of(path, text, at, "?>", "XML declaration")
    while True:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if text.startswith("<!--", at):
            at = _end_of(path, text, at, "-->", "comment")
        elif text.startswith("<?", at):
            at = _end_of(path, text, at, "?>", "processing instruction")
        elif text.startswith("<!DOCTYPE", at):
            line = text.count("\n", 0, at) + 1
            if _DOCTYPE_BARE.match(text, at) is None:
                raise ExtractError(
                    path,
                    f"line {line}: a DOCTYPE with entity declarations or an external DTD is "
                    "refused: entities can expand without bound, read local files or reach the "
                    "network (XXE); export the file without a DOCTYPE",
                )
            at = text.index(">", at) + 1
        elif at >= PROLOG_CHARS:
            raise ExtractError(path, f"no root element in the first {PROLOG_CHARS} characters")
        else:
            return  # the root element, text the parser will refuse, or the end of the file


def _end_of(path: Path, text: str, at: int, end: str, what: str) -> int:
    stop = text.find(end, at)
    if stop < 0:
        if len(text) >= PROLOG_CHARS:
            raise ExtractError(path, f"{what} at line {text.count(chr(10), 0, at) + 1} never ends")
        return len(text)  # a truncated prolog: the parser names it
    return stop + len(end)


class Document:
    """The file's text in UTF-8 blocks for the parser, and the bad bytes found on the way."""

    def __init__(self, path: Path, encoding: ResolvedEncoding) -> None:
        self.path = path
        self.codec = encoding.codec
        self.skip = encoding.bom_length
        self.bad: list[BadBytes] = []  # in file order
        self.suspect = False  # a bad byte (or a cp932 non-character) was decoded so far
        self.fed = 0  # raw bytes decoded so far

    def blocks(self, f: BinaryIO) -> Iterator[bytes]:
        """The text as UTF-8 blocks, each cut after an ASCII byte: in cp932, EUC-JP and UTF-8
        a byte below 0x80 always ends a character (a single byte, or a cp932 trail byte)."""
        _register()
        f.seek(self.skip)
        self.fed = self.skip
        line = 1
        rest = b""
        first = True
        while True:
            raw = f.read(BLOCK_BYTES)
            data = rest + raw
            if not data:
                return
            cut = _after_last_ascii(data) if raw else len(data)
            if cut == 0:
                if len(data) >= 4 * BLOCK_BYTES:
                    raise ExtractError(
                        self.path, f"line {line}: {len(data)} bytes without an ASCII character"
                    )
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            _spans.found = []
            text = codecs.decode(block, self.codec, _HANDLER)
            spans, _spans.found = _spans.found, []
            if first:
                refuse_hostile_prolog(self.path, text[:PROLOG_CHARS])
                first = False
            for start, end in spans[:MAX_BAD_PER_BLOCK]:
                self.bad.append(BadBytes(line + block.count(b"\n", 0, start), block[start:end]))
            if spans or (self.codec == "cp932" and _has_silent(text)):
                self.suspect = True
            line += block.count(b"\n")
            self.fed += len(block)
            yield text.encode("utf-8")

    def bad_near(self, line: int) -> BadBytes | None:
        """The first bad byte sequence at or after ``line`` (the record's start)."""
        i = bisect_left([b.line for b in self.bad], line)
        return self.bad[i] if i < len(self.bad) else None


def _after_last_ascii(data: bytes) -> int:
    """The position after the last byte below 0x80 of ``data`` (0: none)."""
    for size in (256, len(data)):  # the end of a block is nearly always near some ASCII
        tail = np.frombuffer(data[-size:], dtype=np.uint8)
        hits = np.flatnonzero(tail < 0x80)
        if hits.size:
            return len(data) - tail.size + int(hits[-1]) + 1
    return 0


def _has_silent(text: str) -> bool:
    return any(c in text for c in CP932_SILENT)


def describe_bad(bad: BadBytes | None) -> str:
    """`` (0x85 0x20, line 12)``: which bytes and where, for a reject's reason."""
    return f" ({hex_bytes(bad.raw)}, line {bad.line})" if bad is not None else ""
