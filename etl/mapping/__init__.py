"""Mapping specs: parse (load), compile to polars expressions (compile), run (apply)."""

from etl.mapping.apply import (
    SOURCE_COL,
    LookupIndex,
    MappedRecordFile,
    lookup_fields,
    lookup_index,
    map_chunk,
    map_record_file,
    merge_mapped,
    record_keys,
)
from etl.mapping.compile import CompiledMapping, CompiledRecordFile, compile_mapping
from etl.mapping.load import load_mapping
from etl.mapping.model import Mapping
from etl.mapping.transforms import REJECTING_RULES

__all__ = [
    "REJECTING_RULES",
    "SOURCE_COL",
    "CompiledMapping",
    "CompiledRecordFile",
    "LookupIndex",
    "MappedRecordFile",
    "Mapping",
    "compile_mapping",
    "load_mapping",
    "lookup_fields",
    "lookup_index",
    "map_chunk",
    "map_record_file",
    "merge_mapped",
    "record_keys",
]
