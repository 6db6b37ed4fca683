"""docs/glossary.md names real code: a rename that forgets the glossary fails here."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _defined_names() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "etl").rglob("*.py"):
        text = path.read_text("utf-8")
        names |= set(re.findall(r"^(?:class|def) (\w+)", text, re.MULTILINE))
        names |= set(
            re.findall(r"^([A-Z_][A-Z0-9_]*|[A-Z]\w*) *(?::[^=\n]*)?=", text, re.MULTILINE)
        )
    return names


def test_every_class_and_function_the_glossary_names_exists() -> None:
    text = (REPO / "docs" / "glossary.md").read_text("utf-8")
    named = set(re.findall(r"`([A-Z][A-Za-z]+|[a-z]+_[a-z_]+|[A-Z][A-Z_]+)`", text))
    # YAML keys, CLI words and file-format spellings are not identifiers of etl/
    named -= {"on_invalid", "code_map", "record_files", "exactly_one", "required_if", "exists_in"}
    named -= {"record_file", "run_id", "atena_no"}  # attributes, YAML keys, a sample field
    missing = sorted(n for n in named if n not in _defined_names())
    assert not missing, f"docs/glossary.md names what etl/ does not define: {missing}"


def test_the_glossary_is_linked() -> None:
    assert "docs/glossary.md" in (REPO / "README.md").read_text("utf-8")
    assert "(glossary.md)" in (REPO / "docs" / "architecture.md").read_text("utf-8")
