"""Printing a page to an A4 PDF with headless Chromium (Debian's chromium), the one place chukan
starts a browser. The page's own @page rules decide the paper and margins."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from etl.errors import ChukanError

# The machine's network may be closed: without the background-networking flags Chromium spends
# its start retrying Google's hosts. Never flags a user passes: these are the browser's own.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-pdf-header-footer",
)


class PrintError(ChukanError):
    """Chromium could not print a page (exit 2)."""


def print_pdf(chromium: Path, page: Path, pdf: Path, timeout: int = 300) -> Path:
    profile = Path(tempfile.mkdtemp(prefix="chukan-chromium-"))
    try:
        subprocess.run(
            [str(chromium), *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
             page.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise PrintError(f"{pdf}: Chromium could not print {page.name} ({exc})") from None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if not pdf.is_file():
        raise PrintError(f"{pdf}: Chromium wrote no PDF")
    pdf.chmod(0o600)
    return pdf
