"""The sharing layer's entry points for services: read a child, list children, and
decide what a caller may write. Nothing else in the hub reads child rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.db.access import INSERT as ACCESS_INSERT
from aphub.db.access import AccessRecord, insert_params
from aphub.errors import Forbidden, NotFound
from aphub.sharing import statements
from aphub.sharing.fields import FIELD_CATEGORY
from aphub.sharing.policy import Decision, active_policy
from aphub.sharing.shape import decision_for, shape_child, shape_rows

NIL = uuid.UUID(int=0)


def audit_params(principal: Principal, surface: str, action: str) -> dict[str, Any]:
    """The parameters every audited statement takes (`aphub.sharing.statements`)."""
    policy = active_policy()
    return {
        "org": principal.organisation_id,
        "client": principal.client_id,
        "surface": surface,
        "action": action,
        "policy_version": policy.version,
        "categories_by_rule": policy.categories_by_rule_json,
    }


def access_record(
    principal: Principal,
    child_ids: list[uuid.UUID],
    surface: str,
    action: str,
    rules: list[str] | tuple[str, ...],
    decision: Decision | None,
) -> AccessRecord:
    """The access-log row of a read of `child_ids` under `rules` (none: denied), with the
    categories `decision` let the caller read."""
    allowed = bool(rules)
    return AccessRecord(
        organisation_id=principal.organisation_id,
        client_id=principal.client_id,
        child_ids=child_ids,
        action=action,
        surface=surface,
        outcome="allowed" if allowed else "denied",
        rules=list(rules),
        categories=sorted(decision.read.categories) if allowed and decision is not None else [],
        policy_version=active_policy().version,
    )


async def read_child(
    uow: ReadUnit, principal: Principal, child_id: uuid.UUID, *, surface: str = "rest"
) -> dict[str, Any]:
    """The child shaped for the caller; 404 when hidden (the denial is audited)."""
    row = await uow.fetchrow(
        statements.read_one(principal.organisation_type),
        org=principal.organisation_id,
        child_id=child_id,
    )
    if row is None:
        raise NotFound("No such child, or not visible to you")
    decision = decision_for(row, active_policy())
    rules = row["rules"] or []
    await uow.record_access(
        [access_record(principal, [row["id"]], surface, "read", rules, decision)]
    )
    if not rules:
        raise NotFound("No such child, or not visible to you")
    return shape_child(row, decision)


def _keep_audit(
    uow: ReadUnit,
    principal: Principal,
    child_ids: list[uuid.UUID],
    surface: str,
    action: str,
    rules: list[str] | tuple[str, ...],
    decision: Decision | None,
) -> None:
    """The read statement wrote the audit row; if it ran in a transaction that the request
    goes on to roll back, the row is written again afterwards (a read unit's statements
    stand alone: nothing to keep there)."""
    if not uow.transactional:
        return
    record = access_record(principal, child_ids, surface, action, rules, decision)
    uow.after_rollback(ACCESS_INSERT, **insert_params([record]))


async def read_children_by_ids(
    uow: ReadUnit,
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
        **audit_params(principal, surface, "read"),
        child_ids=sorted(set(child_ids)),
    )
    _keep_audits(uow, principal, rows, surface, "read")
    visible = [row for row in rows if row["rules"]]
    return {
        row["id"]: child
        for row, child in zip(visible, shape_rows(visible, active_policy()), strict=True)
    }


async def read_children(
    uow: ReadUnit,
    principal: Principal,
    *,
    after: uuid.UUID | None,
    limit: int,
    passport: bool,
    surface: str = "rest",
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """The next page of children the caller may see, in id order (whose records changed
    at or after `since`, when given); every one audited. Without `passport`, the
    passports are neither read nor returned."""
    extra = {"since": since} if since is not None else {}
    rows = await uow.fetch(
        statements.read_page(principal.organisation_type, passport, since is not None),
        org=principal.organisation_id,
        after=after or NIL,
        limit=limit,
        **extra,
    )
    await uow.record_access(
        [
            access_record(principal, ids, surface, "list", rules, decision)
            for ids, rules, decision in _by_decision(rows)
        ]
    )
    return shape_rows(rows, active_policy(), passport=passport)


def _by_decision(
    rows: list[Any],
) -> list[tuple[list[uuid.UUID], tuple[str, ...], Decision]]:
    """The rows' children grouped by decision (rules, involvement categories), each group's
    ids in order: one access-log row per group (a page is one to three rows)."""
    policy = active_policy()
    groups: dict[tuple[Any, ...], list[uuid.UUID]] = {}
    decisions: dict[tuple[Any, ...], Decision] = {}
    for row in rows:
        narrowed = row["inv_categories"]
        key = (tuple(row["rules"] or ()), None if narrowed is None else tuple(narrowed))
        groups.setdefault(key, []).append(row["id"])
        if key not in decisions:
            decisions[key] = decision_for(row, policy)
    return [(sorted(ids), key[0], decisions[key]) for key, ids in groups.items()]


def _keep_audits(
    uow: ReadUnit, principal: Principal, rows: list[Any], surface: str, action: str
) -> None:
    """`_keep_audit` for the rows of a statement that read several children: one row per
    distinct decision, as the statement wrote them."""
    if not uow.transactional:
        return
    for ids, rules, decision in _by_decision(rows):
        _keep_audit(uow, principal, ids, surface, action, rules, decision)


async def read_matching(
    uow: ReadUnit,
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
        **audit_params(principal, surface, "match"),
        upn=upn,
        nhs_number=nhs_number,
        upn_rules=policy.rules_reading("upn"),
        former_upn_rules=policy.rules_reading("former_upns"),
        nhs_number_rules=policy.rules_reading("nhs_number"),
    )
    _keep_audits(uow, principal, rows, surface, "match")
    return shape_rows(rows, policy, passport=passport)


async def decision_or_none(
    uow: ReadUnit, principal: Principal, child_id: uuid.UUID
) -> Decision | None:
    """None when there is no such child; a decision allowing nothing when it is hidden."""
    row = await uow.fetchrow(
        statements.visible_rules(principal.organisation_type),
        org=principal.organisation_id,
        child_id=child_id,
    )
    if row is None:
        return None
    return active_policy().decide(row["rules"] or (), row["inv_categories"])


async def decide(uow: ReadUnit, principal: Principal, child_id: uuid.UUID) -> Decision:
    """The decision for a child the caller may see; 404 when it may not."""
    decision = await decision_or_none(uow, principal, child_id)
    if decision is None or not decision.allowed:
        raise NotFound("No such child, or not visible to you")
    return decision


async def decide_audited(
    uow: ReadUnit,
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
        **audit_params(principal, surface, action),
        child_id=child_id,
    )
    if row is None:
        raise NotFound("No such child, or not visible to you")
    decision = active_policy().decide(row["rules"] or (), row["inv_categories"])
    _keep_audit(uow, principal, [child_id], surface, action, row["rules"] or (), decision)
    if not row["rules"]:
        raise NotFound("No such child, or not visible to you")
    return decision


async def record_access(
    uow: ReadUnit,
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
    params = {
        "org": principal.organisation_id,
        "client": principal.client_id,
        "child_ids": [child_id],
        "action": action,
        "surface": surface,
        "outcome": outcome,
        "rules": list(rules),
        "categories": categories or [],
        "policy_version": active_policy().version,
    }
    await uow.execute(statements.RECORD_ACCESS_MANY, **params)
    uow.after_rollback(statements.RECORD_ACCESS_MANY, **params)


async def record_list_access(
    uow: ReadUnit,
    principal: Principal,
    child_ids: list[uuid.UUID],
    *,
    action: str,
    surface: str,
    categories: tuple[str, ...] = ("education",),
) -> None:
    """One audit row for a list that names these children, and the categories of what it
    says of them (kept if the request fails)."""
    if not child_ids:
        return
    params = {
        "org": principal.organisation_id,
        "client": principal.client_id,
        "child_ids": sorted(set(child_ids)),
        "action": action,
        "surface": surface,
        "outcome": "allowed",
        "rules": [],
        "categories": sorted(categories),
        "policy_version": active_policy().version,
    }
    await uow.execute(statements.RECORD_ACCESS_MANY, **params)
    uow.after_rollback(statements.RECORD_ACCESS_MANY, **params)


def audited_page(sql: str, columns: tuple[str, ...]) -> str:
    """`sql`, a page of rows in `key` order each naming the children it shows in
    `child_ids` (one row more than is shown, to know whether another page follows),
    with the audit row for the children of the rows shown written by the same
    statement: one round trip a page, and no page read without its audit. It answers
    `columns` (names the caller may see) and then `key`, in key order."""
    return _audited_page(sql, columns)


@lru_cache(maxsize=1024)
def _audited_page(sql: str, columns: tuple[str, ...]) -> str:
    shown = "".join(f'a."{name}", ' for name in columns)
    return (
        f"WITH answer AS ({sql}), named AS (SELECT DISTINCT n.child_id "
        "FROM (SELECT a.child_ids FROM answer a ORDER BY a.key LIMIT :shown) s, "
        "unnest(s.child_ids) AS n(child_id) WHERE n.child_id IS NOT NULL), "
        "audit AS (INSERT INTO access_log (id, organisation_id, client_id, child_ids, action, "
        "surface, outcome, rules, categories, policy_version) "
        "SELECT gen_random_uuid(), :org, :client, array_agg(named.child_id), :action, "
        ":surface, 'allowed', ARRAY[]::text[], :categories, :policy_version FROM named "
        "HAVING count(*) > 0) "
        f"SELECT {shown}a.key FROM answer a ORDER BY a.key"
    )


def page_audit_params(
    principal: Principal, shown: int, *, action: str, surface: str, categories: tuple[str, ...]
) -> dict[str, Any]:
    """The parameters `audited_page` adds: who reads, how many rows are shown, and the
    categories of what the rows say of the children."""
    return {
        "org": principal.organisation_id,
        "client": principal.client_id,
        "shown": shown,
        "action": action,
        "surface": surface,
        "categories": sorted(categories),
        "policy_version": active_policy().version,
    }


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
