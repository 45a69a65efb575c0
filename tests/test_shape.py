"""The compiled shapes against the policy.

For every decision an organisation type can reach (each set of its rules, and for
involvement types several sets of involvement categories), under the shipped policy and
an area's narrower one, a child shaped from the row the read statements return holds
exactly the fields `Policy.decide` lets the caller read, the stored values of those
fields (a recorded passport section and an unrecorded one alike), and the rules,
categories and policy version that allowed it.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from itertools import combinations
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.db import Database
from aphub.sharing.fields import CATEGORIES, CORE_FIELDS
from aphub.sharing.policy import (
    INVOLVEMENT_RULES,
    RULE_ORGANISATION_TYPE,
    Policy,
    active_policy,
    parse_policy,
)
from aphub.sharing.relationships import rules_for
from aphub.sharing.shape import plain, shape_child
from aphub.sharing.statements import ENROLMENTS, PASSPORT
from tests.child_factories import involve, make_area, make_child

# An area's agreement: no hosting-LA rule at all, schools see part of identity and one
# passport field, health sees identity and health only. The apostrophe tests quoting.
AREA_POLICY = parse_policy(
    {
        "version": "Kent's agreement 2",
        "rules": {
            "la_home": {"read": {c: "*" for c in CATEGORIES}},
            "school_on_roll": {
                "read": {
                    "identity": ["legal_first_name", "upn"],
                    "needs": ["about_me.summary"],
                }
            },
            "school_left_roll": {"read": {"education": "*"}},
            "provider_placement": {"read": {"identity": "*", "voice": "*"}},
            "health_involvement": {"read": {"identity": "*", "health": "*"}},
            "social_care_involvement": {"read": {"social_care": ["looked_after"]}},
        },
    },
    "test",
)
INVOLVEMENT_CATEGORY_SETS = [[], ["health"], ["identity", "needs", "voice"], list(CATEGORIES)]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _decisions(organisation_type: str) -> list[tuple[list[str], list[str] | None]]:
    names = sorted(r.name for r in rules_for(organisation_type))
    involvement = any(n in INVOLVEMENT_RULES for n in names)
    return [
        (list(subset), categories)
        for size in range(1, len(names) + 1)
        for subset in combinations(names, size)
        for categories in (INVOLVEMENT_CATEGORY_SETS if involvement else [None])
    ]


async def _shape(
    conn: asyncpg.Connection,
    policy: Policy,
    child_id: uuid.UUID,
    rules: list[str],
    categories: list[str] | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"SELECT c.*, $2::text[] AS rules, $3::text[] AS inv_categories, "
        f"{ENROLMENTS} AS enrolments, {PASSPORT} AS passport FROM children c WHERE c.id = $1",
        child_id,
        rules,
        categories,
    )
    return plain(shape_child(row, policy.decide(rules, categories)))


async def test_the_statement_shows_exactly_what_the_policy_decides_for_every_decision(
    app: FastAPI, db: Database, client: httpx.AsyncClient, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area, upn="H801200001001", former_upns=["B801200005001"])
    # recorded by children's social care, whose category it is (the LA only reads it)
    await superuser.execute("UPDATE children SET looked_after = true WHERE id = $1", uuid.UUID(cid))
    await involve(client, area, cid, area.health, categories=["health"])
    for section, content, author in [
        ("about_me", {"summary": "Likes maps", "interests": "Trains"}, area.la),
        ("health", {"medical_needs": "Inhaler", "diagnoses": [{"name": "Asthma"}]}, area.health),
    ]:
        r = await client.patch(
            f"/v1/children/{cid}/passport/{section}", json=content, headers=area.headers(author)
        )
        assert r.status_code == 200, r.text
    # and a child with no passport yet, whose sections are all unrecorded
    bare = await make_child(client, area, legal_first_name="Bea", sen_provision="sen_support")
    checked = 0
    for child_id in (uuid.UUID(cid), uuid.UUID(bare)):
        checked += await _check_every_decision(superuser, child_id, area.school.id)
    assert checked == 2 * 2 * (3 + 7 + 3 + 3 + 4 + 4)


async def _check_every_decision(
    superuser: asyncpg.Connection, child_id: uuid.UUID, school_id: uuid.UUID
) -> int:
    row = await superuser.fetchrow("SELECT * FROM children WHERE id = $1", child_id)
    stored = {
        (r["section"], k): v
        for r in await superuser.fetch(
            "SELECT section, content FROM passport_sections WHERE child_id = $1", child_id
        )
        for k, v in json.loads(r["content"]).items()
    }
    checked = 0
    for policy in (active_policy(), AREA_POLICY):
        for organisation_type in sorted(set(RULE_ORGANISATION_TYPE.values())):
            for rules, categories in _decisions(organisation_type):
                shaped = await _shape(superuser, policy, child_id, rules, categories)
                decision = policy.decide(rules, categories)
                where = f"{policy.version} / {rules} / {categories}"
                core = set(decision.readable_core)
                expected = {"id", "version", "home_la_id", "updated_at", "access"} | core
                if decision.readable_sections:
                    expected.add("passport")
                assert set(shaped) == expected, where
                for name in core & set(CORE_FIELDS) - {"enrolments"}:
                    assert shaped[name] == _plain(row[name]), (where, name)
                if "enrolments" in core:
                    assert [e["school_id"] for e in shaped["enrolments"]] == [str(school_id)]
                sections = dict(decision.readable_sections)
                assert set(shaped.get("passport", {})) == set(sections), where
                for section, fields in sections.items():
                    body = shaped["passport"][section]
                    assert set(body) == {"version", "updated_at", *fields}, (where, section)
                    recorded = any(s == section for s, _ in stored)
                    assert body["version"] == (1 if recorded else 0), (where, section)
                    for name in fields:
                        assert body[name] == stored.get((section, name)), (where, section, name)
                assert shaped["access"] == {
                    "rules": list(decision.rules),
                    "categories": decision.categories,
                    "policy_version": policy.version,
                }, where
                assert datetime.fromisoformat(shaped["updated_at"]) == row["updated_at"]
                checked += 1
    return checked
