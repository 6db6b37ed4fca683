"""`chukan profile import-copybook`: writes an ordinary profile atomically, owner-only; a hostile
copybook is one line naming file and line, exit 2, and nothing is written."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from etl.cli import cli
from etl.extract import load_profile

COPYBOOK = """\
       01  NENKIN-REC.
           05  KBN        PIC X  VALUE 'D'.
           05  ATENA-NO   PIC 9(15).
           05  HOKENRYO   PIC S9(9) COMP-3.
"""


def test_import_copybook_writes_a_profile(tmp_path: Path) -> None:
    cpy = tmp_path / "NENKIN.cpy"
    cpy.write_text(COPYBOOK, encoding="utf-8")
    out = tmp_path / "vendor" / "source.yaml"
    out.parent.mkdir()
    args = ["profile", "import-copybook", str(cpy), "--charset", "ibm930", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--recfm", "fb"])
    assert result.exit_code == 0, result.output
    assert "RECFM FB" in result.output and f"wrote {out}" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    (source,) = load_profile(out).files
    assert source.path == "NENKIN.DAT" and [f.name for f in source.fields][1] == "ATENA-NO"
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "exists" in again.output
    assert CliRunner().invoke(cli, [*args, "--force", "--path", "N.BIN"]).exit_code == 0
    assert load_profile(out).files[0].path == "N.BIN"


def test_hostile_copybook_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    cpy = tmp_path / "BAD.cpy"
    cpy.write_text("       01  R.\n           05  A PIC X(3) OCCURS 100000.\n", encoding="utf-8")
    out = tmp_path / "source.yaml"
    result = CliRunner().invoke(
        cli,
        [
            "profile",
            "import-copybook",
            str(cpy),
            "--charset",
            "jef",
            "--sbcs",
            "ebcdik",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "BAD.cpy: line 2:" in lines[0]
    assert not out.exists()
