"""The standard as data: layouts/<version>/*.yaml loaded into Layout objects."""

from typing import TYPE_CHECKING, Any

from etl.layout.load import get_layout, load_code_tables, load_layout_folder, load_layouts
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.layout.types import (
    DATE_TYPES,
    EXACT,
    MAX_DECIMAL_DIGITS,
    TYPE_TABLE,
    Length,
    SqlDialect,
    TypeRule,
    decimal_pattern,
    type_rule,
)
from etl.layout.versions import (
    DEFAULT_LAYOUT_VERSION,
    UnknownLayoutVersion,
    available_versions,
    is_version_name,
    layouts_home,
    layouts_root,
    resolve_version,
    version_problem,
)
from etl.layout.writer import (
    CodeTableDocument,
    LayoutDocument,
    code_table_text,
    layout_text,
    read_code_table_document,
    read_layout_document,
)

if TYPE_CHECKING:
    from etl.layout.workbook import ImportedLayout, ImportMapModel, load_import_map, read_workbook

# Importing the spec workbook (`chukan layouts import`) needs python-calamine and its models: loaded
# on first use, so a run does not pay for them.
_WORKBOOK = ("ImportedLayout", "ImportMapModel", "load_import_map", "read_workbook")


def __getattr__(name: str) -> Any:
    if name in _WORKBOOK:
        from etl.layout import workbook

        return getattr(workbook, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DATE_TYPES",
    "DEFAULT_LAYOUT_VERSION",
    "EXACT",
    "MAX_DECIMAL_DIGITS",
    "TYPE_TABLE",
    "CodeTable",
    "CodeTableDocument",
    "ImportMapModel",
    "ImportedLayout",
    "Item",
    "ItemType",
    "Layout",
    "LayoutDocument",
    "Length",
    "Provenance",
    "RecordFile",
    "SqlDialect",
    "TypeRule",
    "UnknownLayoutVersion",
    "available_versions",
    "code_table_text",
    "decimal_pattern",
    "get_layout",
    "is_version_name",
    "layout_text",
    "layouts_home",
    "layouts_root",
    "load_code_tables",
    "load_import_map",
    "load_layout_folder",
    "load_layouts",
    "read_code_table_document",
    "read_layout_document",
    "read_workbook",
    "resolve_version",
    "type_rule",
    "version_problem",
]
