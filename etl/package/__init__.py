"""Sealed handover packages (datapackage.json, data dictionary, signature) and their check."""

from etl.package.build import PackageResult, archive_path, build_package
from etl.package.errors import FindingsNotAccepted, PackageError, TrustRequired
from etl.package.signing import (
    KeyPair,
    SignatureStatus,
    generate_keys,
    key_fingerprint,
    load_private_key,
    load_public_key,
    sign_descriptor,
)
from etl.package.verify import Problem, VerifyReport, verify_package

__all__ = [
    "FindingsNotAccepted",
    "KeyPair",
    "PackageError",
    "PackageResult",
    "Problem",
    "SignatureStatus",
    "TrustRequired",
    "VerifyReport",
    "archive_path",
    "build_package",
    "generate_keys",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "sign_descriptor",
    "verify_package",
]
