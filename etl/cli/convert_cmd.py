"""`chukan convert RUN --to VERSION`: a finished run rewritten in another layout version."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli.common import checked_layout_version, out
from etl.convert import convert_run


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--to",
    "to_version",
    required=True,
    callback=checked_layout_version,
    help="Layout version to convert into (chukan layouts versions).",
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Conversion spec (default: layouts/conversions/<run's version>--<VERSION>.yaml).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The new run folder (must not exist).",
)
def convert(run_dir: Path, to_version: str, spec_path: Path | None, out_dir: Path) -> None:
    """Convert a run into another layout version, as a conversion spec says.

    \b
    Example: chukan convert runs/test2/<id> --to v2.2-sample --out converted
    Items renamed, added (a default, or empty with a finding), removed (kept in
    removed/<業務>/<file>.csv) and codes mapped; the new run has its own manifest, findings and
    reports, and its records are the original's (compare them with chukan diff).
    """
    result = convert_run(run_dir, to_version, out_dir, spec_path)
    for f in result.files:
        out.print(
            f"{f.gyomu}/{f.record_file}: {f.records:,} records"
            f"  renamed {len(f.renamed)}, added {len(f.added)}, removed {len(f.removed)},"
            f" codes mapped {f.codes_mapped:,}"
        )
    out.print(
        f"converted {result.from_version} → {result.to_version} into {result.out_dir}"
        f" ({result.findings_added:,} new finding(s))"
    )
