"""The delivery job: every subscription's events, in order, at least once.

A pass claims the subscriptions that are due (enabled, their organisation active, events
after their cursor, no failure backing off) with a lease taken under `FOR UPDATE SKIP
LOCKED`, so processes running this job side by side never deliver to one subscription at
once. For each claimed subscription it reads a batch of events after the cursor through
the feed itself (`aphub.events.feed.read_feed`: the same sharing filter and redaction as
`GET /v1/events`, evaluated now, so a child whose relationship with the organisation has
ended is no longer delivered, even an event that failed before), sends the ones its
filters take, one at a time, and stops at the first failure: the cursor moves only past
what was acknowledged (or what the subscription does not take), so the next attempt
starts with the event that failed. A failure backs off exponentially with jitter;
failing for `APHUB_WEBHOOK_DISABLE_AFTER_HOURS` (at least a day) disables the
subscription, and that is an event its organisation receives through the feed.

Time comes from `clock` (tests move it by hours without sleeping); randomness for the
jitter from `jitter`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from aphub.auth.principal import Principal
from aphub.config import Settings
from aphub.db import Database
from aphub.events.feed import read_feed
from aphub.events.log import Actor, record
from aphub.ids import uuid7
from aphub.webhooks import signing
from aphub.webhooks.guard import Allowlist, Guard, Refused, Target
from aphub.webhooks.sender import Answer, Sender
from aphub.webhooks.service import SUBJECT, matches

log = logging.getLogger("aphub.webhooks")

Clock = Callable[[], datetime]
BATCH = 100  # events read per claim
LEASE = timedelta(minutes=5)
LINGER_SECONDS = 0.1  # after a subscription caught up, before claiming again
SEND_BUDGET_SECONDS = 60.0  # no new send starts after this, well inside the lease
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
MIN_FAILURES_TO_DISABLE = 5
JOB = "system:webhook-deliveries"


def system_clock() -> datetime:
    return datetime.now(UTC)


def backoff(failures: int, jitter: Callable[[], float]) -> timedelta:
    """Before the next attempt after `failures` in a row: 5 s, 10 s, 20 s ... up to an
    hour, each between half and all of that (so receivers coming back are not hit by
    every sender at once)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(failures - 1, 30))
    return timedelta(seconds=ceiling / 2 + jitter() * ceiling / 2)


_CLAIM = (
    "WITH due AS (SELECT s.id, o.type AS organisation_type FROM webhook_subscriptions s "
    "JOIN organisations o ON o.id = s.organisation_id WHERE s.enabled AND o.active "
    "AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= :now) "
    "AND (s.leased_until IS NULL OR s.leased_until <= :now) "
    "AND s.delivered_seq < (SELECT seq FROM event_chain_head WHERE id = 1) "
    "ORDER BY s.next_attempt_at NULLS FIRST LIMIT :limit FOR UPDATE OF s SKIP LOCKED) "
    "UPDATE webhook_subscriptions s SET lease_token = :token, leased_until = :until "
    "FROM due WHERE s.id = due.id RETURNING s.id, s.organisation_id, due.organisation_type, "
    "s.url, s.event_types, s.secret, s.previous_secret, s.previous_secret_expires_at, "
    "s.delivered_seq, s.generation, s.failing_since, s.consecutive_failures, s.version"
)
_LOCKED = (
    "SELECT generation, lease_token, version FROM webhook_subscriptions WHERE id = :id FOR UPDATE"
)
_RELEASE = "UPDATE webhook_subscriptions SET lease_token = NULL, leased_until = NULL WHERE id = :id"
_ADVANCE = (
    "UPDATE webhook_subscriptions SET delivered_seq = :cursor, lease_token = NULL, "
    "leased_until = NULL, consecutive_failures = :failures, failing_since = :failing_since, "
    "next_attempt_at = :next_attempt_at, "
    "last_delivered_at = coalesce(:delivered_at, last_delivered_at) WHERE id = :id"
)
_DISABLE = (
    "UPDATE webhook_subscriptions SET enabled = false, disabled_reason = 'failing', "
    "disabled_at = :now, next_attempt_at = NULL, version = version + 1, updated_at = now() "
    "WHERE id = :id "
    "RETURNING version"
)
_LOG = (
    "INSERT INTO webhook_deliveries (id, subscription_id, event_id, seq, event_type, attempt, "
    "attempted_at, duration_ms, status_code, outcome, error, next_attempt_at) "
    "SELECT u.id, :subscription_id, u.event_id, u.seq, u.event_type, u.attempt, "
    "u.attempted_at, u.duration_ms, u.status_code, u.outcome, u.error, u.next_attempt_at "
    "FROM unnest(:ids::uuid[], :event_ids::uuid[], :seqs::bigint[], :types::text[], "
    ":attempts::int[], :at::timestamptz[], :durations::int[], :statuses::int[], "
    ":outcomes::text[], :errors::text[], :next::timestamptz[]) AS u(id, event_id, seq, "
    "event_type, attempt, attempted_at, duration_ms, status_code, outcome, error, "
    "next_attempt_at)"
)


@dataclass
class Lease:
    """A claimed subscription, as it stood when claimed."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_type: str
    url: str
    event_types: list[str]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    delivered_seq: int
    generation: int
    failing_since: datetime | None
    consecutive_failures: int
    version: int
    token: uuid.UUID

    def secrets_at(self, now: datetime) -> list[str]:
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass
class Attempt:
    event_id: str
    seq: int
    event_type: str
    attempt: int
    attempted_at: datetime
    duration_ms: int
    answer: Answer
    next_attempt_at: datetime | None = None


@dataclass
class Batch:
    """What one claim of one subscription did."""

    cursor: int
    attempts: list[Attempt] = field(default_factory=list)
    failed: bool = False
    more: bool = False  # stopped with events left (a full batch, or the time budget)

    @property
    def delivered(self) -> int:
        return sum(1 for a in self.attempts if a.answer.delivered)


class Deliverer:
    """The job for one process (see the module)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        guard: Guard | None = None,
        clock: Clock = system_clock,
        jitter: Callable[[], float] = random.random,
        sender: Sender | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.guard = guard or Guard(Allowlist.parse(settings.webhook_allowlist))
        self.clock = clock
        self.jitter = jitter
        self.sender = sender or Sender(self.guard, settings.webhook_timeout_seconds)
        self.disable_after = timedelta(hours=settings.webhook_disable_after_hours)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New events are sealed: look for work now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        await self.sender.close()

    # --- a pass ------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Lease]:
        now, token = self.clock(), uuid7()
        async with self.database.writing() as unit:
            rows = await unit.fetch(_CLAIM, now=now, until=now + LEASE, limit=limit, token=token)
        return [Lease(**dict(r), token=token) for r in rows]

    async def run_once(self) -> Batch | None:
        """Claim what is due and deliver a batch to each (tests drive the job with this);
        the batches' total, or None when nothing was due."""
        leases = await self.claim(self.settings.webhook_concurrency)
        if not leases:
            return None
        batches = await asyncio.gather(*(self.deliver(lease) for lease in leases))
        total = Batch(cursor=0)
        for batch in batches:
            total.attempts += batch.attempts
            total.failed |= batch.failed
            total.more |= batch.more
        return total

    async def deliver(self, lease: Lease) -> Batch:
        principal = Principal(
            lease.organisation_id, lease.organisation_type, JOB, frozenset({"events:read"})
        )
        async with self.database.reading() as unit:
            items, resume = await read_feed(unit, principal, lease.delivered_seq, BATCH)
        batch = await self._send(lease, items, resume)
        await self._finish(lease, batch)
        return batch

    async def _send(self, lease: Lease, items: list[dict[str, Any]], resume: int) -> Batch:
        batch = Batch(cursor=lease.delivered_seq, more=len(items) >= BATCH)
        failures = lease.consecutive_failures
        target: Target | Refused | None = None
        budget = time.monotonic() + SEND_BUDGET_SECONDS
        for item in items:
            seq = int(item["sequence"])
            if not matches(lease.event_types, item["type"]):
                batch.cursor = seq
                continue
            if time.monotonic() > budget:
                batch.more = True
                return batch
            if target is None:
                try:
                    target = self.guard.target(lease.url)
                except Refused as refused:
                    target = refused
            now = self.clock()
            started = time.monotonic()
            if isinstance(target, Refused):
                answer = Answer(None, str(target), refused=True)
            else:
                body = orjson.dumps(item)
                headers = signing.headers(lease.secrets_at(now), item["id"], now, body.decode())
                answer = await self.sender.post(target, headers, body)
            attempt = Attempt(
                item["id"],
                seq,
                item["type"],
                failures + 1,
                now,
                int((time.monotonic() - started) * 1000),
                answer,
            )
            batch.attempts.append(attempt)
            if not answer.delivered:
                batch.failed = True
                return batch  # head of line: nothing after it until it is delivered
            batch.cursor, failures = seq, 0
        batch.cursor = max(batch.cursor, resume)
        return batch

    async def _finish(self, lease: Lease, batch: Batch) -> None:
        """Record the attempts and move the subscription on, unless it changed meanwhile
        (a replay, a new URL: its generation moved) or the lease was lost."""
        now = self.clock()
        failures, failing_since, disable = 0, None, False
        next_at: datetime | None = None
        if batch.failed:
            failures = lease.consecutive_failures + 1
            if batch.delivered:
                failures = 1  # the batch got further before this event failed
            failing_since = lease.failing_since if failures > 1 and lease.failing_since else now
            disable = (
                failures >= MIN_FAILURES_TO_DISABLE and now - failing_since >= self.disable_after
            )
            next_at = now + backoff(failures, self.jitter)
            batch.attempts[-1].next_attempt_at = None if disable else next_at
        delivered_at = max(
            (a.attempted_at for a in batch.attempts if a.answer.delivered), default=None
        )
        async with self.database.writing() as unit:
            row = await unit.fetchrow(_LOCKED, id=lease.id)
            if row is None:
                return  # deleted meanwhile: its log went with it
            if batch.attempts:
                await unit.execute(_LOG, subscription_id=lease.id, **_log_columns(batch))
            if row["lease_token"] != lease.token:
                return  # another process took over after the lease ran out
            if row["generation"] != lease.generation:
                await unit.execute(_RELEASE, id=lease.id)
                return
            await unit.execute(
                _ADVANCE,
                id=lease.id,
                cursor=batch.cursor,
                failures=failures,
                failing_since=failing_since,
                next_attempt_at=next_at,
                delivered_at=delivered_at,
            )
            if disable:
                version = await unit.fetchval(_DISABLE, id=lease.id, now=now)
                record(
                    unit,
                    type=f"{SUBJECT}.disabled",
                    subject_type=SUBJECT,
                    subject_id=lease.id,
                    subject_version=version,
                    actor=Actor.system("webhook-deliveries"),
                    data={
                        "organisation_id": str(lease.organisation_id),
                        "subscription_id": str(lease.id),
                        "reason": "failing",
                        "failing_since": failing_since.isoformat() if failing_since else None,
                        "consecutive_failures": failures,
                        "undelivered_from": batch.attempts[-1].seq,
                    },
                )

    # --- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled: claim when events are sealed in this process, when
        the poll interval passes, and at once when a delivery ends with events left;
        one that caught up is followed by the next claim only `LINGER_SECONDS` later,
        so a steady stream is delivered in batches rather than one claim, feed read and
        log write per event or two."""
        loop = asyncio.get_running_loop()
        running: set[asyncio.Task[Batch]] = set()
        claim_at = 0.0  # (loop time) no claim before this, unless woken
        try:
            while True:
                free = self.settings.webhook_concurrency - len(running)
                if free > 0 and loop.time() >= claim_at:
                    with _logged("claiming webhook deliveries failed"):
                        for lease in await self.claim(free):
                            running.add(asyncio.create_task(self.deliver(lease)))
                self._wake.clear()
                waker = asyncio.ensure_future(self._wake.wait())
                wait = max(claim_at - loop.time(), 0.0) or self.settings.webhook_poll_seconds
                await asyncio.wait(
                    {*running, waker}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                woken = waker.done()
                waker.cancel()
                ended = [t for t in running if t.done()]
                for task in ended:
                    running.discard(task)
                    _report(task)
                if woken or any(_has_more(t) for t in ended):
                    claim_at = 0.0
                elif ended:
                    claim_at = loop.time() + LINGER_SECONDS
        finally:
            for task in running:
                task.cancel()
            for task in running:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.close()


def _log_columns(batch: Batch) -> dict[str, list[Any]]:
    attempts = batch.attempts
    return {
        "ids": [uuid7() for _ in attempts],
        "event_ids": [uuid.UUID(a.event_id) for a in attempts],
        "seqs": [a.seq for a in attempts],
        "types": [a.event_type for a in attempts],
        "attempts": [a.attempt for a in attempts],
        "at": [a.attempted_at for a in attempts],
        "durations": [a.duration_ms for a in attempts],
        "statuses": [a.answer.status for a in attempts],
        "outcomes": [a.answer.outcome for a in attempts],
        "errors": [a.answer.error for a in attempts],
        "next": [a.next_attempt_at for a in attempts],
    }


@contextlib.contextmanager
def _logged(message: str) -> Iterator[None]:
    try:
        yield
    except Exception:  # the next pass tries again; a lease left behind runs out
        log.exception(message)


def _has_more(task: asyncio.Task[Batch]) -> bool:
    return not task.cancelled() and task.exception() is None and task.result().more


def _report(task: asyncio.Task[Batch]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("a webhook delivery batch failed", exc_info=error)
        return
    batch = task.result()
    if batch.failed:
        log.info("webhook delivery failed; retried with backoff")
