"""The XPath subset of an xml file entry: where its records are and where each field is.

``record`` is an absolute path of element names, ``/nk:Export/nk:Hihokensha``. A field's
``xpath`` is relative to the record element and is one of::

    .                       the record element's text
    nk:Fuka                 a child element's text (its string value: all text inside it)
    nk:Kikan/nk:Shutoku     a descendant by child steps
    p:Tel[2]                the second p:Tel child (1-based, as in XPath)
    @atena  nk:Shutoku/@date  an attribute
    ../@atena  ../p:Kiso    an ancestor's attribute, or a child of it that comes before the
                            record element in the file (the parent's key of a child record)
    nk:Fuka/text()          the same as nk:Fuka

Prefixes come from the entry's ``namespaces``; an unprefixed name is in no namespace, as in
XPath 1.0 (a file with a default namespace needs a prefix for it). Everything else of XPath
(``//``, ``*``, functions, other predicates) is refused when the profile is read: the subset is
what a record's fields need, and it is evaluated by walking the record's children, which is
faster than lxml's XPath on every record (benchmarks/bench_xml.py) and can tell a missing
element (null) from an empty one ("") and a repeated one (the record is rejected, not
silently read from the first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeAlias

from lxml import etree

_NAME = r"[^\W\d][\w.\-]*"  # an NCName: letters (Japanese too), digits, '_', '.', '-'
_QNAME = re.compile(rf"(?:({_NAME}):)?({_NAME})")
_STEP = re.compile(rf"((?:{_NAME}:)?{_NAME})(?:\[([1-9][0-9]{{0,5}})\])?")
MAX_STEPS = 32  # steps of one path: far more than any record needs, bounds the walk


class PathProblem(ValueError):
    """Why a path is not in the subset (English, names the part of the path)."""


@dataclass(frozen=True, slots=True)
class Step:
    """A child step: an element name in Clark notation (``{uri}local``), optionally indexed."""

    tag: str
    index: int | None  # 1-based; None: the one child of that name (two are a problem)
    written: str  # as in the profile, for messages


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A field's path, compiled: up to an ancestor, child steps down, then text or attribute."""

    written: str
    up: int  # leading '..' steps
    steps: tuple[Step, ...]
    attribute: str | None  # Clark name of the attribute read; None: the element's text


def clark(qname: str, namespaces: Mapping[str, str]) -> str:
    """``nk:Kikan`` as ``{urn:…}Kikan``; an unprefixed name (element or attribute) is in no
    namespace."""
    match = _QNAME.fullmatch(qname)
    if match is None:
        raise PathProblem(f"{qname!r} is not an XML name")
    prefix, local = match.groups()
    if prefix is None:
        return local
    if prefix not in namespaces:
        declared = ", ".join(sorted(namespaces)) or "none"
        raise PathProblem(f"prefix {prefix!r} is not in namespaces (declared: {declared})")
    return f"{{{namespaces[prefix]}}}{local}"


def parse_record_path(text: str, namespaces: Mapping[str, str]) -> tuple[str, ...]:
    """``/nk:Export/nk:Hihokensha`` as the Clark tags from the root down."""
    if not text.startswith("/") or text.startswith("//"):
        raise PathProblem("must be an absolute path of element names, like /Export/Record")
    parts = text[1:].split("/")
    if len(parts) > MAX_STEPS:
        raise PathProblem(f"has {len(parts)} steps, more than {MAX_STEPS}")
    tags = []
    for part in parts:
        if _QNAME.fullmatch(part) is None:
            raise PathProblem(
                f"step {part!r} is not an element name (no predicates, '*' or '//' here)"
            )
        tags.append(clark(part, namespaces))
    return tuple(tags)


def parse_field_path(text: str, namespaces: Mapping[str, str], record_depth: int) -> FieldPath:
    """A field's xpath, relative to a record element ``record_depth`` levels below the top
    (the root element is level 1)."""
    if text.startswith("/"):
        raise PathProblem("is relative to the record element: no leading '/'")
    parts = text.split("/")
    if len(parts) > MAX_STEPS:
        raise PathProblem(f"has {len(parts)} steps, more than {MAX_STEPS}")
    if parts[0] == "." and len(parts) > 1:
        parts = parts[1:]
    up = 0
    while up < len(parts) and parts[up] == "..":
        up += 1
    if up >= record_depth:
        raise PathProblem(f"goes {up} levels up from a record {record_depth - 1} below the root")
    rest = parts[up:]
    attribute: str | None = None
    if rest and rest[-1].startswith("@"):
        attribute = clark(rest[-1][1:], namespaces)
        rest = rest[:-1]
    elif rest and rest[-1] == "text()":
        rest = rest[:-1]
    if rest == ["."] and not up:
        rest = []
    steps = []
    for part in rest:
        match = _STEP.fullmatch(part)
        if match is None:
            what = "'..' only at the start" if part == ".." else "a step is name or name[n]"
            raise PathProblem(f"step {part!r} is not in the subset chukan reads ({what})")
        name, index = match.groups()
        steps.append(Step(clark(name, namespaces), int(index) if index else None, part))
    if not steps and attribute is None and up:
        raise PathProblem("reads an ancestor's text: name an attribute or a child of it")
    return FieldPath(text, up, tuple(steps), attribute)


@dataclass(frozen=True, slots=True)
class Repeated:
    """A non-indexed step matched more than one element."""

    step: str
    line: int


Found: TypeAlias = etree._Element | Repeated | None


def _child(element: etree._Element, step: Step) -> Found:
    children = element.iterchildren(step.tag)
    if step.index is not None:
        return next(islice(children, step.index - 1, None), None)
    first = next(children, None)
    second = next(children, None) if first is not None else None
    return first if second is None else Repeated(step.written, element_line(second))


def _children(element: etree._Element) -> dict[str, list[etree._Element]]:
    by_tag: dict[str, list[etree._Element]] = {}
    for child in element:
        hits = by_tag.get(child.tag)
        if hits is None:
            by_tag[child.tag] = [child]
        else:
            hits.append(child)
    return by_tag


def _pick(hits: list[etree._Element] | None, step: Step) -> Found:
    if hits is None:
        return None
    if step.index is not None:
        return hits[step.index - 1] if step.index <= len(hits) else None
    return hits[0] if len(hits) == 1 else Repeated(step.written, element_line(hits[1]))


def element_text(element: etree._Element) -> str:
    """The string value of an element: all the text inside it, without comments."""
    if len(element):  # children (or a comment): join the text, as XPath's string() does
        return "".join(element.itertext())
    return element.text or ""


BIG_LINE = 65535  # libxml2 keeps an element's line in 16 bits


def element_line(element: etree._Element) -> int:
    """The line of an element's start tag, 1-based.

    From line 65535 on, libxml2 answers with the line where the element's first text node
    ends (or the following node's), so the line feeds of that text are taken off again.
    """
    line = int(element.sourceline or 0)
    if line < BIG_LINE:
        return line
    if element.text is not None:
        return line - int(element.text.count("\n"))
    if len(element):
        return element_line(element[0])
    if element.tail is not None:
        return line - int(element.tail.count("\n"))
    return line


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    reason: str  # English, names the step and the line, never a value
    line: int


class FieldReader:
    """Reads the fields of one record element; shared path prefixes are walked once.

    The fields' paths are compiled into a plan: one entry per distinct path prefix, each
    reading one child step of an earlier entry (or of the record or one of its ancestors),
    then one (entry, attribute) per field.
    """

    __slots__ = ("_fields", "_names", "_plan", "_ups")

    def __init__(self, names: Sequence[str], paths: Sequence[FieldPath]) -> None:
        self._names = tuple(names)
        ids: dict[tuple[int, tuple[Step, ...]], int] = {}
        plan: list[tuple[int, int, Step]] = []  # (ancestor level, entry read from or -1, step)
        fields: list[tuple[int, int, str | None]] = []  # (ancestor level, entry or -1, attribute)
        for p in paths:
            entry = -1
            for k, step in enumerate(p.steps):
                key = (p.up, p.steps[: k + 1])
                if key not in ids:
                    ids[key] = len(plan)
                    plan.append((p.up, entry, step))
                entry = ids[key]
            fields.append((p.up, entry, p.attribute))
        self._plan = tuple(plan)
        self._fields = tuple(fields)
        self._ups = max((p.up for p in paths), default=0)

    def read(self, record: etree._Element) -> tuple[list[str | None], FieldProblem | None]:
        """The value of every field (None: the element or attribute is not there), and the
        first problem (a repeated element), if any."""
        # One Python walk per record: lxml hands elements to Python one at a time, so the
        # fields of a record are read here, not as columns (the chunk is built from the lists).
        levels = [record]
        for _ in range(self._ups):
            levels.append(levels[-1].getparent())  # never above the root: the depth was checked
        found: list[Found] = []
        children: dict[int, dict[str, list[etree._Element]]] = {}  # by plan entry (-1: record)
        for up, entry, step in self._plan:
            at = levels[up] if entry < 0 else found[entry]
            if not isinstance(at, etree._Element):
                found.append(at)
            elif up and entry < 0:  # an ancestor: its children are not bounded by a record
                found.append(_child(at, step))
            else:  # inside the record: its children by tag, in one pass
                by_tag = children.get(entry)
                if by_tag is None:
                    by_tag = children[entry] = _children(at)
                found.append(_pick(by_tag.get(step.tag), step))
        values: list[str | None] = []
        problem: FieldProblem | None = None
        for name, (up, entry, attribute) in zip(self._names, self._fields, strict=True):
            at = levels[up] if entry < 0 else found[entry]
            if at is None:
                values.append(None)
            elif isinstance(at, Repeated):
                values.append(None)
                if problem is None:
                    problem = FieldProblem(
                        name,
                        f"field {name}: more than one {at.step} element (line {at.line}); index "
                        f"it ({at.step}[1]) or read them as child records",
                        at.line,
                    )
            elif attribute is not None:
                values.append(at.get(attribute))
            else:
                values.append(element_text(at))
        return values, problem
