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
    is_version_name,
    layouts_home,
    layouts_root,
    resolve_version,
    version_problem,
)
from etl.layout.workbook import ImportedLayout, ImportMapModel, load_import_map, read_workbook
from etl.layout.writer import (
    CodeTableDocument,
    LayoutDocument,
    code_table_text,
    layout_text,
    read_code_table_document,
    read_layout_document,
)

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
