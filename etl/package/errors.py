"""Failures that stop packaging or verification (a damaged package is a report, not these)."""

from __future__ import annotations

from pathlib import Path

from etl.errors import ChukanError


class PackageError(ChukanError):
    """A run folder cannot be packaged, or a key or package cannot be read at all."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class FindingsNotAccepted(PackageError):
    """The run has blocking findings and nobody has said why it is handed over anyway."""

    exit_code = 1  # like a refused gate: the data, not the command, is what stops it


class TrustRequired(PackageError):
    """verify was asked for a verdict without a trusted key and without saying that checking
    integrity alone is meant (the signature alone proves nothing: anyone can re-sign)."""
