"""What the webhook subscription endpoints take and answer."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aphub.api.requests import PageParams

# `*` (everything), an event type (`placement.started`), or a family (`placement.*`)
_PATTERN = re.compile(r"^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?)$")


def _pattern(value: str) -> str:
    if not _PATTERN.match(value):
        raise ValueError(
            "must be `*`, an event type like `placement.started`, or a family like `placement.*`"
        )
    return value


EventTypePattern = Annotated[
    str,
    Field(min_length=1, max_length=100, examples=["placement.*"]),
    AfterValidator(_pattern),
]
EventTypes = Annotated[
    list[EventTypePattern],
    Field(
        min_length=1,
        max_length=50,
        description="The events to deliver: `*` for every event you may see, an event type "
        "(`placement.started`) or a family (`placement.*`)",
        examples=[["placement.*", "attendance.concern_raised"]],
    ),
]
Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="An https URL on the public internet (plain http and private "
        "addresses only for hosts the hub's operator allowlists)",
        examples=["https://mis.example.org/aphub/webhooks"],
    ),
]
Description = Annotated[str, Field(max_length=500)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookSubscriptionCreate(_Body):
    url: Url
    event_types: EventTypes = Field(default_factory=lambda: ["*"])
    description: Description | None = None
    enabled: bool = True


class WebhookSubscriptionUpdate(_Body):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = Field(
        None,
        description="false stops deliveries; true resumes them from the first event not "
        "yet delivered (and clears a disabling for failure)",
    )


class ReplayRequest(_Body):
    from_seq: int = Field(
        ge=1,
        le=2**62,
        description="Deliver again every event from this sequence number on (the feed's "
        "`sequence`), in order, as your sharing allows now",
    )


class WebhookSubscription(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: Literal["failing"] | None = Field(
        description="Why the hub disabled it (`failing`: every attempt failed for the "
        "retry period); null when enabled or disabled by you"
    )
    disabled_at: datetime | None
    delivered_through: int = Field(
        description="Sequence number up to which every event due has been delivered"
    )
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due while deliveries are failing"
    )
    failing_since: datetime | None
    consecutive_failures: int
    last_delivered_at: datetime | None
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs every delivery too"
    )
    created_at: datetime
    updated_at: datetime
    version: int


class IssuedWebhookSubscription(WebhookSubscription):
    secret: str = Field(
        description="The signing secret (Standard Webhooks, `whsec_` and base64): shown "
        "only now; keep it to verify `webhook-signature`"
    )


class WebhookSubscriptionPage(BaseModel):
    items: list[WebhookSubscription]
    next_cursor: str | None


class WebhookDelivery(BaseModel):
    id: uuid.UUID = Field(description="This attempt")
    webhook_id: uuid.UUID = Field(description="`webhook-id`: the event's id")
    sequence: int
    event_type: str
    attempt: int = Field(description="1 for the first attempt at this event, then 2, ...")
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="Your receiver's answer; null if none")
    outcome: Literal["delivered", "failed", "refused"] = Field(
        description="`refused`: the hub would not connect (the URL's address is not allowed)"
    )
    error: str | None
    next_attempt_at: datetime | None


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDelivery]
    next_cursor: str | None


class DeliveryQuery(PageParams):
    outcome: Literal["delivered", "failed", "refused"] | None = None
