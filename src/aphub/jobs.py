"""The hub's scheduled work, each job every so many minutes: in the web process when
APHUB_JOBS is on (the embedded default), or in `aphub jobs serve` beside web workers that
run with it off. Every job is safe in several processes at once: each run is one unit of
work, and a job that must not run twice at a time takes a lock and skips if it is held.

- attendance concerns (`aphub.attendance.concerns`), every APHUB_JOBS_INTERVAL_MINUTES;
- checkpoints of the event log (`aphub.events.checkpoints`), every
  APHUB_CHECKPOINT_INTERVAL_MINUTES;
- kept Idempotency-Key answers, which hold child data, deleted a day after (hourly).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aphub.attendance.concerns import run_concerns
from aphub.auth.keys import KeyRing
from aphub.config import Settings
from aphub.db import Database
from aphub.events import checkpoints
from aphub.metrics import job_run

log = logging.getLogger("aphub.jobs")

KEPT_ANSWERS_HOURS = 24
_EXPIRE = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :hours)"


async def attendance_concerns(database: Database, _settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        return await run_concerns(unit)


async def sign_checkpoint(database: Database, settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        signed = await checkpoints.sign(unit, KeyRing(settings.data_dir))
    return {"signed": signed["tree_size"] if signed else None}


async def expire_kept_answers(database: Database, _settings: Settings) -> dict[str, Any]:
    async with database.writing() as unit:
        status = await unit.execute(_EXPIRE, hours=KEPT_ANSWERS_HOURS)
    return {"deleted": int(status.split()[-1])}


@dataclass(frozen=True)
class Job:
    name: str
    every_minutes: Callable[[Settings], float]
    run: Callable[[Database, Settings], Awaitable[dict[str, Any]]]


JOBS: tuple[Job, ...] = (
    Job("attendance-concerns", lambda s: s.jobs_interval_minutes, attendance_concerns),
    Job("event-checkpoint", lambda s: s.checkpoint_interval_minutes, sign_checkpoint),
    Job("expire-kept-answers", lambda _s: 60, expire_kept_answers),
)


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


def start(database: Database, settings: Settings) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(every(job, database, settings), name=f"aphub-{job.name}")
        for job in JOBS
    ]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def serve(database: Database, settings: Settings) -> None:
    """Every job on its schedule, until cancelled."""
    await asyncio.gather(*(every(job, database, settings) for job in JOBS))
