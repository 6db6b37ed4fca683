"""The input fingerprint of a year-end export: what decides its package, hashed before any work.

Equal fingerprints mean the pipeline would produce the same package, so the export is up to
date. Computed from file hashes only (seconds for a large dump), never by running the pipeline.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from etl import __version__
from etl.export.errors import ExportError
from etl.passes import Project, layout_fingerprint, mapping_fingerprint
from etl.write import sha256_file


@dataclass(frozen=True, slots=True)
class InputFingerprint:
    dump: str  # every file of the dump folder: relative path and content
    mapping: str  # the vendor folder (source.yaml, specs, code and gaiji tables)
    layout: str  # the standard's layouts, eras and validator rules
    tool_version: str
    settings: str  # the project settings that shape the output (業務, encoding, line ending)
    signer: str  # public-key fingerprint of the sealing key, "" when unsigned
    value: str  # SHA-256 over all of the above

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def dump_fingerprint(dump_dir: Path) -> str:
    """Relative path and SHA-256 of every file, streamed: the folder's own name and location do
    not count (the same delivery given with --dump elsewhere is the same input), and a dump of
    several GB is never held in memory (unlike tree_fingerprint, made for small spec folders)."""
    h = hashlib.sha256()
    base = dump_dir.resolve()
    for path in sorted(p for p in dump_dir.rglob("*") if p.is_file()):
        # a symlink to a file outside the delivery is refused: its content would be hashed
        # (and, if a source profile matched it, extracted) as if the vendor had delivered it
        if path.is_symlink() and base not in path.resolve().parents:
            raise ExportError(
                path, f"a symbolic link leading outside the dump folder {dump_dir}; remove it"
            )
        h.update(f"{path.relative_to(dump_dir).as_posix()}\0{sha256_file(path)}\n".encode())
    return h.hexdigest()


def input_fingerprint(project: Project, dump_dir: Path, signer: str) -> InputFingerprint:
    settings = json.dumps(
        {
            "code": project.municipality_code,
            "gyomu": list(project.gyomu),
            "encoding": project.csv.encoding,
            "line_ending": project.csv.line_ending.value,
        },
        sort_keys=True,
    )
    parts = {
        "dump": dump_fingerprint(dump_dir),
        "mapping": mapping_fingerprint(project.vendor_folder),
        "layout": layout_fingerprint(project.layout_version),  # its name is in the hash
        "tool_version": __version__,
        "settings": hashlib.sha256(settings.encode()).hexdigest(),
        "signer": signer,
    }
    value = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return InputFingerprint(**parts, value=value)
