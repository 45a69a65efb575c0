"""The event log: one append-only, hash-chained table for every transition in the hub."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aphub.models.base import Base

GENESIS_HASH = "0" * 64


class EventContent:
    """What an event says, the same in the outbox and in the chain."""

    type: Mapped[str] = mapped_column(String(64), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_client_id: Mapped[str | None] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    subject_version: Mapped[int | None] = mapped_column(Integer)
    child_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class Event(EventContent, Base):
    __tablename__ = "events"
    __table_args__ = (
        # exactly one event per version of a versioned subject
        Index(
            "uq_events_subject_version",
            "subject_type",
            "subject_id",
            "subject_version",
            unique=True,
            postgresql_where=text("subject_version IS NOT NULL"),
        ),
        Index("ix_events_subject_type_subject_id_seq", "subject_type", "subject_id", "seq"),
        Index("ix_events_child_id_seq", "child_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class EventOutbox(EventContent, Base):
    """Events committed with their change and not yet sealed into the chain.

    A transaction that records events inserts them here, with no lock on anything shared,
    so concurrent transitions commit (and share WAL flushes) concurrently. The sealer
    (`aphub.events.log.Sealer`) then moves them into `events` in one transaction of its
    own, giving each its place in the chain and its hash. A row lives here for the
    milliseconds between its commit and the next sealing pass.
    """

    __tablename__ = "event_outbox"
    __table_args__ = (
        Index(
            "uq_event_outbox_subject_version",
            "subject_type",
            "subject_id",
            "subject_version",
            unique=True,
            postgresql_where=text("subject_version IS NOT NULL"),
        ),
    )

    # the order in which the recording transactions inserted them: a subject's events
    # are recorded under its row lock, so this orders each subject's events correctly
    n: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, nullable=False)


class EventChainHead(Base):
    """One row: the last sequence number and hash. Only the sealer writes it, holding
    this row's lock from the start of a pass to its commit, so the chain is extended by
    one pass at a time and sequence order is commit order."""

    __tablename__ = "event_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class EventCheckpoint(Base):
    """The chain's size and head hash at a moment, signed with the hub's key: clients
    keep them, and a log rewound after one was published no longer proves it a prefix
    (`aphub.events.checkpoints`). Append-only, as the events are."""

    __tablename__ = "event_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    head: Mapped[str] = mapped_column(String(64), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    kid: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[str] = mapped_column(Text, nullable=False)
