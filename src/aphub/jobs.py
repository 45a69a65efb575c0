"""The hub's scheduled work, each job every so many minutes: in the web process when
APHUB_JOBS is on (the embedded default), or in `aphub jobs serve` beside web workers that
run with it off. Every job is safe in several processes at once: each run is one unit of
work, and a job that must not run twice at a time takes a lock and skips if it is held.

- attendance concerns (`aphub.attendance.concerns`), every APHUB_JOBS_INTERVAL_MINUTES;
- checkpoints of the event log (`aphub.events.checkpoints`), every
  APHUB_CHECKPOINT_INTERVAL_MINUTES;
- kept Idempotency-Key answers, which hold child data, deleted a day after (hourly);
- spent private_key_jwt assertion ids past their expiry, and oversight sessions a day
  past theirs (hourly).
- webhook deliveries (`aphub.webhooks.delivery`), a loop of its own that looks for work
  every APHUB_WEBHOOK_POLL_SECONDS and whenever this process seals events; their
  delivery log, listed for APHUB_WEBHOOK_LOG_DAYS (pruned hourly).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any

from aphub.attendance.concerns import run_concerns
from aphub.auth.assertions import EXPIRE_JTIS
from aphub.auth.keys import KeyRing
from aphub.config import Settings
from aphub.db import Database
from aphub.education.flags import run_flags
from aphub.events import checkpoints
from aphub.metrics import job_run
from aphub.oversight.sessions import EXPIRE_SESSIONS
from aphub.webhooks.delivery import Deliverer

log = logging.getLogger("aphub.jobs")

KEPT_ANSWERS_HOURS = 24
_EXPIRE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :hours)"
_EXPIRE_DELIVERIES = (
    "DELETE FROM webhook_deliveries WHERE recorded_at < now() - make_interval(days => :days)"
)


async def attendance_concerns(database: Database, _settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        return await run_concerns(unit)


async def education_flags(database: Database, _settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        return await run_flags(unit)


async def sign_checkpoint(database: Database, settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        signed = await checkpoints.sign(unit, KeyRing(settings.data_dir))
    return {"signed": signed["tree_size"] if signed else None}


async def expire_kept_answers(database: Database, _settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        status = await unit.execute(_EXPIRE, hours=KEPT_ANSWERS_HOURS)
    return {"deleted": int(status.split()[-1])}


async def expire_sign_in_records(database: Database, _settings: Settings) -> dict[str, Any]:
    """An assertion's jti needs keeping only while the assertion could be accepted."""
    async with database.writing() as unit:
        jtis = await unit.execute(EXPIRE_JTIS)
        sessions = await unit.execute(EXPIRE_SESSIONS)
    return {"assertions": int(jtis.split()[-1]), "sessions": int(sessions.split()[-1])}


async def expire_webhook_log(database: Database, settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        status = await unit.execute(_EXPIRE_DELIVERIES, days=settings.webhook_log_days)
    return {"deleted": int(status.split()[-1])}


async def deliver_webhooks(database: Database, settings: Settings) -> None:
    """The delivery loop, woken by every sealing pass of this process."""
    deliverer = Deliverer(database, settings)
    database.sealed_listeners.append(deliverer.wake)
    try:
        await deliverer.run()
    finally:
        database.sealed_listeners.remove(deliverer.wake)


@dataclass(frozen=True)
class Job:
    name: str
    every_minutes: Callable[[Settings], float]
    run: Callable[[Database, Settings], Awaitable[dict[str, Any]]]


JOBS: tuple[Job, ...] = (
    Job("attendance-concerns", lambda s: s.jobs_interval_minutes, attendance_concerns),
    Job("education-flags", lambda s: s.jobs_interval_minutes, education_flags),
    Job("event-checkpoint", lambda s: s.checkpoint_interval_minutes, sign_checkpoint),
    Job("expire-kept-answers", lambda _s: 60, expire_kept_answers),
    Job("expire-sign-in-records", lambda _s: 60, expire_sign_in_records),
    Job("expire-webhook-log", lambda _s: 60, expire_webhook_log),
)
WEBHOOK_DELIVERIES = "webhook-deliveries"
NAMES = (*(job.name for job in JOBS), WEBHOOK_DELIVERIES)


async def run_once(job: Job, database: Database, settings: Settings) -> None:
    """One run, counted in the metrics; a failure is logged, never raised (the next run
    tries again)."""
    try:
        with job_run(job.name):
            result = await job.run(database, settings)
        log.info("job ran", extra={"job": job.name, "result": result})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("job failed", extra={"job": job.name})


async def every(job: Job, database: Database, settings: Settings) -> None:
    while True:
        await run_once(job, database, settings)
        await asyncio.sleep(job.every_minutes(settings) * 60)


def _loops(
    database: Database, settings: Settings, only: Collection[str] | None
) -> dict[str, Coroutine[Any, Any, None]]:
    loops = {
        job.name: every(job, database, settings) for job in JOBS if only is None or job.name in only
    }
    if only is None or WEBHOOK_DELIVERIES in only:
        loops[WEBHOOK_DELIVERIES] = deliver_webhooks(database, settings)
    return loops


def start(database: Database, settings: Settings) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(loop, name=f"aphub-{name}")
        for name, loop in _loops(database, settings, None).items()
    ]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def serve(
    database: Database, settings: Settings, only: Collection[str] | None = None
) -> None:
    """Every job on its schedule (or only those named), until cancelled."""
    await asyncio.gather(*_loops(database, settings, only).values())
