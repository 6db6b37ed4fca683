"""JSON Schemas of chukan's configuration files, generated from the typed models that read them.

Editors validate and complete YAML/TOML against ``docs/schemas/<name>.schema.json`` (for YAML,
a first line ``# yaml-language-server: $schema=<path>/source-profile.schema.json``). The files
are written by ``python -m etl.schemas docs/schemas``; a test fails when they are out of date,
so a model change and its schema travel together.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# name → "module:attribute", a model class or a function returning one (imported on use).
SCHEMAS: dict[str, str] = {
    "source-profile": "etl.extract.profile:SourceProfileModel",  # mappings/<vendor>/source.yaml
    "layout": "etl.layout.load:LayoutFileModel",  # layouts/<version>/<id>.yaml
    "code-table": "etl.layout.load:CodeTableModel",  # layouts/<version>/codes/<id>.yaml
    "eras": "etl.text.wareki:EraFileModel",  # layouts/eras.yaml
    "validators": "etl.validate.rules:rule_file_model",  # validators/<layout id>.yaml
    "chukan-toml": "etl.passes.project:ProjectFileModel",  # chukan.toml
    "group": "etl.export.group:GroupFileModel",  # chukan export --group FILE
    "mapping-spec": "etl.mapping.load:mapping_file_model",  # mappings/<vendor>/<layout id>.yaml
    "import-map": "etl.layout.workbook:ImportMapModel",  # chukan layouts import --map FILE
    "conversion-spec": "etl.convert.spec:ConversionSpecModel",  # layouts/conversions/*.yaml
}


def model_of(name: str) -> type[BaseModel]:
    """The model behind schema ``name``; KeyError lists the known names."""
    if name not in SCHEMAS:
        raise KeyError(f"no schema {name!r}; known: {', '.join(SCHEMAS)}")
    module, attribute = SCHEMAS[name].split(":")
    found = getattr(importlib.import_module(module), attribute)
    model = found if isinstance(found, type) else found()
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{SCHEMAS[name]} is not a pydantic model")
    return model


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of configuration file kind ``name``."""
    schema = model_of(name).model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{name}.schema.json", **schema}


def schema_text(name: str) -> str:
    return json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m etl.schemas FOLDER   (the repository keeps docs/schemas)")
        return 2
    for path in write_schemas(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
