"""Long commands say what they are doing: `aphub migrate` names each migration it applies
and how long it took, run as an operator would against a database of its own."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from aphub.progress import Counted, Steps
from tests.conftest import with_database

APHUB = Path(sys.executable).parent / "aphub"
FRESH = "aphub_progress"


@pytest.fixture
async def fresh_database(superuser_dsn: str) -> AsyncIterator[str]:
    admin = await asyncpg.connect(with_database(superuser_dsn, "postgres"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {FRESH} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {FRESH}")
        yield with_database(superuser_dsn, FRESH)
        await admin.execute(f"DROP DATABASE IF EXISTS {FRESH} WITH (FORCE)")
    finally:
        await admin.close()


async def test_migrate_reports_each_migration_and_the_time_it_took(fresh_database: str) -> None:
    env = {**os.environ, "APHUB_DATABASE_URL": fresh_database}
    process = await asyncio.create_subprocess_exec(
        str(APHUB),
        "migrate",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    progress = err.decode()

    assert process.returncode == 0, progress
    assert "migrate: Running upgrade  -> 0001" in progress
    assert "-> 0017" in progress
    assert "migrate: done in" in progress
    assert out.decode().strip() == "database migrated to head"


def test_each_step_says_when_it_starts_and_how_it_ended(
    capsys: pytest.CaptureFixture[str],
) -> None:
    steps = Steps("load", 2)
    with steps.step("first"):
        pass
    with pytest.raises(RuntimeError), steps.step("second"):
        raise RuntimeError("stopped")
    out, err = capsys.readouterr()

    assert out == ""  # stdout stays for results
    lines = [line.strip() for line in err.splitlines()]
    assert lines[0] == "load [1/2] first ..."
    assert re.fullmatch(r"load \[1/2\] first: done in \d+\.\ds", lines[1])
    assert lines[2] == "load [2/2] second ..."
    # a step that fails says so, rather than leaving its start as the last word
    assert re.fullmatch(r"load \[2/2\] second: FAILED after \d+\.\ds", lines[3])


def test_a_long_pass_reports_its_count_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    counted = Counted("verify-log", "events verified")
    counted(1_000_000)
    counted.finish()
    lines = [line.strip() for line in capsys.readouterr().err.splitlines()]

    assert re.fullmatch(
        r"verify-log: 1,000,000 events verified in \d+\.\ds( \([\d,]+/s\))?", lines[0]
    )
    assert re.fullmatch(r"verify-log: finished in \d+\.\ds", lines[1])
