"""Fingerprints of what decides a run's output: the vendor mapping folder and the standard.

Production is only allowed with the same fingerprints test2 was run with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from etl.errors import ChukanError
from etl.layout import layouts_root
from etl.resources import data_dir
from etl.write import sha256_file


def _files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def tree_fingerprint(folders: Iterable[Path]) -> str:
    """SHA-256 over relative paths and contents of every file under ``folders`` (each file
    hashed in chunks: a stray large file costs time, not memory)."""
    h = hashlib.sha256()
    for folder in folders:
        for path in _files(folder):
            h.update(f"{folder.name}/{path.relative_to(folder).as_posix()}\0".encode())
            try:
                h.update(bytes.fromhex(sha256_file(path)))
            except OSError as exc:
                raise ChukanError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    return h.hexdigest()


def mapping_fingerprint(vendor_folder: Path) -> str:
    return tree_fingerprint([vendor_folder])


def layout_fingerprint(layout_version: str) -> str:
    """The layouts of that version, the era table and the validator rules."""
    h = hashlib.sha256(
        tree_fingerprint([layouts_root(layout_version), data_dir("validators")]).encode()
    )
    h.update((data_dir("layouts") / "eras.yaml").read_bytes())
    return h.hexdigest()
