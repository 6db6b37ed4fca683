"""A copybook's records → the text of a source profile (``chukan profile import-copybook``).

Several 01 records are the record types of one data set: their types come from the first field
with a VALUE in each (or from the 88-levels of one record's first field), header and trailer
from their names (or the options). Every data record becomes a file entry; the text is an
ordinary, commented source.yaml a person reads and edits (docs/mainframe.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from etl.extract.mainframe.copybook import (
    Copybook,
    CopybookError,
    ImportedField,
    ImportedRecord,
    read_copybook,
)
from etl.extract.mainframe.options import RecordFormat
from etl.extract.profile import FieldType

_HEADER_NAME = re.compile(r"(^|[-_])(HEADER|HEAD|HDR|HD)([-_]|$)", re.IGNORECASE)
_TRAILER_NAME = re.compile(r"(^|[-_])(TRAILER|TRAIL|TRL|TR|END)([-_]|$)", re.IGNORECASE)


class Role(StrEnum):
    HEADER = "header"
    DATA = "data"
    TRAILER = "trailer"


@dataclass(frozen=True, slots=True)
class RecordType:
    """Where the record type is, and which values mark which record (one 01 or 88 each)."""

    offset: int
    length: int
    values: tuple[tuple[str, Role, str], ...]  # (value, role, 01 or 88 name)


def _role(name: str, header: str | None, trailer: str | None) -> Role:
    if header is not None or trailer is not None:
        return Role.HEADER if name == header else Role.TRAILER if name == trailer else Role.DATA
    if _HEADER_NAME.search(name):
        return Role.HEADER
    if _TRAILER_NAME.search(name):
        return Role.TRAILER
    return Role.DATA


def record_types(
    book: Copybook, header: str | None = None, trailer: str | None = None
) -> RecordType | None:
    """The record types of ``book``: the first field with a VALUE in each 01 (several 01s), or
    the 88-levels of the first field that has them (one 01). Roles by ``header`` / ``trailer``
    names, else by the usual words (HEADER, HDR … / TRAILER, TRL, END …)."""
    path = book.path
    for name in (header, trailer):
        if name is not None and name not in _names(book):
            raise CopybookError(path, f"--header/--trailer {name}: no such 01 record or 88 name")
    if len(book.records) == 1:
        r = book.records[0]
        f = next((f for f in r.fields if f.condition_names and f.group is None), None)
        if f is None:
            return None
        values = tuple((v, _role(n, header, trailer), n) for n, vs in f.condition_names for v in vs)
        return RecordType(f.offset, f.length, values)
    found: list[tuple[ImportedRecord, ImportedField]] = []
    for r in book.records:
        f = next((f for f in r.fields if f.values and f.group is None), None)
        if f is None:
            raise CopybookError(
                path,
                f"record {r.name} has no record-type value: give its type field a VALUE "
                "clause (05 REC-KBN PIC X VALUE '2'.) so the records can be told apart",
                line=r.line,
            )
        found.append((r, f))
    first = found[0][1]
    for r, f in found[1:]:
        if (f.offset, f.length) != (first.offset, first.length):
            raise CopybookError(
                path,
                f"the record type of {r.name} ({f.name}, bytes {f.offset}..{f.offset + f.length})"
                f" is not where {found[0][0].name} has it ({first.name}, bytes "
                f"{first.offset}..{first.offset + first.length})",
                line=f.line,
            )
    values = tuple((v, _role(r.name, header, trailer), r.name) for r, f in found for v in f.values)
    seen: dict[str, str] = {}
    for value, _, name in values:
        if value in seen:
            raise CopybookError(
                path, f"record type value {value!r} marks both {seen[value]} and {name}"
            )
        seen[value] = name
    return RecordType(first.offset, first.length, values)


def _names(book: Copybook) -> set[str]:
    names = {r.name for r in book.records}
    for r in book.records:
        names |= {n for f in r.fields for n, _ in f.condition_names}
    return names


def _yaml_text(value: str) -> str:
    """A YAML scalar for ``value``: plain when safe, else double-quoted (JSON escapes)."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", value) and value.lower() not in (
        "true", "false", "yes", "no", "on", "off", "null", "y", "n",
    ):  # fmt: skip
        return value
    return json.dumps(value, ensure_ascii=False)


def _field_line(f: ImportedField) -> str:
    parts = [f"name: {_yaml_text(f.name)}", f"offset: {f.offset}", f"length: {f.length}"]
    if f.type is not FieldType.TEXT:
        parts.append(f"type: {f.type.value}")
    if f.mode is not None:
        parts.append(f"mode: {f.mode.value}")
    if f.scale:
        parts.append(f"scale: {f.scale}")
    if f.signed is not None:
        parts.append(f"signed: {'true' if f.signed else 'false'}")
    if f.group is not None:
        parts.append(f"group: {_yaml_text(f.group)}")
    return "      - {" + ", ".join(parts) + "}"


def _count_field(
    book: Copybook, types: RecordType, trailer_count: str | None
) -> tuple[ImportedField | None, str]:
    trailers = [r for r in book.records if any(
        role is Role.TRAILER and name == r.name for _, role, name in types.values
    )]  # fmt: skip
    if trailer_count is not None:
        for r in book.records:
            f = r.field(trailer_count)
            if f is not None:
                return f, ""
        raise CopybookError(book.path, f"--trailer-count {trailer_count}: no such field")
    if len(trailers) != 1:
        return None, ""
    numbers = [
        f
        for f in trailers[0].fields
        if f.type in (FieldType.ZONED, FieldType.PACKED, FieldType.BINARY)
        and f.offset != types.offset
    ]
    if len(numbers) == 1:
        return numbers[0], f"the only number of {trailers[0].name}"
    return None, f"{trailers[0].name} has {len(numbers)} numbers: name one with --trailer-count"


def _codes(values: list[str]) -> str:
    """Record type codes, always quoted (``"1"``: YAML reads a bare 1 as a number)."""
    if len(values) == 1:
        return json.dumps(values[0], ensure_ascii=False)
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def profile_yaml(
    book: Copybook,
    *,
    charset: str,
    sbcs: str | None = None,
    recfm: RecordFormat | None = None,
    path: str | None = None,
    header: str | None = None,
    trailer: str | None = None,
    trailer_count: str | None = None,
) -> tuple[str, list[str]]:
    """The source.yaml text for ``book``, and what the importer decided (one line each)."""
    types = record_types(book, header, trailer)
    data = [r for r in book.records if types is None or any(
        role is Role.DATA and name == r.name for _, role, name in types.values
    ) or (len(book.records) == 1)]  # fmt: skip
    if not data:
        raise CopybookError(book.path, "the copybook has no data record (only header/trailer)")
    longest = max(r.length for r in book.records)
    varies = len({r.length for r in book.records}) > 1 or any(r.variable for r in book.records)
    chosen = recfm or (RecordFormat.VB if varies else RecordFormat.FB)
    file_path = path or f"{book.path.stem.upper()}.DAT"
    notes = [f"RECFM {chosen.value}{'' if recfm else ' (not given: chosen from the records)'}"]
    out = [
        "# yaml-language-server: $schema=../../docs/schemas/source-profile.schema.json",
        f"# Imported from {book.path.name} by `chukan profile import-copybook` (charset {charset},",
        f"# RECFM {chosen.value}). Offsets are bytes from the start of each record's data"
        + (" (after the RDW)." if chosen.variable else "."),
        "# Field names are the copybook's. Review the path, the record types and mark personal",
        "# fields `sensitive: true` (個人番号, 住民票コード, 基礎年金番号 …).",
        "format: mainframe",
        "files:",
    ]
    count, why = (None, "") if types is None else _count_field(book, types, trailer_count)
    if why:
        notes.append(f"trailer count: {count.name if count else 'none'} ({why})")
    for r in data:
        out.append(f"  - name: {_yaml_text(r.name)}   # 01 {r.name} (line {r.line})")
        out.append(f"    path: {_yaml_text(file_path)}")
        if sbcs is None:
            out.append(f"    charset: {_yaml_text(charset)}")
        else:
            out.append(f"    charset: {{name: {_yaml_text(charset)}, sbcs: {_yaml_text(sbcs)}}}")
        out.append(f"    recfm: {chosen.value}")
        out.append(
            f"    record_length: {longest}"
            + ("   # the longest record's data, without the RDW" if chosen.variable else "")
        )
        if types is not None:
            out.extend(_record_types_lines(r, types, count, len(book.records) == 1))
        if r.groups:
            out.append("    occurs:")
            for g in r.groups:
                parts = [
                    f"name: {_yaml_text(g.name)}", f"offset: {g.offset}", f"length: {g.length}",
                    f"times: {g.times}",
                ]  # fmt: skip
                if g.depending_on is not None:
                    parts.append(f"depending_on: {_yaml_text(g.depending_on)}")
                    if g.minimum:
                        parts.append(f"minimum: {g.minimum}")
                out.append("      - {" + ", ".join(parts) + f"}}   # line {g.line}")
        out.append("    fields:")
        for f in r.fields:
            out.append(f"{_field_line(f)}   # PIC {f.picture} (line {f.line})")
        for text in r.redefinitions:
            out.append(f"      # not read: {text}")
    controls = [] if types is None else [
        (v, role, n) for v, role, n in types.values if role is not Role.DATA
    ]  # fmt: skip
    for value, role, name in controls:
        notes.append(f"{role.value} record: {name} (type {value!r})")
    notes.extend(f"data record: {r.name} ({len(r.fields)} fields)" for r in data)
    return "\n".join(out) + "\n", notes


def _record_types_lines(
    r: ImportedRecord, types: RecordType, count: ImportedField | None, single: bool
) -> list[str]:
    by_role: dict[Role, list[str]] = {role: [] for role in Role}
    mine: list[str] = []
    for value, role, name in types.values:
        if role is Role.DATA and (single or name == r.name):
            mine.append(value)
        else:
            by_role[role].append(value)
    lines = ["    record_types:", f"      offset: {types.offset}", f"      length: {types.length}"]
    if by_role[Role.HEADER]:
        lines.append(f"      header: {_codes(by_role[Role.HEADER])}")
    lines.append(f"      data: {_codes(mine)}")
    if by_role[Role.DATA]:
        lines.append(f"      other: {_codes(by_role[Role.DATA])}   # the other data records")
    if by_role[Role.TRAILER]:
        lines.append(f"      trailer: {_codes(by_role[Role.TRAILER])}")
        if count is not None:
            lines.append(
                f"      trailer_count: {{offset: {count.offset}, length: {count.length}, "
                f"type: {count.type.value}}}   # {count.name}"
            )
    return lines


@dataclass(frozen=True, slots=True)
class ImportedProfile:
    text: str  # the source.yaml
    notes: tuple[str, ...]  # what the importer decided, one line each (the CLI prints them)


def import_copybook(
    paths: Path | Sequence[Path],
    *,
    charset: str,
    sbcs: str | None = None,
    recfm: RecordFormat | None = None,
    file_path: str | None = None,
    header: str | None = None,
    trailer: str | None = None,
    trailer_count: str | None = None,
) -> ImportedProfile:
    """The source profile of the copybooks at ``paths`` (``chukan profile import-copybook``):
    one data set per copybook (its file name from the copybook's, or ``file_path``), their file
    entries in one profile."""
    paths = [paths] if isinstance(paths, Path) else list(paths)
    if file_path is not None and len(paths) > 1:
        raise CopybookError(paths[1], "--path names one data set: import one copybook at a time")
    texts: list[str] = []
    notes: list[str] = []
    for path in paths:
        text, found = profile_yaml(
            read_copybook(path),
            charset=charset,
            sbcs=sbcs,
            recfm=recfm,
            path=file_path,
            header=header,
            trailer=trailer,
            trailer_count=trailer_count,
        )
        # the first profile whole; of the others, their file entries
        texts.append(text if not texts else text.split("\nfiles:\n", 1)[1])
        notes.extend(f"{path.name}: {n}" if len(paths) > 1 else n for n in found)
    return ImportedProfile("".join(texts), tuple(notes))


__all__ = [
    "ImportedProfile",
    "RecordType",
    "Role",
    "import_copybook",
    "profile_yaml",
    "record_types",
]
