"""One HTTP POST of one delivery, through the guard, with timeouts and a size limit.

Deliveries are small requests, one after another per subscription, to few receivers: a
general HTTP client's layers cost several times the hub's own work per event (measured:
~1.2 ms of CPU per request through httpcore on anyio, ~0.35 ms through aiohttp, ~0.15 ms
here). So the sender speaks the little HTTP/1.1 it needs itself: it writes the request,
and llhttp (through `httptools`, the parser uvicorn serves the API with) reads the answer.

- every connection is opened by the guard's connector (`GuardedConnector.open`): to an
  address the guard has just passed, TLS verified against the URL's host name;
- a connection is kept for the next delivery to the same receiver while the receiver
  keeps it alive (at most `KEEPALIVE_SECONDS` idle); one that the receiver closed while
  idle is replaced, and the request sent again on a new one, once;
- redirects are never followed (a 3xx is a failed delivery), no proxy is taken from the
  environment, and at most `MAX_RESPONSE_BYTES` of an answer are read (and none kept):
  beyond that the connection is closed and the status, if it came, stands;
- the whole attempt, connecting included, must end within the subscription timeout,
  the connection alone within `CONNECT_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import cast

import httptools

from aphub.webhooks.guard import Connector, Guard, GuardedConnector, Refused, Target

MAX_RESPONSE_BYTES = 64 * 1024
CONNECT_TIMEOUT_SECONDS = 5.0
KEEPALIVE_SECONDS = 30.0
MAX_IDLE_PER_RECEIVER = 32
_UNSAFE = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    error: str | None = None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def outcome(self) -> str:
        if self.delivered:
            return "delivered"
        return "refused" if self.refused else "failed"


@functools.lru_cache(maxsize=1024)
def host_header(target: Target) -> str:
    host = target.host
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            host = f"[{host}]"
    except ValueError:
        pass
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def request_bytes(target: Target, headers: dict[str, str], body: bytes) -> bytes:
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"host: {host_header(target)}",
        *(f"{name}: {value}" for name, value in headers.items()),
        f"content-length: {len(body)}",
    ]
    if any(_UNSAFE.search(line) for line in lines):
        raise ValueError("a request line or header carries a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class CouldNotConnect(Exception):
    pass


class ConnectionLost(Exception):
    def __init__(self, answered: bool) -> None:
        super().__init__("the connection closed before the answer was complete")
        self.answered = answered  # some of the answer had arrived


class TooLarge(Exception):
    pass


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: a request at a time, its answer's status read by llhttp
    and its body counted, not kept."""

    def __init__(self) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.pending: asyncio.Future[int] | None = None
        self.status: int | None = None  # of the answer being read, once its head is in
        self.received = 0
        self.reusable = False
        self.closed = False
        self.idle_since = 0.0

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's or uvloop's (which does not derive from asyncio.Transport)
        self.transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        pending = self.pending
        if pending is None or pending.done():
            self.close()  # bytes nobody asked for: this connection is not to be trusted
            return
        room = MAX_RESPONSE_BYTES - self.received
        self.received += len(data)
        try:
            self.parser.feed_data(data if len(data) <= room else data[: max(room, 0)])
        except httptools.HttpParserError as error:
            self._settle_early(error)
            return
        if self.received > MAX_RESPONSE_BYTES:
            self._settle_early(TooLarge())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        pending = self.pending
        if pending is not None and not pending.done():
            if self.status is not None:  # an answer whose body ran to the close
                pending.set_result(self.status)
            else:
                pending.set_exception(ConnectionLost(answered=self.received > 0))

    # --- httptools callbacks -----------------------------------------------------------

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (103 Early Hints): the final follows
            self.status = None
            return
        self.reusable = self.parser.should_keep_alive()
        if self.pending is not None and not self.pending.done():
            self.pending.set_result(status)

    # --- ours --------------------------------------------------------------------------

    def _settle_early(self, error: Exception) -> None:
        """Stop reading: the status stands if it came, otherwise the error."""
        pending = self.pending
        if pending is not None and not pending.done():
            if self.status is not None and not (100 <= self.status < 200):
                pending.set_result(self.status)
            else:
                pending.set_exception(error)
        self.close()

    async def exchange(self, request: bytes) -> int:
        if self.transport is None or self.closed:
            raise ConnectionLost(answered=False)
        self.pending = asyncio.get_running_loop().create_future()
        self.status, self.received, self.reusable = None, 0, False
        try:
            self.transport.write(request)
            return await self.pending
        except BaseException:
            self.close()  # cancelled or failed midway: its state is unknown
            raise
        finally:
            self.pending = None

    def close(self) -> None:
        self.closed, self.reusable = True, False
        if self.transport is not None:
            self.transport.close()


class Sender:
    def __init__(
        self,
        guard: Guard,
        timeout_seconds: float,
        connector: Connector | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout_seconds
        self.connector: GuardedConnector = guard.connector(connector)
        self.tls = tls or ssl.create_default_context()
        self.idle: defaultdict[tuple[str, str, int], list[Connection]] = defaultdict(list)
        self.opened = 0  # connections opened, for tests and the curious

    async def close(self) -> None:
        for connections in self.idle.values():
            for connection in connections:
                connection.close()
        self.idle.clear()

    async def post(self, target: Target, headers: dict[str, str], body: bytes) -> Answer:
        try:
            async with asyncio.timeout(self.timeout):  # the whole attempt, however it trickles
                status = await self._exchange(target, request_bytes(target, headers, body))
        except Refused as refused:
            return Answer(None, str(refused), refused=True)
        except TimeoutError:
            return Answer(None, "no answer within the time allowed")
        except CouldNotConnect:
            return Answer(None, "could not connect")
        except ssl.SSLError:
            return Answer(None, "the TLS handshake failed")
        except TooLarge:
            return Answer(None, f"the answer was larger than {MAX_RESPONSE_BYTES} bytes")
        except (ConnectionLost, httptools.HttpParserError, OSError):
            return Answer(None, "the connection failed")
        if 200 <= status < 300:
            return Answer(status)
        if 300 <= status < 400:
            return Answer(status, f"HTTP {status}: redirects are not followed")
        return Answer(status, f"HTTP {status}")

    async def _exchange(self, target: Target, request: bytes) -> int:
        key = (target.scheme, target.host, target.port)
        kept = self._kept(key)
        if kept is not None:
            try:
                status = await kept.exchange(request)
            except ConnectionLost as lost:
                if lost.answered:
                    raise
                # closed by the receiver while idle: once more, on a new connection
            else:
                self._keep(key, kept)
                return status
        connection = await self._connect(target)
        status = await connection.exchange(request)
        self._keep(key, connection)
        return status

    async def _connect(self, target: Target) -> Connection:
        try:
            async with asyncio.timeout(min(CONNECT_TIMEOUT_SECONDS, self.timeout)):
                connection = await self.connector.open(target, Connection, self.tls)
        except ssl.SSLError:
            raise
        except OSError as error:
            raise CouldNotConnect() from error
        self.opened += 1
        return connection

    def _kept(self, key: tuple[str, str, int]) -> Connection | None:
        connections = self.idle.get(key)
        oldest = time.monotonic() - KEEPALIVE_SECONDS
        while connections and connections[0].idle_since <= oldest:
            connections.pop(0).close()
        while connections:
            connection = connections.pop()
            if not connection.closed and connection.idle_since > oldest:
                return connection
            connection.close()
        return None

    def _keep(self, key: tuple[str, str, int], connection: Connection) -> None:
        connections = self.idle[key]
        if (
            connection.closed
            or not connection.reusable
            or len(connections) >= MAX_IDLE_PER_RECEIVER
        ):
            connection.close()
            return
        connection.idle_since = time.monotonic()
        connections.append(connection)
