"""Conditions: the one language of "the rows where …", for mapping filters and validator rules.

    {SUBJECT: name, equals: "1"}         the value is "1"
    {SUBJECT: name, in: ["02", "03"]}    the value is one of these
    {SUBJECT: name, blank: true}         the value is missing, empty or only spaces
    {all: [cond, …]}   {any: [cond, …]}   {not: cond}

The subject key says what a condition tests, and is the only difference between the two places
that use conditions: ``field`` (a source field, or ``<lookup>.<field>``) in a mapping spec's
``filters[].when``, ``item`` (a 項目名 of the record file) in a validator rule's ``when``.
Everything else is this module's: the operators, how values compare (as text, after trimming
half- and full-width spaces; a missing value never ``equals`` nor is ``in`` anything), the
reader and its error messages, the JSON Schema, and the compiler to a boolean polars
expression (no user text is ever evaluated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import (
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)

from etl.config import Document, KeyPath, StrictModel
from etl.text import strip_spaces

MAX_CONDITION_DEPTH = 16  # all/any/not inside each other
MAX_CONDITION_PARTS = 64  # conditions in one all/any
MAX_VALUES = 10_000  # values of one `in`

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Values = Annotated[list[str], Field(min_length=1, max_length=MAX_VALUES)]
Op = Literal["all", "any", "not"]


class Subject(StrEnum):
    """The key that names what a condition tests."""

    FIELD = "field"  # mapping specs: a source field
    ITEM = "item"  # validator rules: an item (項目名) of the record file


@dataclass(frozen=True, slots=True)
class ValueTest:
    """``{field: f, equals: v}`` | ``{field: f, in: [..]}`` | ``{field: f, blank: true}``
    (``item`` instead of ``field`` in a validator rule)."""

    subject: Subject
    name: str  # the field or item tested
    equals: str | None
    one_of: tuple[str, ...] | None
    blank: bool
    at: KeyPath  # position in the file, for error messages


@dataclass(frozen=True, slots=True)
class Combined:
    """``{all: [..]}`` | ``{any: [..]}`` | ``{not: cond}`` (a single part)."""

    op: Op
    parts: tuple[Condition, ...]
    at: KeyPath


Condition = ValueTest | Combined


def value_in(subject: Subject, name: str, *values: str) -> ValueTest:
    """``{subject: name, in: [values]}``, for code that builds a filter or a rule itself."""
    return ValueTest(subject, name, None, values, False, ())


# --- the models: a test's keys, and the whole tree for the JSON Schema -------------------------


@cache
def _test_model(subject: Subject) -> type[StrictModel]:
    title = subject.value.capitalize()
    model: type[StrictModel] = create_model(
        f"{title}Test",
        __base__=StrictModel,
        __doc__=f"Tests one {subject.value}: exactly one of equals, in, blank.",
        **{subject.value: (Name, ...)},  # type: ignore[call-overload]
        equals=(str | None, None),
        in_=(Values | None, Field(default=None, alias="in")),
        blank=(Literal[True] | None, None),
    )
    return model


@cache
def _tree_type(subject: Subject) -> Any:
    """The condition tree as pydantic types; only its JSON Schema is used (the reader below
    walks the tree itself, to give each mistake its own message)."""
    title = subject.value.capitalize()
    tree = f"{title}Condition"
    ref: Any = tree  # a forward reference, resolved by model_rebuild below
    parts = Annotated[list[ref], Field(min_length=1, max_length=MAX_CONDITION_PARTS)]
    all_of = create_model(f"AllOf{title}Conditions", __base__=StrictModel, all=(parts, ...))
    any_of = create_model(f"AnyOf{title}Conditions", __base__=StrictModel, any=(parts, ...))
    not_ = create_model(
        f"Not{title}Condition",
        __base__=StrictModel,
        not_=(ref, Field(alias="not")),
    )
    union = _test_model(subject) | all_of | any_of | not_
    for model in (all_of, any_of, not_):
        model.model_rebuild(_types_namespace={tree: union})
    return union


def _as_written(value: Any) -> Any:
    return value


# The annotation of a key that holds a condition, as written: the model lets any value through
# (parse_condition reads it), and its JSON Schema is the condition tree's.
FieldConditionAsWritten = Annotated[
    Any, PlainValidator(_as_written, json_schema_input_type=_tree_type(Subject.FIELD))
]
ItemConditionAsWritten = Annotated[
    Any, PlainValidator(_as_written, json_schema_input_type=_tree_type(Subject.ITEM))
]


# --- the reader -------------------------------------------------------------------------------

_STRICT_LIST: TypeAdapter[list[Any]] = TypeAdapter(
    Annotated[list[Any], Field(min_length=1, max_length=MAX_CONDITION_PARTS)],
    config=ConfigDict(strict=True),
)


def _what(raw: Any) -> str:
    if raw is None:
        return "nothing"
    text = repr(raw)
    return f"{type(raw).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def parse_condition(
    doc: Document, raw: Any, at: KeyPath, subject: Subject, depth: int = 1
) -> Condition:
    """Read the condition at ``at``; a mistake is ``doc``'s ConfigError naming its key path."""
    if depth > MAX_CONDITION_DEPTH:
        raise doc.error(at, f"conditions are nested deeper than {MAX_CONDITION_DEPTH} levels")
    if not isinstance(raw, dict):
        raise doc.error(
            at, f"a condition is {{{subject}, equals|in|blank}} or all/any/not; got {_what(raw)}"
        )
    ops = [k for k in ("all", "any", "not") if k in raw]
    if ops:
        op = ops[0]
        if len(raw) != 1:
            raise doc.error(at, f"'{op}' stands alone in its condition mapping")
        if op == "not":
            part = parse_condition(doc, raw["not"], (*at, "not"), subject, depth + 1)
            return Combined("not", (part,), at)
        try:
            parts = _STRICT_LIST.validate_python(raw[op])
        except ValidationError as exc:
            raise doc.validation_error(exc, (*at, op)) from None
        return Combined(
            "all" if op == "all" else "any",
            tuple(
                parse_condition(doc, p, (*at, op, i), subject, depth + 1)
                for i, p in enumerate(parts)
            ),
            at,
        )
    if subject.value not in raw:  # the other place's subject key: say which one this is
        for other in (s for s in Subject if s is not subject and s.value in raw):
            raise doc.error(
                (*at, other.value),
                f"a condition here tests {_a(subject)}: write '{subject}:', not '{other}:'",
            )
    test = doc.parse(_test_model(subject), raw, at=at)
    equals, one_of, blank = test.equals, test.in_, test.blank  # type: ignore[attr-defined]
    if sum(v is not None for v in (equals, one_of, blank)) != 1:
        raise doc.error(at, f"{_a(subject)} condition needs exactly one of equals, in, blank: true")
    name = getattr(test, subject.value)
    return ValueTest(subject, name, equals, tuple(one_of) if one_of else None, bool(blank), at)


def _a(subject: Subject) -> str:
    return f"an {subject}" if subject.value[0] in "aeiou" else f"a {subject}"


def condition_names(cond: Condition) -> tuple[str, ...]:
    """The fields or items ``cond`` tests, each once, in the order written."""
    if isinstance(cond, ValueTest):
        return (cond.name,)
    names = (n for part in cond.parts for n in condition_names(part))
    return tuple(dict.fromkeys(names))


# --- the compiler -----------------------------------------------------------------------------


def compile_condition(
    cond: Condition, known: frozenset[str], error: Callable[[KeyPath, str], Exception]
) -> pl.Expr:
    """``cond`` as a boolean expression over columns named like its fields or items; never
    null (a null value matches only ``blank``). A name not in ``known`` raises
    ``error(key path, reason)``, the caller's located error."""
    if isinstance(cond, Combined):
        exprs = [compile_condition(p, known, error) for p in cond.parts]
        if cond.op == "not":
            return ~exprs[0]
        return pl.all_horizontal(exprs) if cond.op == "all" else pl.any_horizontal(exprs)
    if cond.name not in known:
        listed = ", ".join(sorted(known))
        raise error(
            (*cond.at, cond.subject.value),
            f"unknown {cond.subject} {cond.name!r} in condition; known: {listed}",
        )
    value = strip_spaces(pl.col(cond.name).cast(pl.String))
    if cond.equals is not None:
        return (value == cond.equals).fill_null(False)
    if cond.one_of is not None:
        return value.is_in(list(cond.one_of)).fill_null(False)
    return value.fill_null("") == ""  # one read of the value: null and "" are blank


__all__ = [
    "MAX_CONDITION_DEPTH",
    "Combined",
    "Condition",
    "FieldConditionAsWritten",
    "ItemConditionAsWritten",
    "Subject",
    "ValueTest",
    "compile_condition",
    "condition_names",
    "parse_condition",
    "value_in",
]
