"""Ship the standard (layouts/), vendor mappings, validators and fixtures inside the wheel.

They stay at the repository root, where people look for them, and are mapped into the
package ``etl._data`` so that ``etl.resources`` finds them in an installed copy too. The page
templates (``templates/*.html.j2`` beside the modules that render them) and the style sheet
and script inlined into every page (etl/render/assets/) ship with their packages, and so do
the mainframe charset tables (etl/extract/charsets/tables/).
"""

from setuptools import find_packages, setup

DATA_DIRS = ("layouts", "mappings", "validators", "fixtures")
PAGE_FILES = {
    "etl.render": ["templates/*.html.j2", "assets/report.css", "assets/report.js"],
    "etl.report.run": ["templates/*.html.j2"],
    "etl.report.diff": ["templates/*.html.j2"],
    "etl.package": ["templates/*.html.j2"],
    "etl.ledger": ["templates/*.html.j2"],
    "etl.migration": ["templates/*.html.j2"],
}

setup(
    packages=[*find_packages(include=["etl", "etl.*"]), *(f"etl._data.{d}" for d in DATA_DIRS)],
    package_dir={f"etl._data.{d}": d for d in DATA_DIRS},
    package_data={
        **{f"etl._data.{d}": ["**/*"] for d in DATA_DIRS},
        **PAGE_FILES,
        "etl.extract.charsets": ["tables/*.csv"],  # the mainframe charset tables (data)
    },
    exclude_package_data={f"etl._data.{d}": ["**/__pycache__/*"] for d in DATA_DIRS},
)
