"""Mapping specs: parse (load), compile to polars expressions (compile), run (apply)."""

from etl.mapping.apply import MappedTarget, map_target
from etl.mapping.compile import CompiledMapping, CompiledTarget, compile_mapping
from etl.mapping.load import load_mapping
from etl.mapping.model import Mapping

__all__ = [
    "CompiledMapping",
    "CompiledTarget",
    "MappedTarget",
    "Mapping",
    "compile_mapping",
    "load_mapping",
    "map_target",
]
