"""`chukan keys generate`, `chukan package`, `chukan verify`: sealed handover packages."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from etl.cli.common import EXIT_BLOCKING, EXIT_OK, out, progress_shown, vendor_folder
from etl.extract import load_profile
from etl.ledger import open_ledger, run_ledger_entries
from etl.package import (
    PackageError,
    TrustRequired,
    build_package,
    generate_keys,
    load_private_key,
    verify_package,
)
from etl.passes import note_package
from etl.paths import refuse_inside
from etl.run_folder import RunFolder, read_snapshot, run_layouts


@click.group()
def keys() -> None:
    """Ed25519 keys for signing packages."""


@keys.command("generate")
@click.option("--private", "private_path", required=True, type=click.Path(path_type=Path))
@click.option("--public", "public_path", required=True, type=click.Path(path_type=Path))
def keys_generate(private_path: Path, public_path: Path) -> None:
    """Write a new key pair (the private key owner-only; it is never printed)."""
    pair = generate_keys(private_path, public_path)
    out.print(f"private key {pair.private_path} (0600), public key {pair.public_path}")
    out.print(f"fingerprint {pair.fingerprint}")


def _older_run_gaiji(run: RunFolder, vendor: str | None) -> Path | None:
    """The gaiji table --vendor names. A run keeps the one it used, so --vendor is only needed
    for a run made before runs kept their vendor folder (never looked up by the vendor's name)."""
    if vendor is not None:
        return load_profile(vendor_folder(vendor)).gaiji_table  # checked against the run's
    if read_snapshot(run).vendor is None:
        raise PackageError(
            run.path,
            "the run was made before runs kept their vendor folder: give --vendor FOLDER,"
            " the vendor folder whose gaiji table the run used",
        )
    return None


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Default: RUN.package")
@click.option(
    "--vendor",
    help="Only for a run made before runs kept their vendor folder: the folder whose gaiji"
    " table it used.",
)
@click.option("--sign", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace an existing package of the same name.")
@click.option(
    "--accept-findings",
    "reason",
    metavar="REASON",
    help="Package a run that has blocking findings anyway; REASON goes into datapackage.json.",
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="CHUKAN_GAIJI_LEDGER",
    help="The group's 外字 ledger: its entries for the 外字 the run's data uses are sealed as"
    " gaiji/ledger.csv.",
)
def package(
    run_dir: Path,
    out_dir: Path | None,
    vendor: str | None,
    key_path: Path | None,
    replace: bool,
    reason: str | None,
    ledger_path: Path | None,
) -> None:
    """Seal a run into a handover package: a folder and a deterministic .tar.gz.

    \b
    V2.1 files, the gaiji table the run used (its own copy, kept in the run folder, with every
    unmapped gaiji), a data dictionary (HTML, XLSX) from the layouts the run kept,
    the run's validation and reconciliation summary, and datapackage.json (Frictionless Data
    Package / Table Schema) with the size and SHA-256 of every file; --sign adds an Ed25519
    signature. Packaging the same run twice gives the same archive.

    \b
    A run with blocking findings is refused (exit 1) unless --accept-findings says why it is
    handed over as is; then the constraints its data breaks are left out of the schemas and
    listed in datapackage.json (chukan.relaxedConstraints) next to the reason.
    """
    if out_dir is not None:  # a run folder is sealed as written: the package goes beside it
        refuse_inside(out_dir, run_dir, option="--out", what="run folder")
    run = RunFolder.open(run_dir)
    decisions = None
    if ledger_path is not None:
        with open_ledger(ledger_path) as ledger:
            decisions = run_ledger_entries(ledger, run, "cp932")
    result = build_package(
        run_dir,
        out_dir or run_dir.with_name(run_dir.name + ".package"),
        layouts=run_layouts(run),
        gaiji_table=_older_run_gaiji(run, vendor),
        key=load_private_key(key_path) if key_path else None,
        replace=replace,
        accept_findings=reason,
        gaiji_decisions=decisions,
    )
    note_package(run_dir, result)  # a project's run: in its catalog, for the report
    out.print(f"package {result.package_dir}")
    out.print(f"archive {result.archive} sha256 {result.archive_sha256}")
    if result.signed_by:
        out.print(f"signed by {result.signed_by}")
    for r in result.relaxed:
        out.print(f"constraint left out (the data breaks it; see the findings): {r}")


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--trust",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PUB",
    help="The sealer's public key (from `chukan keys generate --public`); the package must be"
    " signed with it.",
)
@click.option(
    "--integrity-only",
    is_flag=True,
    help="No trusted key: check hashes, sizes, record counts and schemas only; the signer is"
    " NOT checked (anyone could have re-signed the package or removed its signature).",
)
def verify(path: Path, trust: Path | None, integrity_only: bool) -> None:
    """Check a package (folder or .tar.gz): hashes, sizes, record counts, schemas, signature.

    \b
    Exit 0 when everything holds, 1 naming each file and what differs, 2 when the input cannot
    be read at all or neither --trust PUB nor --integrity-only is given: without a trusted key a
    package re-signed by someone else, or with its signature removed, would look sound.
    """
    if trust is None and not integrity_only:
        raise TrustRequired(
            path,
            "not verified: without --trust PUB (the sealer's public key) anyone could have"
            " re-signed this package or removed its signature; pass --trust PUB, or"
            " --integrity-only to check hashes, sizes, record counts and schemas only",
        )
    if trust is not None and integrity_only:
        raise TrustRequired(path, "give either --trust PUB or --integrity-only, not both")
    with progress_shown():
        report = verify_package(path, trust=trust)
    for p in report.problems:
        out.print(p.line)
    out.print(f"signature: {report.signature.value}; {report.files} files, {report.bytes:,} bytes")
    if not report.ok:
        out.print(f"{len(report.problems)} problem(s)")
        sys.exit(EXIT_BLOCKING)
    if integrity_only:
        out.print("OK (integrity only): the signer was NOT checked")
    else:
        out.print("OK")
    sys.exit(EXIT_OK)
