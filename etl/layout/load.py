"""Read layouts/<version>/<id>.yaml and layouts/<version>/codes/*.yaml into Layout objects."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from etl.errors import LayoutError
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.resources import data_dir

DEFAULT_VERSION = "v2.1"


def layouts_root(version: str = DEFAULT_VERSION) -> Path:
    return data_dir("layouts") / version


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise LayoutError(path, "file not found") from exc
    except yaml.YAMLError as exc:
        raise LayoutError(path, f"invalid YAML: {exc}") from exc


def load_code_table(path: Path) -> CodeTable:
    doc = read_yaml(path)
    if not isinstance(doc, dict) or "values" not in doc:
        raise LayoutError(path, "a code table needs 'id', 'name' and 'values'")
    values = {str(k): str(v) for k, v in doc["values"].items()}
    return CodeTable(
        id=str(doc.get("id", path.stem)),
        name=str(doc.get("name", path.stem)),
        values=values,
        authored=bool(doc.get("authored", True)),
        note=str(doc.get("note", "")),
    )


@lru_cache(maxsize=8)
def load_code_tables(version: str = DEFAULT_VERSION) -> dict[str, CodeTable]:
    return _code_tables(layouts_root(version))


def _code_tables(root: Path) -> dict[str, CodeTable]:
    tables = [load_code_table(p) for p in sorted((root / "codes").glob("*.yaml"))]
    return {t.id: t for t in tables}


def _item(path: Path, raw: dict[str, Any], tables: dict[str, CodeTable]) -> Item:
    try:
        item = Item(
            name=str(raw["name"]),
            type=ItemType(raw["type"]),
            digits=int(raw["digits"]),
            required=bool(raw.get("required", False)),
            code_table=raw.get("code_table"),
            sensitive=bool(raw.get("sensitive", False)),
            description=str(raw.get("description", "")),
        )
    except (KeyError, ValueError) as exc:
        raise LayoutError(path, f"bad item {raw!r}: {exc}") from exc
    if item.type is ItemType.CODE and item.code_table not in tables:
        raise LayoutError(path, f"item {item.name}: unknown code table {item.code_table!r}")
    return item


def load_layout_file(path: Path, tables: dict[str, CodeTable]) -> Layout:
    doc = read_yaml(path)
    if not isinstance(doc, dict):
        raise LayoutError(path, "a layout file must be a mapping")
    files: list[RecordFile] = []
    for rf in doc.get("record_files", []):
        items = tuple(_item(path, it, tables) for it in rf.get("items", []))
        names = [it.name for it in items]
        if len(set(names)) != len(names):
            raise LayoutError(path, f"record file {rf.get('id')}: duplicate item names")
        key = tuple(rf.get("key", []))
        missing = [k for k in key if k not in names]
        if not key or missing:
            raise LayoutError(path, f"record file {rf.get('id')}: key {list(key)} not among items")
        files.append(RecordFile(id=str(rf["id"]), name=str(rf["name"]), items=items, key=key))
    prov = doc.get("provenance", {})
    used = {it.code_table for rf in files for it in rf.items if it.code_table}
    return Layout(
        id=str(doc["id"]),
        name=str(doc["name"]),
        version=str(doc.get("version", path.parent.name)),
        record_files=tuple(files),
        provenance=Provenance(
            source=str(prov.get("source", "authored")),
            authored_parts=tuple(prov.get("authored_parts", [])),
            note=str(prov.get("note", "")),
        ),
        code_tables={k: tables[k] for k in sorted(used)},
    )


@lru_cache(maxsize=8)
def load_layouts(version: str = DEFAULT_VERSION) -> dict[str, Layout]:
    """All layouts of a version, by id."""
    return load_layout_folder(layouts_root(version))


def load_layout_folder(root: Path) -> dict[str, Layout]:
    """All layouts in a folder shaped like layouts/<version>/ (e.g. a run's snapshot of it)."""
    if not root.is_dir():
        raise LayoutError(root, "layout version folder not found")
    tables = _code_tables(root)
    layouts = [load_layout_file(p, tables) for p in sorted(root.glob("*.yaml"))]
    return {lay.id: lay for lay in layouts}


def get_layout(name: str, version: str = DEFAULT_VERSION) -> Layout:
    """Find a layout by id (``juki``) or 業務名 (``住民基本台帳``)."""
    layouts = load_layouts(version)
    for lay in layouts.values():
        if name in (lay.id, lay.name):
            return lay
    known = ", ".join(f"{lay.id} ({lay.name})" for lay in layouts.values())
    raise LayoutError(layouts_root(version), f"no layout {name!r}; known: {known}")
