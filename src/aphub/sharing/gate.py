"""The sharing layer's entry points for services: read a child, list children, and
decide what a caller may write. Nothing else in the hub reads child rows."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from aphub.auth.principal import Principal
from aphub.db import UnitOfWork
from aphub.errors import Forbidden, NotFound
from aphub.sharing import statements
from aphub.sharing.fields import FIELD_CATEGORY
from aphub.sharing.policy import Decision, active_policy
from aphub.sharing.shape import decision_for, shape_child

NIL = uuid.UUID(int=0)


def _audit_args(principal: Principal, surface: str, action: str) -> list[Any]:
    policy = active_policy()
    return [
        principal.organisation_id,
        principal.client_id,
        surface,
        action,
        policy.version,
        orjson.dumps(policy.categories_by_rule()).decode(),
    ]


async def read_child(
    uow: UnitOfWork, principal: Principal, child_id: uuid.UUID, *, surface: str = "rest"
) -> dict[str, Any]:
    """The child shaped for the caller; 404 when hidden (the denial is audited)."""
    row = await uow.fetchrow(
        statements.read_one(principal.organisation_type),
        *_audit_args(principal, surface, "read"),
        child_id,
    )
    if row is None or not row["rules"]:
        raise NotFound("No such child, or not visible to you")
    return shape_child(row, decision_for(row, active_policy()))


async def read_children(
    uow: UnitOfWork,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    surface: str = "rest",
) -> list[dict[str, Any]]:
    """The next page of children the caller may see, in id order; every one audited."""
    rows = await uow.fetch(
        statements.read_page(principal.organisation_type),
        *_audit_args(principal, surface, "list"),
        after or NIL,
        limit,
    )
    policy = active_policy()
    return [shape_child(row, decision_for(row, policy)) for row in rows]


async def read_matching(
    uow: UnitOfWork,
    principal: Principal,
    *,
    upn: str | None,
    nhs_number: str | None,
    surface: str = "rest",
) -> list[dict[str, Any]]:
    rows = await uow.fetch(
        statements.read_matching(principal.organisation_type),
        *_audit_args(principal, surface, "match"),
        upn,
        nhs_number,
    )
    policy = active_policy()
    return [shape_child(row, decision_for(row, policy)) for row in rows]


async def decide(uow: UnitOfWork, principal: Principal, child_id: uuid.UUID) -> Decision:
    """The decision for a child the caller may see; 404 when it may not."""
    row = await uow.fetchrow(
        statements.visible_rules(principal.organisation_type), principal.organisation_id, child_id
    )
    if row is None or not row["rules"]:
        raise NotFound("No such child, or not visible to you")
    return active_policy().decide(row["rules"], row["inv_categories"])


def require_write(decision: Decision, field_ids: list[str]) -> None:
    """403 naming the fields the caller may see but not change."""
    refused = sorted(f for f in field_ids if f not in decision.write.fields)
    if refused:
        categories = sorted({FIELD_CATEGORY[f] for f in refused})
        raise Forbidden(
            f"Your sharing agreement does not let you change {', '.join(refused)} "
            f"(categories: {', '.join(categories)})"
        )


def require_category_write(decision: Decision, category: str) -> None:
    if category not in decision.write.categories:
        raise Forbidden(f"Your sharing agreement does not let you change {category} data")
