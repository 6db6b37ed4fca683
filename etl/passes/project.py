"""A migration project: a folder with chukan.toml that a team keeps in git.

chukan.toml      municipality, vendor, 業務 in scope, output format, dump folders per pass
runs/<pass>/<run-id>/   immutable run artifacts (not for git: personal data)
catalog.duckdb   the run catalog (not for git)

chukan.toml has one model (ProjectFileModel): ``load_project`` validates the file through it and
``init_project`` writes it through it, with a TOML writer (a name holding ``"`` stays TOML).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tomli_w
from pydantic import (
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from etl.config import Document, StrictModel, errors_as, read_toml
from etl.errors import ConfigError
from etl.layout import DEFAULT_LAYOUT_VERSION, resolve_version, version_problem
from etl.municipality import code_problem
from etl.passes.model import PassName
from etl.paths import inside
from etl.resources import data_dir
from etl.write import (
    CsvFormat,
    LineEnding,
    OutputFormat,
    make_private_dir,
    write_bytes_atomic,
)

CONFIG = "chukan.toml"


class ProjectError(ConfigError):
    """The project folder or its chukan.toml is missing or malformed."""


# ---- the file's shape (docs/schemas/chukan-toml.schema.json) ---------------------------------

# Text shown in reports and folder names: no control characters (a newline would forge lines).
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Folder = Name  # relative to the project folder


class MunicipalityModel(StrictModel):
    code: str  # 全国地方公共団体コード: 6 digits (5 + check digit)
    name: Name

    @field_validator("code")
    @classmethod
    def _valid_code(cls, code: str) -> str:
        problem = code_problem(code)  # six ASCII digits (not full-width), check digit
        if problem is not None:
            raise ValueError(problem)
        return code


class SourceModel(StrictModel):
    vendor: Name  # a bundled vendor (mappings/<vendor>) or a folder with source.yaml


class ScopeModel(StrictModel):
    gyomu: Annotated[list[Name], Field(min_length=1)]

    @field_validator("gyomu")
    @classmethod
    def _unique(cls, gyomu: list[str]) -> list[str]:
        repeated = sorted({g for g in gyomu if gyomu.count(g) > 1})
        if repeated:
            raise ValueError(f"業務 listed twice: {', '.join(repeated)}")
        return gyomu


class OutputModel(StrictModel):
    encoding: Literal["utf-8", "utf-8-sig", "cp932"] = "utf-8"
    line_ending: Annotated[LineEnding, Strict(False)] = LineEnding.LF
    format: Annotated[OutputFormat, Strict(False)] = OutputFormat.CSV  # of the record files

    @model_validator(mode="after")
    def _csv_settings_for_csv(self) -> OutputModel:
        if self.format is not OutputFormat.CSV and (
            self.encoding != "utf-8" or self.line_ending is not LineEnding.LF
        ):
            raise ValueError(f"encoding and line_ending apply to csv only, not {self.format}")
        return self


class LayoutModel(StrictModel):
    """``[layout]``: the edition of the standard the project targets (a folder of layouts/)."""

    version: str = DEFAULT_LAYOUT_VERSION

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: str) -> str:
        problem = version_problem(version)  # lists the versions there are
        if problem is not None:
            raise ValueError(problem)
        return resolve_version(version)  # "2.1" is written back as its folder name, "v2.1"


class DumpsModel(StrictModel):
    """The outgoing vendor's deliveries, one folder per pass."""

    test1: Folder | None = None
    test2: Folder | None = None
    production: Folder | None = None


class ExportModel(StrictModel):
    dump: Folder | None = None  # the delivery the year-end export reads


class ProjectFileModel(StrictModel):
    """``chukan.toml``: a migration project (README.md, chukan init)."""

    municipality: MunicipalityModel
    source: SourceModel
    scope: ScopeModel
    layout: LayoutModel = LayoutModel()
    output: OutputModel = OutputModel()
    dumps: DumpsModel = DumpsModel()
    export: ExportModel | None = None


# ---- the engine's object --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    municipality_code: str  # 全国地方公共団体コード (6 digits)
    municipality_name: str
    vendor: str  # bundled vendor name or a folder relative to the project
    gyomu: tuple[str, ...]
    csv: CsvFormat
    dumps: dict[PassName, Path]  # default dump folder per pass
    export_dump: Path | None = None  # [export] dump: the delivery of the year-end export
    layout_version: str = DEFAULT_LAYOUT_VERSION  # [layout] version (a folder of layouts/)
    output_format: OutputFormat = OutputFormat.CSV  # [output] format

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
        raise ProjectError(
            self.root / CONFIG,
            f"vendor {self.vendor!r}: no source.yaml found",
            key_path="source.vendor",
        )


HEADER = """\
# chukan migration project (中間標準レイアウト V2.1). Keep this file in git;
# runs/ and catalog.duckdb hold personal data and stay out of it (.gitignore).
#
# municipality.code   全国地方公共団体コード (6 digits)
# source.vendor       a bundled vendor (mappings/<vendor>) or a folder with source.yaml
# layout.version      the layout version: a folder of layouts/ (chukan layouts versions)
# output.encoding     utf-8 | utf-8-sig | cp932;  output.line_ending  lf | crlf
# output.format       csv (default) | parquet: the form of the V2.1 record files
# dumps.<pass>        the outgoing vendor's deliveries, one folder per pass
# export.dump         the delivery the year-end export reads (chukan export --fiscal-year)

"""
DUMP_FOLDERS = {p.value: f"dumps/{p.value}" for p in PassName}


def project_file_text(model: ProjectFileModel) -> str:
    """chukan.toml for ``model``, written by a TOML writer: every value is quoted correctly."""
    return HEADER + tomli_w.dumps(model.model_dump(mode="json", exclude_none=True))


def init_project(
    root: Path,
    *,
    code: str,
    name: str,
    vendor: str,
    gyomu: tuple[str, ...],
    layout_version: str = DEFAULT_LAYOUT_VERSION,
) -> Project:
    path = root / CONFIG
    data = {
        "municipality": {"code": code, "name": name},
        "source": {"vendor": vendor},
        "scope": {"gyomu": list(gyomu)},
        "layout": {"version": layout_version},
        "dumps": DUMP_FOLDERS,
    }
    try:
        model = ProjectFileModel.model_validate(data)
    except ValidationError as exc:  # the options given to `chukan init`, named by their key
        raise _as_project_error(Document(path=path, data=data).validation_error(exc)) from None
    if path.exists():
        raise ProjectError(path, "already exists; a project is initialised once")
    # owner-only whatever the umask (each folder chukan creates): it will hold personal data
    for sub in DUMP_FOLDERS.values():
        make_private_dir(root / sub)
    write_bytes_atomic(path, project_file_text(model).encode("utf-8"))
    write_bytes_atomic(root / ".gitignore", b"runs/\ndiffs/\nexports/\ncatalog.duckdb*\ndumps/\n")
    project = load_project(root)
    project.vendor_folder  # noqa: B018 - fail now, not at the first run, on a wrong vendor
    return project


def _as_project_error(exc: ConfigError) -> ProjectError:
    return ProjectError(exc.path, exc.reason, key_path=exc.key_path, line=exc.line)


def find_project(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding chukan.toml."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / CONFIG).is_file():
            return folder
    raise ProjectError(start, f"no {CONFIG} here or above; create one with `chukan init`")


def read_project_file(root: Path) -> ProjectFileModel:
    """chukan.toml of ``root`` as its model; ProjectError names the key path."""
    path = root / CONFIG
    if not path.exists():
        raise ProjectError(path, "not found; create it with `chukan init`")
    with errors_as(ProjectError):
        return read_toml(path, what=CONFIG).parse(ProjectFileModel)


def load_project(root: Path) -> Project:
    path = root / CONFIG
    model = read_project_file(root)
    dumps = model.dumps
    folders = {PassName.TEST1: dumps.test1, PassName.TEST2: dumps.test2}
    folders[PassName.PRODUCTION] = dumps.production
    export_dump = model.export.dump if model.export else None
    return Project(
        root=root.resolve(),
        municipality_code=model.municipality.code,
        municipality_name=model.municipality.name,
        vendor=model.source.vendor,
        gyomu=tuple(model.scope.gyomu),
        csv=CsvFormat(encoding=model.output.encoding, line_ending=model.output.line_ending),
        dumps={
            p: inside(root, folder, config=path, key=f"dumps.{p.value}")
            for p, folder in folders.items()
            if folder is not None
        },
        export_dump=inside(root, export_dump, config=path, key="export.dump")
        if export_dump
        else None,
        layout_version=model.layout.version,
        output_format=model.output.format,
    )
