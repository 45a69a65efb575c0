"""`--webhooks`: the scenarios run with a subscription on every event type, delivered to
a receiver on 127.0.0.1, and the delivery lag under that load reported.

The subscription belongs to the bench provider (the organisation `placement_review`
writes as), so each review it posts is an event to deliver. Delivery runs as production
runs it beside web workers, in `aphub jobs serve --only webhook-deliveries` (one process,
on the same cores as both servers and the load generator). The receiver records each
delivery's bytes as they arrive and answers 204; once the load has ended it verifies every one
with the `standardwebhooks` library (a receiver is another organisation's machine: its
verifying during the timed rounds took the cores the hub was measured on). The lag of an
event is its arrival less the moment it was written (`events.occurred_at`).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import asyncpg
import httptools
import httpx
import orjson
import standardwebhooks.webhooks
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

DRAIN_SECONDS = 180.0


@contextlib.contextmanager
def _clock_at(moment: float) -> Iterator[None]:
    """The `standardwebhooks` library's clock set to `moment` (its timestamp check reads
    `datetime.now`): a delivery verified after the run is judged as on arrival."""

    class _Then(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(moment, tz=tz)

    original = standardwebhooks.webhooks.datetime
    standardwebhooks.webhooks.datetime = _Then  # type: ignore[misc]
    try:
        yield
    finally:
        standardwebhooks.webhooks.datetime = original  # type: ignore[misc]


class _Recording(asyncio.Protocol):
    """One connection to the receiver: its bytes kept as they came, a 204 written and
    the time noted as each request completes (llhttp finds the ends); nothing parsed in
    Python until the load is over."""

    def __init__(self, receiver: Receiver) -> None:
        self.stream = bytearray()
        self.arrivals: list[float] = []
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.WriteTransport | None = None
        receiver.connections.append(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        self.stream += data
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.arrivals.append(time.time())
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 204 X\r\ncontent-length: 0\r\n\r\n")

    def requests(self) -> Iterator[tuple[dict[str, str], bytes, float]]:
        """(headers, body, arrival) of every complete request, in order."""
        view, at = bytes(self.stream), 0
        for arrived in self.arrivals:
            end = view.index(b"\r\n\r\n", at)
            headers = {}
            for line in view[at:end].decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            yield headers, view[end + 4 : end + 4 + length], arrived
            at = end + 4 + length


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 standing in for an integrator's machine: during
    the load it only records each delivery's bytes and time of arrival and answers 204
    (what it costs shares the hub's cores; an integrator's would not); `verify_all`
    checks everything afterwards."""

    secret: str = ""
    connections: list[_Recording] = field(default_factory=list)
    arrivals: dict[int, float] = field(default_factory=dict)  # sequence -> wall time
    repeats: int = 0
    out_of_order: int = 0
    unverified: int = 0
    _last: int = 0
    _server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> Receiver:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Recording(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bench/webhooks"

    @property
    def received(self) -> list[tuple[dict[str, str], bytes, float]]:
        """Every delivery, in order of arrival across connections."""
        every = [r for connection in self.connections for r in connection.requests()]
        return sorted(every, key=lambda r: r[2])

    def verify_all(self) -> None:
        """Verify what arrived, in arrival order: signatures, repeats, order."""
        webhook = Webhook(self.secret)
        for headers, body, arrived in self.received:
            try:
                # the timestamp is checked against the time of arrival, as a receiver
                # verifying on arrival would have
                with _clock_at(arrived):
                    webhook.verify(body, headers)
            except WebhookVerificationError:
                self.unverified += 1
                continue
            seq = int(orjson.loads(body)["sequence"])
            if seq in self.arrivals:
                self.repeats += 1
            else:
                self.arrivals[seq] = arrived
            if seq < self._last:
                self.out_of_order += 1
            self._last = max(self._last, seq)


@dataclass
class Delivery:
    """The receiver, the subscription and the delivering process of one bench run."""

    receiver: Receiver
    subscription_id: str
    headers: dict[str, str]
    start_seq: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def start(
    hub: httpx.AsyncClient,
    headers: dict[str, str],
    env: dict[str, str],
    repo: Path,
    log_path: Path,
) -> Delivery:
    """Subscribe the bench provider to every event type and start delivering."""
    receiver = await Receiver().start()
    r = await hub.post(
        "/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["*"], "description": "bench"},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    if r.status_code != 201:
        raise SystemExit(f"could not subscribe the bench receiver: {r.status_code} {r.text}")
    created = r.json()
    receiver.secret = created["secret"]
    process = _deliverer(env, repo, log_path)
    return Delivery(receiver, created["id"], headers, created["delivered_through"], process)


def _deliverer(env: dict[str, str], repo: Path, log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from aphub.cli import main; main()"]
    command += ["jobs", "serve", "--only", "webhook-deliveries"]
    log = log_path.open("wb")
    return subprocess.Popen(command, cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)


async def finish(delivery: Delivery, hub: httpx.AsyncClient, db: asyncpg.Connection) -> list[str]:
    """Wait for the backlog to drain, then the lag figures (lines for the report)."""
    load_ended = time.time()
    head = int(await db.fetchval("SELECT seq FROM event_chain_head WHERE id = 1"))
    path = f"/v1/webhook-subscriptions/{delivery.subscription_id}"
    through = delivery.start_seq
    while time.time() - load_ended < DRAIN_SECONDS:
        r = await hub.get(path, headers=delivery.headers)
        through = int(r.json()["delivered_through"])
        if through >= head:
            break
        await asyncio.sleep(0.5)
    drained = time.time() - load_ended
    delivery.stop()
    await delivery.receiver.stop()
    delivery.receiver.verify_all()
    received = delivery.receiver.arrivals
    rows = await db.fetch(
        "SELECT seq, extract(epoch FROM occurred_at) AS at FROM events "
        "WHERE seq > $1 AND seq <= $2",
        delivery.start_seq,
        head,
    )
    written = {int(r["seq"]): float(r["at"]) for r in rows}
    lags = sorted(received[s] - at for s, at in written.items() if s in received)
    lines = [
        f"webhooks: {len(written):,} events written during the run, {len(received):,} "
        f"delivered and verified ({delivery.receiver.repeats} repeats, "
        f"{delivery.receiver.out_of_order} out of order, "
        f"{delivery.receiver.unverified} failed verification)",
        f"webhooks: backlog {'drained' if through >= head else 'NOT drained'} "
        f"{drained:.1f} s after the load ended (cursor {through:,} of {head:,})",
    ]
    if lags:
        lines.append("webhooks: lag from write to verified arrival " + _figures(lags))
    return lines


def _figures(lags: list[float]) -> str:
    def at(q: float) -> Any:
        return lags[min(len(lags) - 1, int(q * len(lags)))]

    return (
        f"median {statistics.median(lags):.2f} s, p95 {at(0.95):.2f} s, "
        f"p99 {at(0.99):.2f} s, max {lags[-1]:.2f} s"
    )
