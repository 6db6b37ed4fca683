"""`chukan inspect FILE`."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli import console as render
from etl.cli.common import out, vendor_folder
from etl.extract import inspect_file, load_profile


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--vendor", help="Vendor folder or bundled vendor name, to decode per field.")
@click.option(
    "--source", "source_name", help="Source file name in the profile (default: by file name)."
)
@click.option(
    "-n",
    "rows",
    type=click.IntRange(min=1, max=10_000),
    default=5,
    show_default=True,
    help="Records to preview.",
)
def inspect(file: Path, vendor: str | None, source_name: str | None, rows: int) -> None:
    """Guess encoding, line breaks and record length of FILE.

    With --vendor, also preview its first records decoded field by field with that vendor's
    profile: fields the profile marks sensitive are masked, rejects are shown without their
    raw bytes. Without --vendor nothing of the records' content is shown.
    """
    profile = load_profile(vendor_folder(vendor)) if vendor else None
    source = None
    if profile is not None:
        if source_name:
            try:
                source = profile.file(source_name)
            except KeyError as exc:
                raise click.BadParameter(str(exc.args[0]), param_hint="--source") from None
        else:
            source = next((f for f in profile.files if Path(f.path).name == file.name), None)
    sensitive = {f.name for f in source.fields if f.sensitive} if source else set()
    for table in render.inspect_tables(inspect_file(file, profile, source, rows), sensitive):
        out.print(table)
