"""The package's data dictionary page: golden (without its inlined assets), self-contained."""

from __future__ import annotations

from etl.package import PackageResult
from tests.golden import assert_golden_page
from tests.report.test_html import external_references


def test_golden_dictionary_page(package: PackageResult, update_golden: bool) -> None:
    page = (package.package_dir / "dictionary" / "data_dictionary.html").read_text("utf-8")
    assert_golden_page(page, "package/data_dictionary.html", update_golden)
    assert external_references(page) == []
