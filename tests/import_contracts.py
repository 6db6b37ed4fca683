"""import-linter contract types of our own, registered in pyproject.toml [tool.importlinter].

`public_api`: a package is used through its ``__init__``. A module of ``etl.a`` may import
``etl.b`` (the names ``etl/b/__init__.py`` exports) but not ``etl.b.some_module``: what a package
keeps in its modules stays free to move. Imports inside one top-level package are not checked.
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils
from importlinter.application.contract_utils import AlertLevel


def _top_package(module: str, container: str) -> str | None:
    """``etl.b`` for any ``etl.b[.x…]`` under container ``etl``; None outside it."""
    if not module.startswith(container + "."):
        return None
    return container + "." + module[len(container) + 1 :].split(".", 1)[0]


def bypassing_imports(graph: ImportGraph, container: str) -> list[dict[str, Any]]:
    """Direct imports from one top-level package into a submodule of another, sorted."""
    found: list[dict[str, Any]] = []
    for importer in sorted(graph.find_descendants(container)):
        importer_top = _top_package(importer, container)
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            imported_top = _top_package(imported, container)
            if imported_top is None or imported_top in (importer_top, imported):
                continue
            details = graph.get_import_details(importer=importer, imported=imported)
            found.append(
                {
                    "importer": importer,
                    "imported": imported,
                    "package": imported_top,
                    "line_numbers": sorted(d["line_number"] for d in details),
                }
            )
    return found


class PublicApiContract(Contract):
    """Modules of one top-level package import another package only through its ``__init__``.

    Options: ``container`` (the root package, e.g. ``etl``); ``ignore_imports``, the known
    bypasses still to remove (an entry that no longer matches fails the contract, so the
    allowlist only shrinks).
    """

    container = fields.StringField()
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        bypasses = bypassing_imports(graph, str(self.container))
        return ContractCheck(
            kept=not bypasses,
            metadata={"bypasses": bypasses},
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for bypass in check.metadata["bypasses"]:
            lines = ", ".join(f"l.{n}" for n in bypass["line_numbers"])
            output.print_error(
                f"{bypass['importer']} -> {bypass['imported']} ({lines}): "
                f"import from {bypass['package']} instead",
                bold=False,
            )
        output.new_line()
        output.print_error(
            "Export the name from the package's __init__.py (and its __all__), then import the "
            "package.",
            bold=False,
        )
