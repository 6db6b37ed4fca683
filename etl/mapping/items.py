"""Compile one ItemSpec (source word + steps) into a polars expression with its checks."""

from __future__ import annotations

from dataclasses import replace

from etl.mapping.model import ItemSpec
from etl.mapping.transforms import SOURCES, STEPS, CompileContext, Compiled


def compile_item(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    compiled = SOURCES[spec.source](spec, ctx)
    for step in spec.steps:
        compiled = STEPS[step.word](compiled, step.args, ctx, step.at)
    return compiled


def compile_top_item(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """An item of a record file: the spec's expression, with an empty string turned into null."""
    ctx = replace(ctx, compile_nested=lambda nested: compile_item(nested, ctx))
    compiled = compile_item(spec, ctx)
    # replace() evaluates the item once; when(expr != "").then(expr) would evaluate it twice.
    return replace(compiled, expr=compiled.expr.replace("", None))
