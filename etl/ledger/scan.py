"""What runs met: the unmapped 外字 of a run's findings, as ledger occurrences (columnar)."""

from __future__ import annotations

import polars as pl

from etl.findings import unmapped_gaiji_codes
from etl.ledger.model import Status, ucs_of
from etl.ledger.store import OCCURRENCE_COLUMNS, Ledger, now
from etl.run_folder import RunFolder, read_snapshot
from etl.text import load_gaiji_table

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


LEDGER_HEADERS = {
    "code": "外字コード",
    "status": "状態",
    "ucs": "文字",
    "mj_name": "MJ文字図形名",
    "juki_code": "住基統一文字コード",
    "decided_by": "判断者",
    "decided_at": "判断日時",
    "reason": "理由",
}


def run_ledger_entries(ledger: Ledger, run: RunFolder, charset: str) -> pl.DataFrame:
    """The ledger's entry (latest decision) for every 外字 the run's data uses: the codes its
    vendor table maps and the codes left unmapped; for the package (gaiji/ledger.csv)."""
    used = set(run_occurrences(run, charset, None)["code"].to_list())
    kept = read_snapshot(run).gaiji_table
    if kept is not None:
        used |= {e.code for e in load_gaiji_table(run.verified(kept, "snapshot"), charset).entries}
    rows = []
    for state in ledger.states(run.manifest.vendor):
        if state.key.charset != charset or state.key.code not in used:
            continue
        d = state.decision
        rows.append(
            {
                "code": state.key.code,
                "status": state.status.value,
                "ucs": ucs_of(d.text) if d and d.text else "",
                "mj_name": (d.mj_name or "") if d else "",
                "juki_code": (d.juki_code or "") if d else "",
                "decided_by": d.decided_by if d else "",
                "decided_at": d.decided_at if d else "",
                "reason": d.reason if d else "",
            }
        )
    frame = pl.DataFrame(rows, schema=dict.fromkeys(LEDGER_HEADERS, pl.String))
    return frame.rename(LEDGER_HEADERS)
