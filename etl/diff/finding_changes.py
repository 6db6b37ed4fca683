"""Findings of two runs matched by identity: fixed (old only), new (new only), persisting."""

from __future__ import annotations

import polars as pl

from etl.diff.model import FindingSample, FindingsDelta, RuleDelta
from etl.findings import FINDING_SCHEMA

IDENTITY = ("rule", "gyomu", "file", "key", "item")
_OCC = "__occurrence"


def _numbered(findings: pl.DataFrame) -> pl.DataFrame:
    """Identity columns (null read as "") plus the occurrence number within the identity.

    Occurrences are numbered in record order, so n old and m new findings of one identity
    pair up min(n, m) times and never multiply in the join.
    """
    cols = list(FINDING_SCHEMA)
    return (
        findings.select(cols)
        .with_columns(pl.col(c).fill_null("") for c in IDENTITY)
        .sort([*IDENTITY, "record_no"], nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over(IDENTITY).alias(_OCC))
    )


def _samples(frame: pl.DataFrame, samples: int) -> tuple[FindingSample, ...]:
    first = frame.sort([*IDENTITY, _OCC]).head(max(samples, 0))
    rows = first.select(list(FINDING_SCHEMA)).iter_rows(named=True)
    return tuple(
        FindingSample(
            rule=r["rule"],
            severity=r["severity"] or "",
            gyomu=r["gyomu"],
            file=r["file"],
            record_no=None if r["record_no"] is None else int(r["record_no"]),
            key=r["key"],
            item=r["item"],
            value=r["value"] or "",
            message=r["message"] or "",
        )
        for r in rows
    )


def findings_delta(old: pl.DataFrame, new: pl.DataFrame, samples: int = 20) -> FindingsDelta:
    """Match findings (FINDING_SCHEMA frames) of two runs by (rule, 業務, file, key, item)."""
    on = [*IDENTITY, _OCC]
    old_n, new_n = _numbered(old), _numbered(new)
    fixed = old_n.join(new_n, on=on, how="anti")
    added = new_n.join(old_n, on=on, how="anti")
    persisting = new_n.join(old_n.select(on), on=on, how="semi")

    def per_rule(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by("rule").agg(pl.len().cast(pl.Int64).alias(name))

    rules = pl.concat([old_n.select("rule"), new_n.select("rule")]).unique().sort("rule")
    table = rules
    for frame, name in (
        (old_n, "old_total"),
        (new_n, "new_total"),
        (fixed, "fixed"),
        (added, "new"),
        (persisting, "persisting"),
    ):
        table = table.join(per_rule(frame, name), on="rule", how="left").with_columns(
            pl.col(name).fill_null(0)
        )
    by_rule = tuple(
        RuleDelta(
            rule=r["rule"],
            old_total=int(r["old_total"]),
            new_total=int(r["new_total"]),
            fixed=int(r["fixed"]),
            new=int(r["new"]),
            persisting=int(r["persisting"]),
        )
        for r in table.iter_rows(named=True)  # one row per rule
    )
    return FindingsDelta(
        old_total=old_n.height,
        new_total=new_n.height,
        fixed=fixed.height,
        new=added.height,
        persisting=persisting.height,
        by_rule=by_rule,
        fixed_samples=_samples(fixed, samples),
        new_samples=_samples(added, samples),
        persisting_samples=_samples(persisting, samples),
    )
