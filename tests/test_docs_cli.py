"""Docs and messages agree with the CLI.

Every `chukan <command> [<subcommand>] … --option` written in README.md or docs/*.md (code
blocks and inline code) must name a command of the click tree and options that command has;
the option names are read from the click objects at test time, so options added later need no
change here. Messages that tell the user what to type (load's hints) are held to the same rule.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.resources import data_dir

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SAMPLE_A = data_dir("fixtures") / "vendor-a" / "sample"

FENCE = re.compile(r"^(```|~~~)")
INLINE = re.compile(r"`([^`\n]+)`")
INVOCATION = re.compile(r"(?<![\w.=-])chukan[ \t]+")  # not chukan.toml, chukan-etl, /chukan/
OPTION = re.compile(r"^--?[A-Za-z][\w-]*")
STOP = {"#", "&&", "||", ";", ">", ">>", "2>&1"}  # the rest of the line is another command


@dataclass(frozen=True)
class Mention:
    where: str  # file:line
    text: str  # the invocation as written, from "chukan" on


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of fenced blocks and of inline code spans."""
    out: list[tuple[int, str]] = []
    fenced = False
    for no, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if fenced:
            out.append((no, line))
        else:
            out.extend((no, span) for span in INLINE.findall(line))
    return out


def invocations(code: str) -> list[str]:
    """Each `chukan …` of one line of code, up to the next one."""
    found = list(INVOCATION.finditer(code))
    starts = [m.end() for m in found]
    ends = [m.start() for m in found[1:]] + [len(code)] if found else []
    return ["chukan " + code[a:b].strip() for a, b in zip(starts, ends, strict=True)]


def mentions() -> list[Mention]:
    return [
        Mention(f"{path.relative_to(ROOT)}:{no}", text)
        for path in DOCS
        for no, code in code_lines(path)
        for text in invocations(code)
    ]


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        if isinstance(param, click.Option):
            names |= {*param.opts, *param.secondary_opts}
    return names


def check(text: str) -> list[str]:
    """What in one invocation the CLI does not have (empty: it agrees)."""
    problems: list[str] = []
    command: click.Command = cli
    chain = ["chukan"]
    for raw in text.split()[1:]:
        if raw in STOP or raw.startswith("#"):
            break
        if raw == "|":  # "chukan init | run --pass | signoff": alternatives, each from the top
            command, chain = cli, ["chukan"]
            continue
        token = raw.strip("[](),`'\"")
        if token.startswith("-"):
            option = OPTION.match(token)
            # --debug / --version belong to the group and come before the command
            if option and option.group() not in _options(command) | _options(cli):
                problems.append(f"{' '.join(chain)} has no option {option.group()}")
            continue
        if not token or not isinstance(command, click.Group):
            continue  # an argument (RUN, juki, PKG …)
        names = token.split("|")  # "layouts list|show|import": each must exist
        missing = [n for n in names if n not in command.commands]
        if missing:
            problems.append(f"no command {' '.join([*chain, missing[0]])!r}")
        if missing or len(names) > 1:
            command = click.Command("?")  # what follows cannot be checked against one command
            continue
        command = command.commands[token]
        chain.append(token)
    return problems


def test_docs_mention_chukan() -> None:
    found = mentions()
    assert len(found) > 30, "the parser found too few invocations: it is broken"
    assert any("--pass" in m.text for m in found)


def test_every_documented_command_and_option_exists() -> None:
    problems = [f"{m.where}: `{m.text}`: {p}" for m in mentions() for p in check(m.text)]
    assert not problems, "\n".join(problems)


def _every_option() -> set[str]:
    """Every option of every command of the tree."""
    found: set[str] = set()
    todo: list[click.Command] = [cli]
    while todo:
        command = todo.pop()
        found |= _options(command)
        if isinstance(command, click.Group):
            todo.extend(command.commands.values())
    return found


# "--name" in prose or in a message; not CSS custom properties ("--bg: …", "var(--bg)")
LOOSE_OPTION = re.compile(r"(?<![\w(-])--[a-z][a-z0-9-]*(?![\w:-])")


def test_options_named_in_prose_exist() -> None:
    """`--replace` written without its command must still be an option of some command."""
    known = _every_option()
    spans = [
        (f"{path.relative_to(ROOT)}:{no}", span)
        for path in DOCS
        for no, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        for span in INLINE.findall(line)
        if span.startswith("--")  # `--replace`; fenced blocks also run other programs
    ]
    assert spans, "no option written alone in the docs: the scan is broken"
    problems = [
        f"{where}: {name}"
        for where, span in spans
        for name in LOOSE_OPTION.findall(span)
        if name not in known
    ]
    assert not problems, "\n".join(problems)


def test_options_named_in_messages_exist() -> None:
    """Every "--option" in a string of the engine (hints, errors) is an option of the CLI."""
    known = _every_option()
    problems, seen = [], set()
    for path in sorted((ROOT / "etl").rglob("*.py")):
        if path == ROOT / "etl" / "render" / "chromium.py":
            continue  # the browser's own command-line flags, not chukan's options
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in LOOSE_OPTION.findall(node.value):
                    seen.add(name)
                    if name not in known:
                        problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not problems, "\n".join(problems)
    assert "--relax-not-null" in seen, "the load hint is no longer found: the scan is broken"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("chukan run --pass test1", None),
        ("chukan runn --pass test1", "no command 'chukan runn'"),
        ("chukan run --passes test1", "chukan run has no option --passes"),
        ("chukan layouts show juki --codes", None),
        ("chukan layouts shw juki", "no command 'chukan layouts shw'"),
        ("chukan layouts show juki --code", "chukan layouts show has no option --code"),
        ("chukan init | run --pass | signoff | diff | runs   # comment --nope", None),
        ("chukan --help, chukan run --help", None),
        ("chukan run --vendor v --dump D --out O [--gyomu juki] [--encoding cp932]", None),
        ("chukan load RUN --to duckdb:PATH --relax-not-nul", "chukan load has no option"),
    ],
)
def test_the_checker_itself(text: str, problem: str | None) -> None:
    found = [p for one in invocations(text) for p in check(one)]
    if problem is None:
        assert found == []
    else:
        assert found and found[0].startswith(problem), found


def test_layouts_show_codes_lists_the_code_values() -> None:
    result = CliRunner().invoke(cli, ["layouts", "show", "juki", "--codes"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert re.search(r"02\s*│\s*世帯主", result.output)
    assert "zokugara 続柄コード" in result.output and "seibetsu" in result.output
    plain = CliRunner().invoke(cli, ["layouts", "show", "juki"], terminal_width=120)
    assert not re.search(r"02\s*│\s*世帯主", plain.output)  # the values only when asked for
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "chukan layouts show juki --codes" in readme


# ---- messages that tell the user what to type ----------------------------------------------


def _options_named(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][\w-]*", text))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample run with its 生年月日 that does not exist kept empty (the bundled spec rejects
    the record), so a required item is empty and the load refuses it."""
    base = tmp_path_factory.mktemp("docs-cli")
    vendor = base / "vendor-a"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    spec = vendor / "juki.yaml"
    birth = "era: birth_era, date: birth_ymd, era_table: era"
    spec.write_text(
        spec.read_text("utf-8").replace(birth, birth + ", on_invalid: keep_empty"), "utf-8"
    )
    out = base / "run"
    ran = CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(SAMPLE_A), "--out", str(out)]
    )
    assert ran.exit_code == 1, ran.output  # the sample's broken records
    return out


def test_not_null_hint_names_the_cli_option(sample_run: Path, tmp_path: Path) -> None:
    db = f"duckdb:{tmp_path / 'a.duckdb'}"
    result = CliRunner().invoke(cli, ["load", str(sample_run), "--to", db], terminal_width=400)
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert "[juki_jumin]" in line, line  # the table, not swallowed as console markup
    named = _options_named(line)
    assert named == {"--relax-not-null"}, line
    assert named <= _options(cli.commands["load"])
    assert "relax_not_null" not in line


def test_duplicate_key_names_file_key_and_finding(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    shutil.copytree(SAMPLE_A, dump)
    jumin = dump / "JUMIN.DAT"
    data = jumin.read_bytes()
    jumin.write_bytes(data[:600] + data[300:600] + data[600:])  # data record 1 twice
    out = tmp_path / "run"
    runner = CliRunner()
    ran = runner.invoke(
        cli, ["run", "--vendor", "vendor-a", "--dump", str(dump), "--out", str(out)]
    )
    assert ran.exit_code == 1
    findings = (out / "findings.csv").read_text("utf-8-sig")
    assert findings.count("schema.key_unique") == 2
    key = data[301:316].decode()  # 宛名番号 of data record 1
    db = f"duckdb:{tmp_path / 'b.duckdb'}"
    result = runner.invoke(
        cli, ["load", str(out), "--to", db, "--relax-not-null"], terminal_width=400
    )
    assert result.exit_code == 2, result.output
    line = " ".join(result.output.split())
    assert "Traceback" not in result.output
    for part in ("jumin.csv", "宛名番号", "schema.key_unique", "findings.csv"):
        assert part in line, (part, line)
    assert key not in line  # the value itself is personal data: the finding holds it, masked
    assert not (tmp_path / "b.duckdb").exists() or "juki_jumin" not in _tables(
        tmp_path / "b.duckdb"
    )


def _tables(path: Path) -> set[str]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
