"""Ship the standard (layouts/), vendor mappings, validators and fixtures inside the wheel.

They stay at the repository root, where people look for them, and are mapped into the
package ``etl._data`` so that ``etl.resources`` finds them in an installed copy too.
"""

from setuptools import find_packages, setup

DATA_DIRS = ("layouts", "mappings", "validators", "fixtures")

setup(
    packages=[*find_packages(include=["etl", "etl.*"]), *(f"etl._data.{d}" for d in DATA_DIRS)],
    package_dir={f"etl._data.{d}": d for d in DATA_DIRS},
    package_data={f"etl._data.{d}": ["**/*"] for d in DATA_DIRS},
    exclude_package_data={f"etl._data.{d}": ["**/__pycache__/*"] for d in DATA_DIRS},
)
