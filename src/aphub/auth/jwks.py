"""Public keys published at JWKS URLs: an external issuer's, or a client's own
(private_key_jwt with a `jwks_uri`), and the keys a client registers inline.

A key set is fetched with httpx when first needed and kept for an hour (or what the
response's `Cache-Control: max-age` says, within five minutes and a day). A token naming a
key id the set lacks makes the hub fetch the set again, since the issuer may have rotated
its keys, but only once the set held is `REFETCH_SECONDS` old, however many such tokens come,
and requests arriving meanwhile share that one fetch: a stream of tokens with made-up key
ids cannot turn the hub into a client hammering an issuer. A key the issuer drops stops
verifying when the set is next fetched. A failed fetch keeps the keys already held (an
issuer's brief outage does not lock everyone out); with none held, the request is a 503.

A URL a client registered is checked twice: when it is registered (no address outside the
public internet written in it, `url_problem`) and before each fetch (its host must resolve
to public addresses only), so a name pointed at the hub's own network later is not
fetched either. The resolution and httpx's own may still differ (DNS rebinding within the
record's TTL): the fetch follows no redirect, sends no credential and reads 64 KiB at most.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from aphub.errors import Problem

log = logging.getLogger("aphub.auth")

REFETCH_SECONDS = 30.0
DEFAULT_MAX_AGE = 3600.0
MIN_MAX_AGE, MAX_MAX_AGE = 300.0, 86400.0
MAX_BYTES = 64 * 1024
MIN_RSA_BITS = 2048
MAX_KEYS = 20
_MAX_AGE = re.compile(r"max-age=(\d+)")


class KeysUnavailable(Problem):
    """The keys that would verify the request cannot be fetched (and none are held)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "The keys that verify this credential cannot be fetched just now; retry shortly",
            headers={"Retry-After": "30"},
        )


def _b64int_bits(value: Any) -> int:
    if not isinstance(value, str):
        return 0
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big").bit_length()


def algorithms_for(jwk: dict[str, Any]) -> frozenset[str]:
    """The signature algorithms a key may verify: RS256 or PS256 for an RSA key, ES256 for
    a P-256 key, and only its own `alg` when it names one."""
    kty = jwk.get("kty")
    if kty == "RSA":
        possible = frozenset({"RS256", "PS256"})
    elif kty == "EC" and jwk.get("crv") == "P-256":
        possible = frozenset({"ES256"})
    else:
        return frozenset()
    alg = jwk.get("alg")
    return possible & {alg} if isinstance(alg, str) else possible


def key_problem(jwk: Any) -> str | None:
    """Why `jwk` is not a public signing key the hub verifies with, or None."""
    if not isinstance(jwk, dict):
        return "a key must be a JSON object"
    if "d" in jwk or "p" in jwk:
        return "a private key was given: register only the public key"
    if jwk.get("use") not in (None, "sig"):
        return "a key for encryption was given: register a signing key"
    if not algorithms_for(jwk):
        return "keys must be RSA (RS256, PS256) or EC P-256 (ES256)"
    try:
        jwt.PyJWK(jwk, algorithm=sorted(algorithms_for(jwk))[0])
    except (jwt.PyJWTError, ValueError, TypeError):
        return "the key cannot be read"
    if jwk["kty"] == "RSA" and _b64int_bits(jwk.get("n")) < MIN_RSA_BITS:
        return f"RSA keys must have at least {MIN_RSA_BITS} bits"
    return None


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: the key id of a key registered without one."""
    names = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({n: jwk[n] for n in names}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def usable_keys(document: Any) -> list[dict[str, Any]]:
    """The public signing keys of a JWKS document; anything else in it is passed over."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        return []
    return [k for k in keys[:MAX_KEYS] if key_problem(k) is None]


def registered_keys(document: Any) -> dict[str, Any]:
    """A JWKS a client registers, checked strictly (every key usable, public, of a known
    kind) and with each key's id set (its thumbprint where it had none)."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError('give a JWK Set: {"keys": [ ...public keys... ]}')
    if len(keys) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} keys")
    checked = []
    for number, key in enumerate(keys, 1):
        problem = key_problem(key)
        if problem is not None:
            raise ValueError(f"key {number}: {problem}")
        checked.append({**key, "kid": str(key.get("kid") or thumbprint(key))})
    kids = [k["kid"] for k in checked]
    if len(set(kids)) != len(kids):
        raise ValueError("two keys share a kid")
    return {"keys": checked}


def select_key(keys: Sequence[dict[str, Any]], kid: str | None, alg: str) -> jwt.PyJWK | None:
    """The key that verifies a token signed with `alg` naming `kid`: by its id, or, for a
    token naming none, the one key able to (never a guess between several)."""
    candidates = [
        k for k in keys if alg in algorithms_for(k) and (kid is None or k.get("kid") == kid)
    ]
    if len(candidates) != 1:
        return None
    return jwt.PyJWK(candidates[0], algorithm=alg)


def url_problem(url: str, *, configured: bool = False) -> str | None:
    """Why the hub will not fetch keys from `url`, or None. https only, no credentials in
    the URL. A URL a client registers may not name an address outside the public internet
    (the hub is not to be pointed at its own network by whoever registers a client); one
    the operator configures may, and may use plain http to the machine itself."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        return "not a valid URL"
    if parts.username or parts.password:
        return "credentials in the URL are not accepted"
    if not host:
        return "the URL names no host"
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if parts.scheme == "http" and loopback and configured:
        return None
    if parts.scheme != "https":
        return "only https URLs are accepted"
    if not configured and (loopback or (address is not None and not address.is_global)):
        return "private, loopback and link-local addresses are refused"
    return None


Resolver = Callable[[str], Awaitable[Sequence[str]]]


async def resolve(host: str) -> list[str]:
    """The addresses `host` resolves to (through the event loop's resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _public(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_global
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _KeySet:
    keys: tuple[dict[str, Any], ...]
    fetched_at: float
    expires_at: float


class JwksCache:
    """Key sets by URL, as this process last fetched them (see the module)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver = resolve,
    ) -> None:
        self.http = http
        self.clock = clock
        self.resolver = resolver
        self._sets: dict[str, _KeySet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def key(
        self, url: str, kid: str | None, alg: str, *, registered: bool = False
    ) -> jwt.PyJWK | None:
        """The key published at `url` that verifies a token naming `kid`, or None.
        `registered`: the URL is a client's, not the operator's (see the module)."""
        held = self._sets.get(url)
        if held is None or held.expires_at <= self.clock():
            held = await self._fetch(url, held, registered)
        found = select_key(held.keys, kid, alg)
        if found is None and kid is not None and self.clock() - held.fetched_at >= REFETCH_SECONDS:
            held = await self._fetch(url, held, registered)
            found = select_key(held.keys, kid, alg)
        return found

    def forget(self) -> None:
        self._sets.clear()

    async def _fetch(self, url: str, seen: _KeySet | None, registered: bool) -> _KeySet:
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            current = self._sets.get(url)
            if current is not None and current is not seen:
                return current  # fetched by another request while this one waited
            now = self.clock()
            try:
                if registered:
                    await self._check_public(url)
                keys, max_age = await self._download(url)
            except (httpx.HTTPError, ValueError) as exc:
                log.warning(
                    "key set not fetched",
                    extra={"host": urlsplit(url).hostname, "reason": type(exc).__name__},
                )
                if seen is None:
                    raise KeysUnavailable() from None
                # keep the keys held; ask again no sooner than the refetch interval
                kept = _KeySet(seen.keys, now, now + REFETCH_SECONDS)
                self._sets[url] = kept
                return kept
            fresh = _KeySet(tuple(keys), now, now + max_age)
            self._sets[url] = fresh
            return fresh

    async def _check_public(self, url: str) -> None:
        try:
            addresses = await self.resolver(urlsplit(url).hostname or "")
        except OSError:
            raise ValueError("host not found") from None
        if not addresses or not all(_public(a) for a in addresses):
            raise ValueError("the host resolves to an address outside the public internet")

    async def _download(self, url: str) -> tuple[list[dict[str, Any]], float]:
        headers = {"Accept": "application/jwk-set+json, application/json"}
        async with self.http.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise ValueError(f"status {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise ValueError("key set too large")
            cache_control = response.headers.get("cache-control", "")
        keys = usable_keys(json.loads(bytes(body)))
        if not keys:
            raise ValueError("no usable key in the set")
        match = _MAX_AGE.search(cache_control)
        max_age = float(match.group(1)) if match else DEFAULT_MAX_AGE
        return keys, min(max(max_age, MIN_MAX_AGE), MAX_MAX_AGE)
