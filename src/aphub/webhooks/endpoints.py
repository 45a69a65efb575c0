"""REST for webhook subscriptions (`webhooks:manage`): the caller's organisation's own."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams
from aphub.api.serve import respond
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.http import etag
from aphub.webhooks import service
from aphub.webhooks.guard import Guard
from aphub.webhooks.schemas import (
    DeliveryQuery,
    IssuedWebhookSubscription,
    ReplayRequest,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookSubscription,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPage,
    WebhookSubscriptionUpdate,
)

SCOPE = "webhooks:manage"
BASE = "/v1/webhook-subscriptions"
ONE = f"{BASE}/{{subscription_id}}"
TAGS = ("webhooks",)


def guard_of(request: Request) -> Guard:
    """The application's guard (its allowlist from the settings)."""
    guard: Guard = request.app.state.webhook_guard
    return guard


def _answer(found: dict[str, object], model: type[WebhookSubscription], status: int) -> Response:
    shown = model.model_validate(found)
    headers = {"ETag": etag(shown.version), "Location": f"{BASE}/{shown.id}"}
    return respond(shown, status=status, headers=headers)


async def create_webhook_subscription(
    unit: WriteUnit, principal: Principal, body: WebhookSubscriptionCreate, request: Request
) -> Response:
    created = await service.create(unit, principal, body, guard_of(request))
    return _answer(created, IssuedWebhookSubscription, 201)


async def list_webhook_subscriptions(
    unit: ReadUnit, principal: Principal, query: PageParams
) -> WebhookSubscriptionPage:
    items, next_cursor = await service.page(unit, principal, query.limit, query.cursor)
    return WebhookSubscriptionPage(
        items=[WebhookSubscription.model_validate(i) for i in items], next_cursor=next_cursor
    )


async def get_webhook_subscription(
    unit: ReadUnit, principal: Principal, subscription_id: uuid.UUID
) -> Response:
    return _answer(await service.get(unit, principal, subscription_id), WebhookSubscription, 200)


async def update_webhook_subscription(
    unit: WriteUnit,
    principal: Principal,
    subscription_id: uuid.UUID,
    body: WebhookSubscriptionUpdate,
    if_match: int | None,
    request: Request,
) -> Response:
    updated = await service.update(
        unit, principal, subscription_id, body, if_match, guard_of(request)
    )
    return _answer(updated, WebhookSubscription, 200)


async def delete_webhook_subscription(
    unit: WriteUnit, principal: Principal, subscription_id: uuid.UUID
) -> None:
    await service.delete(unit, principal, subscription_id)


async def rotate_webhook_secret(
    unit: WriteUnit, principal: Principal, subscription_id: uuid.UUID
) -> Response:
    rotated = await service.rotate_secret(unit, principal, subscription_id)
    return _answer(rotated, IssuedWebhookSubscription, 200)


async def replay_webhook_events(
    unit: WriteUnit, principal: Principal, subscription_id: uuid.UUID, body: ReplayRequest
) -> Response:
    replayed = await service.replay(unit, principal, subscription_id, body.from_seq)
    return _answer(replayed, WebhookSubscription, 202)


async def list_webhook_deliveries(
    unit: ReadUnit, principal: Principal, subscription_id: uuid.UUID, query: DeliveryQuery
) -> WebhookDeliveryPage:
    items, next_cursor = await service.deliveries(unit, principal, subscription_id, query)
    return WebhookDeliveryPage(
        items=[WebhookDelivery.model_validate(i) for i in items], next_cursor=next_cursor
    )


ENDPOINTS = [
    Endpoint(
        "POST",
        BASE,
        create_webhook_subscription,
        "Subscribe a URL to your events; the signing secret is shown once",
        description=(
            "Deliveries start with the first event after this moment. Each is a POST of "
            "one event as CloudEvents JSON, exactly as `GET /v1/events` gives it to you, "
            "signed by the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, "
            "`webhook-signature`). Events come in sequence order, at least once (keep "
            "`webhook-id` to drop a repeat); answer 2xx within 10 seconds. A failed "
            "delivery is retried with exponential backoff, in order; a subscription "
            "failing for the retry period (at least 24 hours) is disabled, which is an "
            "event too. The URL must be https and resolve to a public address."
        ),
        scope=SCOPE,
        response=IssuedWebhookSubscription,
        status=201,
        errors=(409,),
        tags=TAGS,
        events=("webhook_subscription.created",),
    ),
    Endpoint(
        "GET",
        BASE,
        list_webhook_subscriptions,
        "List your organisation's webhook subscriptions",
        scope=SCOPE,
        response=WebhookSubscriptionPage,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        ONE,
        get_webhook_subscription,
        "Read a webhook subscription (never its secret)",
        scope=SCOPE,
        response=WebhookSubscription,
        tags=TAGS,
    ),
    Endpoint(
        "PATCH",
        ONE,
        update_webhook_subscription,
        "Change a subscription's URL, filters, description, or enable or disable it",
        description=(
            "A new URL or new filters apply from the first event not yet delivered. "
            "Enabling a subscription the hub disabled for failure resumes it from there."
        ),
        scope=SCOPE,
        response=WebhookSubscription,
        tags=TAGS,
        events=("webhook_subscription.updated",),
    ),
    Endpoint(
        "DELETE",
        ONE,
        delete_webhook_subscription,
        "Delete a webhook subscription and its delivery log",
        scope=SCOPE,
        status=204,
        tags=TAGS,
        events=("webhook_subscription.deleted",),
    ),
    Endpoint(
        "POST",
        f"{ONE}/rotate-secret",
        rotate_webhook_secret,
        "Issue a new signing secret; the previous one keeps signing for 24 hours",
        description=(
            "Until `previous_secret_expires_at` every delivery carries two signatures in "
            "`webhook-signature` (new first), so your receiver may switch at any time."
        ),
        scope=SCOPE,
        response=IssuedWebhookSubscription,
        tags=TAGS,
        events=("webhook_subscription.secret_rotated",),
    ),
    Endpoint(
        "POST",
        f"{ONE}/replay",
        replay_webhook_events,
        "Deliver again every event from a sequence number on",
        description=(
            "The events are sent again in order, filtered and redacted as your sharing "
            "allows now (a child you no longer see is not sent), after any batch being "
            "sent at this moment."
        ),
        scope=SCOPE,
        response=WebhookSubscription,
        status=202,
        tags=TAGS,
        events=("webhook_subscription.replayed",),
    ),
    Endpoint(
        "GET",
        f"{ONE}/deliveries",
        list_webhook_deliveries,
        "The subscription's delivery attempts, newest first",
        description=(
            "Each attempt: the event's `webhook-id` and sequence number, when, how long, "
            "your receiver's status code or why it failed, and when it is retried. No "
            "bodies are kept; attempts are listed for a limited time."
        ),
        scope=SCOPE,
        response=WebhookDeliveryPage,
        tags=TAGS,
    ),
]
