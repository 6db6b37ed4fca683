"""COBOL copybooks read into records: every elementary field at its offset (etl.extract.mainframe
.importer writes them as a source profile, ``chukan profile import-copybook``).

A copybook describes records as data description entries: level numbers, PIC / USAGE, OCCURS
(fixed or DEPENDING ON), REDEFINES, FILLER, 88-level condition names. This module reads one
(reference format: sequence area in columns 1-6, indicator in 7, code in 8-72; or free format)
into records with every elementary field's byte offset from the start of the record's data
(after the RDW).

Evaluated on PyPI (Dec 2026): ``copybook`` 1.0.16 (pyparsing; last release 2022; no PIC N/G, no
binary COMP, no OCCURS DEPENDING ON, no line numbers in errors), ``python-cobol`` 0.1.4 (2020,
unmaintained), ``python-copybook`` (Python >= 3.12 only), converters to JSON without a parser
API. None reads what Japanese mainframe copybooks hold or names the line of a problem, so this
is a small typed parser of the subset a record layout uses. Everything else is refused as a
ProfileError naming the copybook and the line (exit 2), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import read_config_bytes
from etl.errors import ConfigError, ProfileError
from etl.extract.charsets import TextMode
from etl.extract.mainframe.options import MAX_OCCURS
from etl.extract.profile import MAX_RECORD_LENGTH, FieldType

MAX_COPYBOOK_BYTES = 4 << 20  # the largest real copybooks are a few hundred KiB
MAX_ENTRIES = 20_000  # data description entries
MAX_DIGITS = 18  # COBOL numeric items hold at most 18 digits (ARITH(COMPAT))
MAX_PIC_REPEAT = 32_767  # X(n), N(n)
_INDICATORS = frozenset(" *-/Dd")
_COMMENT_INDICATORS = frozenset("*/Dd")  # comment, page eject, debugging line
_LEVEL = re.compile(r"^\d{1,2}$")
_LITERAL = re.compile(r"""(?:[XNGZ]|NX)?(?:'(?:[^']|'')*'|"(?:[^"]|"")*")""", re.IGNORECASE)
_PIC_SYMBOL = re.compile(r"(CR|DB|[9SVPXANGZB0/,.+\-*$E])(?:\((\d{1,9})\))?", re.IGNORECASE)
_USAGES = {
    "DISPLAY": "display",
    "DISPLAY-1": "display-1",
    "NATIONAL": "national",
    "COMP": "binary",
    "COMPUTATIONAL": "binary",
    "COMP-4": "binary",
    "COMPUTATIONAL-4": "binary",
    "BINARY": "binary",
    "COMP-5": "binary",
    "COMPUTATIONAL-5": "binary",
    "COMP-3": "packed",
    "COMPUTATIONAL-3": "packed",
    "PACKED-DECIMAL": "packed",
    "COMP-1": "float",
    "COMPUTATIONAL-1": "float",
    "COMP-2": "float",
    "COMPUTATIONAL-2": "float",
    "INDEX": "pointer",
    "POINTER": "pointer",
}
# words that end an OCCURS … KEY IS / INDEXED BY name list
_CLAUSE_WORDS = frozenset(
    {"PIC", "PICTURE", "USAGE", "OCCURS", "VALUE", "VALUES", "REDEFINES", "SIGN", "LEADING"}
    | {"TRAILING", "JUSTIFIED", "JUST", "SYNC", "SYNCHRONIZED", "BLANK", "GLOBAL", "EXTERNAL"}
    | {"ASCENDING", "DESCENDING", "INDEXED"}
    | set(_USAGES)
)


class CopybookError(ProfileError):
    """A copybook the importer cannot read: the message names the file and the line."""


# ---- reading the text: lines, continuation, tokens ------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    line: int


def _decode(path: Path, raw: bytes) -> str:
    if not raw.strip():
        raise CopybookError(path, "the copybook is empty")
    if b"\x00" in raw:
        raise CopybookError(path, "the copybook holds NUL bytes: it is a binary file, not text")
    for codec in ("utf-8", "cp932"):  # Japanese copybooks are often kept in Shift_JIS
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    raise CopybookError(path, "the copybook is neither UTF-8 nor CP932 text")


def _is_fixed_format(lines: list[str]) -> bool:
    """Reference format when every line fits it: an indicator in column 7 and nothing in area A
    that the sequence area (columns 1-6) could not hold."""
    for line in lines:
        if not line.strip():
            continue
        if len(line) < 7 or line[6] not in _INDICATORS:
            return False
    return True


def _strip_inline_comment(text: str) -> str:
    """Text before a ``*>`` floating comment that is outside any literal."""
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif text.startswith("*>", i):
            return text[:i]
    return text


def _open_quote(text: str) -> str:
    """The quote character of a literal left open at the end of ``text`` ('' when none)."""
    quote = ""
    for c in text:
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
    return quote


def _segments(path: Path, text: str) -> list[tuple[int, str]]:
    """(line number, code) per logical line, continuation lines joined onto the line before."""
    lines = text.expandtabs(8).splitlines()
    fixed = _is_fixed_format(lines)
    out: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if fixed:
            indicator = line[6] if len(line) > 6 else " "
            code = line[7:72]
        else:
            stripped = line.lstrip()
            indicator = "*" if stripped.startswith("*") and not stripped.startswith("*>") else " "
            if stripped.startswith("-") and out and _open_quote(out[-1][1]):
                indicator, code = "-", stripped[1:]
            else:
                code = line
        if indicator in _COMMENT_INDICATORS:
            continue
        if indicator == "-":
            if not out:
                raise CopybookError(path, "a continuation line continues nothing", line=number)
            first, before = out[-1]
            quote = _open_quote(before)
            if quote:  # a literal continues after the first quote of the continuation line
                at = code.find(quote)
                if at < 0:
                    raise CopybookError(
                        path,
                        "a continued literal needs a quote on its continuation line",
                        line=number,
                    )
                out[-1] = (first, before + code[at + 1 :])
            else:  # a word continues at the first non-blank character
                out[-1] = (first, before.rstrip() + _strip_inline_comment(code).lstrip())
            continue
        out.append((number, _strip_inline_comment(code) if not _open_quote(code) else code))
    return out


def _tokens(path: Path, segments: list[tuple[int, str]]) -> Iterator[_Token]:
    """Words, literals and the period ending each entry ('.'), with the line of each."""
    for line, code in segments:
        i, n = 0, len(code)
        while i < n:
            c = code[i]
            if c.isspace() or (c in ",;" and (i + 1 == n or code[i + 1].isspace())):
                i += 1
                continue
            literal = _LITERAL.match(code, i)
            if literal:
                end = literal.end()
                yield _Token(literal.group(0), line)
                i = end
                if code.startswith(".", i) and (i + 1 == n or code[i + 1].isspace()):
                    yield _Token(".", line)
                    i += 1
                continue
            if c in "'\"":
                raise CopybookError(path, "a literal is not closed", line=line)
            j = i
            while j < n and not code[j].isspace():
                j += 1
            word = code[i:j]
            i = j
            period = word.endswith(".")
            word = word.rstrip(".") if period else word
            word = word.rstrip(",;")
            if word:
                yield _Token(word, line)
            if period:
                yield _Token(".", line)


# ---- entries and the item tree --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Picture:
    """A PIC string, classified: what kind of item it makes and how many positions it holds."""

    text: str
    kind: str  # "alphanumeric" | "dbcs" | "numeric" | "edited"
    positions: int  # characters (alphanumeric, edited), DBCS characters, or digits
    scale: int = 0  # digits after V
    signed: bool = False


@dataclass(frozen=True, slots=True)
class Occurs:
    times: int  # the maximum
    minimum: int
    depending_on: str | None


@dataclass(slots=True)
class Entry:
    """One data description entry of the copybook, with its subordinate entries."""

    level: int
    name: str
    line: int
    picture: Picture | None = None
    usage: str | None = None  # as _USAGES values; None: inherited from the group (display)
    usage_word: str = ""  # as written (COMP-3, PACKED-DECIMAL …), for the profile's comments
    occurs: Occurs | None = None
    redefines: str | None = None
    values: list[str] = field(default_factory=list)  # VALUE literal(s)
    conditions: list[tuple[str, list[str]]] = field(default_factory=list)  # 88-levels
    sign_separate: bool = False
    children: list[Entry] = field(default_factory=list)

    @property
    def filler(self) -> bool:
        return self.name.upper() == "FILLER"


def parse_picture(path: Path, text: str, line: int) -> Picture:
    """Classify a PIC string (``S9(7)V99``, ``X(20)``, ``N(10)``, ``ZZ,ZZ9``)."""
    symbols: list[tuple[str, int]] = []
    i = 0
    upper = text.upper()
    while i < len(upper):
        m = _PIC_SYMBOL.match(upper, i)
        if not m:
            raise CopybookError(path, f"PIC {text}: unknown symbol {text[i]!r}", line=line)
        count = int(m.group(2)) if m.group(2) else 1
        if not 1 <= count <= MAX_PIC_REPEAT:
            raise CopybookError(
                path, f"PIC {text}: a repeat count must be 1 to {MAX_PIC_REPEAT}", line=line
            )
        symbols.append((m.group(1), count))
        i = m.end()
    kinds = {s for s, _ in symbols}
    total = sum(c for _, c in symbols)
    if total > MAX_RECORD_LENGTH:
        raise CopybookError(path, f"PIC {text} is longer than any record", line=line)
    if kinds <= {"N", "G", "B"} and kinds & {"N", "G"}:
        return Picture(text, "dbcs", total)
    if kinds <= {"X", "A", "9"} and kinds & {"X", "A"}:
        return Picture(text, "alphanumeric", total)
    if kinds <= {"9", "S", "V", "P"}:
        if "P" in kinds:
            raise CopybookError(
                path, f"PIC {text}: scaling positions (P) are not supported", line=line
            )
        if sum(c for s, c in symbols if s == "V") > 1 or sum(c for s, c in symbols if s == "S") > 1:
            raise CopybookError(path, f"PIC {text}: more than one V or S", line=line)
        if "S" in kinds and symbols[0][0] != "S":
            raise CopybookError(path, f"PIC {text}: S must come first", line=line)
        digits = sum(c for s, c in symbols if s == "9")
        after_v = 0
        seen_v = False
        for s, c in symbols:
            if s == "V":
                seen_v = True
            elif s == "9" and seen_v:
                after_v += c
        if not 1 <= digits <= MAX_DIGITS:
            raise CopybookError(
                path,
                f"PIC {text}: a number has 1 to {MAX_DIGITS} digits, not {digits}",
                line=line,
            )
        return Picture(text, "numeric", digits, after_v, "S" in kinds)
    # numeric-edited (Z, *, +, -, ., ,, B, 0, /, CR, DB, $): stored as display characters
    width = sum(c * (2 if s in ("CR", "DB") else 1) for s, c in symbols if s not in ("V", "S"))
    return Picture(text, "edited", width)


class _Entries:
    """The tokens of a copybook read entry by entry (each ends with a period)."""

    def __init__(self, path: Path, tokens: list[_Token]) -> None:
        self.path = path
        self.tokens = tokens
        self.i = 0

    def error(self, reason: str, line: int | None = None) -> CopybookError:
        if line is None:
            line = self.tokens[min(self.i, len(self.tokens) - 1)].line if self.tokens else None
        return CopybookError(self.path, reason, line=line)

    def peek(self) -> str | None:
        return self.tokens[self.i].text if self.i < len(self.tokens) else None

    def take(self, what: str) -> _Token:
        if self.i >= len(self.tokens) or self.tokens[self.i].text == ".":
            raise self.error(f"expected {what} before the end of the entry")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def optional(self, *words: str) -> bool:
        word = self.peek()
        if word is not None and word.upper() in words:
            self.i += 1
            return True
        return False

    def entries(self) -> Iterator[Entry]:
        count = 0
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            upper = token.text.upper()
            if upper in ("EJECT", "SKIP1", "SKIP2", "SKIP3", "."):
                self.i += 1
                continue
            if upper in ("COPY", "REPLACE", "INCLUDE"):
                raise self.error(f"{upper} statements are not expanded: inline that copybook")
            if not _LEVEL.match(token.text):
                raise self.error(f"expected a level number, not {_shown(token.text)}")
            count += 1
            if count > MAX_ENTRIES:
                raise self.error(f"more than {MAX_ENTRIES} entries: not a record layout")
            self.i += 1
            yield self.entry(int(token.text), token.line)

    def entry(self, level: int, line: int) -> Entry:
        if not (1 <= level <= 49 or level in (66, 77, 88)):
            raise self.error(f"level {level:02d} does not exist (01-49, 66, 77, 88)", line)
        name = "FILLER"
        word = self.peek()
        if word is not None and word != "." and word.upper() not in _CLAUSE_WORDS:
            name = self.take("a name").text
            if not re.fullmatch(r"[^\s.'\"()]{1,60}", name):
                raise self.error(f"{_shown(name)} is not a data name", line)
        entry = Entry(level, name, line)
        if level == 66:  # RENAMES adds no storage: skip to the period
            while self.peek() not in (None, "."):
                self.i += 1
            return entry
        while (word := self.peek()) is not None and word != ".":
            self.clause(entry, word.upper())
        if word is None:
            raise self.error(f"the entry of {name} (line {line}) has no closing period", line)
        self.i += 1
        return entry

    def clause(self, entry: Entry, word: str) -> None:
        self.i += 1
        if word == "REDEFINES":
            entry.redefines = self.take("the redefined name").text
        elif word in ("PIC", "PICTURE"):
            self.optional("IS")
            text = self.take("a picture string").text
            entry.picture = parse_picture(self.path, text, entry.line)
        elif word == "USAGE":
            self.optional("IS")
            usage = self.take("a usage").text.upper()
            if usage not in _USAGES:
                raise self.error(f"unknown USAGE {_shown(usage)}", entry.line)
            entry.usage, entry.usage_word = _USAGES[usage], usage
        elif word in _USAGES:
            entry.usage, entry.usage_word = _USAGES[word], word
        elif word == "OCCURS":
            entry.occurs = self.occurs(entry)
        elif word in ("VALUE", "VALUES"):
            self.optional("IS", "ARE")
            entry.values.extend(self.literals(entry))
        elif word == "SIGN":
            self.optional("IS")
            if not self.optional("LEADING", "TRAILING"):
                raise self.error("SIGN needs LEADING or TRAILING", entry.line)
            self.sign(entry)
        elif word in ("LEADING", "TRAILING"):
            self.sign(entry)
        elif word in ("JUSTIFIED", "JUST"):
            self.optional("RIGHT")
        elif word in ("SYNC", "SYNCHRONIZED"):
            raise self.error(
                f"{word} adds slack bytes whose place depends on the compiler: remove it and "
                "declare the slack bytes as FILLER",
                entry.line,
            )
        elif word == "BLANK":
            self.optional("WHEN")
            if not self.optional("ZERO", "ZEROS", "ZEROES"):
                raise self.error("BLANK WHEN needs ZERO", entry.line)
        elif word in ("GLOBAL", "EXTERNAL"):
            pass
        elif word in ("ASCENDING", "DESCENDING", "INDEXED"):
            self.names_after_key()
        else:
            raise self.error(f"unexpected {_shown(word)} in the entry of {entry.name}", entry.line)

    def sign(self, entry: Entry) -> None:
        if self.optional("SEPARATE"):
            self.optional("CHARACTER")
            entry.sign_separate = True

    def names_after_key(self) -> None:
        self.optional("KEY", "BY")
        self.optional("IS")
        while (
            (word := self.peek()) is not None
            and word != "."
            and word.upper() not in (_CLAUSE_WORDS)
        ):
            self.i += 1

    def number(self, what: str, entry: Entry) -> int:
        text = self.take(what).text
        if not text.isdigit() or len(text) > 9:
            raise self.error(f"{what} must be a whole number, not {_shown(text)}", entry.line)
        return int(text)

    def occurs(self, entry: Entry) -> Occurs:
        first = self.number("the number of occurrences", entry)
        minimum, times = first, first
        if self.optional("TO"):
            times = self.number("the maximum of occurrences", entry)
        self.optional("TIMES")
        depending = None
        if self.optional("DEPENDING"):
            self.optional("ON")
            depending = self.take("the DEPENDING ON field").text
        if not 1 <= times <= MAX_OCCURS or minimum > times:
            raise self.error(
                f"OCCURS {first}{f' TO {times}' if times != first else ''}: a table holds 1 to "
                f"{MAX_OCCURS} occurrences",
                entry.line,
            )
        if times != minimum and depending is None:
            raise self.error("OCCURS … TO … needs DEPENDING ON", entry.line)
        return Occurs(times, minimum, depending)

    def literals(self, entry: Entry) -> list[str]:
        out: list[str] = []
        while (word := self.peek()) is not None and word != ".":
            upper = word.upper()
            if upper in ("THRU", "THROUGH"):
                raise self.error("VALUE … THRU ranges are not supported", entry.line)
            if upper in _CLAUSE_WORDS:
                break
            self.i += 1
            out.append(_literal_value(word))
        if not out:
            raise self.error("VALUE needs a literal", entry.line)
        return out


def _literal_value(token: str) -> str:
    """The text of a literal as written in data: quotes removed, '' → ', ZERO → 0."""
    upper = token.upper()
    figurative = {"ZERO": "0", "ZEROS": "0", "ZEROES": "0", "SPACE": " ", "SPACES": " "}
    if upper in figurative:
        return figurative[upper]
    m = _LITERAL.fullmatch(token)
    if m is None:
        return token
    at = min(i for i in (token.find("'"), token.find('"')) if i >= 0)
    quote = token[at]
    return token[at + 1 : -1].replace(quote * 2, quote)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _tree(path: Path, entries: list[Entry]) -> list[Entry]:
    """The 01-level records, each with its subordinate entries (88-levels attached)."""
    if not entries:
        raise CopybookError(path, "the copybook holds no data description entry")
    records: list[Entry] = []
    if entries[0].level not in (1, 77):  # a copybook of 05-level items, included under an 01
        top = min(e.level for e in entries if e.level <= 49)
        records.append(Entry(0, path.stem.upper(), entries[0].line))
        if top < 2:
            raise CopybookError(path, "levels start below 01", line=entries[0].line)
    stack: list[Entry] = list(records)
    last: Entry | None = None
    for e in entries:
        if e.level == 88:
            if last is None:
                raise CopybookError(path, "an 88-level names no item", line=e.line)
            last.conditions.append((e.name, e.values))
            continue
        if e.level == 66:
            continue
        if e.level == 77:
            raise CopybookError(
                path, f"level 77 {e.name} is a standalone item, not part of a record", line=e.line
            )
        if e.level == 1:
            records.append(e)
            stack = [e]
            last = e
            continue
        while stack and stack[-1].level >= e.level:
            stack.pop()
        if not stack:
            raise CopybookError(
                path, f"{e.name} at level {e.level:02d} is in no record", line=e.line
            )
        parent = stack[-1]
        if parent.picture is not None:
            raise CopybookError(
                path,
                f"{e.name} is subordinate to {parent.name} (line {parent.line}), which has a PIC",
                line=e.line,
            )
        parent.children.append(e)
        stack.append(e)
        last = e
    return records


# ---- layout: offsets and sizes --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportedField:
    name: str
    offset: int
    length: int
    type: FieldType
    line: int
    picture: str
    mode: TextMode | None = None
    scale: int = 0
    signed: bool | None = None
    group: str | None = None
    values: tuple[str, ...] = ()
    condition_names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parent: str = ""  # the group it belongs to (qualifies a name used twice)


@dataclass(frozen=True, slots=True)
class ImportedGroup:
    """An OCCURS table: where its first occurrence is and how long one occurrence is."""

    name: str
    offset: int
    length: int
    times: int
    minimum: int
    depending_on: str | None
    line: int


@dataclass(frozen=True, slots=True)
class ImportedRecord:
    """One 01-level record of the copybook."""

    name: str
    line: int
    length: int  # bytes with every table at its maximum
    fields: tuple[ImportedField, ...]
    groups: tuple[ImportedGroup, ...]
    redefinitions: tuple[str, ...]  # REDEFINES views not read (shown as comments)
    variable: bool  # has an OCCURS DEPENDING ON table

    def field(self, name: str) -> ImportedField | None:
        return next((f for f in self.fields if f.name == name), None)


def _elementary_size(path: Path, e: Entry, usage: str) -> tuple[int, FieldType, Picture]:
    pic = e.picture
    assert pic is not None
    if usage == "float":
        raise CopybookError(
            path, f"{e.name}: floating point (COMP-1/COMP-2) is not supported", line=e.line
        )
    if usage == "pointer":
        raise CopybookError(path, f"{e.name}: INDEX / POINTER items hold no data", line=e.line)
    if usage == "national":
        raise CopybookError(
            path,
            f"{e.name}: USAGE NATIONAL (UTF-16) is not supported; PIC N is read as DBCS",
            line=e.line,
        )
    if pic.kind == "dbcs":
        return 2 * pic.positions, FieldType.TEXT, pic
    if pic.kind in ("alphanumeric", "edited"):
        if usage not in ("display", "display-1"):
            raise CopybookError(
                path, f"{e.name}: PIC {pic.text} cannot be USAGE {usage}", line=e.line
            )
        return pic.positions, FieldType.TEXT, pic
    if usage == "packed":
        return pic.positions // 2 + 1, FieldType.PACKED, pic
    if usage == "binary":
        size = 2 if pic.positions <= 4 else 4 if pic.positions <= 9 else 8
        return size, FieldType.BINARY, pic
    if e.sign_separate:  # a sign character beside the digits: read as text
        return pic.positions + 1, FieldType.TEXT, pic
    return pic.positions, FieldType.ZONED, pic


class _Layout:
    """Lays out one record: every elementary field at its offset."""

    def __init__(self, path: Path, record: Entry) -> None:
        self.path = path
        self.record = record
        self.fields: list[ImportedField] = []
        self.groups: list[ImportedGroup] = []
        self.redefinitions: list[str] = []
        self.odo: Entry | None = None  # the OCCURS DEPENDING ON table, which must end the record

    def error(self, reason: str, line: int) -> CopybookError:
        return CopybookError(self.path, reason, line=line)

    def run(self) -> ImportedRecord:
        r = self.record
        if r.picture is not None:  # an 01-level elementary item: one field
            length = self.place(r, 0, None, "display", shown=True)
        else:
            if not r.children:
                raise self.error(f"record {r.name} has no items", r.line)
            length = self.place_children(r, 0, None, r.usage or "display", shown=True)
        if length > MAX_RECORD_LENGTH:
            raise self.error(f"record {r.name} is {length:,} bytes long: too long", r.line)
        self.check_depending_on()
        return ImportedRecord(
            r.name,
            r.line,
            length,
            tuple(self.qualified(self.fields)),
            tuple(self.groups),
            tuple(self.redefinitions),
            self.odo is not None,
        )

    def place_children(
        self, group: Entry, offset: int, in_table: str | None, usage: str, shown: bool
    ) -> int:
        at = offset
        size_of: dict[str, tuple[int, int]] = {}
        for child in group.children:
            if self.odo is not None:
                raise self.error(
                    f"{child.name} follows the OCCURS DEPENDING ON table {self.odo.name} "
                    f"(line {self.odo.line}): only the end of a record may vary",
                    child.line,
                )
            if child.redefines is not None:
                if child.redefines not in size_of:
                    raise self.error(
                        f"{child.name} REDEFINES {child.redefines}, which is not the item "
                        "before it at the same level",
                        child.line,
                    )
                start, size = size_of[child.redefines]
                used = self.place(child, start, in_table, usage, False, group.name)
                if used > size:
                    raise self.error(
                        f"{child.name} ({used} bytes) is longer than {child.redefines} "
                        f"({size} bytes), which it redefines",
                        child.line,
                    )
                if shown:
                    self.redefinitions.append(
                        f"{child.name} REDEFINES {child.redefines}: bytes {start}..{start + used}"
                        f" (line {child.line})"
                    )
                continue
            used = self.place(child, at, in_table, usage, shown, group.name)
            size_of[child.name] = (at, used)
            at += used
        return at - offset

    def place(
        self,
        e: Entry,
        offset: int,
        in_table: str | None,
        usage: str,
        shown: bool,
        parent: str = "",
    ) -> int:
        usage = e.usage or usage
        table = in_table
        if e.occurs is not None:
            if in_table is not None:
                raise self.error(
                    f"{e.name}: an OCCURS inside the table {in_table} (nested tables) is not "
                    "supported",
                    e.line,
                )
            table = e.name if not e.filler else f"FILLER-{e.line}"
        if e.picture is None:
            if not e.children:
                raise self.error(f"{e.name} has neither a PIC nor subordinate items", e.line)
            one = self.place_children(e, offset, table, usage, shown)
        else:
            if e.children:
                raise self.error(f"{e.name} has a PIC and subordinate items", e.line)
            one, ftype, pic = _elementary_size(self.path, e, usage)
            if shown and not e.filler:
                self.fields.append(self.field(e, offset, one, ftype, pic, table, usage, parent))
        if e.occurs is None:
            return one
        total = one * e.occurs.times
        if total > MAX_RECORD_LENGTH:
            raise self.error(f"{e.name} OCCURS {e.occurs.times}: {total:,} bytes, too long", e.line)
        if shown and table is not None:
            self.groups.append(
                ImportedGroup(
                    table,
                    offset,
                    one,
                    e.occurs.times,
                    e.occurs.minimum,
                    e.occurs.depending_on,
                    e.line,
                )
            )
        if e.occurs.depending_on is not None:
            self.odo = e
        return total

    def field(
        self,
        e: Entry,
        offset: int,
        length: int,
        ftype: FieldType,
        pic: Picture,
        group: str | None,
        usage: str,
        parent: str,
    ) -> ImportedField:
        mode = None
        if ftype is FieldType.TEXT:
            mode = {"dbcs": TextMode.DBCS, "alphanumeric": TextMode.MIXED}.get(
                pic.kind, TextMode.SBCS
            )
        return ImportedField(
            name=e.name,
            offset=offset,
            length=length,
            type=ftype,
            line=e.line,
            picture=f"{pic.text} {e.usage_word or usage.upper()}"
            if usage != "display"
            else pic.text,
            mode=mode,
            scale=pic.scale if ftype is not FieldType.TEXT else 0,
            signed=pic.signed if ftype is FieldType.BINARY else None,
            group=group,
            values=tuple(e.values),
            condition_names=tuple((n, tuple(v)) for n, v in e.conditions),
            parent=parent,
        )

    def check_depending_on(self) -> None:
        for g in self.groups:
            if g.depending_on is None:
                continue
            counter = next((f for f in self.fields if f.name == g.depending_on), None)
            if counter is None:
                raise self.error(
                    f"{g.name} DEPENDING ON {g.depending_on}: no such field in record "
                    f"{self.record.name}",
                    g.line,
                )
            if counter.type not in (FieldType.ZONED, FieldType.PACKED, FieldType.BINARY):
                raise self.error(
                    f"{g.name} DEPENDING ON {g.depending_on}: the counter is not a number",
                    g.line,
                )
            if counter.group is not None or counter.offset + counter.length > g.offset:
                raise self.error(
                    f"{g.name} DEPENDING ON {g.depending_on}: the counter must come before the "
                    "table, outside it",
                    g.line,
                )

    def qualified(self, fields: list[ImportedField]) -> Iterator[ImportedField]:
        """Fields named as in the copybook; a name used twice is qualified by ``OF`` its table
        or record, as COBOL qualifies it."""
        seen: dict[str, int] = {}
        for f in fields:
            seen[f.name] = seen.get(f.name, 0) + 1
        names: set[str] = set()
        for f in fields:
            name = f.name
            if seen[name] > 1:
                name = f"{name} OF {f.parent or self.record.name}"
            if name in names:
                raise self.error(
                    f"{f.name} is declared twice in {self.record.name}: give one another name",
                    f.line,
                )
            names.add(name)
            yield f if name == f.name else _renamed(f, name)


def _renamed(f: ImportedField, name: str) -> ImportedField:
    return ImportedField(
        name, f.offset, f.length, f.type, f.line, f.picture, f.mode, f.scale, f.signed, f.group,
        f.values, f.condition_names, f.parent,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Copybook:
    path: Path
    records: tuple[ImportedRecord, ...]


def parse_copybook_text(path: Path, text: str) -> Copybook:
    """The records of a copybook's text; CopybookError names ``path`` and the line."""
    if not text.strip():
        raise CopybookError(path, "the copybook is empty")
    tokens = list(_tokens(path, _segments(path, text)))
    entries = list(_Entries(path, tokens).entries())
    records = _tree(path, entries)
    return Copybook(path, tuple(_Layout(path, r).run() for r in records))


def read_copybook(path: Path) -> Copybook:
    """Read and parse the copybook at ``path`` (a bounded regular file)."""
    try:
        raw = read_config_bytes(path, what="copybook", limit=MAX_COPYBOOK_BYTES)
    except ConfigError as exc:
        raise CopybookError(path, exc.reason) from None
    return parse_copybook_text(path, _decode(path, raw))


__all__ = [
    "Copybook",
    "CopybookError",
    "ImportedField",
    "ImportedGroup",
    "ImportedRecord",
    "parse_copybook_text",
    "read_copybook",
]
