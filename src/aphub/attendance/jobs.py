"""The hub's scheduled work, run inside the app (APHUB_JOBS=true): attendance concerns
every APHUB_JOBS_INTERVAL_MINUTES. Safe with several workers or replicas at once (see
`attendance.concerns`): each run is its own transaction, and one that finds another
holding the lock skips."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aphub.attendance.concerns import run_concerns
from aphub.db import Database

log = logging.getLogger("aphub.jobs")


async def run_concerns_once(database: Database) -> None:
    async with database.writing() as uow:
        result = await run_concerns(uow)
    log.info("attendance concerns", extra={"result": result})


async def concerns_every(database: Database, minutes: int) -> None:
    while True:
        try:
            await run_concerns_once(database)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed run is logged; the next one tries again
            log.exception("attendance concerns run failed")
        await asyncio.sleep(minutes * 60)


def start(database: Database, minutes: int) -> asyncio.Task[None]:
    return asyncio.create_task(concerns_every(database, minutes), name="aphub-concerns")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
