"""`aphub jobs ...`: the scheduled jobs run once from the command line, or served in a
process of their own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Coroutine
from datetime import date, datetime, time
from typing import Any

from aphub.config import get_settings
from aphub.db import Database, resolve_database_url
from aphub.logs import configure_logging
from aphub.progress import Steps


def hub_database() -> Database:
    """The hub's database as the settings say (`APHUB_DATABASE_URL`, or embedded)."""
    settings = get_settings()
    return Database(resolve_database_url(settings), settings)


def _as_of(value: str | None) -> datetime | None:
    """`--as-of`: a past date means the end of that day (local time in England); today
    or nothing means now; a date and time is taken as it is. Never in the future."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(
            f"--as-of {value!r}: give a date (2026-09-14) or a date and time"
        ) from None
    if len(value) <= 10:  # a date
        if moment.date() > date.today():
            raise SystemExit("--as-of must not be in the future")
        if moment.date() == date.today():
            return None
        return datetime.combine(moment.date(), time(23, 59, 59))
    moment = moment.replace(tzinfo=None)
    if moment > datetime.now():
        raise SystemExit("--as-of must not be in the future")
    return moment


def cmd_jobs_run_concerns(args: argparse.Namespace) -> None:
    from aphub.attendance.concerns import run_concerns

    async def run() -> dict[str, object]:
        database = hub_database()
        steps = Steps("concerns", 1)
        try:
            with steps.step("computing attendance concerns (one transaction)"):
                async with database.writing() as uow:
                    return await run_concerns(uow, as_of=_as_of(args.as_of))
        finally:
            await database.dispose()

    print(json.dumps(asyncio.run(run()), indent=2))


def cmd_jobs_run_education(args: argparse.Namespace) -> None:
    from datetime import date

    from aphub.education.flags import run_flags

    as_of = date.fromisoformat(args.as_of) if args.as_of else None

    async def run() -> dict[str, object]:
        database = hub_database()
        try:
            async with database.writing() as uow:
                return await run_flags(uow, as_of=as_of)
        finally:
            await database.dispose()

    print(json.dumps(asyncio.run(run()), indent=2))


def cmd_jobs_serve(args: argparse.Namespace) -> None:
    """The scheduled jobs in a process of their own, for deployments that run the web
    workers with APHUB_JOBS=false: a run over a large area then never holds a worker that
    is answering requests. `--only` runs some of them (webhook delivery scaled apart)."""
    from aphub import jobs

    settings = get_settings()
    configure_logging(settings.log_level)
    only = set(args.only) if args.only else None

    async def run() -> None:
        database = hub_database()
        try:
            await database.check_roles()
            await jobs.serve(database, settings, only)
        finally:
            await database.dispose()

    for job in jobs.JOBS:
        if only is None or job.name in only:
            every = job.every_minutes(settings)
            print(f"aphub jobs: {job.name} every {every:g} min", flush=True)
    if only is None or jobs.WEBHOOK_DELIVERIES in only:
        poll = settings.webhook_poll_seconds
        print(f"aphub jobs: {jobs.WEBHOOK_DELIVERIES} looking for work every {poll:g} s")
    # each run is one transaction: one interrupted rolls back whole
    with contextlib.suppress(KeyboardInterrupt):
        run_forever(run())


def run_forever(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived process's work on uvloop, as uvicorn runs the web workers (the
    webhook deliveries' sockets cost a third less), or on asyncio's own loop without it."""
    try:
        import uvloop
    except ImportError:  # (uvicorn[standard] brings it where it builds)
        asyncio.run(main)
    else:
        uvloop.run(main)


def job_names() -> tuple[str, ...]:
    from aphub import jobs

    return jobs.NAMES
