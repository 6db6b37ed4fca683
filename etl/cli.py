"""The `chukan` command. Parsing and printing only; the engine lives in the stage packages.

Exit codes: 0 ok, 1 blocking findings, 2 usage or input error (any ChukanError).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from etl import __version__
from etl.errors import ChukanError
from etl.extract.inspect import inspect_file
from etl.extract.profile import load_profile
from etl.layout import DEFAULT_VERSION, get_layout, load_layouts
from etl.load import OUTPUT_ENCODINGS, CsvFormat, LineEnding
from etl.pipeline import JobOptions, run_job
from etl.report import console as render
from etl.resources import data_dir

EXIT_OK, EXIT_BLOCKING, EXIT_INPUT = 0, 1, 2
out = Console()
err = Console(stderr=True)


def vendor_folder(vendor: str) -> Path:
    """A vendor is a folder with source.yaml: a path, or the name of a bundled one."""
    path = Path(vendor)
    if (path / "source.yaml").is_file():
        return path
    bundled = data_dir("mappings") / vendor
    if (bundled / "source.yaml").is_file():
        return bundled
    known = sorted(p.name for p in data_dir("mappings").iterdir() if (p / "source.yaml").is_file())
    raise click.BadParameter(f"{vendor!r} is neither a folder with source.yaml nor one of {known}")


class ChukanGroup(click.Group):
    """Turns ChukanError into a one-line message and exit code 2 (``--debug`` re-raises)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ChukanError as exc:
            if isinstance(ctx.obj, dict) and ctx.obj.get("debug"):
                raise
            err.print(f"[red]error:[/] {exc}", highlight=False)
            ctx.exit(EXIT_INPUT)


@click.group(cls=ChukanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chukan")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """chukan: move a municipality's legacy dumps into 中間標準レイアウト仕様 V2.1 files.

    \b
    Typical session:
      chukan layouts list                      what the standard holds
      chukan inspect DUMP/JUMIN.DAT            guess encoding and record length, preview
      chukan run --vendor vendor-a --dump DUMP --out OUT
                                               V2.1 files + rejects + findings + manifest
    """
    ctx.obj = {"debug": debug}


@cli.group()
def layouts() -> None:
    """The standard as data (layouts/<version>/)."""


@layouts.command("list")
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True)
def layouts_list(version: str) -> None:
    """List the 業務 layouts of a version."""
    out.print(render.layouts_table(list(load_layouts(version).values())))


@layouts.command("show")
@click.argument("gyomu")
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True)
def layouts_show(gyomu: str, version: str) -> None:
    """Show one layout's record files and items (GYOMU: id such as juki, or 業務名)."""
    layout = get_layout(gyomu, version)
    out.print(
        f"[bold]{layout.id} {layout.name}[/] V{layout.version}  provenance: "
        f"{layout.provenance.source} {', '.join(layout.provenance.authored_parts)}"
    )
    for table in render.layout_tables(layout):
        out.print(table)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--vendor", help="Vendor folder or bundled vendor name, to decode per field.")
@click.option(
    "--source", "source_name", help="Source file name in the profile (default: by file name)."
)
@click.option("-n", "rows", default=5, show_default=True, help="Records to preview.")
def inspect(file: Path, vendor: str | None, source_name: str | None, rows: int) -> None:
    """Guess encoding, line breaks and record length of FILE and preview its first records.

    With --vendor, the records are decoded field by field with that vendor's profile.
    """
    profile = load_profile(vendor_folder(vendor)) if vendor else None
    source = None
    if profile is not None:
        if source_name:
            source = profile.file(source_name)
        else:
            source = next((f for f in profile.files if Path(f.path).name == file.name), None)
    sensitive = {f.name for f in source.fields if f.sensitive} if source else set()
    for table in render.inspect_tables(inspect_file(file, profile, source, rows), sensitive):
        out.print(table)


@cli.command()
@click.option(
    "--vendor",
    required=True,
    help="Vendor folder (with source.yaml and mapping specs) or bundled name.",
)
@click.option(
    "--dump",
    "dump_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder holding the vendor's delivered files.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (must not exist unless --replace).",
)
@click.option(
    "--gyomu",
    multiple=True,
    default=("all",),
    show_default=True,
    help="Layout id or 業務名; repeat for several.",
)
@click.option(
    "--encoding",
    type=click.Choice(OUTPUT_ENCODINGS),
    default="utf-8",
    show_default=True,
    help="Encoding of the V2.1 files.",
)
@click.option(
    "--line-ending",
    type=click.Choice([e.value for e in LineEnding]),
    default="lf",
    show_default=True,
)
@click.option(
    "--chunk-records",
    default=200_000,
    show_default=True,
    help="Records decoded per chunk (bounds memory).",
)
@click.option("--replace", is_flag=True, help="Replace an existing output folder (atomically).")
def run(
    vendor: str,
    dump_dir: Path,
    out_dir: Path,
    gyomu: tuple[str, ...],
    encoding: str,
    line_ending: str,
    chunk_records: int,
    replace: bool,
) -> None:
    """Decode, map, validate and write V2.1 files for the chosen 業務.

    \b
    Writes to OUT:
      <gyomu>/<file>.csv   V2.1 record files (header = 項目名)
      rejects/<src>.csv    undecodable records: reason, record no., byte offset, raw hex
      findings.csv         every finding, Japanese, sensitive values masked
      manifest.json        counts per file (in = written + rejected + filtered), SHA-256
    Exit 0 when no finding blocks, 1 when some do, 2 on bad input or usage.
    """
    opts = JobOptions(
        vendor_folder=vendor_folder(vendor),
        dump_dir=dump_dir,
        out_dir=out_dir,
        gyomu=gyomu,
        csv=CsvFormat(encoding=encoding, line_ending=LineEnding(line_ending)),
        chunk_records=chunk_records,
        replace=replace,
    )
    with render.progress_display(err) as progress:
        result = run_job(opts, progress)
    for table in render.summary_tables(result):
        out.print(table)
    out.print(
        f"wrote {result.out_dir} ({result.findings.height} findings, {result.blocking} blocking)"
    )
    sys.exit(EXIT_BLOCKING if result.blocking else EXIT_OK)


def main() -> None:
    cli()
