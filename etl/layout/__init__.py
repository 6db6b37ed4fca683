"""The standard as data: layouts/<version>/*.yaml loaded into Layout objects."""

from etl.layout.load import (
    DEFAULT_VERSION,
    get_layout,
    layouts_root,
    load_code_tables,
    load_layout_folder,
    load_layouts,
)
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile

__all__ = [
    "DEFAULT_VERSION",
    "CodeTable",
    "Item",
    "ItemType",
    "Layout",
    "Provenance",
    "RecordFile",
    "get_layout",
    "layouts_root",
    "load_code_tables",
    "load_layout_folder",
    "load_layouts",
]
