"""The sharing layer's entry points for services: read a child, list children, and
decide what a caller may write. Nothing else in the hub reads child rows."""

from __future__ import annotations

import uuid
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import Reads, UnitOfWork
from aphub.errors import Forbidden, NotFound
from aphub.sharing import statements
from aphub.sharing.fields import FIELD_CATEGORY
from aphub.sharing.policy import Decision, active_policy
from aphub.sharing.shape import decision_for, shape_child, shape_rows

NIL = uuid.UUID(int=0)


def _audit_args(principal: Principal, surface: str, action: str) -> list[Any]:
    policy = active_policy()
    return [
        principal.organisation_id,
        principal.client_id,
        surface,
        action,
        policy.version,
        policy.categories_by_rule_json,
    ]


async def read_child(
    uow: Reads, principal: Principal, child_id: uuid.UUID, *, surface: str = "rest"
) -> dict[str, Any]:
    """The child shaped for the caller; 404 when hidden (the denial is audited)."""
    row = await uow.fetchrow(
        statements.read_one(principal.organisation_type),
        *_audit_args(principal, surface, "read"),
        child_id,
    )
    if row is None or not row["rules"]:
        if row is not None:
            await _keep_denial(uow, principal, child_id, surface, "read")
        raise NotFound("No such child, or not visible to you")
    return shape_child(row, decision_for(row, active_policy()))


async def _keep_denial(
    uow: Reads, principal: Principal, child_id: uuid.UUID, surface: str, action: str
) -> None:
    """The denied row was written by the read statement; if that ran inside a transaction
    which the failed request will roll back, write it again afterwards."""
    if await uow.in_transaction():
        uow.after_rollback(
            statements.RECORD_ACCESS,
            principal.organisation_id,
            principal.client_id,
            child_id,
            action,
            surface,
            "denied",
            [],
            [],
            active_policy().version,
        )


async def read_children_by_ids(
    uow: UnitOfWork,
    principal: Principal,
    child_ids: list[uuid.UUID],
    *,
    surface: str = "rest",
) -> dict[uuid.UUID, dict[str, Any]]:
    """The children among `child_ids` the caller may see, shaped, by id; one statement,
    every id audited as allowed or denied. A hidden or unknown child is simply absent."""
    if not child_ids:
        return {}
    rows = await uow.fetch(
        statements.read_many(principal.organisation_type),
        *_audit_args(principal, surface, "read"),
        sorted(set(child_ids)),
    )
    visible = [row for row in rows if row["rules"]]
    return {
        row["id"]: child
        for row, child in zip(visible, shape_rows(visible, active_policy()), strict=True)
    }


async def read_children(
    uow: Reads,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    passport: bool,
    surface: str = "rest",
) -> list[dict[str, Any]]:
    """The next page of children the caller may see, in id order; every one audited.
    Without `passport`, the passports are neither read nor returned."""
    rows = await uow.fetch(
        statements.read_page(principal.organisation_type, passport),
        *_audit_args(principal, surface, "list"),
        after or NIL,
        limit,
    )
    return shape_rows(rows, active_policy(), passport=passport)


async def read_matching(
    uow: Reads,
    principal: Principal,
    *,
    upn: str | None,
    nhs_number: str | None,
    passport: bool,
    surface: str = "rest",
) -> list[dict[str, Any]]:
    policy = active_policy()
    rows = await uow.fetch(
        statements.read_matching(principal.organisation_type, passport),
        *_audit_args(principal, surface, "match"),
        upn,
        nhs_number,
        *(policy.rules_reading(field) for field in ("upn", "former_upns", "nhs_number")),
    )
    return shape_rows(rows, policy, passport=passport)


async def decision_or_none(
    uow: UnitOfWork, principal: Principal, child_id: uuid.UUID
) -> Decision | None:
    """None when there is no such child; a decision allowing nothing when it is hidden."""
    row = await uow.fetchrow(
        statements.visible_rules(principal.organisation_type), principal.organisation_id, child_id
    )
    if row is None:
        return None
    return active_policy().decide(row["rules"] or (), row["inv_categories"])


async def decide(uow: UnitOfWork, principal: Principal, child_id: uuid.UUID) -> Decision:
    """The decision for a child the caller may see; 404 when it may not."""
    decision = await decision_or_none(uow, principal, child_id)
    if decision is None or not decision.allowed:
        raise NotFound("No such child, or not visible to you")
    return decision


async def decide_audited(
    uow: UnitOfWork,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    action: str,
    surface: str = "rest",
) -> Decision:
    """`decide` for a read of the child's data beside its record (passport history,
    involvements, consents): audited like `read_child`, allowed or denied, in the same
    statement. 404 when hidden."""
    row = await uow.fetchrow(
        statements.audited_rules(principal.organisation_type),
        *_audit_args(principal, surface, action),
        child_id,
    )
    if row is None or not row["rules"]:
        raise NotFound("No such child, or not visible to you")
    return active_policy().decide(row["rules"], row["inv_categories"])


async def record_access(
    uow: UnitOfWork,
    principal: Principal,
    child_id: uuid.UUID,
    *,
    action: str,
    surface: str,
    outcome: str,
    rules: tuple[str, ...] | list[str] = (),
    categories: list[str] | None = None,
) -> None:
    """An audit row for an access whose outcome the caller decided (the controller's
    access-log listing and subject access export, and refusals of them)."""
    await uow.fetchrow(
        statements.RECORD_ACCESS,
        principal.organisation_id,
        principal.client_id,
        child_id,
        action,
        surface,
        outcome,
        list(rules),
        categories or [],
        active_policy().version,
    )


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
