"""Webhook subscriptions: an organisation's own, managed with `webhooks:manage`.

A subscription is its organisation's and nobody else's: another organisation's is 404
on every path. Every change is an event (`webhook_subscription.*`, metadata and the
URL's host only: a URL may carry a receiver's token in its query, and the event log is
kept for ever), which the feed delivers to the organisation itself.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Conflict, Invalid, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.ids import uuid7
from aphub.pagination import cursor_id, decode_cursor, page_of
from aphub.webhooks.guard import Guard, Refused
from aphub.webhooks.schemas import (
    DeliveryQuery,
    WebhookSubscriptionCreate,
    WebhookSubscriptionUpdate,
)
from aphub.webhooks.signing import ROTATION_OVERLAP, new_secret

MAX_SUBSCRIPTIONS = 25
SUBJECT = "webhook_subscription"
# events no endpoint appends (the delivery job's own)
SYSTEM_EVENT_TYPES = ("webhook_subscription.disabled",)

_COLUMNS = (
    "id, url, event_types, description, enabled, disabled_reason, disabled_at, "
    "delivered_seq, next_attempt_at, failing_since, consecutive_failures, last_delivered_at, "
    "secret_rotated_at, previous_secret_expires_at, created_at, updated_at, version"
)
_OWN = f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE id = :id AND organisation_id = :org"
_LOCK = f"{_OWN} FOR UPDATE"
_LIST = (
    f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE organisation_id = :org "
    "AND id > :after ORDER BY id LIMIT :limit"
)
_COUNT = (
    "SELECT count(*) FROM webhook_subscriptions WHERE organisation_id = "
    "(SELECT id FROM organisations WHERE id = :org FOR NO KEY UPDATE)"
)
_CREATE = (
    "INSERT INTO webhook_subscriptions (id, organisation_id, url, event_types, description, "
    "enabled, disabled_at, secret, delivered_seq, created_by_client_id) VALUES (:id, :org, "
    ":url, :event_types, :description, :enabled, CASE WHEN :enabled THEN NULL ELSE now() END, "
    ":secret, (SELECT seq FROM event_chain_head WHERE id = 1), :client) "
    f"RETURNING {_COLUMNS}"
)
_UPDATE = (
    "UPDATE webhook_subscriptions SET url = :url, event_types = :event_types, "
    "description = :description, enabled = :enabled, "
    "disabled_reason = CASE WHEN :enabled THEN NULL ELSE disabled_reason END, "
    "disabled_at = CASE WHEN :enabled THEN NULL ELSE coalesce(disabled_at, now()) END, "
    "failing_since = CASE WHEN :resumed THEN NULL ELSE failing_since END, "
    "consecutive_failures = CASE WHEN :resumed THEN 0 ELSE consecutive_failures END, "
    "next_attempt_at = CASE WHEN :resumed THEN NULL ELSE next_attempt_at END, "
    "generation = generation + CASE WHEN :redirected THEN 1 ELSE 0 END, "
    f"version = version + 1, updated_at = now() WHERE id = :id RETURNING {_COLUMNS}"
)
_ROTATE = (
    "UPDATE webhook_subscriptions SET previous_secret = secret, secret = :secret, "
    "previous_secret_expires_at = now() + make_interval(secs => :overlap), "
    "secret_rotated_at = now(), version = version + 1, updated_at = now() "
    f"WHERE id = :id AND organisation_id = :org RETURNING {_COLUMNS}"
)
_HEAD = "SELECT seq FROM event_chain_head WHERE id = 1"
_REPLAY = (
    "UPDATE webhook_subscriptions SET delivered_seq = :from_seq - 1, "
    "generation = generation + 1, next_attempt_at = NULL, failing_since = NULL, "
    "consecutive_failures = 0, version = version + 1, updated_at = now() "
    f"WHERE id = :id AND organisation_id = :org RETURNING {_COLUMNS}"
)
_DELETE = (
    "DELETE FROM webhook_subscriptions WHERE id = :id AND organisation_id = :org "
    "RETURNING version, url"
)
_DELIVERIES = (
    "SELECT n, id, event_id AS webhook_id, seq AS sequence, event_type, attempt, "
    "attempted_at, duration_ms, status_code, outcome, error, next_attempt_at "
    "FROM webhook_deliveries WHERE subscription_id = :id AND n < :before "
    "AND (:outcome::text IS NULL OR outcome = :outcome::text) ORDER BY n DESC LIMIT :limit"
)


def _actor(principal: Principal) -> Actor:
    return Actor(principal.organisation_id, principal.client_id)


@cache
def known_event_types() -> frozenset[str]:
    """Every event type the hub appends: the endpoint table's declarations and the
    system's own (the table is imported late: it imports this package's endpoints)."""
    from aphub.api.table import ENDPOINTS

    return frozenset(t for e in ENDPOINTS for t in e.events) | frozenset(SYSTEM_EVENT_TYPES)


def matches(patterns: list[str] | tuple[str, ...], event_type: str) -> bool:
    """Whether a subscription's filters take an event of this type."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def _check_patterns(patterns: list[str]) -> list[str]:
    """Refuse a filter that matches no event the hub sends (a typo would otherwise
    deliver nothing, silently); duplicates are dropped."""
    known = known_event_types()
    unknown = [p for p in patterns if not any(matches([p], t) for t in known)]
    if unknown:
        families = sorted({t.split(".", 1)[0] + ".*" for t in known})
        raise Invalid.field(
            "event_types",
            f"{', '.join(unknown)} matches no event the hub sends (families: "
            f"{', '.join(families)})",
        )
    return list(dict.fromkeys(patterns))


async def _checked_url(guard: Guard, url: str) -> str:
    try:
        await guard.check(url)
    except Refused as refused:
        raise Invalid.field("url", str(refused)) from None
    return url


def _host(guard: Guard, url: str) -> str | None:
    try:
        return guard.target(url).host
    except Refused:
        return None


def view(row: Any) -> dict[str, Any]:
    found = dict(row)
    found["delivered_through"] = found.pop("delivered_seq")
    return found


async def _own(unit: ReadUnit, principal: Principal, subscription_id: uuid.UUID, sql: str) -> Any:
    row = await unit.fetchrow(sql, id=subscription_id, org=principal.organisation_id)
    if row is None:
        raise NotFound("No such webhook subscription")
    return row


def _event(
    unit: WriteUnit,
    principal: Principal,
    kind: str,
    subscription_id: uuid.UUID,
    version: int,
    **data: Any,
) -> None:
    record(
        unit,
        type=f"{SUBJECT}.{kind}",
        subject_type=SUBJECT,
        subject_id=subscription_id,
        subject_version=version,
        actor=_actor(principal),
        data={
            "organisation_id": str(principal.organisation_id),
            "subscription_id": str(subscription_id),
            **data,
        },
    )


async def create(
    unit: WriteUnit, principal: Principal, body: WebhookSubscriptionCreate, guard: Guard
) -> dict[str, Any]:
    event_types = _check_patterns(body.event_types)
    url = await _checked_url(guard, body.url)  # before the transaction's first statement
    count = await unit.fetchval(_COUNT, org=principal.organisation_id)
    if count >= MAX_SUBSCRIPTIONS:
        raise Conflict(f"An organisation may hold at most {MAX_SUBSCRIPTIONS} subscriptions")
    secret = new_secret()
    row = await unit.fetchrow(
        _CREATE,
        id=uuid7(),
        org=principal.organisation_id,
        url=url,
        event_types=event_types,
        description=body.description,
        enabled=body.enabled,
        secret=secret,
        client=principal.client_id,
    )
    _event(
        unit,
        principal,
        "created",
        row["id"],
        row["version"],
        host=_host(guard, url),
        event_types=event_types,
        enabled=body.enabled,
        delivered_through=row["delivered_seq"],
    )
    return {**view(row), "secret": secret}


async def page(
    unit: ReadUnit, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    after = cursor_id(cursor) or uuid.UUID(int=0)
    rows = await unit.fetch(_LIST, org=principal.organisation_id, after=after, limit=limit + 1)
    found, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
    return [view(r) for r in found], next_cursor


async def get(unit: ReadUnit, principal: Principal, subscription_id: uuid.UUID) -> dict[str, Any]:
    return view(await _own(unit, principal, subscription_id, _OWN))


async def update(
    unit: WriteUnit,
    principal: Principal,
    subscription_id: uuid.UUID,
    body: WebhookSubscriptionUpdate,
    if_match: int | None,
    guard: Guard,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    for name in ("url", "event_types", "enabled"):
        if name in changes and changes[name] is None:
            raise Invalid.field(name, f"{name} may be changed, not removed")
    if "event_types" in changes:
        changes["event_types"] = _check_patterns(changes["event_types"])
    if "url" in changes:
        await _checked_url(guard, changes["url"])
    current = await _own(unit, principal, subscription_id, _LOCK)
    if if_match is not None and if_match != current["version"]:
        raise PreconditionFailed(
            f"The subscription is at version {current['version']}, not {if_match}"
        )
    values = {name: changes.get(name, current[name]) for name in _EDITABLE}
    changed = sorted(name for name in _EDITABLE if values[name] != current[name])
    resumed = values["enabled"] and (
        not current["enabled"] or current["disabled_reason"] is not None
    )
    redirected = any(name in changed for name in ("url", "event_types", "enabled"))
    row = await unit.fetchrow(
        _UPDATE, id=subscription_id, resumed=resumed, redirected=redirected, **values
    )
    data: dict[str, Any] = {"fields": changed, "enabled": values["enabled"]}
    if "url" in changed:
        data["host"] = _host(guard, values["url"])
    if "event_types" in changed:
        data["event_types"] = values["event_types"]
    _event(unit, principal, "updated", subscription_id, row["version"], **data)
    return view(row)


_EDITABLE = ("url", "event_types", "description", "enabled")


async def delete(unit: WriteUnit, principal: Principal, subscription_id: uuid.UUID) -> None:
    row = await _own(unit, principal, subscription_id, _DELETE)
    _event(unit, principal, "deleted", subscription_id, row["version"] + 1)


async def rotate_secret(
    unit: WriteUnit, principal: Principal, subscription_id: uuid.UUID
) -> dict[str, Any]:
    secret = new_secret()
    row = await unit.fetchrow(
        _ROTATE,
        id=subscription_id,
        org=principal.organisation_id,
        secret=secret,
        overlap=ROTATION_OVERLAP.total_seconds(),
    )
    if row is None:
        raise NotFound("No such webhook subscription")
    expires = row["previous_secret_expires_at"]
    _event(
        unit,
        principal,
        "secret_rotated",
        subscription_id,
        row["version"],
        previous_secret_expires_at=expires.isoformat(),
    )
    return {**view(row), "secret": secret}


async def replay(
    unit: WriteUnit, principal: Principal, subscription_id: uuid.UUID, from_seq: int
) -> dict[str, Any]:
    head = int(await unit.fetchval(_HEAD) or 0)
    if from_seq > head + 1:
        raise Invalid.field("from_seq", f"The event log ends at sequence number {head}")
    row = await unit.fetchrow(
        _REPLAY, id=subscription_id, org=principal.organisation_id, from_seq=from_seq
    )
    if row is None:
        raise NotFound("No such webhook subscription")
    _event(unit, principal, "replayed", subscription_id, row["version"], from_seq=from_seq)
    return view(row)


async def deliveries(
    unit: ReadUnit, principal: Principal, subscription_id: uuid.UUID, query: DeliveryQuery
) -> tuple[list[dict[str, Any]], str | None]:
    await _own(unit, principal, subscription_id, _OWN)
    before = decode_cursor(query.cursor, 1)
    if before and (not isinstance(before[0], int) or isinstance(before[0], bool)):
        raise Invalid.field("cursor", "The cursor is not one this hub issued")
    rows = await unit.fetch(
        _DELIVERIES,
        id=subscription_id,
        before=before[0] if before else 2**62,
        outcome=query.outcome,
        limit=query.limit + 1,
    )
    found, next_cursor = page_of(list(rows), query.limit, lambda r: [r["n"]])
    return [dict(r) for r in found], next_cursor
