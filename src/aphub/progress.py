"""Progress of the long commands (`aphub migrate`, `aphub demo`, `aphub jobs ...`) on
stderr: each step as it starts, and how long it took, so an operator watching a large
migration or demo load sees it moving (stdout stays for results)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


class Steps:
    """`[2/6] children ... done in 1.4s`, one line as a step starts and one as it ends."""

    def __init__(self, command: str, total: int) -> None:
        self.command = command
        self.total = total
        self.done = 0
        self.started = time.perf_counter()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.done += 1
        prefix = f"{self.command} [{self.done}/{self.total}] {name}"
        say(f"{prefix} ...")
        began = time.perf_counter()
        try:
            yield
        except BaseException:
            # the traceback follows; this line says which step it ended and when
            say(f"{prefix}: FAILED after {time.perf_counter() - began:.1f}s")
            raise
        say(f"{prefix}: done in {time.perf_counter() - began:.1f}s")

    def finish(self) -> None:
        say(f"{self.command}: finished in {time.perf_counter() - self.started:.1f}s")


@contextmanager
def migrations_reported() -> Iterator[None]:
    """Alembic's line for each migration it applies (`Running upgrade 0016 -> 0017, ...`)
    on stderr while the block runs, with the time the whole took."""
    logger = logging.getLogger("alembic.runtime.migration")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  migrate: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    began = time.perf_counter()
    try:
        yield
    except BaseException:
        say(f"migrate: FAILED after {time.perf_counter() - began:.1f}s")
        raise
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    say(f"migrate: done in {time.perf_counter() - began:.1f}s")


class Counted:
    """`verify-log: 2,000,000 events checked in 41.3s (48,400/s)`: progress of a long
    pass over rows, for a callback that hears the running count."""

    def __init__(self, command: str, noun: str) -> None:
        self.command = command
        self.noun = noun
        self.started = time.perf_counter()

    def __call__(self, count: int) -> None:
        elapsed = time.perf_counter() - self.started
        rate = f" ({count / elapsed:,.0f}/s)" if elapsed > 0 else ""
        say(f"{self.command}: {count:,} {self.noun} in {elapsed:.1f}s{rate}")

    def finish(self) -> None:
        say(f"{self.command}: finished in {time.perf_counter() - self.started:.1f}s")
