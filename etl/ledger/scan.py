"""What runs met: the unmapped 外字 of a run's findings, as ledger occurrences (columnar)."""

from __future__ import annotations

import polars as pl

from etl.findings import unmapped_gaiji_codes
from etl.ledger.model import Status, ucs_of
from etl.ledger.store import OCCURRENCE_COLUMNS, Ledger, now
from etl.run_folder import RunFolder

SAMPLE_KEYS = 3  # record keys kept per occurrence, as findings.csv shows them (masked)


def run_occurrences(run: RunFolder, charset: str, municipality: str | None) -> pl.DataFrame:
    """One row per (code, 業務, file, item) the run's gaiji.unmapped findings name: how many
    values hold it and the first record keys, ready for ``Ledger.add_occurrences``."""
    meta = run.meta
    muni = municipality or (meta.municipality.code if meta and meta.municipality else "")
    coded = (
        unmapped_gaiji_codes(run.findings(), charset)
        .explode("codes")
        .rename({"codes": "code"})
        .filter(pl.col("code").is_not_null() & (pl.col("code") != "?"))
    )
    grouped = coded.group_by("code", "gyomu", "file", "item", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("count"),
        pl.col("key")
        .fill_null("")
        .unique(maintain_order=True)
        .head(SAMPLE_KEYS)
        .str.join(" ; ")
        .alias("sample_keys"),
    )
    return grouped.with_columns(
        pl.lit(run.manifest.vendor).alias("vendor"),
        pl.lit(charset).alias("charset"),
        pl.lit(muni).alias("municipality"),
        pl.lit(run.run_id).alias("run_id"),
        pl.lit(str(run.path)).alias("run_path"),
        pl.lit(now()).alias("scanned_at"),
        pl.col("gyomu").fill_null(""),
        pl.col("file").fill_null(""),
        pl.col("item").fill_null(""),
    ).select(OCCURRENCE_COLUMNS)


GAIJI_SECTION = "外字の状況"  # the run report's section (chukan report RUN --ledger L)


def run_gaiji_status(ledger: Ledger, run: RunFolder, charset: str) -> list[dict[str, object]]:
    """The run's unmapped 外字 as the ledger stands: one row per code with its status, what it
    is decided as, and how many of the run's values hold it (for the run report)."""
    rows = run_occurrences(run, charset, None)
    counts = rows.group_by("code", maintain_order=True).agg(pl.col("count").sum())
    states = {s.key.code: s for s in ledger.states(run.manifest.vendor) if s.key.charset == charset}
    table = []
    for code, n in counts.sort("code").iter_rows():
        state = states.get(code)
        decision = state.decision if state is not None else None
        table.append(
            {
                "外字コード": code,
                "状態": (state.status if state else Status.UNIDENTIFIED).value,
                "判断": ucs_of(decision.text) if decision and decision.text else "",
                "件数": int(n),
            }
        )
    return table
