"""What every command shares: consoles, exit codes, vendor lookup."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

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
