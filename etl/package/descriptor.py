"""datapackage.json: Frictionless Data Package resources plus chukan's own metadata.

A resource per file: name, path, format, mediatype, encoding, bytes, hash ("sha256:<hex>");
tables add a CSV dialect and a Table Schema (etl.package.schema). chukan's metadata sits under
the custom property ``chukan`` (Data Package allows custom properties), per package and per
V2.1 resource (業務, record file, record count).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from etl.package.schema import FieldRule

MANIFEST = "datapackage.json"
SIGNATURE = "datapackage.json.sig"
MEDIATYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_NAME_BAD = re.compile(r"[^a-z0-9._-]+")


def resource_name(text: str) -> str:
    """A Frictionless resource/package name: lower-case ASCII letters, digits, ``-._``."""
    return _NAME_BAD.sub("-", text.lower()).strip("-") or "resource"


@dataclass(frozen=True, slots=True)
class Resource:
    """One file of the package as listed in datapackage.json."""

    name: str
    path: str  # relative, "/"-separated
    bytes: int
    sha256: str
    encoding: str | None = None  # text files only
    line_terminator: str | None = None  # CSV only
    fields: tuple[FieldRule, ...] = ()
    primary_key: tuple[str, ...] = ()
    chukan: dict[str, Any] = field(default_factory=dict)

    @property
    def format(self) -> str:
        return self.path.rsplit(".", 1)[-1].lower()

    @property
    def is_table(self) -> bool:
        return self.format == "csv"

    def to_descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": "table" if self.is_table else "file",
            "path": self.path,
            "format": self.format,
            "mediatype": MEDIATYPES.get(self.format, "application/octet-stream"),
        }
        if self.encoding:
            out["encoding"] = self.encoding
        out["bytes"] = self.bytes
        out["hash"] = f"sha256:{self.sha256}"
        if self.is_table:
            out["dialect"] = {
                "delimiter": ",",
                "header": True,
                "lineTerminator": self.line_terminator or "\n",
                "quoteChar": '"',
                "doubleQuote": True,
            }
            schema: dict[str, Any] = {"fields": [f.to_descriptor() for f in self.fields]}
            if self.primary_key:
                schema["primaryKey"] = list(self.primary_key)
            out["schema"] = schema
        if self.chukan:
            out["chukan"] = self.chukan
        return out


def manifest_bytes(
    name: str, title: str, created: str, resources: Sequence[Resource], chukan: dict[str, Any]
) -> bytes:
    doc = {
        "name": name,
        "title": title,
        "created": created,
        "resources": [r.to_descriptor() for r in resources],
        "chukan": chukan,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def parse_manifest(data: bytes) -> dict[str, Any]:
    """datapackage.json as a dict; ValueError when it is not a JSON object with resources."""
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise ValueError("not a Data Package descriptor (no resources list)")
    return doc
