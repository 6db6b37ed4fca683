"""`chukan profile`: write source profiles from what a vendor hands over (a COBOL copybook)."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli.common import out
from etl.extract import RecordFormat, import_copybook
from etl.write import write_bytes_atomic


@click.group()
def profile() -> None:
    """Source profiles (source.yaml) from a vendor's own descriptions."""


@profile.command("import-copybook")
@click.argument(
    "copybooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--charset", required=True, help="The dump's charset: ibm930, ibm939, ibm1390, ibm1399, jef …"
)
@click.option(
    "--sbcs",
    help="Its single-byte side: ebcdic, ebcdik or a table (JEF, KEIS, JIPS need one).",
)
@click.option(
    "--recfm",
    type=click.Choice([f.value for f in RecordFormat], case_sensitive=False),
    help="RECFM of the data set (default: VB when record lengths vary, else FB).",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The source.yaml to write.",
)
@click.option(
    "--path",
    "file_path",
    help="The data set's file name in the dump (default: the copybook's name .DAT).",
)
@click.option("--header", help="The 01 record (or 88 name) of the header (default: by its name).")
@click.option("--trailer", help="The 01 record (or 88 name) of the trailer (default: by its name).")
@click.option("--trailer-count", help="The trailer field holding the data record count.")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
def import_copybook_cmd(
    copybooks: tuple[Path, ...],
    charset: str,
    sbcs: str | None,
    recfm: str | None,
    out_path: Path,
    file_path: str | None,
    header: str | None,
    trailer: str | None,
    trailer_count: str | None,
    force: bool,
) -> None:
    """Write a source profile from the COBOL copybooks COPYBOOKS (one data set each).

    Offsets count from the start of each record's data (after the RDW); field names are the
    copybook's. Several 01 records are told apart by their record-type VALUE; each data record
    becomes a file entry, header and trailer become record types.
    """
    if out_path.exists() and not force:
        raise click.BadParameter(
            f"{out_path} exists (use --force to replace it)", param_hint="--out"
        )
    imported = import_copybook(
        copybooks,
        charset=charset,
        sbcs=sbcs,
        recfm=RecordFormat(recfm.upper()) if recfm else None,
        file_path=file_path,
        header=header,
        trailer=trailer,
        trailer_count=trailer_count,
    )
    write_bytes_atomic(out_path, imported.text.encode("utf-8"))
    for note in imported.notes:
        out.print(note)
    out.print(f"wrote {out_path}")
