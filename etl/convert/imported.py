"""``chukan layouts import``: a workbook's 業務 written into a layout version folder.

The files are ``<out>/<version>/<id>.yaml`` and ``<out>/<version>/codes/<table>.yaml`` in the
canonical form (etl.layout.writer), each written atomically and owner-only. Ids and the version
name are plain ASCII without separators (checked by the readers), and the folder written to is
checked to lie inside ``out``, so nothing lands elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from etl.errors import ChukanError
from etl.layout import (
    ImportedLayout,
    code_table_text,
    is_version_name,
    layout_text,
    layouts_root,
    read_code_table_document,
    read_layout_document,
)
from etl.write import write_bytes_atomic


class LayoutImportError(ChukanError):
    """The imported layout cannot be written where it was asked to go (exit 2)."""


def write_imported(imported: ImportedLayout, version: str, out: Path) -> list[Path]:
    """Write the layout and its code tables; the paths written, layout first."""
    if not is_version_name(version):
        raise LayoutImportError(
            f"{version!r} cannot name a layout version: letters, digits, '.', '_' and '-',"
            " starting with a letter or digit (not conversions, import-maps)"
        )
    folder = out / version
    root = out.resolve()
    if folder.exists() and not folder.resolve().is_relative_to(root):
        raise LayoutImportError(f"{folder} leads outside {out} (a link?): refused")
    files = {f"{imported.layout.id}.yaml": layout_text(imported.layout)}
    for table in imported.code_tables:
        files[f"codes/{table.id}.yaml"] = code_table_text(table)
    written = []
    for rel, text in files.items():
        target = folder / rel
        if target.parent.exists() and not target.parent.resolve().is_relative_to(root):
            raise LayoutImportError(f"{target.parent} leads outside {out} (a link?): refused")
        written.append(write_bytes_atomic(target, text.encode("utf-8")).path)
    return written


def format_version(version: str, *, write: bool) -> list[Path]:
    """The files of a layout version not in the canonical form; rewritten when ``write``
    (``chukan layouts format``)."""
    root = layouts_root(version)
    off = []
    for path in sorted(root.glob("*.yaml")) + sorted((root / "codes").glob("*.yaml")):
        if path.parent == root:
            text = layout_text(read_layout_document(path))
        else:
            text = code_table_text(read_code_table_document(path))
        if path.read_text(encoding="utf-8") != text:
            off.append(path)
            if write:
                write_bytes_atomic(path, text.encode("utf-8"))
    return off
