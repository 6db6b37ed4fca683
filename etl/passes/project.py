"""A migration project: a folder with chukan.toml that a team keeps in git.

chukan.toml      municipality, vendor, 業務 in scope, output format, dump folders per pass
runs/<pass>/<run-id>/   immutable run artifacts (not for git: personal data)
catalog.duckdb   the run catalog (not for git)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.errors import ChukanError
from etl.load import CsvFormat, LineEnding, write_bytes_atomic
from etl.load.atomic import make_private_dir
from etl.municipality import checked_code
from etl.passes.model import PassName
from etl.paths import inside
from etl.resources import data_dir

CONFIG = "chukan.toml"


class ProjectError(ChukanError):
    """The project folder or its chukan.toml is missing or malformed."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    municipality_code: str  # 全国地方公共団体コード (6 digits)
    municipality_name: str
    vendor: str  # bundled vendor name or a folder relative to the project
    gyomu: tuple[str, ...]
    csv: CsvFormat
    dumps: dict[PassName, Path]  # default dump folder per pass

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def vendor_folder(self) -> Path:
        config, key = self.root / CONFIG, "source.vendor"
        local = inside(self.root, self.vendor, config=config, key=key)
        if (local / "source.yaml").is_file():
            return local
        bundled = inside(data_dir("mappings"), self.vendor, config=config, key=key)
        if (bundled / "source.yaml").is_file():
            return bundled
        raise ProjectError(self.root / CONFIG, f"vendor {self.vendor!r}: no source.yaml found")


TEMPLATE = """\
# chukan migration project (中間標準レイアウト V2.1). Keep this file in git;
# runs/ and catalog.duckdb hold personal data and stay out of it (.gitignore).

[municipality]
code = "{code}"          # 全国地方公共団体コード (6 digits)
name = "{name}"

[source]
vendor = "{vendor}"      # a bundled vendor (mappings/<vendor>) or a folder with source.yaml

[scope]
gyomu = [{gyomu}]

[output]
encoding = "utf-8"       # utf-8 | utf-8-sig | cp932
line_ending = "lf"       # lf | crlf

[dumps]                  # the outgoing vendor's deliveries, one folder per pass
test1 = "dumps/test1"
test2 = "dumps/test2"
production = "dumps/production"
"""


def init_project(
    root: Path, *, code: str, name: str, vendor: str, gyomu: tuple[str, ...]
) -> Project:
    checked_code(code, config=root, key="--code")
    if (root / CONFIG).exists():
        raise ProjectError(root / CONFIG, "already exists; a project is initialised once")
    text = TEMPLATE.format(
        code=code, name=name, vendor=vendor, gyomu=", ".join(f'"{g}"' for g in gyomu)
    )
    # owner-only whatever the umask (each folder chukan creates): it will hold personal data
    for sub in ("dumps/test1", "dumps/test2", "dumps/production"):
        make_private_dir(root / sub)
    write_bytes_atomic(root / CONFIG, text.encode("utf-8"))
    write_bytes_atomic(root / ".gitignore", b"runs/\ndiffs/\nexports/\ncatalog.duckdb*\ndumps/\n")
    project = load_project(root)
    project.vendor_folder  # noqa: B018 - fail now, not at the first run, on a wrong vendor
    return project


def _get(doc: dict[str, Any], path: Path, section: str, key: str) -> Any:
    try:
        return doc[section][key]
    except KeyError as exc:
        raise ProjectError(path, f"missing [{section}] {key}") from exc


def find_project(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding chukan.toml."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / CONFIG).is_file():
            return folder
    raise ProjectError(start, f"no {CONFIG} here or above; create one with `chukan init`")


def load_project(root: Path) -> Project:
    path = root / CONFIG
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ProjectError(path, "not found; create it with `chukan init`") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(path, f"invalid TOML: {exc}") from exc
    output = doc.get("output", {})
    dumps = doc.get("dumps", {})
    try:
        csv = CsvFormat(
            encoding=str(output.get("encoding", "utf-8")),
            line_ending=LineEnding(output.get("line_ending", "lf")),
        )
        dump_dirs = {
            PassName(k): inside(root, v, config=path, key=f"dumps.{k}") for k, v in dumps.items()
        }
    except ValueError as exc:
        raise ProjectError(path, str(exc)) from exc
    gyomu = _get(doc, path, "scope", "gyomu")
    if not isinstance(gyomu, list) or not gyomu:
        raise ProjectError(path, "[scope] gyomu must be a non-empty list")
    return Project(
        root=root.resolve(),
        municipality_code=checked_code(_get(doc, path, "municipality", "code"), config=path),
        municipality_name=str(_get(doc, path, "municipality", "name")),
        vendor=str(_get(doc, path, "source", "vendor")),
        gyomu=tuple(str(g) for g in gyomu),
        csv=csv,
        dumps=dump_dirs,
    )
