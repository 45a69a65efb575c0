"""The access audit of a child's record, as its data controller (the home LA) sees it.

Only the child's home local authority may list the audit or export the record: another
organisation that can see the child gets 403, one that cannot gets 404. Both refusals are
themselves audited (outcome `denied`), and so is the listing (action `access_log`), since
who looked at a child's record is itself personal information about the child. Listing
the audit is not a read of the record, so it reads no categories.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.errors import Forbidden, NotFound
from aphub.models import AccessLog, Organisation
from aphub.sharing import gate
from aphub.sharing.policy import Decision

CONTROLLER_RULE = "la_home"


async def controller_decision(
    uow: ReadUnit, principal: Principal, child_id: uuid.UUID, *, action: str, surface: str
) -> Decision:
    """The decision of the child's home LA; 403 for other organisations that see the
    child, 404 for those that do not (each refusal audited)."""
    decision = await gate.decision_or_none(uow, principal, child_id)
    if decision is None:
        raise NotFound("No such child, or not visible to you")
    if CONTROLLER_RULE not in decision.rules:
        await gate.record_access(
            uow,
            principal,
            child_id,
            action=action,
            surface=surface,
            outcome="denied",
            rules=decision.rules,
        )
        if not decision.allowed:
            raise NotFound("No such child, or not visible to you")
        raise Forbidden(
            "Only the child's home local authority, the controller of its record, "
            "may see its access audit or export it"
        )
    return decision


def entry(row: AccessLog, organisation_name: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "organisation_id": row.organisation_id,
        "organisation_name": organisation_name,
        "client_id": row.client_id,
        "action": row.action,
        "surface": row.surface,
        "outcome": row.outcome,
        "rules": list(row.rules),
        "categories": list(row.categories),
        "policy_version": row.policy_version,
    }


async def entries(
    uow: ReadUnit,
    child_id: uuid.UUID,
    *,
    newest_first: bool,
    before: tuple[datetime, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    query = (
        select(AccessLog, Organisation.name)
        .outerjoin(Organisation, Organisation.id == AccessLog.organisation_id)
        .where(AccessLog.child_ids.contains([child_id]))
    )
    if newest_first:
        query = query.order_by(AccessLog.at.desc(), AccessLog.id.desc())
    else:
        query = query.order_by(AccessLog.at, AccessLog.id)
    if before is not None:
        query = query.where(tuple_(AccessLog.at, AccessLog.id) < tuple_(*before))
    if limit is not None:
        query = query.limit(limit)
    return [entry(row, name) for row, name in (await uow.session.execute(query)).all()]


async def list_access_log(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    surface: str = "rest",
) -> tuple[list[dict[str, Any]], tuple[datetime, uuid.UUID] | None]:
    """A page of the audit, newest first, and the key the next page starts before."""
    decision = await controller_decision(
        uow, principal, child_id, action="access_log", surface=surface
    )
    rows = await entries(uow, child_id, newest_first=True, before=before, limit=limit + 1)
    await gate.record_access(
        uow,
        principal,
        child_id,
        action="access_log",
        surface=surface,
        outcome="allowed",
        rules=decision.rules,
    )
    page = rows[:limit]
    last = (page[-1]["at"], page[-1]["id"]) if len(rows) > limit else None
    return page, last
