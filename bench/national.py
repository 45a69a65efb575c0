"""The national data set's history: the event log and attendance marks behind its
placements (`python -m bench.generate --scale national10`).

A hub that has served a million placements holds their histories: about ten events each
(requested, offered, started, reviewed every six weeks, end proposed, ended) and the
provider's attendance marks. The scale scenarios need both at that size: the feed's last
page against its first, verify-log over ten million events, the concerns job over a
whole LA's marks.

Events are sealed as the hub's sealer would seal them: each one's hash chained to the one
before with the hub's own `chain_hash`, so `aphub verify-log` passes over the whole set.
They stream from the placements a few thousand at a time (a server-side cursor), are
hashed in order and copied a chunk at a time: memory stays bounded. Marks are made by the
server itself (`INSERT ... SELECT` over a range of placements at a time), the fastest way
to twenty million rows. Both tables' indexes are dropped while they load and built again
after (one sort each, not ten million random inserts).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from aphub.events.log import chain_hash, hashed_fields
from aphub.models.events import GENESIS_HASH
from bench.generate import Log, Rows

EVENT_COLUMNS = (
    "id", "seq", "type", "occurred_at", "actor_organisation_id", "actor_client_id",
    "subject_type", "subject_id", "subject_version", "child_id", "data", "prev_hash", "hash",
)  # fmt: skip
STREAM = 5_000  # placements fetched from the cursor at a time
MARK_BATCH = 20_000  # placements whose marks one statement makes
MARK_SESSIONS = 26  # two sessions a day over the first thirteen school days
# each status's history after `requested`: the transitions that led to it
HISTORY = {
    "requested": (),
    "offered": (("placement.offered", "offered"),),
    "declined": (("placement.offered", "offered"), ("placement.declined", "declined")),
    "cancelled": (("placement.cancelled", "cancelled"),),
    "active": (("placement.offered", "offered"), ("placement.started", "active"))
    + (("placement.reviewed", "active"),) * 10,
    "ended": (("placement.offered", "offered"), ("placement.started", "active"))
    + (("placement.reviewed", "active"),) * 7
    + (("placement.end_proposed", "active"), ("placement.ended", "ended")),
}
PROVIDER_ACTS = {"placement.offered", "placement.declined", "placement.reviewed"}


class Indexes:
    """A table's indexes and unique constraints, dropped for a bulk load and rebuilt
    after from their own definitions."""

    def __init__(self, conn: asyncpg.Connection, table: str) -> None:
        self.conn, self.table = conn, table
        self.constraints: list[tuple[str, str]] = []
        self.indexes: list[str] = []

    async def drop(self) -> None:
        rows = await self.conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def, conindid FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype IN ('p', 'u')",
            self.table,
        )
        self.constraints = [(r["conname"], r["def"]) for r in rows]
        backing = [r["conindid"] for r in rows]
        self.indexes = [
            r["def"]
            for r in await self.conn.fetch(
                "SELECT pg_get_indexdef(indexrelid) AS def, indexrelid::regclass::text AS name "
                "FROM pg_index WHERE indrelid = $1::regclass AND NOT indexrelid = ANY($2)",
                self.table,
                backing,
            )
        ]
        for name in await self.conn.fetch(
            "SELECT indexrelid::regclass::text AS name FROM pg_index "
            "WHERE indrelid = $1::regclass AND NOT indexrelid = ANY($2)",
            self.table,
            backing,
        ):
            await self.conn.execute(f"DROP INDEX {name['name']}")
        for conname, _ in self.constraints:
            await self.conn.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{conname}"')

    async def rebuild(self, log: Log) -> None:
        started = time.perf_counter()
        await self.conn.execute("SET maintenance_work_mem = '1GB'")
        for conname, definition in self.constraints:
            await self.conn.execute(
                f'ALTER TABLE {self.table} ADD CONSTRAINT "{conname}" {definition}'
            )
        for definition in self.indexes:
            await self.conn.execute(definition)
        log(f"  {self.table}: indexes rebuilt in {time.perf_counter() - started:.1f}s")


def _client(organisation_id: uuid.UUID) -> str:
    return f"bench-{organisation_id.hex}"


async def load_events(url: str, conn: asyncpg.Connection, expected: int, log: Log) -> int:
    """Every placement's history, sealed into one valid chain; returns how many. (`url`:
    the database's, for the cursor's own connection.)"""
    indexes = Indexes(conn, "events")
    await indexes.drop()
    rows = Rows(conn, "events", EVENT_COLUMNS, log)
    seq, prev = 0, GENESIS_HASH
    started = time.perf_counter()
    reader = await asyncpg.connect(url)
    try:
        async with reader.transaction():
            cursor = reader.cursor(
                "SELECT id, child_id, commissioner_id, provider_id, status, created_at "
                "FROM placements ORDER BY id",
                prefetch=STREAM,
            )
            async for p in cursor:
                steps = (("placement.requested", "requested"), *HISTORY[p["status"]])
                at: datetime = p["created_at"]
                for version, (kind, status) in enumerate(steps, start=1):
                    seq += 1
                    actor = p["provider_id"] if kind in PROVIDER_ACTS else p["commissioner_id"]
                    fields: dict[str, Any] = {
                        "id": _event_id(at, seq),
                        "type": kind,
                        "occurred_at": at.astimezone(UTC),
                        "actor_organisation_id": actor,
                        "actor_client_id": _client(actor),
                        "subject_type": "placement",
                        "subject_id": p["id"],
                        "subject_version": version,
                        "child_id": p["child_id"],
                        "data": {"status": status},
                    }
                    digest = chain_hash(prev, hashed_fields(**fields, seq=seq))
                    row = (
                        fields["id"], seq, kind, fields["occurred_at"], actor,
                        fields["actor_client_id"], "placement", p["id"], version,
                        p["child_id"], json.dumps(fields["data"]), prev, digest,
                    )  # fmt: skip
                    await rows.add(row)
                    prev = digest
                    at += timedelta(days=14)
                if seq and seq % 1_000_000 < len(steps):
                    rate = seq / (time.perf_counter() - started)
                    log(f"  events: {seq:,}/~{expected:,} sealed ({rate:,.0f}/s)")
    finally:
        await reader.close()
    await rows.close()
    await conn.execute("UPDATE event_chain_head SET seq = $1, hash = $2 WHERE id = 1", seq, prev)
    await indexes.rebuild(log)
    return seq


def _event_id(at: datetime, seq: int) -> uuid.UUID:
    """A version 7 UUID for the instant `at`, unique by its sequence number."""
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    return uuid.UUID(int=(millis << 80) | (0x7 << 76) | (0b10 << 62) | seq)


MARKS = """
INSERT INTO attendance_marks (placement_id, date, session, mark, code, minutes_late, note,
                              recorded_at)
SELECT p.id, d.day, s.session, m.mark, m.code,
       CASE WHEN m.mark = 'late' THEN 10 END,
       CASE WHEN m.mark = 'absent_unauthorised' AND random() < 0.5 THEN 'Called home' END,
       d.day + time '16:00'
FROM (SELECT id, start_date, actual_end_date FROM placements
      WHERE status IN ('active', 'ended') AND id > $1 ORDER BY id LIMIT $2) p
CROSS JOIN LATERAL (
    SELECT p.start_date + (n / 5) * 7 + n % 5 AS day FROM generate_series(0, $3 / 2 - 1) n
) d
CROSS JOIN (VALUES ('am'), ('pm')) s (session)
CROSS JOIN LATERAL (
    SELECT CASE WHEN r < 0.85 THEN 'present' WHEN r < 0.88 THEN 'late'
                WHEN r < 0.93 THEN 'absent_authorised' ELSE 'absent_unauthorised' END AS mark,
           CASE WHEN r < 0.88 THEN 'B' WHEN r < 0.93 THEN 'C' ELSE 'O' END AS code
    FROM (SELECT random() + 0 * extract(epoch FROM d.day) AS r) x
) m
WHERE d.day <= coalesce(p.actual_end_date, current_date)
"""


async def load_marks(conn: asyncpg.Connection, log: Log) -> int:
    """Attendance marks for the first school days of every started placement."""
    indexes = Indexes(conn, "attendance_marks")
    await indexes.drop()
    started = time.perf_counter()
    total, after = 0, uuid.UUID(int=0)
    while True:
        last = await conn.fetchval(
            "SELECT max(id::text)::uuid FROM (SELECT id FROM placements WHERE status IN "
            "('active', 'ended') AND id > $1 ORDER BY id LIMIT $2) p",
            after,
            MARK_BATCH,
        )
        if last is None:
            break
        status = await conn.execute(MARKS, after, MARK_BATCH, MARK_SESSIONS)
        total += int(status.split()[-1])  # "INSERT 0 <rows>"
        after = last
        log(f"  attendance_marks: {total:,} ({time.perf_counter() - started:.0f}s)")
    count = int(await conn.fetchval("SELECT count(*) FROM attendance_marks"))
    log(f"  attendance_marks: {count:,} rows in {time.perf_counter() - started:.1f}s")
    await indexes.rebuild(log)
    return count
