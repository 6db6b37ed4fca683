"""`chukan gaiji`: the 外字 ledger a group shares (scan runs, decide codes, export the table)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from etl import __version__, events
from etl.cli.common import out
from etl.ledger import (
    DEFAULT_MJ_FONT,
    CodeKey,
    MjFont,
    Status,
    checked_code,
    decide,
    mj_font,
    open_ledger,
    parse_ucs,
    propose,
    review_page,
    run_occurrences,
    ucs_of,
    vendor_table,
    write_vendor_table,
)
from etl.run_folder import RunFolder
from etl.text import load_gaiji_table
from etl.write import write_bytes_atomic

LEDGER = click.option(
    "--ledger",
    "ledger_path",
    required=True,
    envvar="CHUKAN_GAIJI_LEDGER",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The group's ledger file (DuckDB), e.g. group/gaiji-ledger.duckdb"
    " (or env CHUKAN_GAIJI_LEDGER).",
)
CHARSET = click.option(
    "--charset",
    default="cp932",
    show_default=True,
    help="The charset the vendor's 外字 codes are in (the codec the dump was decoded with).",
)
STATUS_WORDS = {s.name.lower(): s for s in Status}
MJ_FONT = click.option(
    "--mj-font",
    "mj_font_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_MJ_FONT,
    show_default=True,
    help="IPAmj明朝 (Debian: fonts-ipamj-mincho): names candidates' MJ glyphs and IVS.",
)


def _mj(path: Path) -> MjFont | None:
    """IPAmj明朝 when installed; without it candidates come from the 縮退 maps only."""
    if path == DEFAULT_MJ_FONT and not path.is_file():
        events.warning(f"{path} not installed (fonts-ipamj-mincho): no MJ glyphs or IVS")
        return None
    return mj_font(path)


@click.group()
def gaiji() -> None:
    """The 外字 ledger: every vendor 外字 code the group's runs met, and its decision.

    \b
      chukan gaiji scan RUN… --ledger L          add what the runs met (unmapped 外字)
      chukan gaiji list --ledger L               every code, its status and where it occurs
      chukan gaiji candidates --vendor V --table V/gaiji.csv --ledger L   MJ縮退 candidates
      chukan gaiji decide F0A0 --vendor V --as U+9AD9 --by NAME --reason TEXT --ledger L
      chukan gaiji history F0A0 --vendor V --ledger L   who decided what, when, why
      chukan gaiji review --vendor V --vendor-font V.tte --out review.html --ledger L
      chukan gaiji export --vendor V --base V/gaiji.csv --out V/gaiji.csv --ledger L
    The exported table is what each member's vendor folder uses: a decision made once applies
    to every member's next run. Decisions are appended, never overwritten.
    """


@gaiji.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@LEDGER
@CHARSET
@click.option(
    "--municipality",
    help="全国地方公共団体コード of a one-off run (a pass run names its own in run.json).",
)
def scan(runs: tuple[Path, ...], ledger_path: Path, charset: str, municipality: str | None) -> None:
    """Add the unmapped 外字 of finished runs to the ledger (made when missing).

    Scanning a run again adds nothing. Only codes, counts and the record keys findings.csv
    shows (masked) are kept, never a name or another value.
    """
    found = [run_occurrences(RunFolder.open(run), charset, municipality) for run in runs]
    with open_ledger(ledger_path, create=True) as ledger:
        added = [ledger.add_occurrences(rows) for rows in found]
    for run, rows, n in zip(runs, found, added, strict=True):
        codes = rows["code"].n_unique() if rows.height else 0
        out.print(f"{run}: {codes} code(s) in {rows.height} place(s), {n} new to the ledger")


@gaiji.command("list")
@LEDGER
@click.option("--vendor", help="Only this vendor's codes.")
def list_codes(ledger_path: Path, vendor: str | None) -> None:
    """Every code in the ledger: status, what it maps to, how often and where it occurs."""
    with open_ledger(ledger_path) as ledger:
        states = ledger.states(vendor)
    table = Table(title="外字台帳")
    for col in ("vendor", "charset", "code", "status", "as", "values", "municipalities"):
        table.add_column(col, justify="right" if col == "values" else "left")
    for s in states:
        d = s.decision
        table.add_row(
            s.key.vendor,
            s.key.charset,
            s.key.code,
            s.status.value,
            ucs_of(d.text) if d is not None and d.text else "",
            str(s.occurrences),
            ", ".join(s.municipalities),
        )
    out.print(table)


def _hint(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    hints = {}
    for value in values:
        code, sep, ucs = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r}: give CODE=U+XXXX, e.g. F0A0=U+9AD9", param=param)
        hints[checked_code(code)] = parse_ucs(ucs)
    return hints


@gaiji.command()
@LEDGER
@CHARSET
@click.option("--vendor", required=True, help="Whose open codes to look at.")
@click.option(
    "--table",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The vendor's own gaiji table (code,ucs,name): the Unicode it gives a code is a start.",
)
@click.option(
    "--hint",
    "hints",
    multiple=True,
    callback=_hint,
    help="CODE=U+XXXX: the character a person reads in the vendor's glyph (repeatable).",
)
@MJ_FONT
def candidates(
    ledger_path: Path,
    charset: str,
    vendor: str,
    table: Path | None,
    hints: dict[str, str],
    mj_font_path: Path,
) -> None:
    """Propose characters for open codes (未同定, 候補あり): from the vendor's table or a hint,
    widened through the MJ縮退マップ (MJ data of CITPC, CC BY-SA, via jntajis-python).
    A code nothing names a character for stays 未同定."""
    vendor_table_ = load_gaiji_table(table, charset) if table is not None else None
    with open_ledger(ledger_path) as ledger:
        found = propose(ledger, vendor, charset, vendor_table_, hints, _mj(mj_font_path))
        still_open = [
            s.key.code
            for s in ledger.states(vendor)
            if s.key.charset == charset and s.status is Status.UNIDENTIFIED
        ]
    for key, proposed in found.items():
        shown = ", ".join(
            f"{c.text} {ucs_of(c.text)} ({c.source}{', ' + c.mj_name if c.mj_name else ''})"
            for c in proposed
        )
        out.print(f"{key.vendor} {key.code}: {shown}")
    if still_open:
        out.print(f"no candidate (stays {Status.UNIDENTIFIED.value}): {', '.join(still_open)}")


@gaiji.command()
@LEDGER
@CHARSET
@click.option("--vendor", required=True, help="Whose open codes to show.")
@click.option(
    "--vendor-font",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The vendor's 外字 font (TrueType / EUDC .tte, or a .bdf bitmap font): its glyphs are"
    " shown beside the candidates.",
)
@MJ_FONT
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def review(
    ledger_path: Path,
    charset: str,
    vendor: str,
    vendor_font: Path | None,
    mj_font_path: Path,
    out_path: Path,
) -> None:
    """Write the review page (外字確認表): each open code's vendor glyph beside its candidates
    in IPAmj明朝, with where it occurs; one self-contained HTML file (fonts embedded)."""
    with open_ledger(ledger_path) as ledger:
        page = review_page(
            ledger,
            vendor,
            charset,
            vendor_font=vendor_font,
            mj=_mj(mj_font_path),
            tool_version=__version__,
        )
    written = write_bytes_atomic(out_path, page.encode("utf-8"))
    out.print(f"wrote {written.path}")


@gaiji.command("decide")
@click.argument("code")
@LEDGER
@CHARSET
@click.option("--vendor", required=True, help="The vendor whose code it is (as the run names it).")
@click.option(
    "--status",
    type=click.Choice(list(STATUS_WORDS)),
    default="identified",
    show_default=True,
    help="identified (同定済), degenerated (縮退して移行), new (新規追加): need --as;"
    " candidate (候補あり), unidentified (未同定): map to nothing.",
)
@click.option("--as", "as_ucs", help="The character: U+XXXX, with U+E01xx after it for an IVS.")
@click.option("--mj", "mj_name", help="MJ文字図形名, e.g. MJ012345.")
@click.option("--juki", "juki_code", help="住基ネット統一文字コード.")
@click.option("--by", "decided_by", required=True, help="Who decides (kept in the history).")
@click.option("--reason", required=True, help="Why (kept in the history).")
def decide_code(
    code: str,
    ledger_path: Path,
    charset: str,
    vendor: str,
    status: str,
    as_ucs: str | None,
    mj_name: str | None,
    juki_code: str | None,
    decided_by: str,
    reason: str,
) -> None:
    """Decide what a vendor code is; the decision is appended to its history."""
    key = CodeKey(vendor, charset, checked_code(code))
    text = parse_ucs(as_ucs) if as_ucs is not None else None
    with open_ledger(ledger_path) as ledger:
        d = decide(
            ledger,
            key,
            STATUS_WORDS[status],
            text=text,
            decided_by=decided_by,
            reason=reason,
            mj_name=mj_name,
            juki_code=juki_code,
        )
    shown = f" as {ucs_of(d.text)}" if d.text else ""
    out.print(f"{key.vendor} {key.code}: {d.status.value}{shown} (by {d.decided_by})")


@gaiji.command()
@click.argument("code")
@LEDGER
@CHARSET
@click.option("--vendor", required=True, help="The vendor whose code it is.")
def history(code: str, ledger_path: Path, charset: str, vendor: str) -> None:
    """Every decision on a code, oldest first, and where the code occurs."""
    key = CodeKey(vendor, charset, checked_code(code))
    with open_ledger(ledger_path) as ledger:
        decisions = ledger.history(key)
        where = ledger.occurrences(key)
    out.print(f"{vendor} {key.code} ({charset}) の履歴")
    if not decisions:
        out.print(f"  {Status.UNIDENTIFIED.value}: no decision yet")
    for d in decisions:  # one line each: a history is read like a log
        shown = f" {ucs_of(d.text)}" if d.text else ""
        out.print(f"  {d.decided_at} {d.status.value}{shown} by {d.decided_by}: {d.reason}")
    places = Table(title="出現箇所")
    for col in ("municipality", "run", "業務", "file", "item", "values"):
        places.add_column(col)
    for row in where.iter_rows(named=True):
        places.add_row(
            row["municipality"],
            row["run_id"],
            row["gyomu"],
            row["file"],
            row["item"],
            str(row["count"]),
        )
    out.print(places)


@gaiji.command("export")
@LEDGER
@CHARSET
@click.option("--vendor", required=True, help="Whose table to write.")
@click.option(
    "--base",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The vendor's own table (code,ucs,name), kept as is; the ledger adds its decisions.",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_table(
    ledger_path: Path, charset: str, vendor: str, base: Path | None, out_path: Path
) -> None:
    """Write the vendor gaiji table the extractors read: the base table plus every decision
    that maps a code (同定済, 縮退して移行, 新規追加). Point each member's vendor folder at it."""
    base_table = load_gaiji_table(base, charset) if base is not None else None
    with open_ledger(ledger_path) as ledger:
        entries = vendor_table(ledger, vendor, charset, base_table)
    written = write_vendor_table(entries, out_path)
    out.print(f"wrote {written.path} ({len(entries)} codes, sha256 {written.sha256})")
