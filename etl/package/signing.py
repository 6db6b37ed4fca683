"""Ed25519 keys and the detached signature over datapackage.json (pyca/cryptography).

The signature file ``datapackage.json.sig`` is JSON: the algorithm, the signer's public key and
the signature over the exact bytes of datapackage.json, both base64. Carrying the public key lets a
verifier tell "signature invalid" (bytes changed) from "untrusted key" (someone else sealed it).
Private keys are written owner-only (0600) and never appear in messages or logs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from etl.config import ConfigError, read_config_bytes
from etl.package.errors import PackageError

ALGORITHM = "ed25519"


class SignatureStatus(StrEnum):
    VALID = "valid"  # signed by the trusted key
    VALID_UNCHECKED = "valid, key not checked"  # good signature, but no --trust key given
    UNSIGNED = "unsigned"
    INVALID = "signature invalid"
    UNTRUSTED = "untrusted key"


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_path: Path
    public_path: Path
    fingerprint: str


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: what a person compares over the phone."""
    return hashlib.sha256(_raw_public(key)).hexdigest()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never overwrite a key; the mode is set at creation, so the file is never readable
    # by others, not even for an instant.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise PackageError(path, "key file already exists; not overwritten") from exc
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise PackageError(path, f"cannot write key: {exc.strerror or exc}") from exc


def generate_keys(private_path: Path, public_path: Path) -> KeyPair:
    """A new Ed25519 key pair: private key PEM (PKCS#8, 0600), public key PEM (0644)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    _write_new(private_path, private_pem, 0o600)
    _write_new(public_path, public_pem, 0o644)
    return KeyPair(private_path, public_path, key_fingerprint(key.public_key()))


KEY_FILE_MAX = 64 << 10  # a PEM key is a few hundred bytes


def _key_bytes(path: Path, what: str) -> bytes:
    """A key file's bytes: a regular file of bounded size (a FIFO would wait forever)."""
    try:
        return read_config_bytes(path, what=what, limit=KEY_FILE_MAX)
    except ConfigError as exc:
        raise PackageError(path, exc.reason) from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _key_bytes(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (OSError, ValueError, TypeError) as exc:
        # The exception text could quote key material: say only what and where.
        raise PackageError(path, "not a readable unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise PackageError(path, "not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _key_bytes(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (OSError, ValueError) as exc:
        raise PackageError(path, f"not a readable PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise PackageError(path, "not an Ed25519 public key")
    return key


def sign_descriptor(descriptor: bytes, key: Ed25519PrivateKey) -> bytes:
    """The contents of ``datapackage.json.sig`` for the exact ``descriptor`` bytes.

    Ed25519 signatures are deterministic (RFC 8032), so re-sealing a run gives the same bytes.
    """
    return _signature_file(_raw_public(key.public_key()), key.sign(descriptor))


def _signature_file(public: bytes, signature: bytes) -> bytes:
    doc = {
        "algorithm": ALGORITHM,
        "publicKey": base64.b64encode(public).decode("ascii"),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return (json.dumps(doc, indent=2) + "\n").encode("ascii")


def check_signature(
    descriptor: bytes, signature: bytes | None, trust: Ed25519PublicKey | None
) -> SignatureStatus:
    if signature is None:
        return SignatureStatus.UNSIGNED
    try:
        doc = json.loads(signature)
        if doc.get("algorithm") != ALGORITHM:
            return SignatureStatus.INVALID
        public = base64.b64decode(doc["publicKey"], validate=True)
        sig = base64.b64decode(doc["signature"], validate=True)
        # Only the canonical form counts: a byte changed anywhere in the file is tampering,
        # even where JSON or base64 would tolerate it (whitespace, padding bits).
        if _signature_file(public, sig) != signature:
            return SignatureStatus.INVALID
        signer = Ed25519PublicKey.from_public_bytes(public)
        signer.verify(sig, descriptor)
    except (InvalidSignature, ValueError, KeyError, TypeError, AttributeError):
        return SignatureStatus.INVALID
    if trust is None:
        return SignatureStatus.VALID_UNCHECKED
    if _raw_public(signer) != _raw_public(trust):
        return SignatureStatus.UNTRUSTED
    return SignatureStatus.VALID
