"""Golden-file comparison: byte for byte, rewritten only with `pytest --update-golden`."""

from __future__ import annotations

from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(actual: bytes, name: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"no golden file {path}; run pytest --update-golden and review it"
    expected = path.read_bytes()
    if actual != expected:
        a, e = actual.decode("utf-8", "replace"), expected.decode("utf-8", "replace")
        for no, (la, le) in enumerate(zip(a.splitlines(), e.splitlines(), strict=False), 1):
            if la != le:
                raise AssertionError(f"{name} differs at line {no}:\n  got:  {la}\n  want: {le}")
        raise AssertionError(f"{name} differs in length ({len(actual)} vs {len(expected)} bytes)")
