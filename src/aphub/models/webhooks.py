"""Webhook subscriptions and the log of their delivery attempts.

A subscription belongs to one organisation and holds its own cursor in the event log
(`delivered_seq`): the delivery job sends the events after it, through the feed's sharing
filter as at delivery, and moves it past each event the receiver acknowledged. The job
claims a subscription with a lease (`lease_token`, `leased_until`, taken with `FOR UPDATE
SKIP LOCKED`), so any number of processes deliver, one at a time per subscription, in
order. `generation` moves on whenever the owner changes what or where to deliver (a
replay, a new URL, new filters): a batch claimed before then does not move the cursor.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base, created_at, updated_at, uuid_pk


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        Index("ix_webhook_subscriptions_organisation_id_id", "organisation_id", "id"),
        # the delivery job's claim: enabled subscriptions by when they are next due
        Index(
            "ix_webhook_subscriptions_due",
            text("next_attempt_at NULLS FIRST"),
            postgresql_where=text("enabled"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(100)), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    disabled_reason: Mapped[str | None] = mapped_column(String(32))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the hub must sign with it, so it is kept as issued (as every webhook sender does)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    # when a failed delivery is next retried; null: due as soon as there are events
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("0")
    )
    last_delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_client_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class WebhookDelivery(Base):
    """One attempt to deliver one event: when, how long, the status code or the failure,
    and when the next attempt is due. No body is kept: a delivery is rebuilt from the
    event log (through the sharing filter) whenever it is sent."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_subscription_id_n", "subscription_id", "n"),
        Index("ix_webhook_deliveries_recorded_at", "recorded_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # the order attempts were recorded in (the log's order and its cursor)
    n: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    )
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    error: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # wall-clock time of the row, for the retention job (attempted_at follows the
    # delivery job's clock)
    recorded_at: Mapped[datetime] = created_at()
