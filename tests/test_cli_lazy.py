"""The commands are imported when they run: `chukan --help` lists them from etl.cli.COMMANDS,
and `chukan run` imports what a run needs, not the other commands' libraries."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from etl.cli import COMMANDS, cli
from etl.resources import data_dir

# What only other commands use: database loading, packaging, the 外字 ledger's fonts, the
# XML and workbook readers (the spec workbook's too), layout conversion, the year-end export;
# and what a one-off run of a fixed-width vendor does not need: a pass's project, catalog
# (DuckDB) and comparison, the mainframe extractor, the Parquet writer, chardet (an encoding
# guess's tie-breaker); pandera, which words only the failures of a frame that does not have its
# record file's columns (a chunk's checks run as one polars query); the pass-to-pass diff.
NOT_FOR_A_RUN = (
    "psycopg",
    "fontTools",
    "lxml",
    "etl.dbload",
    "etl.package",
    "etl.ledger",
    "etl.export",
    "etl.convert",
    "etl.migration",
    "etl.layout.workbook",
    "python_calamine",
    "duckdb",
    "tomli_w",
    "etl.passes.catalog",
    "etl.passes.comparison",
    "etl.passes.project",
    "etl.passes.run",
    "etl.extract.mainframe",
    "etl.extract.xml",
    "etl.extract.sheet",
    "pyarrow.parquet",
    "chardet",
    "pandera",
    "etl.diff",
    "etl.report.diff",
)


def _imported_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_says_what_the_command_says(name: str) -> None:
    module, attribute, short_help = COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert not command.hidden
    stand_in = click.Command(name, help=short_help)  # what `chukan --help` shortens
    for limit in (20, 45, 60, 200):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_help_lists_every_command_without_importing_one() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from etl.cli import cli\n"
        "shown = CliRunner().invoke(cli, ['--help']).output\n"
        "print(json.dumps(shown))"
    )
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    shown_line, modules_line = done.stdout.splitlines()[-2:]
    shown, modules = json.loads(shown_line), set(json.loads(modules_line))
    for name in COMMANDS:
        assert f"  {name} " in shown, name
    loaded = {module for module, _, _ in COMMANDS.values()} & modules
    assert not loaded, loaded


def test_a_run_imports_none_of_the_other_commands_libraries() -> None:
    modules = _imported_after(
        "from etl.cli import cli\nimport click\n"
        "cli.get_command(click.Context(cli), 'run')\n"
        "import etl.pipeline, etl.report"
    )
    assert "etl.cli.run" in modules
    assert not (set(NOT_FOR_A_RUN) & modules), set(NOT_FOR_A_RUN) & modules


def test_a_whole_run_of_the_sample_imports_none_of_them(tmp_path: Path) -> None:
    sample = data_dir("fixtures") / "vendor-a" / "sample"
    args = ["run", "--vendor", "vendor-a", "--dump", str(sample), "--out", str(tmp_path / "o")]
    modules = _imported_after(
        "from click.testing import CliRunner\nfrom etl.cli import cli\n"
        f"done = CliRunner().invoke(cli, {args!r})\n"
        "assert done.exit_code == 1, done.output"  # the sample's blocking findings
    )
    assert "etl.report.run" in modules
    assert not (set(NOT_FOR_A_RUN) & modules), set(NOT_FOR_A_RUN) & modules


def test_report_without_a_ledger_imports_no_ledger() -> None:
    modules = _imported_after(
        "from etl.cli import cli\nimport click\ncli.get_command(click.Context(cli), 'report')"
    )
    assert "etl.cli.report_cmd" in modules
    assert not ({"etl.ledger", "duckdb", "fontTools"} & modules)


def test_the_commands_mapping_behaves_as_click_expects() -> None:
    assert list(cli.commands) == list(COMMANDS)
    assert "run" in cli.commands and "nope" not in cli.commands
    assert len(cli.commands) == len(COMMANDS)
    assert cli.get_command(click.Context(cli), "nope") is None
    assert cli.commands["run"] is cli.commands["run"]


def test_every_name_of_the_lazy_packages_resolves() -> None:
    for package in ("etl.passes", "etl.extract", "etl.report"):
        module = importlib.import_module(package)
        for name in module.__all__:
            assert getattr(module, name) is not None, (package, name)
        with pytest.raises(AttributeError):
            _ = module.no_such_name
