"""Validation stage: schema checks generated from the layout plus business rules, as findings."""

from etl.validate.checks import ItemCheck, SchemaRule, item_checks
from etl.validate.rule_checks import FILE_MISSING, REFERENCE_MISSING, rule_findings
from etl.validate.rules import (
    Compare,
    CompareOp,
    ExactlyOne,
    ExistsIn,
    Reference,
    RequiredIf,
    Rule,
    RuleSet,
    Unique,
    check_rules,
    load_layout_rules,
    load_rules,
)
from etl.validate.schema import SchemaChecks, build_schema, schema_findings
from etl.validate.validate import (
    ChunkFindings,
    LayoutChecks,
    OwnFindings,
    kept_digests,
    validate_layout,
)
from etl.validate.whole_file import Digests, FrameValues, KeptFile, KeptValues, digest_frame

__all__ = [
    "FILE_MISSING",
    "REFERENCE_MISSING",
    "ChunkFindings",
    "Compare",
    "CompareOp",
    "Digests",
    "ExactlyOne",
    "ExistsIn",
    "FrameValues",
    "ItemCheck",
    "KeptFile",
    "KeptValues",
    "LayoutChecks",
    "OwnFindings",
    "Reference",
    "RequiredIf",
    "Rule",
    "RuleSet",
    "SchemaChecks",
    "SchemaRule",
    "Unique",
    "build_schema",
    "check_rules",
    "digest_frame",
    "item_checks",
    "kept_digests",
    "load_layout_rules",
    "load_rules",
    "rule_findings",
    "schema_findings",
    "validate_layout",
]
