"""The keys of an xml file entry, typed and checked against its fields.

``record`` (the absolute path of the record element), ``namespaces`` (prefix → URI, the
prefixes ``record`` and the fields' ``xpath`` use) and, for every field, an ``xpath`` in the
subset of .paths. Problems name their key path below the file entry; the profile reader adds
``files[i]``. Two file entries may read the same XML file: a parent record and its repeated
children, each child carrying the parent's key through ``../@key``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator

from etl.config import KeyPath, KeyProblem
from etl.extract.profile import (
    FieldType,
    FileExtras,
    FormatOptions,
    Name,
    SourceField,
    SourceFieldModel,
)
from etl.extract.xml.paths import (
    FieldPath,
    PathProblem,
    clark,
    parse_field_path,
    parse_record_path,
)

Prefix = Annotated[str, StringConstraints(pattern=r"^[^\W\d][\w.\-]*$", max_length=64)]
Uri = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
RESERVED_PREFIXES = ("xml", "xmlns")


class XmlExtras(FileExtras):
    """``options:`` of an xml file."""

    # read the file in its source.yaml encoding whatever its XML declaration says (a vendor
    # that declares UTF-8 and writes Shift_JIS); a warning finding records it
    overrule_declaration: bool = False


class XmlOptions(FormatOptions):
    """An XML export: one record per element at ``record``, fields by an XPath below it."""

    FIELD_KEYS: ClassVar[tuple[str, ...]] = ("xpath",)

    record: Name  # /nk:Export/nk:Hihokensha
    namespaces: dict[Prefix, Uri] = Field(default_factory=dict)
    # an attribute of the root element holding the number of records ("@count"): checked
    # against the records read, as a fixed-width trailer's count is
    record_count: Name | None = None
    extras: XmlExtras = Field(default_factory=XmlExtras, alias="options")

    @model_validator(mode="after")
    def _paths(self) -> Self:
        for prefix in self.namespaces:
            if prefix.lower().startswith("xml"):
                raise KeyProblem(
                    ("namespaces", prefix), "prefixes starting with 'xml' are reserved"
                )
        try:
            parse_record_path(self.record, self.namespaces)
        except PathProblem as exc:
            raise KeyProblem(("record",), str(exc)) from None
        if self.record_count is not None:
            if not self.record_count.startswith("@"):
                raise KeyProblem(("record_count",), "must be an attribute of the root: '@count'")
            try:
                clark(self.record_count[1:], self.namespaces)
            except PathProblem as exc:
                raise KeyProblem(("record_count",), str(exc)) from None
        return self

    @property
    def record_count_attribute(self) -> str | None:
        """The Clark name of the root's attribute holding the record count, if declared."""
        if self.record_count is None:
            return None
        return clark(self.record_count[1:], self.namespaces)

    @property
    def record_tags(self) -> tuple[str, ...]:
        """The Clark tags of the record path, from the root element down."""
        return parse_record_path(self.record, self.namespaces)

    def field_paths(self, fields: Sequence[SourceField]) -> tuple[FieldPath, ...]:
        """Each field's compiled xpath (checked when the profile was read)."""
        depth = len(self.record_tags)
        return tuple(parse_field_path(f.xpath or ".", self.namespaces, depth) for f in fields)

    def problems(self, fields: Sequence[SourceFieldModel]) -> Iterator[tuple[KeyPath, str]]:
        depth = len(self.record_tags)
        for j, f in enumerate(fields):
            if f.xpath is None:
                yield ("fields", j), "xml fields need 'xpath' (relative to the record element)"
                continue
            if f.type not in (FieldType.TEXT, FieldType.DIGITS):
                yield ("fields", j, "type"), f"xml fields are text or digits, not {f.type}"
            try:
                parse_field_path(f.xpath, self.namespaces, depth)
            except PathProblem as exc:
                yield ("fields", j, "xpath"), str(exc)
