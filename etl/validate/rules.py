"""Business rules of a layout, read from ``validators/<layout id>.yaml`` (docs/validators.md).

The YAML is checked and turned into frozen rule objects here, once; ``check_rules`` then checks
them against a Layout, and etl.validate.rule_checks turns each into polars expressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self, Union

from pydantic import Field, Strict, StringConstraints, create_model, model_validator

from etl.conditions import (
    Condition,
    ItemConditionAsWritten,
    Subject,
    condition_names,
    parse_condition,
)
from etl.config import Document, KeyPath, KeyProblem, StrictModel, errors_as, read_yaml
from etl.errors import ConfigError, RuleError
from etl.findings import Severity
from etl.layout import DATE_TYPES, ItemType, Layout
from etl.resources import data_dir


class CompareOp(StrEnum):
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="
    GE = ">="
    GT = ">"


@dataclass(frozen=True, slots=True)
class Reference:
    """What an exists_in rule looks its items up in (参照先): items of a record file, of this
    layout or another."""

    layout: str
    file: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """What every rule has; the kinds below add their own fields."""

    id: str
    severity: Severity
    file: str  # RecordFile id the rule checks
    message: str  # Japanese, for municipal staff


@dataclass(frozen=True, slots=True)
class ExactlyOne(Rule):
    """Per group of ``group_by`` values, exactly one row matches ``when``."""

    group_by: tuple[str, ...]
    when: Condition


@dataclass(frozen=True, slots=True)
class Compare(Rule):
    """``left op right`` on every row; rows where either side is null pass."""

    left: str
    op: CompareOp
    right: str


@dataclass(frozen=True, slots=True)
class ExistsIn(Rule):
    """Every row's ``items`` exist as ``reference.items`` in the referenced record file, or in
    one of the ``or_in`` record files (a 納税義務者 is in 住民基本台帳 or in 住登外)."""

    items: tuple[str, ...]
    reference: Reference
    or_in: tuple[Reference, ...] = ()

    @property
    def references(self) -> tuple[Reference, ...]:
        return (self.reference, *self.or_in)


class AgeEnd(StrEnum):
    """Where ``max_age`` ends: the day ``max_age + 1`` is reached, or the first 3月31日 on or
    after the day ``max_age`` is reached (児童: 「…歳に達する日以後の最初の3月31日まで」)."""

    BIRTHDAY = "birthday"
    FISCAL_YEAR = "fiscal_year"


@dataclass(frozen=True, slots=True)
class Age(Rule):
    """The age at ``at`` (a date item) from ``birth`` lies within ``min_age`` … ``max_age``.

    An age N is reached on the day before the N-th birthday (年齢計算ニ関スル法律, 民法第143条):
    born 2000-04-01, 65 is reached on 2065-03-31. Only rows matching ``when`` and whose ``at``
    date lies in ``period`` (YYYYMMDD bounds, inclusive) are checked; rows with either date
    missing pass (schema.required reports them).
    """

    birth: str
    at: str
    min_age: int | None
    max_age: int | None
    max_age_end: AgeEnd
    period_from: str | None
    period_until: str | None
    when: Condition | None


@dataclass(frozen=True, slots=True)
class Unique(Rule):
    """``items`` are unique within the file."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequiredIf(Rule):
    """Rows matching ``when`` must have every item of ``then``."""

    when: Condition
    then: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckDigit(Rule):
    """``item`` is ``length`` digits whose last one is a weighted-sum check digit.

    The sum runs over the digits before the check digit, ``weights[0]`` for the nearest one
    (the standard's P1, counted from the right); the check digit is ``modulus - Σ mod modulus``,
    or 0 when the remainder is one of ``zero_remainders``. The numbers' rules are statutory
    data, so they live in the validator file, not here.
    """

    item: str
    length: int
    weights: tuple[int, ...]
    modulus: int
    zero_remainders: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one layout and the file they came from (None: no rule file)."""

    layout: str
    rules: tuple[Rule, ...] = ()
    path: Path | None = None


# ---- reading YAML -------------------------------------------------------------------------
#
# One typed model per kind; RULE_KINDS maps each ``kind:`` to its model, and each model turns
# itself into its frozen Rule. A new kind is a Rule dataclass, a model and one entry there.

Text = Annotated[str, StringConstraints(min_length=1)]
Names = Annotated[list[Text], Field(min_length=1)]  # item names (項目名)


class ReferenceModel(StrictModel):
    layout: Text
    file: Text
    items: Names


# Old spellings: `where:` (exactly_one) is `when:`, the condition key of every rule and filter;
# `target:` (exists_in) is `reference:`, the record file looked up (target means a database).
RENAMED_KEYS = {"where": "when", "target": "reference"}


class RuleModel(StrictModel):
    """The keys every rule has; each kind's model adds its own."""

    id: Text
    kind: str
    severity: Annotated[Severity, Strict(False)] = Severity.ERROR
    file: Text
    message: Text

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        """Keys that were renamed to one name per idea are refused with their new name."""
        if isinstance(data, dict):
            for old, new in RENAMED_KEYS.items():
                if old in data and new in cls.model_fields and new not in data:
                    raise KeyProblem((old,), f"'{old}' is now '{new}' (docs/validators.md)")
        return data

    def base(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "file": self.file,
            "message": self.message,
        }

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        """The frozen rule; ``doc`` and ``at`` (the rule's key path) to read its conditions."""
        raise NotImplementedError  # pragma: no cover - every kind's model defines it


class ExactlyOneModel(RuleModel):
    kind: Literal["exactly_one"]
    group_by: Names
    when: ItemConditionAsWritten  # read by parse_condition

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        when = parse_condition(doc, self.when, (*at, "when"), Subject.ITEM)
        return ExactlyOne(**self.base(), group_by=tuple(self.group_by), when=when)


class CompareModel(RuleModel):
    kind: Literal["compare"]
    left: Text
    op: Annotated[CompareOp, Strict(False)]
    right: Text

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        return Compare(**self.base(), left=self.left, op=self.op, right=self.right)


class ExistsInModel(RuleModel):
    kind: Literal["exists_in"]
    items: Names
    reference: ReferenceModel
    or_in: Annotated[list[ReferenceModel], Field(max_length=16)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _same_length(self) -> Self:
        at: list[tuple[str | int, ...]] = [("reference", "items")]
        at += [("or_in", i, "items") for i in range(len(self.or_in))]
        for path, ref in zip(at, [self.reference, *self.or_in], strict=True):
            if len(self.items) != len(ref.items):
                raise KeyProblem(path, f"has {len(ref.items)} items, 'items' has {len(self.items)}")
        return self

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        def ref(r: ReferenceModel) -> Reference:
            return Reference(r.layout, r.file, tuple(r.items))

        return ExistsIn(
            **self.base(),
            items=tuple(self.items),
            reference=ref(self.reference),
            or_in=tuple(ref(r) for r in self.or_in),
        )


Ymd = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]
Years = Annotated[int, Field(ge=0, le=150)]


class PeriodModel(StrictModel):
    from_: Annotated[Ymd | None, Field(alias="from")] = None
    until: Ymd | None = None


class AgeModel(RuleModel):
    kind: Literal["age"]
    birth: Text
    at: Text  # not `on:`, which YAML 1.1 reads as a boolean
    min_age: Years | None = None
    max_age: Years | None = None
    max_age_end: Annotated[AgeEnd, Strict(False)] = AgeEnd.BIRTHDAY
    period: PeriodModel | None = None
    when: ItemConditionAsWritten | None = None  # read by parse_condition

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.min_age is None and self.max_age is None:
            raise KeyProblem(("min_age",), "an age rule needs min_age, max_age or both")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise KeyProblem(("max_age",), f"max_age {self.max_age} is below min_age")
        return self

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        when = None
        if self.when is not None:
            when = parse_condition(doc, self.when, (*at, "when"), Subject.ITEM)
        period = self.period or PeriodModel()
        return Age(
            **self.base(),
            birth=self.birth,
            at=self.at,
            min_age=self.min_age,
            max_age=self.max_age,
            max_age_end=self.max_age_end,
            period_from=period.from_,
            period_until=period.until,
            when=when,
        )


class UniqueModel(RuleModel):
    kind: Literal["unique"]
    items: Names

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        return Unique(**self.base(), items=tuple(self.items))


class RequiredIfModel(RuleModel):
    kind: Literal["required_if"]
    when: ItemConditionAsWritten  # read by parse_condition
    then: Names

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        when = parse_condition(doc, self.when, (*at, "when"), Subject.ITEM)
        return RequiredIf(**self.base(), when=when, then=tuple(self.then))


class CheckDigitModel(RuleModel):
    kind: Literal["check_digit"]
    item: Text
    length: Annotated[int, Field(ge=2)]
    weights: list[Annotated[int, Field(ge=0)]]
    modulus: Annotated[int, Field(ge=2)]
    zero_remainders: list[Annotated[int, Field(ge=0)]]

    @model_validator(mode="after")
    def _declaration_can_pass(self) -> Self:
        if self.length > 18:  # the check computes on 64-bit integers
            raise KeyProblem(("length",), f"'length' {self.length} is more than 18 digits")
        if len(self.weights) != self.length - 1:
            raise KeyProblem(
                ("weights",),
                f"'weights' needs {self.length - 1} values, one per digit before the check digit",
            )
        # every remainder must give one digit, or no value could ever pass
        m, zeros = self.modulus, self.zero_remainders
        impossible = [r for r in range(m) if r not in zeros and not 0 <= m - r <= 9]
        if impossible:
            raise KeyProblem(
                ("zero_remainders",),
                f"remainders {impossible} give no single check digit: list them in zero_remainders",
            )
        return self

    def to_rule(self, doc: Document, at: KeyPath) -> Rule:
        return CheckDigit(
            **self.base(),
            item=self.item,
            length=self.length,
            weights=tuple(self.weights),
            modulus=self.modulus,
            zero_remainders=tuple(self.zero_remainders),
        )


RULE_KINDS: dict[str, type[RuleModel]] = {
    "exactly_one": ExactlyOneModel,
    "compare": CompareModel,
    "exists_in": ExistsInModel,
    "unique": UniqueModel,
    "required_if": RequiredIfModel,
    "check_digit": CheckDigitModel,
    "age": AgeModel,
}


class _RuleFileHead(StrictModel):
    """The file around the rules; each rule is then read by the model of its kind."""

    layout: Text
    rules: list[dict[str, Any]] | None = None


def rule_file_model() -> type[StrictModel]:
    """The whole file as one model, rules told apart by ``kind`` (for the JSON Schema)."""
    # Built from RULE_KINDS at call time, so a kind added there is in the schema too.
    kinds: Any = Union[tuple(RULE_KINDS.values())]  # noqa: UP007 - a tuple of types
    rule: Any = Annotated[kinds, Field(discriminator="kind")]
    return create_model(
        "RuleFileModel",
        __base__=StrictModel,
        __doc__="``validators/<layout id>.yaml``: business rules of a layout (docs/validators.md).",
        layout=(Text, ...),
        rules=(list[rule] | None, None),
    )


def _read_rule(doc: Document, raw: dict[str, Any], at: KeyPath) -> Rule:
    kind = raw.get("kind")
    if kind is None:
        raise doc.error(at, f"required key 'kind' missing; known: {', '.join(RULE_KINDS)}")
    model = RULE_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise doc.error((*at, "kind"), f"unknown kind {kind!r}; known: {', '.join(RULE_KINDS)}")
    try:
        return doc.parse(model, raw, at=at).to_rule(doc, at)
    except ConfigError as exc:  # the rule's id helps a reader find it among many
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not rule_id.isprintable() or len(rule_id) > 100:
            raise
        reason = f"{exc.reason} (rule {rule_id})"
        raise ConfigError(exc.path, reason, key_path=exc.key_path, line=exc.line) from None


def load_rules(path: Path) -> RuleSet:
    """Read and check one rule file; any problem raises RuleError naming the key path."""
    with errors_as(RuleError):
        doc = read_yaml(path, what="rule file")
        head = doc.parse(_RuleFileHead)
        rules: list[Rule] = []
        first: dict[str, int] = {}
        for i, raw in enumerate(head.rules or ()):
            rule = _read_rule(doc, raw, ("rules", i))
            if rule.id in first:
                raise doc.error(
                    ("rules", i, "id"),
                    f"duplicate rule id {rule.id!r} (also rules[{first[rule.id]}])",
                )
            first[rule.id] = i
            rules.append(rule)
    return RuleSet(layout=head.layout, rules=tuple(rules), path=path)


def load_layout_rules(layout_id: str) -> RuleSet:
    """The bundled rules of a layout; an empty RuleSet when it has no rule file."""
    path = data_dir("validators") / f"{layout_id}.yaml"
    if not path.is_file():
        return RuleSet(layout=layout_id)
    rules = load_rules(path)
    if rules.layout != layout_id:
        raise RuleError(
            path,
            f"file is for layout {rules.layout!r}, expected {layout_id!r}",
            key_path="layout",
        )
    return rules


# ---- checking against a layout ------------------------------------------------------------

# Order is meaningful for YYYYMMDD strings and for numbers (integers and decimals, compared as
# numbers); not for text.
_ORDERED_TYPES = {*DATE_TYPES, ItemType.INTEGER, ItemType.DECIMAL}


def _items_of(rule: Rule) -> list[str]:
    match rule:
        case ExactlyOne():
            return [*rule.group_by, *condition_names(rule.when)]
        case Compare():
            return [rule.left, rule.right]
        case ExistsIn() | Unique():
            return list(rule.items)
        case RequiredIf():
            return [*condition_names(rule.when), *rule.then]
        case CheckDigit():
            return [rule.item]
        case Age():
            return [rule.birth, rule.at, *(condition_names(rule.when) if rule.when else [])]
    raise TypeError(rule)  # pragma: no cover - every kind is matched above


def check_rules(rules: RuleSet, layout: Layout) -> None:
    """Raise RuleError when a rule names a record file or item the layout does not have."""
    where = rules.path or f"validators/{rules.layout}.yaml"
    if rules.layout != layout.id:
        raise RuleError(where, f"rules are for layout {rules.layout!r}, not {layout.id!r}")
    known_files = {rf.id: rf for rf in layout.record_files}
    for rule in rules.rules:
        record_file = known_files.get(rule.file)
        if record_file is None:
            known = ", ".join(known_files)
            raise RuleError(where, f"rule {rule.id}: unknown file {rule.file!r}; known: {known}")
        missing = [n for n in _items_of(rule) if n not in record_file.item_names]
        if missing:
            raise RuleError(where, f"rule {rule.id}: {rule.file} has no items {missing}")
        if isinstance(rule, CheckDigit) and record_file.item(rule.item).type is not ItemType.DIGITS:
            raise RuleError(where, f"rule {rule.id}: check_digit needs a digits item")
        if isinstance(rule, Age) and {
            record_file.item(rule.birth).type,
            record_file.item(rule.at).type,
        } != {ItemType.DATE}:
            raise RuleError(where, f"rule {rule.id}: age needs two date items (birth, at)")
        if isinstance(rule, Compare) and rule.op not in (CompareOp.EQ, CompareOp.NE):
            types = {record_file.item(rule.left).type, record_file.item(rule.right).type}
            dates = types <= DATE_TYPES  # YYYYMMDD text orders alike, 不詳 00 first
            if not dates and (len(types) != 1 or not types <= _ORDERED_TYPES):
                raise RuleError(
                    where,
                    f"rule {rule.id}: {rule.op} needs two date or two integer items"
                    f" (or two decimal), got {sorted(types)}",
                )
