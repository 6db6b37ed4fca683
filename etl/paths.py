"""Paths named in configuration stay inside the folder they are relative to.

chukan.toml, source.yaml and mapping specs name files and folders (dump folders, source files,
code tables …). Such a value is data someone typed or received, so it is resolved inside its
base folder and refused when it is empty, absolute, or leaves the base after ``..`` and
symlinks are resolved. The error names the configuration file and the key, e.g.
``mappings/x/source.yaml: files[0].path: '../../etc/passwd' resolves to …, outside …``.

    inside(base, value, config=..., key=...)        one path → resolved Path inside base
    files_inside(base, pattern, config=..., key=...) a glob → sorted matching files inside base
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from etl.errors import ConfigError


class ConfigPathError(ConfigError):
    """A path in a configuration file is malformed or points outside its base folder."""

    def __init__(self, config: Path | str, key: str, reason: str) -> None:
        super().__init__(config, reason, key_path=key)
        self.config = self.path
        self.key = key


def _checked_text(value: object, config: Path | str, key: str) -> str:
    if not isinstance(value, str | PurePosixPath) or not str(value).strip():
        raise ConfigPathError(config, key, f"must be a non-empty relative path, not {value!r}")
    text = str(value)
    if "\0" in text:
        raise ConfigPathError(config, key, f"{text!r} contains a NUL byte")
    if PurePosixPath(text).is_absolute():
        raise ConfigPathError(config, key, f"{text!r} is absolute; give it relative to its folder")
    return text


def _contained(base: Path, path: Path, config: Path | str, key: str, shown: str) -> Path:
    """``path`` with symlinks and ``..`` resolved, refused unless it lies in ``base``."""
    root = base.resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, or a folder that cannot be read
        raise ConfigPathError(config, key, f"{shown!r} cannot be resolved ({exc})") from exc
    if real != root and root not in real.parents:
        raise ConfigPathError(
            config, key, f"{shown!r} resolves to {real}, outside {root}; it must stay inside"
        )
    return real


def inside(base: Path, value: object, *, config: Path | str, key: str) -> Path:
    """Resolve ``value`` (a relative path from ``config`` at ``key``) inside ``base``.

    Returns the resolved path (which need not exist). Raises ConfigPathError (exit 2) when the
    value is not a non-empty string, is absolute, contains NUL, or resolves outside ``base``
    (through ``..`` or a symlink).
    """
    text = _checked_text(value, config, key)
    return _contained(base, base / text, config, key, text)


def files_inside(base: Path, pattern: object, *, config: Path | str, key: str) -> list[Path]:
    """The files in ``base`` matching the glob ``pattern`` (from ``config`` at ``key``), sorted.

    The pattern must be relative without ``..``, and every match is resolved: a symlink that
    leads outside ``base`` is refused, not read. The paths returned are the matches as found
    (not their targets), so messages show the name the delivery used.
    """
    text = _checked_text(pattern, config, key)
    if ".." in PurePosixPath(text).parts:
        raise ConfigPathError(config, key, f"{text!r} contains '..'; it must stay inside {base}")
    try:
        matches = sorted(p for p in base.glob(text) if p.is_file())
    except (OSError, ValueError) as exc:
        raise ConfigPathError(config, key, f"{text!r} cannot be matched in {base} ({exc})") from exc
    for match in matches:
        _contained(base, match, config, key, str(match.relative_to(base)))
    return matches


__all__ = ["ConfigPathError", "files_inside", "inside"]
