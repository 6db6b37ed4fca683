"""What every command shares: consoles, exit codes, vendor lookup."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from etl.resources import data_dir

EXIT_OK, EXIT_BLOCKING, EXIT_INPUT = 0, 1, 2
# Markup off: paths, header cells and messages are user text, and "[/bold]" in a CSV header or
# "[record_files.x]" in a key path must print as written; long lines stay one line (logs).
# Styles go through Text objects.
out = Console(markup=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


def labelled(label: str, style: str, message: str) -> Text:
    """``error: message`` with only the label styled; the message is never parsed as markup."""
    return Text.assemble((label, style), " ", message)


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
