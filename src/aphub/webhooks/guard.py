"""Where a webhook may be delivered: the guard against server-side request forgery.

A subscription names a URL the hub will POST to, unattended, from inside its network. An
owner (or whoever holds its credentials) must not be able to point it at the hub's own
services, a cloud metadata endpoint or anything else on a private network. So:

- https only; plain http only for hosts in `APHUB_WEBHOOK_ALLOWLIST` (tests, internal
  receivers); no credentials in the URL, no odd numeric host spellings;
- the host name is resolved once per connection, every address it resolves to is checked
  (loopback, private, link-local, shared, reserved, multicast and unspecified addresses
  are refused unless allowlisted; metadata addresses always), and the connection is made
  to the checked address itself, with the name kept for SNI and `Host`: a name that
  resolves differently a moment later (DNS rebinding) changes nothing;
- the check runs inside the connector the sender opens every connection through
  (`GuardedConnector.open`), so no connection is ever opened that it did not pass,
  whatever the URL parser or a redirect said (redirects are never followed anyway).

The same check answers 422 when a subscription is created or changed, and refuses a
delivery again at every attempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
P = TypeVar("P", bound=asyncio.Protocol)

RESOLVE_TIMEOUT_SECONDS = 5.0
MAX_URL_LENGTH = 2000
# Cloud instance metadata services: never a webhook receiver, allowlisted or not.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# a host of digits, dots and hex prefixes that is not a dotted quad ("2130706433",
# "0x7f.1", "127.1"): resolvers read these as addresses, people do not
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*\.?$", re.IGNORECASE)


class Refused(Exception):
    """The URL or the address it leads to is not one the hub delivers to. The message
    is for the subscription's owner (it names no address)."""


async def resolve_name(host: str, port: int) -> list[str]:
    """The addresses a name resolves to, by the system resolver (tests replace this)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class Connector:
    """Opens a TCP connection (TLS over it when given a context) to an address."""

    async def open(
        self,
        address: str,
        port: int,
        factory: Callable[[], P],
        *,
        tls: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> P:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            factory, address, port, ssl=tls, server_hostname=server_hostname
        )
        return protocol


def connector() -> Connector:
    """What opens connections once the guard has passed an address (tests replace this
    with one that refuses anything but loopback)."""
    return Connector()


@dataclass(frozen=True)
class Allowlist:
    """Host names (exact, any case) and IP networks (`10.1.0.0/16`, `127.0.0.1`)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Allowlist:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def covers_host(self, host: str) -> bool:
        """The URL's host itself is allowlisted (a name entry, or a literal address in a
        network entry): plain http is allowed to it."""
        literal = _literal(host)
        if literal is None:
            return host.rstrip(".").lower() in self.names
        return any(literal in network for network in self.networks)

    def covers_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class Target:
    """A parsed delivery URL: what the HTTP client is given."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA), as connected to and sent in SNI and Host
    port: int
    path: str  # path and query
    allowlisted: bool

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded(address: IPAddress) -> Iterable[IPAddress]:
    """The address and any IPv4 address it carries (mapped, 6to4, Teredo, NAT64)."""
    yield address
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None:
                yield inner
        if address.teredo is not None:
            yield address.teredo[1]
        if address in _NAT64:
            yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _kind(address: IPAddress) -> str:
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    return "an address that is not public"


def refusal(address: IPAddress, *, host_allowlisted: bool, allowlist: Allowlist) -> str | None:
    """Why the hub will not connect to `address` (None: it may)."""
    for candidate in _embedded(address):
        if candidate in METADATA:
            return "a cloud metadata address"
        if candidate.is_unspecified or candidate.is_multicast:
            return "an unspecified or multicast address"
    if host_allowlisted or allowlist.covers_address(address):
        return None
    for candidate in _embedded(address):
        if not candidate.is_global:
            return _kind(candidate)
    return None


class Guard:
    """The rules above, for one process: its allowlist and how it resolves names."""

    def __init__(self, allowlist: Allowlist, resolve: Resolver | None = None) -> None:
        self.allowlist = allowlist
        self._resolve = resolve

    def target(self, url: str) -> Target:
        """The URL parsed and its scheme checked (no name resolved yet)."""
        if len(url) > MAX_URL_LENGTH:
            raise Refused(f"The URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parsed = httpx.URL(url)
            host = parsed.raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeError, TypeError):
            raise Refused("The URL is not a valid absolute http(s) URL") from None
        if parsed.scheme not in ("https", "http") or not host:
            raise Refused("The URL must be an absolute https URL")
        if parsed.userinfo:
            raise Refused("The URL must not carry credentials; verify the signature instead")
        if _literal(host) is None and _NUMERIC_HOST.match(host):
            raise Refused("The URL's host is a number that is not a plain IP address")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if not 0 < port < 65536:
            raise Refused("The URL's port is out of range")
        allowlisted = self.allowlist.covers_host(host)
        if parsed.scheme == "http" and not allowlisted:
            raise Refused("Webhooks are delivered over https only")
        path = parsed.raw_path.decode("ascii") or "/"
        return Target(url, parsed.scheme, host.strip("[]"), port, path, allowlisted)

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Resolve `host` once and check every address it gives; refused if any is
        forbidden (a name that also resolves privately is not trusted for the rest)."""
        literal = _literal(host)
        if literal is not None:
            found = [literal]
        else:
            resolve = self._resolve or resolve_name
            try:
                async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                    names = await resolve(host, port)
                found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in names]
            except (OSError, TimeoutError, ValueError):
                raise Refused("The URL's host name does not resolve") from None
            if not found:
                raise Refused("The URL's host name does not resolve")
        host_allowlisted = self.allowlist.covers_host(host)
        for address in found:
            reason = refusal(address, host_allowlisted=host_allowlisted, allowlist=self.allowlist)
            if reason is not None:
                raise Refused(f"The URL's host resolves to {reason}")
        return found

    async def check(self, url: str) -> Target:
        """Everything short of connecting: what a subscription is checked with."""
        target = self.target(url)
        await self.addresses(target.host, target.port)
        return target

    def connector(self, inner: Connector | None = None) -> GuardedConnector:
        return GuardedConnector(self, inner or connector())


class GuardedConnector:
    """Connects only to an address the guard has just passed, and to nothing else; TLS
    is verified against the URL's host name, whatever address was connected to."""

    def __init__(self, guard: Guard, inner: Connector) -> None:
        self.guard = guard
        self.inner = inner

    async def open(self, target: Target, factory: Callable[[], P], tls: ssl.SSLContext) -> P:
        addresses = await self.guard.addresses(target.host, target.port)
        return await self.inner.open(
            str(addresses[0]),
            target.port,
            factory,
            tls=tls if target.tls else None,
            server_hostname=target.host if target.tls else None,
        )
