"""The network as the tests see it: no packet leaves loopback.

Every test session replaces (`conftest.py`) how the webhook guard resolves names and
how the connection pool connects:

- `stub_resolve` answers from `NAMES` only (no DNS query is ever sent); a name not there
  does not resolve;
- `LoopbackOnly` is the connector beneath the guard: it records every connection it is
  asked for in `CONNECTIONS` and fails the test (`VIOLATIONS`, checked when the session
  ends, and an AssertionError at once) if one is to anything but a loopback address.

`Receiver` is a webhook receiver on 127.0.0.1: it verifies every delivery with the
`standardwebhooks` library (at the test's clock) and parses it with the CloudEvents SDK,
answering what the test says (204, or 503 while it is "down", or a redirect).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import standardwebhooks.webhooks
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from aphub.webhooks import guard
from aphub.webhooks.guard import P

NAMES: dict[str, list[str]] = {}
CONNECTIONS: list[tuple[str, int]] = []
RESOLVED: list[str] = []
VIOLATIONS: list[str] = []


async def stub_resolve(host: str, port: int) -> list[str]:
    RESOLVED.append(host)
    try:
        return list(NAMES[host.lower().rstrip(".")])
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "not a name the tests know") from None


class LoopbackOnly(guard.Connector):
    async def open(
        self,
        address: str,
        port: int,
        factory: Callable[[], P],
        *,
        tls: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> P:
        host = address
        CONNECTIONS.append((host, port))
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False  # a name: the guard should have resolved it
        if not loopback:
            VIOLATIONS.append(f"{host}:{port}")
            raise AssertionError(f"the hub was about to connect to {host}:{port}")
        return await super().open(address, port, factory, tls=tls, server_hostname=server_hostname)


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(guard, "resolve_name", stub_resolve)
        patch.setattr(guard, "connector", LoopbackOnly)
        yield
    assert not VIOLATIONS, f"connections attempted beyond loopback: {VIOLATIONS}"


class SimulatedClock:
    """Time that moves only when the test says."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def advance_to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


@contextlib.contextmanager
def verifying_at(clock: Callable[[], datetime]) -> Iterator[None]:
    """standardwebhooks checks `webhook-timestamp` against its own clock: give it the
    test's, as a receiver's clock agrees with the sender's."""

    class At(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return clock()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(standardwebhooks.webhooks, "datetime", At)
        yield


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    accepted: bool
    event: BaseCloudEvent | None = None

    @property
    def json(self) -> dict[str, Any]:
        return dict(orjson.loads(self.body))

    @property
    def sequence(self) -> int:
        return int(self.json["sequence"])


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 (see the module)."""

    secrets: dict[str, list[str]] = field(default_factory=dict)  # by path
    status: int = 204
    statuses: dict[str, int] = field(default_factory=dict)  # by path, over `status`
    headers: dict[str, str] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # verification or parsing
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, path: str = "/hooks/aphub") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def accepted(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.accepted]

    def check(self, delivery: Delivery) -> None:
        """Verify with every secret the test gave for the path (each must verify), then
        parse."""
        if not self.secrets.get(delivery.path):
            self.failures.append(f"no secret to verify a delivery to {delivery.path}")
        for secret in self.secrets.get(delivery.path, []):
            try:
                Webhook(secret).verify(delivery.body, delivery.headers)
            except WebhookVerificationError as exc:
                self.failures.append(f"{delivery.headers.get('webhook-id')}: {exc}")
        try:
            message = HTTPMessage(headers=delivery.headers, body=delivery.body)
            delivery.event = from_http_event(message)
        except Exception as exc:
            self.failures.append(f"not a CloudEvent: {exc!r}")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.statuses.get(path, self.status)
                delivery = Delivery(path, headers, body, 200 <= status < 300)
                self.check(delivery)
                self.deliveries.append(delivery)
                extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n{extra}\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
