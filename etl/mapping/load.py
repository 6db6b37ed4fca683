"""Parse a mapping spec YAML into a Mapping; structural errors name the spec file and place."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from etl.errors import MappingError
from etl.mapping.model import (
    ControlSpec,
    FilterSpec,
    ItemSpec,
    LookupSpec,
    Mapping,
    StepSpec,
    TargetSpec,
)
from etl.paths import inside
from etl.resources import data_dir

SOURCE_WORDS = ("take", "const", "concat", "wareki", "seireki")


def _table(path: Path, name: str, raw: Any) -> dict[str, str]:
    where = f"tables.{name}"
    if not isinstance(raw, dict) or len({"file", "inline"} & raw.keys()) != 1:
        raise MappingError(path, "a table needs exactly one of 'file' or 'inline'", where=where)
    if "inline" in raw:
        if not isinstance(raw["inline"], dict):
            raise MappingError(path, "'inline' must be a mapping from → to", where=where)
        return {str(k): str(v) for k, v in raw["inline"].items()}
    file = inside(path.parent, raw["file"], config=path, key=f"{where}.file")
    try:
        with file.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise MappingError(path, f"code table file {file} not found", where=where) from exc
    table: dict[str, str] = {}
    for line_no, row in enumerate(rows, start=2):
        if "from" not in row or "to" not in row:
            raise MappingError(file, "code table CSV needs the header 'from,to'")
        if row["from"] in table:
            raise MappingError(file, f"line {line_no}: duplicate code {row['from']!r}")
        table[row["from"]] = row["to"]
    return table


def parse_item(path: Path, raw: Any, where: str) -> ItemSpec:
    if not isinstance(raw, dict):
        raise MappingError(
            path, f"an item must be a mapping with one of {SOURCE_WORDS}", where=where
        )
    words = [w for w in SOURCE_WORDS if w in raw]
    if len(words) != 1:
        raise MappingError(
            path,
            f"an item needs exactly one of {', '.join(SOURCE_WORDS)}; got {words}",
            where=where,
        )
    word = words[0]
    steps_raw = raw.get("then", [])
    if not isinstance(steps_raw, list):
        raise MappingError(path, "'then' must be a list of steps", where=where)
    steps = tuple(_step(path, s, f"{where}.then[{i}]") for i, s in enumerate(steps_raw))
    extra = {k: v for k, v in raw.items() if k not in (word, "then")}
    return ItemSpec(source=word, args=raw[word], steps=steps, where=where, extra=extra)


def _step(path: Path, raw: Any, where: str) -> StepSpec:
    if isinstance(raw, str):
        return StepSpec(word=raw, args=None, where=where)
    if isinstance(raw, dict) and len(raw) == 1:
        ((word, args),) = raw.items()
        return StepSpec(word=str(word), args=args, where=where)
    raise MappingError(path, f"a step is a word or a one-key mapping, got {raw!r}", where=where)


def _lookups(path: Path, raw: Any, where: str) -> tuple[LookupSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise MappingError(path, "'lookups' must be a mapping", where=where)
    out = []
    for name, spec in raw.items():
        w = f"{where}.{name}"
        if (
            not isinstance(spec, dict)
            or "source" not in spec
            or not isinstance(spec.get("join"), dict)
        ):
            raise MappingError(path, "a lookup needs 'source' and 'join: {field: field}'", where=w)
        # `join`, not `on`: YAML 1.1 reads a bare `on` key as the boolean True.
        on = tuple((str(a), str(b)) for a, b in spec["join"].items())
        out.append(LookupSpec(name=str(name), source=str(spec["source"]), on=on))
    return tuple(out)


def _filters(path: Path, raw: Any, where: str) -> tuple[FilterSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MappingError(path, "'filters' must be a list", where=where)
    out = []
    for i, f in enumerate(raw):
        w = f"{where}[{i}]"
        if not isinstance(f, dict) or "when" not in f or not str(f.get("reason", "")).strip():
            raise MappingError(path, "a filter needs 'when' and a non-empty 'reason'", where=w)
        out.append(FilterSpec(when=f["when"], reason=str(f["reason"]), where=w))
    return tuple(out)


def load_mapping(path: Path) -> Mapping:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(path, "mapping spec not found") from exc
    except yaml.YAMLError as exc:
        raise MappingError(path, f"invalid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "layout" not in doc or "record_files" not in doc:
        raise MappingError(path, "a mapping spec needs 'layout' and 'record_files'")
    tables = {str(n): _table(path, str(n), t) for n, t in (doc.get("tables") or {}).items()}
    targets = []
    for rf_id, raw in doc["record_files"].items():
        where = f"record_files.{rf_id}"
        if not isinstance(raw, dict) or "from" not in raw or not isinstance(raw.get("items"), dict):
            raise MappingError(path, "a record file needs 'from' and 'items'", where=where)
        items = {
            str(name): parse_item(path, spec, f"{where}.items.{name}")
            for name, spec in raw["items"].items()
        }
        targets.append(
            TargetSpec(
                record_file=str(rf_id),
                source=str(raw["from"]),
                lookups=_lookups(path, raw.get("lookups"), f"{where}.lookups"),
                filters=_filters(path, raw.get("filters"), f"{where}.filters"),
                items=items,
            )
        )
    controls = _controls(path, doc.get("controls"))
    return Mapping(
        path=path,
        layout=str(doc["layout"]),
        tables=tables,
        targets=tuple(targets),
        controls=controls,
    )


CONTROL_KINDS = ("sum", "count_by")


def _controls(path: Path, raw: Any) -> tuple[ControlSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MappingError(path, "'controls' must be a list", where="controls")
    out = []
    for i, c in enumerate(raw):
        where = f"controls[{i}]"
        kinds = [k for k in CONTROL_KINDS if isinstance(c, dict) and k in c]
        if (
            not isinstance(c, dict)
            or len(kinds) != 1
            or "record_file" not in c
            or "source" not in c
        ):
            raise MappingError(
                path, "a control needs record_file, one of sum/count_by, and source", where=where
            )
        out.append(
            ControlSpec(
                record_file=str(c["record_file"]),
                kind=kinds[0],
                item=str(c[kinds[0]]),
                source=parse_item(path, c["source"], f"{where}.source"),
                where=where,
            )
        )
    return tuple(out)


def vendor_mapping_path(vendor_folder: Path, layout_id: str) -> Path:
    return vendor_folder / f"{layout_id}.yaml"


def bundled_vendor_folder(vendor: str) -> Path:
    return data_dir("mappings") / vendor
