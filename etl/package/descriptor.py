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

import numpy as np

from etl.package.schema import FieldRule

DESCRIPTOR = "datapackage.json"
SIGNATURE = "datapackage.json.sig"
MEDIATYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_NAME_BAD = re.compile(r"[^a-z0-9._-]+")
# A receiver reads packages it did not make: datapackage.json is read whole, so its size and its
# JSON nesting are capped (a real one is well under 1 MiB and 8 levels deep).
DESCRIPTOR_MAX_BYTES = 32 << 20
SIGNATURE_MAX_BYTES = 64 << 10
JSON_DEPTH_MAX = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


def descriptor_bytes(
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


def path_problem(rel: str) -> str | None:
    """Why ``rel`` is not a path inside the package, or None: relative, "/"-separated, normal
    (no empty, ``.`` or ``..`` part), no backslash, drive letter or control character."""
    if not rel:
        return "パスが空です"
    if rel.startswith("/") or re.match(r"[A-Za-z]:", rel):
        return "絶対パスです"
    if "\\" in rel:
        return "バックスラッシュを含みます"
    if _CONTROL.search(rel):
        return "制御文字を含みます"
    if any(part in ("", ".", "..") for part in rel.split("/")):
        return "正規化されていません (空・. ・.. の要素)"
    return None


def json_depth(data: bytes, window: int = 1 << 20) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text, brackets inside strings not counted.

    Escapes go first (``\\\\`` pairs, then ``\\"``), so every quote left opens or closes a
    string; then the depth is a running sum over windows, so memory stays a few MiB whatever
    the size. Exact for valid JSON, which is all that json.loads accepts afterwards."""
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    raw = np.frombuffer(text, dtype=np.uint8)
    inside, depth, deepest = 0, 0, 0
    for at in range(0, raw.size, window):
        part = raw[at : at + window]
        # string parity before each byte; a uint8 running sum wraps at 256, keeping parity
        quotes = np.cumsum(part == 0x22, dtype=np.uint8) + np.uint8(inside)
        step = (part == 0x5B).view(np.int8) + (part == 0x7B).view(np.int8)
        step -= (part == 0x5D).view(np.int8) + (part == 0x7D).view(np.int8)
        step[(quotes & 1).astype(bool)] = 0
        levels = np.cumsum(step[step != 0], dtype=np.int64) + depth
        if levels.size:
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        inside = int(quotes[-1]) & 1
    return deepest


def parse_descriptor(data: bytes, max_bytes: int = DESCRIPTOR_MAX_BYTES) -> dict[str, Any]:
    """datapackage.json as a dict; ValueError naming the key path when it is not a Data
    Package descriptor whose resources each have a path inside the package, a size and a hash."""
    if len(data) > max_bytes:
        raise ValueError(f"{len(data):,} バイトは上限 {max_bytes:,} バイトを超えます")
    if max_bytes <= DESCRIPTOR_MAX_BYTES and (depth := json_depth(data)) > JSON_DEPTH_MAX:
        raise ValueError(f"JSON の入れ子が {depth} 段で上限 {JSON_DEPTH_MAX} 段を超えます")
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError as exc:  # json_depth should have caught it; never a traceback
        raise ValueError("JSON の入れ子が深すぎます") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise ValueError("not a Data Package descriptor (no resources list)")
    seen: set[str] = set()
    for i, res in enumerate(doc["resources"]):
        where = f"resources[{i}]"
        if not isinstance(res, dict):
            raise ValueError(f"{where}: オブジェクトではありません")
        rel = res.get("path")
        if not isinstance(rel, str):
            raise ValueError(f"{where}.path: 文字列ではありません")
        if why := path_problem(rel):
            raise ValueError(f"{where}.path {rel!r}: パッケージ内のパスではありません ({why})")
        if rel in seen:
            raise ValueError(f"{where}.path {rel!r}: 同じパスが二度あります")
        seen.add(rel)
        size = res.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{where}.bytes: 0 以上の整数ではありません")
        if not isinstance(res.get("hash"), str):
            raise ValueError(f"{where}.hash: 文字列ではありません")
    return doc
