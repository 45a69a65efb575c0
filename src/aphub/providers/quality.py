"""Local quality assurance of providers: QA visits and audits, the QA status a local
authority sets (with its history), and quality concerns commissioners raise.

Each change is logged in the event log in the same transaction, with actor, time and
reason: `provider.qa_recorded`, `provider.qa_status_changed`, `provider.concern_raised`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, or_, select

from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.events.log import record
from aphub.ids import uuid7
from aphub.models import (
    Child,
    Placement,
    ProviderConcern,
    ProviderQARecord,
    ProviderQAStatusChange,
)
from aphub.models.organisations import OrganisationType
from aphub.models.provider_quality import QAKind
from aphub.providers import lists, repository
from aphub.providers.alerts import today
from aphub.providers.schemas import (
    ProviderConcernInput,
    ProviderQARecordInput,
    ProviderQAStatusInput,
    invalid,
    qa_record_rule_errors,
    qa_status_rule_errors,
)
from aphub.providers.service import (
    SUBJECT,
    actor,
    check_version,
    get,
    provider_changed,
    provider_for_quality_assurance,
    require_commissioner,
    require_provider,
)
from aphub.providers.views import ConcernView, ProviderEntry, QARecordView, QAStatusChangeView

QA_RECORDED = "provider.qa_recorded"
QA_STATUS_CHANGED = "provider.qa_status_changed"
CONCERN_RAISED = "provider.concern_raised"


# --- QA visits and audits ----------------------------------------------------------------------


async def record_quality_assurance(
    uow: WriteUnit, principal: Principal, provider_id: uuid.UUID, data: ProviderQARecordInput
) -> QARecordView:
    """Record a visit or audit; the latest one sets the provider's next due date, and a
    visit its last visit date. The assessor is the recording local authority."""
    provider = await provider_for_quality_assurance(uow, principal, provider_id)
    errors = qa_record_rule_errors(data, today())
    if errors:
        raise invalid(errors)
    profile = await repository.profile_for_update(uow, provider_id)
    latest = await lists.latest_qa_date(uow, provider_id)
    qa_record = ProviderQARecord(
        id=uuid7(),
        provider_id=provider_id,
        kind=data.kind.value,
        conducted_on=data.conducted_on,
        assessor_organisation_id=principal.organisation_id,
        assessor_name=data.assessor_name,
        findings=data.findings,
        actions=data.actions,
        outcome=data.outcome.value,
        next_due_on=data.next_due_on,
        recorded_by_client_id=principal.client_id,
    )
    uow.session.add(qa_record)
    if data.kind == QAKind.visit and (
        profile.qa_last_visit_on is None or data.conducted_on > profile.qa_last_visit_on
    ):
        profile.qa_last_visit_on = data.conducted_on
    if latest is None or data.conducted_on >= latest:
        # a record entered late for an earlier visit does not override a newer plan
        profile.qa_assessor_organisation_id = principal.organisation_id
        if data.next_due_on is not None:
            profile.qa_next_due_on = data.next_due_on
    provider_changed(
        uow,
        principal,
        provider,
        QA_RECORDED,
        {
            "reason": f"QA {data.kind.value} on {data.conducted_on.isoformat()}: "
            f"{data.outcome.value}",
            "record_id": str(qa_record.id),
            "kind": data.kind.value,
            "conducted_on": data.conducted_on.isoformat(),
            "outcome": data.outcome.value,
            "next_due_on": data.next_due_on.isoformat() if data.next_due_on else None,
        },
    )
    await uow.session.flush()
    return await lists.qa_record(uow, qa_record.id)


async def qa_records_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[QARecordView], str | None]:
    await require_provider(uow, provider_id)
    return await lists.qa_records_page(uow, provider_id, limit, cursor)


async def qa_records_of(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[QARecordView]]:
    return await lists.qa_records_by_provider(uow, ids)


# --- QA status ---------------------------------------------------------------------------------


async def set_qa_status(
    uow: WriteUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    data: ProviderQAStatusInput,
    if_match: int | None,
) -> ProviderEntry:
    """Set the QA status; returns the entry at its new version."""
    provider = await provider_for_quality_assurance(uow, principal, provider_id)
    check_version(provider.version, if_match, "directory entry")
    errors = qa_status_rule_errors(data, today())
    if errors:
        raise invalid(errors)
    profile = await repository.profile_for_update(uow, provider_id)
    now = datetime.now(UTC)
    change = ProviderQAStatusChange(
        id=uuid7(),
        provider_id=provider_id,
        from_status=profile.qa_status,
        to_status=data.status.value,
        reason=data.reason,
        conditions=data.conditions,
        next_due_on=data.next_due_on,
        changed_by_organisation_id=principal.organisation_id,
        changed_by_client_id=principal.client_id,
        changed_at=now,
    )
    uow.session.add(change)
    profile.qa_status = data.status.value
    profile.qa_status_reason = data.reason
    profile.qa_conditions = data.conditions
    profile.qa_status_changed_at = now
    profile.qa_assessor_organisation_id = principal.organisation_id
    if data.next_due_on is not None:
        profile.qa_next_due_on = data.next_due_on
    provider_changed(
        uow,
        principal,
        provider,
        QA_STATUS_CHANGED,
        {
            "reason": data.reason,
            "change_id": str(change.id),
            "from_status": change.from_status,
            "to_status": change.to_status,
            "conditions": data.conditions,
            "next_due_on": data.next_due_on.isoformat() if data.next_due_on else None,
        },
    )
    await uow.session.flush()
    return await get(uow, provider_id)


async def qa_history_page(
    uow: ReadUnit, provider_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[QAStatusChangeView], str | None]:
    await require_provider(uow, provider_id)
    return await lists.qa_history_page(uow, provider_id, limit, cursor)


async def qa_history_of(
    uow: ReadUnit, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[QAStatusChangeView]]:
    return await lists.qa_history_by_provider(uow, ids)


# --- concerns ----------------------------------------------------------------------------------


def providers_used_by(principal: Principal) -> Select[Any] | CompoundSelect[Any] | None:
    """Providers the caller is using as a commissioner: those it has placements with that
    are not yet over (requested, offered or active); for a local authority, also those
    placements made for its residents. Concerns are shared with every such commissioner."""
    live = Placement.status.in_(("requested", "offered", "active"))
    mine = select(Placement.provider_id).where(
        live, Placement.commissioner_id == principal.organisation_id
    )
    if principal.organisation_type == OrganisationType.local_authority:
        residents = (
            select(Placement.provider_id)
            .join(Child, Child.id == Placement.child_id)
            .where(live, Child.home_la_id == principal.organisation_id)
        )
        return mine.union(residents)
    if principal.organisation_type in (OrganisationType.school, OrganisationType.trust):
        return mine
    return None


def visible_concerns(principal: Principal) -> ColumnElement[bool]:
    """Which concerns the caller may read: those it raised; all of those about itself (a
    provider); all of those about providers in its area (a local authority); and all of
    those about providers it is using (`providers_used_by`)."""
    me = principal.organisation_id
    conditions = [
        ProviderConcern.raised_by_organisation_id == me,
        ProviderConcern.provider_id == me,
    ]
    if principal.organisation_type == OrganisationType.local_authority:
        conditions.append(repository.in_area_of(ProviderConcern.provider_id, me))
    used = providers_used_by(principal)
    if used is not None:
        conditions.append(ProviderConcern.provider_id.in_(used))
    return or_(*conditions)


async def raise_concern(
    uow: WriteUnit, principal: Principal, provider_id: uuid.UUID, data: ProviderConcernInput
) -> ConcernView:
    require_commissioner(principal)
    await require_provider(uow, provider_id)
    concern = ProviderConcern(
        id=uuid7(),
        provider_id=provider_id,
        category=data.category.value,
        severity=data.severity.value,
        reason=data.reason,
        raised_by_organisation_id=principal.organisation_id,
        raised_by_client_id=principal.client_id,
        raised_at=datetime.now(UTC),
    )
    uow.session.add(concern)
    # a concern is not part of the directory entry: the entry's version does not move
    record(
        uow,
        type=CONCERN_RAISED,
        subject_type=SUBJECT,
        subject_id=provider_id,
        actor=actor(principal),
        data={
            "reason": data.reason,
            "concern_id": str(concern.id),
            "category": concern.category,
            "severity": concern.severity,
        },
    )
    await uow.session.flush()
    return await lists.concern(uow, concern.id)


async def concerns_page(
    uow: ReadUnit,
    principal: Principal,
    provider_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[ConcernView], str | None]:
    await require_provider(uow, provider_id)
    return await lists.concerns_page(uow, provider_id, visible_concerns(principal), limit, cursor)


async def concerns_of(
    uow: ReadUnit, principal: Principal, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ConcernView]]:
    return await lists.concerns_by_provider(uow, ids, visible_concerns(principal))
