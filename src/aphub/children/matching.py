"""Child records matched as a master person index matches them.

A school or trust posting a child is enrolling them (roll sync); a local authority posting
one records a resident. When the identifiers given match an existing record exactly (UPN,
date of birth and surname), the new enrolment attaches to that record and the caller gets
it as it may now see it: no second record. A partial match (the UPN, the NHS number, or
the names and date of birth agree, but not all that an exact match needs) neither reveals
the other record nor refuses: a new record is made, as for a child the hub has never seen,
and the pair is flagged to the home LAs, who merge them (the merged id then answers with
the survivor) or mark them distinct. The answer to the caller therefore never depends on a
record it cannot see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aphub.auth.principal import Principal
from aphub.children.schemas import ChildCreate
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Forbidden, Invalid, NotFound
from aphub.events.log import Actor, record

# Every record that shares an identifier with the one given, whoever can see it: the
# index's own comparison, never answered to the caller (see `Match`).
_CANDIDATES = (
    "SELECT id, home_la_id, "
    "(:upn::text IS NOT NULL AND (upn = :upn OR :upn = ANY(former_upns))) AS same_upn, "
    "(:nhs_number::text IS NOT NULL AND nhs_number = :nhs_number) AS same_nhs_number, "
    "date_of_birth = :date_of_birth AS same_date_of_birth, "
    "lower(legal_last_name) = lower(:last_name) AS same_surname, "
    "lower(legal_first_name) = lower(:first_name) AS same_first_name "
    "FROM children WHERE merged_into_id IS NULL AND ("
    "(:upn::text IS NOT NULL AND (upn = :upn OR :upn = ANY(former_upns))) "
    "OR (:nhs_number::text IS NOT NULL AND nhs_number = :nhs_number) "
    "OR (date_of_birth = :date_of_birth AND lower(legal_last_name) = lower(:last_name) "
    "AND lower(legal_first_name) = lower(:first_name))) ORDER BY id LIMIT 10"
)
_FLAG = (
    "INSERT INTO child_duplicates (id, child_id, other_child_id, reasons) "
    "VALUES (gen_random_uuid(), least(:a::uuid, :b::uuid), greatest(:a::uuid, :b::uuid), "
    ":reasons) ON CONFLICT (child_id, other_child_id) DO NOTHING RETURNING id"
)


@dataclass(frozen=True, slots=True)
class Match:
    child_id: uuid.UUID
    home_la_id: uuid.UUID
    exact: bool
    reasons: tuple[str, ...]


async def matches(uow: ReadUnit, data: ChildCreate) -> list[Match]:
    rows = await uow.fetch(
        _CANDIDATES,
        upn=data.upn,
        nhs_number=data.nhs_number,
        date_of_birth=data.date_of_birth,
        last_name=data.legal_last_name,
        first_name=data.legal_first_name,
    )
    found = []
    for row in rows:
        reasons = tuple(
            name
            for name, same in (
                ("upn", row["same_upn"]),
                ("nhs_number", row["same_nhs_number"]),
                ("date_of_birth", row["same_date_of_birth"]),
                ("surname", row["same_surname"]),
                ("first_name", row["same_first_name"]),
            )
            if same
        )
        exact = row["same_upn"] and row["same_date_of_birth"] and row["same_surname"]
        found.append(Match(row["id"], row["home_la_id"], bool(exact), reasons))
    return found


async def flag_possible_duplicates(
    uow: WriteUnit, child_id: uuid.UUID, partial: list[Match], actor: Actor
) -> None:
    """Flag each pair to the home LA of each record (an event on each child)."""
    for match in partial:
        flagged = await uow.fetchval(
            _FLAG, a=child_id, b=match.child_id, reasons=list(match.reasons)
        )
        if flagged is None:
            continue
        for subject, other in ((child_id, match.child_id), (match.child_id, child_id)):
            record(
                uow,
                type="child.possible_duplicate",
                subject_type="child",
                subject_id=subject,
                child_id=subject,
                actor=actor,
                data={
                    "duplicate_id": str(flagged),
                    "other_child_id": str(other),
                    "reasons": list(match.reasons),
                },
            )


# --- the home LA resolves a flag ---------------------------------------------------------

_PAIR = (
    "SELECT d.id, d.status, a.home_la_id AS a_home, b.home_la_id AS b_home, "
    "a.merged_into_id AS a_merged, b.merged_into_id AS b_merged "
    "FROM child_duplicates d JOIN children a ON a.id = d.child_id "
    "JOIN children b ON b.id = d.other_child_id "
    "WHERE d.child_id = least(:a::uuid, :b::uuid) "
    "AND d.other_child_id = greatest(:a::uuid, :b::uuid) "
    "FOR UPDATE OF d"
)
_RESOLVE = (
    "UPDATE child_duplicates SET status = :status, resolved_at = now(), "
    "resolved_by_id = :org WHERE id = :id"
)
# What hangs on a child moves to the survivor; a passport section the survivor has
# already stays the survivor's (the merged one's remains in the merged record's history).
_MOVE = (
    "WITH e AS (UPDATE enrolments SET child_id = :survivor WHERE child_id = :merged), "
    "p AS (UPDATE placements SET child_id = :survivor WHERE child_id = :merged), "
    "i AS (UPDATE involvements SET child_id = :survivor WHERE child_id = :merged), "
    "c AS (UPDATE consents SET child_id = :survivor WHERE child_id = :merged), "
    "x AS (UPDATE attendance_concerns SET child_id = :survivor WHERE child_id = :merged), "
    "s AS (UPDATE passport_sections SET child_id = :survivor WHERE child_id = :merged "
    "AND section NOT IN (SELECT section FROM passport_sections WHERE child_id = :survivor)) "
    "UPDATE children SET merged_into_id = :survivor, version = version + 1, updated_at = now() "
    "WHERE id = :merged"
)


async def _pair(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, other_id: uuid.UUID
) -> Any:
    if principal.organisation_type != "local_authority":
        raise Forbidden("Only the home local authority resolves a possible duplicate")
    if child_id == other_id:
        raise Invalid.field("other_child_id", "a record is not a duplicate of itself")
    pair = await uow.fetchrow(_PAIR, a=child_id, b=other_id)
    homes = (pair["a_home"], pair["b_home"]) if pair is not None else ()
    if pair is None or principal.organisation_id not in homes:
        raise NotFound("No possible duplicate of these two records that you are home LA of")
    if pair["status"] != "open":
        raise Conflict(f"That possible duplicate was resolved already ({pair['status']})")
    if pair["a_merged"] or pair["b_merged"]:
        raise Conflict("One of the two records was merged into another already")
    if pair["a_home"] != pair["b_home"]:
        raise Forbidden(
            "The two records have different home local authorities: the home LA of the "
            "record kept must first be agreed between them"
        )
    return pair


async def merge(
    uow: WriteUnit, principal: Principal, survivor_id: uuid.UUID, merged_id: uuid.UUID
) -> None:
    pair = await _pair(uow, principal, survivor_id, merged_id)
    await uow.execute(_MOVE, survivor=survivor_id, merged=merged_id)
    await uow.execute(_RESOLVE, status="merged", org=principal.organisation_id, id=pair["id"])
    actor = Actor(principal.organisation_id, principal.client_id)
    for subject, data in (
        (survivor_id, {"merged_id": str(merged_id)}),
        (merged_id, {"merged_into_id": str(survivor_id)}),
    ):
        record(
            uow,
            type="child.merged",
            subject_type="child",
            subject_id=subject,
            child_id=subject,
            actor=actor,
            data=data,
        )


async def mark_distinct(
    uow: WriteUnit, principal: Principal, child_id: uuid.UUID, other_id: uuid.UUID
) -> None:
    pair = await _pair(uow, principal, child_id, other_id)
    await uow.execute(_RESOLVE, status="distinct", org=principal.organisation_id, id=pair["id"])
    actor = Actor(principal.organisation_id, principal.client_id)
    for subject, other in ((child_id, other_id), (other_id, child_id)):
        record(
            uow,
            type="child.marked_distinct",
            subject_type="child",
            subject_id=subject,
            child_id=subject,
            actor=actor,
            data={"other_child_id": str(other)},
        )


_OPEN = (
    "SELECT d.id, CASE WHEN d.child_id = :child_id THEN d.other_child_id ELSE d.child_id END "
    "AS other_child_id, d.reasons, d.flagged_at FROM child_duplicates d "
    "WHERE (d.child_id = :child_id OR d.other_child_id = :child_id) AND d.status = 'open' "
    "ORDER BY d.flagged_at, d.id"
)


async def open_duplicates(uow: ReadUnit, child_id: uuid.UUID) -> list[dict[str, Any]]:
    """The open flags on a child (for its home LA, who was decided to see it)."""
    return [
        {
            "id": str(r["id"]),
            "other_child_id": str(r["other_child_id"]),
            "reasons": list(r["reasons"]),
            "flagged_at": r["flagged_at"].isoformat(),
        }
        for r in await uow.fetch(_OPEN, child_id=child_id)
    ]
