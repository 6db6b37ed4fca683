"""Compile one ItemSpec (source word + steps) into a polars expression with its checks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from etl.mapping.load import parse_item
from etl.mapping.model import ItemSpec
from etl.mapping.transforms import SOURCES, STEPS, CompileContext, Compiled
from etl.mapping.transforms.sources import concat


def compile_item(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    if spec.source == "concat":
        sep = spec.extra.get("sep", "")
        if not isinstance(sep, str):
            raise ctx.fail(spec.where, "concat: sep must be a string")
        compiled = concat(spec.args, ctx, spec.where, sep=sep)
    else:
        if spec.extra:
            raise ctx.fail(
                spec.where, f"unexpected keys {sorted(spec.extra)} next to {spec.source}"
            )
        compiled = SOURCES[spec.source](spec.args, ctx, spec.where)
    for step in spec.steps:
        fn = STEPS.get(step.word)
        if fn is None:
            raise ctx.fail(step.where, f"unknown step {step.word!r}; known: {', '.join(STEPS)}")
        compiled = fn(compiled, step.args, ctx, step.where)
    return compiled


def compile_top_item(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """A target item: the spec's expression, with an empty string turned into null."""

    def nested(raw: Any, where: str) -> Compiled:
        return compile_item(parse_item(ctx.path, raw, where), ctx)

    ctx = replace(ctx, compile_nested=nested)
    compiled = compile_item(spec, ctx)
    # replace() evaluates the item once; when(expr != "").then(expr) would evaluate it twice.
    return replace(compiled, expr=compiled.expr.replace("", None))
