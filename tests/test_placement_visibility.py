"""The placement visibility condition takes a short cut: when the caller's relationship
to a placement is itself a granting rule's test on it (the provider's current placement,
the school's or trust's commission), the relationship decides alone, without reading the
child's row and other placements. The short cut must change nothing: over the demo area
(with a commission for a child off the school's roll added), for every organisation,
under the active policy and under policies that withhold `placement` from one rule at a
time, the placements visible are exactly those of the full condition (relationship to
the placement AND a granting rule for the child)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from aphub.config import Settings
from aphub.db import Database
from aphub.demo import load_demo
from aphub.sharing import placements
from aphub.sharing.policy import Policy, active_policy

ORG = ":org::uuid"


def _withholding(policy: Policy, rule: str) -> Policy:
    """`policy` with `placement` taken from `rule`'s read grant."""
    rules = dict(policy.rules)
    kept = rules[rule].read.categories - {"placement"}
    rules[rule] = replace(rules[rule], read=rules[rule].read.narrowed_to(kept))
    return Policy(version=f"{policy.version}-no-{rule}", rules=rules, area=policy.area)


async def _visible(db: Database, condition: str, org: uuid.UUID) -> set[Any]:
    async with db.reading() as unit:
        rows = await unit.fetch(f"SELECT p.id FROM placements p WHERE {condition}", org=org)
    return {r["id"] for r in rows}


async def _commission_off_roll(db: Database) -> None:
    """A case the school's short cut must get right: a child a school commissioned a
    placement for who is not (and was never) on its roll. Without `school_commissioner`
    granting `placement`, the school may not see that placement."""
    async with db.writing() as unit:
        row = await unit.fetchrow(
            "SELECT p.child_id, p.commissioner_id FROM placements p "
            "JOIN organisations s ON s.id = p.commissioner_id AND s.type = 'school' "
            "ORDER BY p.id LIMIT 1"
        )
        assert row is not None
        await unit.execute(
            "DELETE FROM enrolments WHERE child_id = :child AND school_id = :school",
            child=row["child_id"],
            school=row["commissioner_id"],
        )


async def test_the_short_cut_shows_exactly_what_the_full_condition_shows(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await load_demo(db, settings, only_if_empty=True)
    await _commission_off_roll(db)
    async with db.reading() as unit:
        organisations = [
            (r["id"], r["type"]) for r in await unit.fetch("SELECT id, type FROM organisations")
        ]
    active = active_policy()
    policies = [active] + [_withholding(active, rule) for rule in sorted(active.rules)]
    compared = shown = 0
    for policy in policies:
        for org, organisation_type in organisations:
            fast = placements._visible.__wrapped__(organisation_type, ORG, policy)
            with monkeypatch.context() as m:
                m.setattr(placements, "_RELATION_IS_RULES", {})
                full = placements._visible.__wrapped__(organisation_type, ORG, policy)
            if fast == full:
                continue  # no short cut for this caller under this policy: nothing to compare
            expected = await _visible(db, full, org)
            assert await _visible(db, fast, org) == expected, (organisation_type, policy.version)
            compared += 1
            shown += len(expected)
    # the comparison ran for every provider, school and trust, which do see placements
    kinds = {t for _, t in organisations}
    assert {"school", "provider", "trust"} <= kinds
    assert compared >= sum(1 for _, t in organisations if t in placements._RELATION_IS_RULES)
    assert shown > 100
