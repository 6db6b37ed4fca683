"""XmlExtractor: records are the elements at ``record``, streamed with bounded memory.

lxml's pull parser reads the UTF-8 blocks of .document; each record element is read when it
ends (.paths: its fields) and cleared; after each block of input the tree is pruned to the
open ancestors, the current record and the few elements a ``../`` field reads, elements above
and beside the record path included, so a file whose structure is not the one declared still
streams. The parser reports the record elements only (and the root): one event per element
in Python would cost more than reading the fields.

Accounting: a record is a record element that started. It is written, or rejected when a field
is ambiguous (a repeated element read without an index) or holds a bad byte. A file that stops
being well-formed (truncated, a broken tag) keeps the records before the break, counted and
written as usual; the record open at the break, if any, is rejected, and an error finding says
that the rest of the file was not read (it blocks production; a test pass still shows what was
delivered). A file that is not XML before its root element starts cannot be read at all:
ExtractError, exit 2. Locations are lines (LocationKind LINES): the start tag's line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from lxml import etree

from etl import events
from etl.errors import ExtractError
from etl.extract.base import RECORD_NO, ExtractChunk, options_of
from etl.extract.chunk_frames import SetAside, empty_chunk, records_frame
from etl.extract.encoding import ResolvedEncoding, extract_finding
from etl.extract.location import LINES, LineNumber, record_column
from etl.extract.profile import SourceFile, SourceProfile
from etl.extract.xml.document import (
    BAD_BYTE,
    CP932_SILENT,
    Document,
    describe_bad,
    resolve_xml_encoding,
)
from etl.extract.xml.options import XmlOptions
from etl.extract.xml.paths import FieldReader, element_line
from etl.findings import Severity, concat_findings, empty_findings

LINE = record_column("line")
HEAD_BYTES = 1 << 16  # what the encoding is judged from
BATCH = 16_384  # records whose values are Python strings at once (then Arrow)
CHUNK_INPUT_BYTES = 64 << 20  # a chunk also ends after this much input: values bound memory
RAW_SHOWN = 1 << 16  # bytes of a rejected record kept in rejects/ (raw)
# No entity is resolved, no DTD loaded, nothing fetched; libxml2's limits stay on.
PARSER_OPTIONS = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "huge_tree": False,
    "dtd_validation": False,
    "remove_comments": False,
}


class XmlExtractor:
    """XML exports; registered as ``xml``."""

    name = "xml"
    location = LINES
    options_model = XmlOptions

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        if not path.is_file():
            raise ExtractError(path, "file not found")
        options = options_of(path, source, XmlOptions)
        if path.stat().st_size == 0:  # named by etl.pipeline.sources as an empty file
            yield empty_chunk(source.name, _frame(source, {}), empty_findings(), LINES)
            return
        encoding = self.resolve_encoding(path, source, profile)
        events.step_started(f"read {source.name} ({path.name}) as {encoding.encoding}")
        yield from _Reader(path, source, options, encoding, chunk_records).chunks()

    def resolve_encoding(
        self, path: Path, source: SourceFile, profile: SourceProfile
    ) -> ResolvedEncoding:
        """The encoding the file declares, checked against the profile and its bytes."""
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
        overrule = options_of(path, source, XmlOptions).extras.overrule_declaration
        return resolve_xml_encoding(
            path, source.name, profile.encoding_of(source), head, overrule=overrule
        )


def _frame(source: SourceFile, columns: dict[str, pl.Series]) -> pl.DataFrame:
    return records_frame({f.name: pl.String() for f in source.fields}, columns, LINES)


class _Reader:
    """One pass over one file: the parser's events turned into chunks."""

    def __init__(
        self,
        path: Path,
        source: SourceFile,
        options: XmlOptions,
        encoding: ResolvedEncoding,
        chunk_records: int,
    ) -> None:
        self.path = path
        self.source = source
        self.tags = options.record_tags
        self.paths = options.field_paths(source.fields)
        self.fields = FieldReader([f.name for f in source.fields], self.paths)
        self.names = [f.name for f in source.fields]
        self.encoding = encoding
        self.document = Document(path, encoding)
        self.chunk_records = max(1, chunk_records)
        self.broken: etree.XMLSyntaxError | None = None
        self.root: etree._Element | None = None
        self.count_attribute = options.record_count_attribute
        self.declared_count: str | None = None
        # elements a '../' field reads stay until their parent ends: tags by depth
        depth = len(self.tags)
        self.keep: dict[int, set[str]] = {}
        for p in self.paths:
            if p.up and p.steps:
                self.keep.setdefault(depth - p.up + 1, set()).add(p.steps[0].tag)
        self.bad_chars = BAD_BYTE + ("".join(CP932_SILENT) if encoding.codec == "cp932" else "")

    def _events(self) -> Iterator[tuple[str, etree._Element]]:
        """Start and end events of the record elements (and the root's start), block by
        block; after each block the tree is pruned."""
        wanted = sorted({self.tags[0], self.tags[-1]})
        parser = etree.XMLPullParser(
            events=("start", "end"), tag=wanted, encoding="utf-8", **PARSER_OPTIONS
        )
        with self.path.open("rb") as f:
            try:
                for block in self.document.blocks(f):
                    if self.root is None:
                        self._check_root(block)
                    parser.feed(block)
                    yield from parser.read_events()
                    if self.root is not None:  # every event of the block was handled
                        _prune(self.root, self.keep, len(self.tags))
                parser.close()
            except etree.XMLSyntaxError as exc:
                self.broken = exc
        yield from parser.read_events()  # those before the break, if any

    def _on_path(self, el: etree._Element) -> bool:
        """Whether a record-tagged element sits at the record path."""
        node = el
        for tag in reversed(self.tags[:-1]):
            node = node.getparent()
            if node is None or node.tag != tag:
                return False
        return node.getparent() is None

    def chunks(self) -> Iterator[ExtractChunk]:
        record_no = 0
        open_record: etree._Element | None = None
        batch, partial = _Batch(self.names), _Batch(self.names)
        aside = SetAside(self.source.name, LINES)
        chunk_start = (0, self.document.fed)  # (records in, input bytes) when the chunk began
        findings = [self.encoding.findings]
        record_tag = self.tags[-1]
        for event, el in self._events():
            if event == "start":
                if self.root is None and el.getparent() is None:
                    self._check_doctype(el)
                    self.root = el
                    if self.count_attribute is not None:
                        self.declared_count = el.get(self.count_attribute)
                if el.tag == record_tag and open_record is None and self._on_path(el):
                    record_no += 1
                    open_record = el
                continue
            if open_record is None or el is not open_record:
                continue
            self._read(el, record_no, batch, partial, aside)
            el.clear()
            open_record = None
            if (
                record_no - chunk_start[0] >= self.chunk_records
                or self.document.fed - chunk_start[1] >= CHUNK_INPUT_BYTES
            ):
                yield self._chunk(record_no - chunk_start[0], batch, partial, aside, findings)
                batch, partial = _Batch(self.names), _Batch(self.names)
                aside, findings = SetAside(self.source.name, LINES), []
                chunk_start = (record_no, self.document.fed)
        if self.broken is not None:
            if self.root is None:
                raise ExtractError(self.path, f"is not well-formed XML: {_syntax(self.broken)}")
            if open_record is not None:
                self._reject_open(open_record, record_no, aside)
            findings.append(self._break_finding(record_no))
        elif self.root is None:
            raise ExtractError(self.path, "holds no XML element")
        findings.append(self._bad_bytes_finding())
        findings.append(self._count_finding(record_no))
        yield self._chunk(record_no - chunk_start[0], batch, partial, aside, findings)

    def _check_root(self, block: bytes) -> None:
        """The root element must be the record path's first step (read from the first block
        by a parser of its own: the main one only reports the elements it is asked for)."""
        sniff = etree.XMLPullParser(events=("start",), encoding="utf-8", **PARSER_OPTIONS)
        with contextlib.suppress(etree.XMLSyntaxError):  # the main parser names it
            sniff.feed(block)
        root = next((el for _, el in sniff.read_events()), None)
        if root is not None and root.tag != self.tags[0]:
            raise ExtractError(
                self.path,
                f"line {element_line(root)}: the root element is {root.tag}, but record starts "
                f"at {self.tags[0]}: check record and namespaces in source.yaml",
            )

    def _check_doctype(self, root: etree._Element) -> None:
        """The parser's view of the DOCTYPE, after .document refused the prolog's: a second
        line of defence."""
        info = root.getroottree().docinfo
        dtd = info.internalDTD
        if info.system_url or info.public_id or (dtd is not None and list(dtd.iterentities())):
            raise ExtractError(self.path, "a DOCTYPE with entities or an external DTD is refused")

    def _read(
        self, el: etree._Element, record_no: int, batch: _Batch, partial: _Batch, aside: SetAside
    ) -> None:
        line = element_line(el)
        values, problem = self.fields.read(el)
        if problem is not None:
            at, name, reason = problem.line, problem.field, problem.reason
        elif self.document.suspect and (bad := self._bad_field(values)) is not None:
            at, (name, reason) = line, bad
            reason += describe_bad(self.document.bad_near(line))
        else:
            batch.add(record_no, line, values)
            return
        aside.reject(record_no, LineNumber(at), name, reason, _raw(el))
        partial.add(record_no, line, values)  # as far as read: its finding names the key

    def _bad_field(self, values: list[str | None]) -> tuple[str, str] | None:
        for name, value in zip(self.names, values, strict=True):
            if value is None:
                continue
            for c in self.bad_chars:
                if c in value:
                    codec = self.encoding.codec
                    if c == BAD_BYTE:
                        return name, f"invalid {codec} byte sequence in field {name}"
                    byte = CP932_SILENT[c]
                    return name, f"cp932 byte 0x{byte:02X} is not a character, in field {name}"
        return None

    def _reject_open(self, el: etree._Element, record_no: int, aside: SetAside) -> None:
        assert self.broken is not None
        reason = f"record cut off: {_syntax(self.broken)}"
        aside.reject(record_no, LineNumber(element_line(el)), "", reason, _raw(el))

    def _break_finding(self, record_no: int) -> pl.DataFrame:
        assert self.broken is not None
        line = self.broken.lineno
        return extract_finding(
            "extract.xml_not_well_formed",
            Severity.ERROR,
            self.source.name,
            f"{self.path.name} は {line}行目で XML として壊れているため、それ以降を読み取れません"
            f"でした（それまでの{record_no}件は読み取り済み）。ファイルが途中で切れていないか、"
            "再出力を依頼してください。",
            record_no=record_no or None,
        )

    def _count_finding(self, records: int) -> pl.DataFrame:
        """The root's declared record count against the records read (a cut-off export)."""
        if self.count_attribute is None:
            return empty_findings()
        text = (self.declared_count or "").strip()
        if not text.isdigit():
            message = f"ルート要素の件数属性が数字ではありません（{text!r}）。"
        elif int(text) != records:
            message = (
                f"ルート要素の件数（{int(text)}件）と読み込んだレコード数（{records}件）が"
                "一致しません。"
            )
        else:
            return empty_findings()
        return extract_finding(
            "extract.trailer_count",
            Severity.ERROR,
            self.source.name,
            message,
            item="record_count",
            value=text,
        )

    def _bad_bytes_finding(self) -> pl.DataFrame:
        bad = self.document.bad
        if not bad:
            return empty_findings()
        return extract_finding(
            "extract.invalid_bytes",
            Severity.WARNING,
            self.source.name,
            f"{self.path.name} に {self.encoding.encoding} として読めないバイト列が"
            f"{len(bad)}箇所以上あります（最初は{bad[0].line}行目）。項目として読む値にあるものは"
            "そのレコードを除外しました。",
        )

    def _chunk(
        self,
        records_in: int,
        batch: _Batch,
        partial: _Batch,
        aside: SetAside,
        findings: list[pl.DataFrame],
    ) -> ExtractChunk:
        rejects, filtered = aside.frames()
        return ExtractChunk(
            self.source.name,
            records_in,
            batch.frame(self.source),
            rejects,
            filtered,
            concat_findings(findings),
            partial.frame(self.source),
        )


class _Batch:
    """The records read so far: rows of Python values up to BATCH records, then Arrow."""

    __slots__ = ("_lines", "_names", "_numbers", "_parts", "_rows")

    def __init__(self, names: list[str]) -> None:
        self._names = names
        self._parts: list[dict[str, pl.Series]] = []
        self._reset()

    def _reset(self) -> None:
        self._numbers: list[int] = []
        self._lines: list[int] = []
        self._rows: list[list[str | None]] = []

    def add(self, record_no: int, line: int, values: list[str | None]) -> None:
        self._numbers.append(record_no)
        self._lines.append(line)
        self._rows.append(values)
        if len(self._rows) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        part = {
            RECORD_NO: pl.Series(RECORD_NO, self._numbers, dtype=pl.Int64),
            LINE: pl.Series(LINE, self._lines, dtype=pl.Int64),
        }
        columns = zip(*self._rows, strict=True)  # rows to columns in C
        for name, column in zip(self._names, columns, strict=True):
            part[name] = pl.Series(name, column, dtype=pl.String)
        self._parts.append(part)
        self._reset()

    def frame(self, source: SourceFile) -> pl.DataFrame:
        self._flush()
        if not self._parts:
            return _frame(source, {})
        columns = {k: pl.concat([p[k] for p in self._parts], rechunk=True) for k in self._parts[0]}
        return _frame(source, columns)


def _prune(root: etree._Element, keep: dict[int, set[str]], record_depth: int) -> None:
    """Delete what the parser has finished with: along the chain of last children from the
    root down to the records' parents, every child but the last (which may still be open),
    except the elements a ``../`` field reads (``keep``: tags by depth). Records are read and
    cleared before this runs; elements off the record path go the same way, so a file whose
    structure is not the declared one streams too."""
    node, depth = root, 1
    while depth < record_depth and len(node):
        kept = keep.get(depth + 1)
        if not kept:
            del node[:-1]
        else:
            for child in list(node)[:-1]:  # few: the children of one parent element
                if child.tag not in kept:
                    node.remove(child)
        node = node[-1]
        depth += 1


def _raw(el: etree._Element) -> bytes:
    """The record as read (UTF-8, re-serialised; a bad byte shows as U+FDD0), cut at
    RAW_SHOWN bytes."""
    raw: bytes = etree.tostring(el, encoding="utf-8", with_tail=False)
    return raw[:RAW_SHOWN]


def _syntax(exc: etree.XMLSyntaxError) -> str:
    """libxml2's message (element names and positions, never text), one line."""
    message = (exc.msg or "syntax error").splitlines()[0][:200]
    return f"line {exc.lineno}: {message}" if exc.lineno else message
