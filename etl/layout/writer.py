"""The canonical text of a layout file and of a code-table file, and the documents behind them.

A layout imported from a workbook (etl.layout.workbook) and a shipped layout re-read from its
file (``read_layout_document``) become the same ``LayoutDocument``; ``layout_text`` writes it in
the one form the shipped files have, so an import reproduces a shipped file byte for byte and
``chukan layouts format --check`` tells a hand-edited file that left the form.

The form (docs/layouts.md, "Canonical form"): the file's leading ``#`` comment lines, then
``id``, ``name``, ``version`` (quoted), ``provenance`` (``note`` one line double-quoted, or
folded ``>-`` keeping its lines), ``record_files`` with one flow mapping per item, keys in the
order name, type, digits, scale, code_table, required, sensitive, description and only those
that differ from their default. A code table writes its values on one line or one per line as
its document says (a file's own choice is kept; without one: one line up to ``FLOW_VALUES``
codes). Text is written plain where YAML reads it back as
the same text, double-quoted otherwise; codes are always quoted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from etl.config import Document, errors_as, read_yaml
from etl.errors import LayoutError
from etl.layout.load import CodeTableModel, LayoutFileModel
from etl.layout.model import Item, RecordFile

FLOW_VALUES = 7  # a code table of at most this many codes is written on one line
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
_FLOW_INDICATORS = ",[]{}"
_RESOLVER = yaml.resolver.Resolver()


@dataclass(frozen=True, slots=True)
class LayoutDocument:
    """What a layout file says, with what its text adds: head comments and the note's lines."""

    id: str
    name: str
    version: str | None
    source: str  # provenance.source: authored | official | mixed
    authored_parts: tuple[str, ...]
    note_lines: tuple[str, ...]  # provenance.note as written: one line, or the folded lines
    record_files: tuple[RecordFile, ...]
    comment: tuple[str, ...] = ()  # the file's leading comment lines, without "# "

    @property
    def note(self) -> str:
        return " ".join(self.note_lines)


@dataclass(frozen=True, slots=True)
class CodeTableDocument:
    id: str
    name: str
    values: tuple[tuple[str, str], ...]  # code → 名称, in file order
    authored: bool = True
    note_lines: tuple[str, ...] = ()
    comment: tuple[str, ...] = ()
    # values on one line (a flow mapping) or one per line; None: by their number (FLOW_VALUES)
    one_line: bool | None = None

    @property
    def note(self) -> str:
        return " ".join(self.note_lines)

    @property
    def on_one_line(self) -> bool:
        return self.one_line if self.one_line is not None else len(self.values) <= FLOW_VALUES


# --- scalars ------------------------------------------------------------------------------


def _plain_ok(text: str, *, flow: bool) -> bool:
    """Whether ``text`` written plain reads back as the same string (not a number, a bool,
    null, or a different text)."""
    if not text or text != text.strip() or not text.isprintable():
        return False
    if text[0] in _INDICATORS or ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(c in text for c in _FLOW_INDICATORS):
        return False
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == "tag:yaml.org,2002:str")


def scalar(text: str, *, flow: bool = False) -> str:
    """``text`` as a YAML scalar: plain when safe, else double-quoted (JSON escapes are YAML's)."""
    return text if _plain_ok(text, flow=flow) else quoted(text)


def quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _note(lines: tuple[str, ...], indent: str) -> list[str]:
    if not lines:
        return []
    if len(lines) == 1:
        return [f"{indent}note: {quoted(lines[0])}"]
    return [f"{indent}note: >-", *(f"{indent}  {line}" for line in lines)]


def _comment(lines: tuple[str, ...]) -> list[str]:
    return [f"# {line}" if line else "#" for line in lines]


# --- layout files -------------------------------------------------------------------------


def _item(item: Item) -> str:
    parts = [f"name: {scalar(item.name, flow=True)}", f"type: {item.type.value}"]
    parts.append(f"digits: {item.digits}")
    if item.type.value == "decimal":
        parts.append(f"scale: {item.scale}")
    if item.code_table is not None:
        parts.append(f"code_table: {item.code_table}")
    if item.required:
        parts.append("required: true")
    if item.sensitive:
        parts.append("sensitive: true")
    if item.description:
        parts.append(f"description: {scalar(item.description, flow=True)}")
    return "{" + ", ".join(parts) + "}"


def _record_file(rf: RecordFile) -> list[str]:
    key = ", ".join(scalar(k, flow=True) for k in rf.key)
    return [
        f"  - id: {rf.id}",
        f"    name: {scalar(rf.name)}",
        f"    key: [{key}]",
        "    items:",
        *(f"      - {_item(it)}" for it in rf.items),
    ]


def layout_text(doc: LayoutDocument) -> str:
    """The canonical text of ``layouts/<version>/<id>.yaml``."""
    lines = [*_comment(doc.comment), f"id: {doc.id}", f"name: {scalar(doc.name)}"]
    if doc.version is not None:
        lines.append(f"version: {quoted(doc.version)}")
    lines += ["provenance:", f"  source: {doc.source}"]
    if doc.authored_parts:
        lines += ["  authored_parts:", *(f"    - {scalar(p)}" for p in doc.authored_parts)]
    lines += _note(doc.note_lines, "  ")
    lines.append("record_files:")
    for rf in doc.record_files:
        lines += _record_file(rf)
    return "\n".join(lines) + "\n"


def code_table_text(doc: CodeTableDocument) -> str:
    """The canonical text of ``layouts/<version>/codes/<id>.yaml``."""
    lines = [*_comment(doc.comment), f"id: {doc.id}", f"name: {scalar(doc.name)}"]
    lines.append(f"authored: {'true' if doc.authored else 'false'}")
    lines += _note(doc.note_lines, "")
    pairs = [f"{quoted(code)}: {scalar(name, flow=True)}" for code, name in doc.values]
    if doc.on_one_line:
        lines.append("values: {" + ", ".join(pairs) + "}")
    else:
        lines += ["values:", *(f"  {quoted(c)}: {scalar(n)}" for c, n in doc.values)]
    return "\n".join(lines) + "\n"


# --- documents from files -----------------------------------------------------------------

_KEY_LINE = re.compile(r"^(\s*)note:\s*>-?\s*$")


def _head_comment(text: str) -> tuple[str, ...]:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return tuple(lines)


def _note_lines(doc: Document, text: str, key_path: tuple[str, ...], note: str) -> tuple[str, ...]:
    """The note's lines as the file wraps them (a folded ``>-`` block), else its one line."""
    if not note:
        return ()
    at = doc.lines.get(key_path)
    source = text.splitlines()
    if at is not None and (head := _KEY_LINE.match(source[at - 1])):
        indent = len(head.group(1))
        block = []
        for line in source[at:]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            block.append(line.strip())
        while block and not block[-1]:
            block.pop()
        if all(block) and " ".join(block) == note:
            return tuple(block)
    return (note,)


def _text_of(doc: Document) -> str:
    return doc.path.read_text(encoding="utf-8").removeprefix("\ufeff")


def read_layout_document(path: Path) -> LayoutDocument:
    """A layout file as a document (strictly read: a malformed file is a LayoutError)."""
    with errors_as(LayoutError):
        doc = read_yaml(path, what="layout file")
        model = doc.parse(LayoutFileModel)
    text = _text_of(doc)
    prov = model.provenance
    files = tuple(rf.to_record_file() for rf in model.record_files)
    return LayoutDocument(
        id=model.id,
        name=model.name,
        version=model.version,
        source=prov.source,
        authored_parts=tuple(prov.authored_parts),
        note_lines=_note_lines(doc, text, ("provenance", "note"), prov.note),
        record_files=files,
        comment=_head_comment(text),
    )


def read_code_table_document(path: Path) -> CodeTableDocument:
    with errors_as(LayoutError):
        doc = read_yaml(path, what="code table")
        model = doc.parse(CodeTableModel)
    text = _text_of(doc)
    return CodeTableDocument(
        id=model.id or path.stem,
        name=model.name or path.stem,
        values=tuple(model.values.items()),
        authored=model.authored,
        note_lines=_note_lines(doc, text, ("note",), model.note),
        comment=_head_comment(text),
        one_line=_flow_values(doc, text),
    )


def _flow_values(doc: Document, text: str) -> bool | None:
    """Whether the file writes its values on one line (``values: {…}``)."""
    at = doc.lines.get(("values",))
    if at is None:
        return None
    line = text.splitlines()[at - 1]
    return line.lstrip().startswith("values:") and line.split(":", 1)[1].strip().startswith("{")
