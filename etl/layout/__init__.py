"""The standard as data: layouts/<version>/*.yaml loaded into Layout objects."""

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
    layouts_root,
    resolve_version,
    version_problem,
)

__all__ = [
    "DATE_TYPES",
    "DEFAULT_LAYOUT_VERSION",
    "EXACT",
    "MAX_DECIMAL_DIGITS",
    "TYPE_TABLE",
    "CodeTable",
    "Item",
    "ItemType",
    "Layout",
    "Length",
    "Provenance",
    "RecordFile",
    "SqlDialect",
    "TypeRule",
    "UnknownLayoutVersion",
    "available_versions",
    "decimal_pattern",
    "get_layout",
    "layouts_root",
    "load_code_tables",
    "load_layout_folder",
    "load_layouts",
    "resolve_version",
    "type_rule",
    "version_problem",
]
