"""Which editions of the standard exist: one folder per layout version under layouts/.

A layout version is named by its folder (``layouts/v2.1/`` is ``v2.1``); that name is what
chukan.toml (``[layout] version``), a mapping spec (``layout_version``), ``--layout-version``,
manifest.json and the run catalog hold. The standard's own spelling without the ``v``
(``2.1``, as a layout file's ``version`` key writes it) names the same folder.
The default below is the only one: every other default refers to it.
"""

from __future__ import annotations

import re
from pathlib import Path

from etl.errors import ChukanError
from etl.resources import data_dir

DEFAULT_LAYOUT_VERSION = "v2.1"

# Folders of layouts/ that hold data about versions, not a version: the conversion specs
# between versions (etl.convert) and the import maps of spec workbooks (etl.layout.workbook).
NOT_VERSIONS = frozenset({"conversions", "import-maps"})

# A folder name that is safe on the command line and in paths: no separators, no "..".
_VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class UnknownLayoutVersion(ChukanError):
    """A layout version that has no folder under layouts/ (exit 2, listing the ones there are)."""

    def __init__(self, version: str) -> None:
        self.version = version
        super().__init__(version_problem(version) or f"layout version {version!r}")


def layouts_home() -> Path:
    """The folder holding one folder per layout version (and the version-free eras.yaml)."""
    return data_dir("layouts")


def available_versions() -> tuple[str, ...]:
    """The layout versions there are: the folders under layouts/ (a folder without layout
    files is a version whose loading says so)."""
    home = layouts_home()
    return tuple(
        sorted(
            p.name
            for p in home.iterdir()
            if p.is_dir() and _VERSION_NAME.match(p.name) and p.name not in NOT_VERSIONS
        )
    )


def _canonical(version: str) -> str | None:
    known = available_versions()
    for name in (version, f"v{version}"):
        if name in known:
            return name
    return None


def version_problem(version: object) -> str | None:
    """Why ``version`` names no layout version, or None when it names one."""
    if isinstance(version, str) and _canonical(version) is not None:
        return None
    shown = repr(version) if not isinstance(version, str) or len(version) <= 40 else "a long name"
    known = ", ".join(available_versions()) or "none"
    return f"layout version {shown} does not exist; available: {known}"


def resolve_version(version: str) -> str:
    """The folder name of ``version`` (``2.1`` → ``v2.1``); UnknownLayoutVersion when none."""
    name = _canonical(version)
    if name is None:
        raise UnknownLayoutVersion(version)
    return name


def is_version_name(name: str) -> bool:
    """Whether ``name`` may name a (new) version folder: safe in a path, not a data folder."""
    return bool(_VERSION_NAME.match(name)) and name not in NOT_VERSIONS


def layouts_root(version: str = DEFAULT_LAYOUT_VERSION) -> Path:
    """``layouts/<version>/``: only the folder of an existing version, so a version read from a
    run's manifest can never point elsewhere (``""``, ``..``)."""
    return layouts_home() / resolve_version(version)
