"""The per-client rate limit, shared by every worker and instance of the hub, and the
`RateLimit` / `RateLimit-Policy` headers that tell a client where it stands
(draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "default";q=6000;w=60` and
`RateLimit: "default";r=5820;t=17`).

A client may make `per_minute` requests in each minute of the clock (fixed windows, so
every worker and instance agrees when one ends). Counting in the database on every
request would make every read a write; instead each worker counts locally and
reconciles with the hub-wide count, an UNLOGGED table row per client and window, at
most about once a second: one statement for every client it served since
(`INSERT ... ON CONFLICT DO UPDATE SET count = count + the worker's new requests`, which
answers the new hub-wide total). A worker admits a request while the hub-wide total it
last heard, plus what it admitted since, is under the limit. Its view of a client is
refreshed before it decides when the view is more than a second old (so one request a
second per client and worker waits for a round trip), and what it admitted is added in
the background a second later.

Accuracy: every decision rests on a hub-wide count at most a second old, so the count
can pass the limit by at most what the *other* workers and instances admitted for the
client in that second (a client spreading 100 requests a second over 4 workers, at the
end of its quota: up to about 75 more in the minute); a client served by one worker is
held exactly. When the database cannot be reached, each worker holds the client to the
limit on its own counts, and adds them once it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aphub.errors import RateLimited
from aphub.metrics import RATE_LIMITED

if TYPE_CHECKING:
    from aphub.db import Database, WriteUnit

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
SYNC_SECONDS = 1.0
POLICY = "default"

_ADD = (
    "INSERT INTO rate_limit_counts AS c (client_id, window_start, count) "
    "SELECT * FROM unnest(:clients::varchar[], :windows::bigint[], :counts::bigint[]) "
    "ON CONFLICT (client_id, window_start) DO UPDATE SET count = c.count + EXCLUDED.count "
    "RETURNING client_id, window_start, count"
)
_EXPIRE = "DELETE FROM rate_limit_counts WHERE window_start < :before"


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a client stands in the current window."""

    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        policy = f'"{POLICY}";q={self.limit};w={WINDOW_SECONDS}'
        state = f'"{POLICY}";r={self.remaining};t={self.reset}'
        return [(b"ratelimit-policy", policy.encode()), (b"ratelimit", state.encode())]


@dataclass(slots=True)
class _Count:
    window: int  # Unix seconds at the window's start
    shared: int = 0  # the hub-wide count at the last reconciliation
    sending: int = 0  # admitted here, being added to the hub-wide count now
    pending: int = 0  # admitted here since
    synced_at: float = float("-inf")  # monotonic time of the last reconciliation

    @property
    def used(self) -> int:
        return self.shared + self.sending + self.pending


class RateLimiter:
    """One per app (so per worker); reconciles with the others through the database."""

    def __init__(self, per_minute: int, *, sync_seconds: float = SYNC_SECONDS) -> None:
        self.limit = per_minute
        self.sync_seconds = sync_seconds
        self._counts: dict[str, _Count] = {}
        self._dirty: set[str] = set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_sync = float("-inf")
        self._expired_before = 0

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    async def check(
        self, client_id: str, database: Database | None, now: float | None = None
    ) -> Quota:
        """Count one request of `client_id`, or refuse it (429) if its quota is spent.
        A view of the hub-wide count older than a second is refreshed first (the one
        request in a second that waits for the database)."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        reset = max(1, window + WINDOW_SECONDS - int(now))
        count = self._counts.get(client_id)
        if count is None or count.window != window:
            count = self._counts[client_id] = _Count(window)
        if database is not None and self._stale(count):
            async with self._lock:
                if self._stale(count):
                    await self._sync(database, {client_id})
        if count.used >= self.limit:
            RATE_LIMITED.inc()
            raise RateLimited(
                "Too many requests from this client; slow down and retry",
                headers={"Retry-After": str(reset)},
                quota=Quota(self.limit, 0, reset),
            )
        count.pending += 1
        self._dirty.add(client_id)
        if database is not None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._sync_soon(database), name="aphub-rate-limit")
        return Quota(self.limit, self.limit - count.used, reset)

    def _stale(self, count: _Count) -> bool:
        return time.monotonic() - count.synced_at >= self.sync_seconds

    async def _sync_soon(self, database: Database) -> None:
        """Add this worker's counts a second after the last time, and again while
        requests keep coming; then stop (an idle worker runs nothing)."""
        while self._dirty:
            delay = self._last_sync + self.sync_seconds - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._lock:
                await self._sync(database, set())

    async def settled(self) -> None:
        """Wait for the reconciliation under way, if any."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _sync(self, database: Database, also: set[str]) -> None:
        """Add what this worker admitted since the last time to the hub-wide counts, and
        learn the totals: one statement for every client served (and `also`)."""
        self._last_sync = time.monotonic()
        names, self._dirty = self._dirty | also, set()
        batch = []
        for client_id in names:
            count = self._counts.get(client_id)
            if count is not None:
                count.sending, count.pending = count.pending, 0
                count.synced_at = self._last_sync  # failed or not: retried in a second
                batch.append((client_id, count))
        if not batch:
            return
        try:
            async with database.writing() as unit:
                rows = await unit.fetch(
                    _ADD,
                    clients=[client_id for client_id, _ in batch],
                    windows=[count.window for _, count in batch],
                    counts=[count.sending for _, count in batch],
                )
                await self._expire(unit)
        except Exception:  # counts stay local and are added at the next sync
            log.warning("rate limit: the shared counts could not be updated", exc_info=True)
            for client_id, count in batch:
                count.pending += count.sending
                count.sending = 0
                if count.pending:
                    self._dirty.add(client_id)
            return
        totals = {(r["client_id"], r["window_start"]): r["count"] for r in rows}
        for client_id, count in batch:
            count.shared = max(count.shared, totals.get((client_id, count.window), 0))
            count.sending = 0
        self._forget_old_windows()

    async def _expire(self, unit: WriteUnit) -> None:
        """Drop past windows' rows, at most once a window per worker."""
        before = int(time.time() // WINDOW_SECONDS) * WINDOW_SECONDS - WINDOW_SECONDS
        if before > self._expired_before:
            self._expired_before = before
            await unit.execute(_EXPIRE, before=before)

    def _forget_old_windows(self) -> None:
        """Counts of past windows, once nothing of them is left to add."""
        window = int(time.time() // WINDOW_SECONDS) * WINDOW_SECONDS
        done = [k for k, c in self._counts.items() if c.window < window and not c.pending]
        for client_id in done:
            del self._counts[client_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
