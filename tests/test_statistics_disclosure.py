"""Acceptance: no sequence of statistics requests reveals a count under 5.

The attacker asks every table the hub publishes (every dimension, nationally and for
each LA, as a dashboard and as each LA, for the year and for single months) and
differences them: totals against cells, national against the LAs, one period against
another, and the same questions before and after one child is added. The proof is
indistinguishability: two worlds that differ only in a small count (one child counted as
`medical` rather than `semh` in an LA with three medical placements) or only in where the
added child is counted answer every one of those requests identically, so nothing the
attacker can compute from the answers tells them apart.

The fixture puts the complement of the small cell on a rounding boundary (7 against 8),
where rounding alone does not hide it: without secondary suppression the worlds differ.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Organisation
from aphub.statistics import disclosure
from aphub.statistics.dimensions import Dimension
from tests.factories import auth, make_org, token_for

YEAR = "2024/25"
START = date(2024, 10, 1)
PERIODS = (YEAR, "2024-10", "2024-11", "2025/26")


class World:
    def __init__(self, superuser: asyncpg.Connection, orgs: dict[str, Organisation]) -> None:
        self.superuser = superuser
        self.orgs = orgs

    async def add(self, la: str, reason: str, n: int) -> list[uuid.UUID]:
        """`n` children of `la` in AP from START for `reason` (ids of their placements)."""
        rows = await self.superuser.fetch(
            "WITH c AS (INSERT INTO children (id, legal_first_name, legal_last_name, "
            "date_of_birth, home_la_id, year_group) SELECT gen_random_uuid(), 'Test', "
            "'Child', '2011-01-01', $1, '10' FROM generate_series(1, $2) RETURNING id) "
            "INSERT INTO placements (id, child_id, commissioner_id, provider_id, status, "
            "legal_basis, primary_reason, start_date, planned_end_date) "
            "SELECT gen_random_uuid(), c.id, $3, $4, 'active', 's19', $5, $6, $7 FROM c "
            "RETURNING id",
            self.orgs[la].id,
            n,
            self.orgs[f"school_{la}"].id,
            self.orgs["provider"].id,
            reason,
            START,
            START + timedelta(days=300),
        )
        return [r["id"] for r in rows]

    async def move(self, placement_id: uuid.UUID, reason: str) -> None:
        await self.superuser.execute(
            "UPDATE placements SET primary_reason = $2 WHERE id = $1", placement_id, reason
        )


async def make_world(db: Database, superuser: asyncpg.Connection) -> World:
    orgs: dict[str, Organisation] = {}
    for key, code in (("la_a", "202"), ("la_b", "203")):
        orgs[key] = await make_org(db, "local_authority", la_code=code)
        orgs[f"school_{key}"] = await make_org(db, "school", local_authority_id=orgs[key].id)
    orgs["provider"] = await make_org(db, "provider", local_authority_id=orgs["la_a"].id)
    await superuser.execute(
        "INSERT INTO provider_profiles (organisation_id, registration_status) VALUES ($1, 'pru')",
        orgs["provider"].id,
    )
    orgs["dashboard"] = await make_org(db, "dashboard")
    world = World(superuser, orgs)
    # LA A: 3 medical (the small count), 7 semh (its complement, on a rounding boundary),
    # 12 permanently excluded; LA B: 9 semh, 20 permanently excluded, 6 suspended
    for la, reason, n in (
        ("la_a", "medical", 3),
        ("la_a", "semh", 7),
        ("la_a", "permanent_exclusion", 12),
        ("la_b", "semh", 9),
        ("la_b", "permanent_exclusion", 20),
        ("la_b", "suspension", 6),
    ):
        await world.add(la, reason, n)
    return world


async def everything_published(
    client: httpx.AsyncClient, app: FastAPI, world: World
) -> dict[tuple[str, ...], Any]:
    """Every table, as every caller may ask for it (computed_at aside)."""
    answers: dict[tuple[str, ...], Any] = {}
    callers = {
        "dashboard": (world.orgs["dashboard"], (None, "202", "203")),
        "la_a": (world.orgs["la_a"], (None,)),
        "la_b": (world.orgs["la_b"], (None,)),
    }
    for who, (org, filters) in callers.items():
        headers = auth(token_for(app, org))
        for dimension, period, la in itertools.product(Dimension, PERIODS, filters):
            params = {"period": period} | ({"local_authority": la} if la else {})
            r = await client.get(f"/v1/statistics/{dimension}", params=params, headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            body.pop("computed_at")
            answers[(who, dimension, period, la or "")] = body
    return answers


def figures(answers: dict[tuple[str, ...], Any]) -> list[dict[str, Any]]:
    return [f for a in answers.values() for f in (a["total"], *a["cells"])]


async def test_no_sequence_of_statistics_requests_reveals_a_count_under_5(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    world = await make_world(db, superuser)
    medical = await superuser.fetch(
        "SELECT p.id FROM placements p WHERE p.primary_reason = 'medical' ORDER BY p.id"
    )
    first = await everything_published(client, app, world)

    # no figure anyone receives is a count under 5, and every one is rounded
    for figure in figures(first):
        assert figure["suppressed"] == (figure["count"] is None)
        assert figure["count"] is None or figure["count"] % 5 == 0, figure

    # totals against cells: no sum (a table's cells and its total, or the LAs' figures
    # and the national one) leaves exactly one figure withheld
    national = first[("dashboard", "reason", YEAR, "")]
    by_la = {la: first[("dashboard", "reason", YEAR, la)] for la in ("202", "203")}
    for table in (national, *by_la.values()):
        withheld = [f for f in (table["total"], *table["cells"]) if f["suppressed"]]
        assert len(withheld) != 1, table
    for i, cell in enumerate(national["cells"]):
        column = [cell, *(t["cells"][i] for t in by_la.values())]
        assert sum(f["suppressed"] for f in column) != 1, column

    # the answer known by construction (unrounded: 3, 7 | 9, 6 withheld)
    shown = {c["category"]: c["count"] for c in national["cells"]}
    assert shown["permanent_exclusion"] == 30
    assert shown["semh"] == 15
    assert shown["medical"] is None
    assert shown["suspension"] is None
    assert national["total"] == {"count": 55, "suppressed": False}
    a = {c["category"]: c["count"] for c in by_la["202"]["cells"]}
    assert a["medical"] is None
    assert a["semh"] is None
    assert a["permanent_exclusion"] == 10

    # the small count differs (3 medical in LA A, or 2), and nothing answered differs
    await world.move(medical[0]["id"], "semh")
    assert await everything_published(client, app, world) == first
    await world.move(medical[0]["id"], "medical")

    # one child added between two sets of requests: whether counted as medical or as
    # semh, every answer is the same, so the difference does not say which
    (added,) = await world.add("la_a", "medical", 1)
    as_medical = await everything_published(client, app, world)
    await world.move(added, "semh")
    assert await everything_published(client, app, world) == as_medical


def _sums(rows: list[str], columns: list[str]) -> list[list[disclosure.Position]]:
    sums = [[*(disclosure.cell(r, c) for c in columns), disclosure.row_total(r)] for r in rows]
    sums += [[*(disclosure.cell(r, c) for r in rows), disclosure.column_total(c)] for c in columns]
    sums.append([*(disclosure.column_total(c) for c in columns), disclosure.GRAND])
    sums.append([*(disclosure.row_total(r) for r in rows), disclosure.GRAND])
    return sums


def derive_by_differencing(
    table: disclosure.Protected, sums: list[list[disclosure.Position]]
) -> dict[disclosure.Position, int]:
    """What an attacker holding exact (unrounded) figures works out: repeatedly, a sum
    with one figure unknown gives it as the total minus the others."""
    known = {p: v for p, v in table.values.items() if p not in table.withheld}
    while True:
        found = {}
        for members in sums:
            unknown = [m for m in members if m not in known]
            if len(unknown) != 1:
                continue
            (missing,) = unknown
            total, parts = members[-1], members[:-1]
            if missing == total:
                found[missing] = sum(known[m] for m in parts)
            else:
                found[missing] = known[total] - sum(known[m] for m in parts if m != missing)
        if not found:
            return {p: v for p, v in known.items() if p in table.withheld}
        known |= found


def test_secondary_suppression_stops_differencing_even_without_rounding() -> None:
    """Rounding alone blurs a difference; secondary suppression must not rest on it. With
    exact figures published (base 1), an attacker differencing every row, column and
    total of random tables never recovers a withheld count of 1 to 4."""
    generator = random.Random(20261203)
    for _ in range(300):
        rows = [f"la{i}" for i in range(generator.randint(1, 6))]
        columns = [f"c{j}" for j in range(generator.randint(2, 8))]
        counts = {
            (r, c): generator.choice([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 20, 40])
            for r in rows
            for c in columns
        }
        table = disclosure.protect(counts, rows, columns, base=1)
        for position, value in table.values.items():
            if 0 < value < disclosure.SUPPRESS_UNDER:
                assert position in table.withheld, (position, counts)
        recovered = derive_by_differencing(table, _sums(rows, columns))
        small = {p: v for p, v in recovered.items() if 0 < v < disclosure.SUPPRESS_UNDER}
        assert not small, (small, counts)


def test_la_populations_are_withheld_alike_in_every_table() -> None:
    """An LA's population is the total of its row in every dimension's table: withheld in
    all of them or none, or one table's total gives away what another hides."""
    populations = {"a": 3, "b": 12, "c": 40}
    margin = disclosure.protect_margin(populations)
    assert disclosure.row_total("a") in margin
    assert disclosure.row_total("b") in margin
    splits = ({"x": (3, 6, 20), "y": (0, 6, 20)}, {"x": (1, 1, 0), "y": (2, 11, 40)})
    for split in splits:
        counts = {(r, c): split[c][i] for i, r in enumerate("abc") for c in ("x", "y")}
        table = disclosure.protect(counts, list("abc"), ["x", "y"])
        withheld_totals = {p for p in table.withheld if p[0] in ("row", "grand")}
        assert withheld_totals == margin


def test_small_populations_show_no_distribution_and_zeros_show_as_0() -> None:
    counts = {("a", "x"): 7, ("b", "x"): 30, ("b", "y"): 0, ("b", "z"): 25}
    table = disclosure.protect(counts, ["a", "b"], ["x", "y", "z"])
    # LA a has 7 children, all `x`: neither its 7 nor its zeros are shown
    for c in ("x", "y", "z"):
        assert table.figure(disclosure.cell("a", c)).suppressed
    assert table.figure(disclosure.cell("b", "y")) == disclosure.Figure(0, False)
    assert table.figure(disclosure.row_total("a")) == disclosure.Figure(5, False)
    # an LA with no child in AP shows its zeros (and costs its columns no suppression)
    empty = disclosure.protect({**counts, ("c", "x"): 0}, ["a", "b", "c"], ["x", "y", "z"])
    assert empty.figure(disclosure.cell("c", "x")) == disclosure.Figure(0, False)
    assert empty.withheld == table.withheld
    # a whole table over fewer than 10 children is withheld
    tiny = disclosure.protect({("a", "x"): 6}, ["a"], ["x", "y"])
    assert tiny.figure(disclosure.GRAND).suppressed


def test_rounding_is_to_the_nearest_5_halves_up() -> None:
    assert [disclosure.rounded(v) for v in (0, 5, 7, 8, 12, 13, 57)] == [0, 5, 5, 10, 10, 15, 55]
