"""The hub's signing keys: ES256, generated on first start, kept in the data directory.

One key signs (`signing-key.pem`). `aphub keys rotate` retires it into `retired-keys/`
and makes a new one: a retired key still verifies the tokens it signed, and is published
in the JWKS, until the longest a token lives (24 hours) has passed; then it is forgotten.
A token naming a key the ring does not know is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"
# the longest a token may live (APHUB_TOKEN_TTL_SECONDS is at most this), plus leeway
RETIRED_KEY_LIFETIME = 86400 + 60
RETIRED_DIR = "retired-keys"
_RELOAD_SECONDS = 5.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey
    kid: str
    retired_at: float | None = None

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
            "use": "sig",
            "alg": ALGORITHM,
            "kid": self.kid,
        }


def _thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    """RFC 7638 JWK thumbprint: stable key id derived from the public key alone."""
    numbers = key.public_key().public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _load(path: Path, retired_at: float | None = None) -> SigningKey:
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise RuntimeError(f"{path} is not an EC private key")
    return SigningKey(loaded, _thumbprint(loaded), retired_at)


def _write_new(path: Path) -> SigningKey:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written 0600 from the first byte: the key never exists world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return SigningKey(key, _thumbprint(key))


def load_or_create_signing_key(data_dir: Path) -> SigningKey:
    path = data_dir / "signing-key.pem"
    if path.exists():
        return _load(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    return _write_new(path)


class KeyRing:
    """The key that signs, and the retired keys whose tokens may still be alive."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.current = load_or_create_signing_key(data_dir)
        self._retired: dict[str, SigningKey] = {}
        self._loaded_at = 0.0
        self._load_retired()

    def _load_retired(self) -> None:
        self._loaded_at = time.monotonic()
        retired = {}
        folder = self.data_dir / RETIRED_DIR
        for path in sorted(folder.glob("*.pem")) if folder.exists() else []:
            stamp = path.stem.split("-", 1)[0]
            if stamp.isdigit():
                key = _load(path, float(stamp))
                retired[key.kid] = key
        self._retired = retired

    def _alive(self, key: SigningKey) -> bool:
        return key.retired_at is None or key.retired_at + RETIRED_KEY_LIFETIME > time.time()

    def verifying(self, kid: str) -> SigningKey | None:
        """The key that verifies tokens naming `kid`, if it is ours and still in service.
        Another process may have rotated the keys: the ring looks again, at most every
        few seconds, before saying it does not know a key."""
        key = self._find(kid)
        if key is None and time.monotonic() - self._loaded_at > _RELOAD_SECONDS:
            path = self.data_dir / "signing-key.pem"
            if path.exists():
                self.current = _load(path)
            self._load_retired()
            key = self._find(kid)
        return key

    def _find(self, kid: str) -> SigningKey | None:
        if kid == self.current.kid:
            return self.current
        key = self._retired.get(kid)
        return key if key is not None and self._alive(key) else None

    def public_jwks(self) -> list[dict[str, Any]]:
        keys = [self.current, *(k for k in self._retired.values() if self._alive(k))]
        return [k.public_jwk() for k in keys]


def rotate_keys(data_dir: Path) -> tuple[str, str]:
    """Retire the signing key and make a new one; forget retired keys no token can still
    name. Returns the retired and the new key ids. Running hubs pick the new key up when
    they meet a token it signed, or on restart."""
    path = data_dir / "signing-key.pem"
    old = load_or_create_signing_key(data_dir)
    folder = data_dir / RETIRED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    os.replace(path, folder / f"{now}-{old.kid}.pem")
    for retired in folder.glob("*.pem"):
        stamp = retired.stem.split("-", 1)[0]
        if stamp.isdigit() and int(stamp) + RETIRED_KEY_LIFETIME < now:
            retired.unlink()
    new = _write_new(path)
    return old.kid, new.kid
