"""REST for local quality assurance of providers: QA visits and audits, QA status and its
history, and concerns, under `/v1/providers/{provider_id}`."""

from __future__ import annotations

from starlette.responses import Response

from aphub.api.endpoint import Endpoint
from aphub.api.requests import PageParams
from aphub.auth.principal import Principal
from aphub.db import ReadUnit, WriteUnit
from aphub.providers import quality, service
from aphub.providers.params import READ, TAGS, WRITE, WRITE_ERRORS, ProviderId, tagged
from aphub.providers.responses import (
    ProviderConcern,
    ProviderConcernPage,
    ProviderQARecord,
    ProviderQARecordPage,
    ProviderQAStatusChange,
    ProviderQAStatusChangePage,
    ProviderQualityAssurance,
)
from aphub.providers.schemas import (
    ProviderConcernInput,
    ProviderQARecordInput,
    ProviderQAStatusInput,
)


async def list_quality_assurance_records(
    unit: ReadUnit, provider_id: ProviderId, query: PageParams
) -> ProviderQARecordPage:
    records, next_cursor = await quality.qa_records_page(
        unit, provider_id, query.limit, query.cursor
    )
    return ProviderQARecordPage(
        items=[ProviderQARecord.model_validate(r) for r in records], next_cursor=next_cursor
    )


async def record_quality_assurance(
    unit: WriteUnit, principal: Principal, provider_id: ProviderId, body: ProviderQARecordInput
) -> ProviderQARecord:
    created = await quality.record_quality_assurance(unit, principal, provider_id, body)
    return ProviderQARecord.model_validate(created)


async def get_qa_status(unit: ReadUnit, provider_id: ProviderId) -> Response:
    entry = await service.get(unit, provider_id)
    return tagged(ProviderQualityAssurance.model_validate(entry.quality_assurance), entry.version)


async def set_qa_status(
    unit: WriteUnit,
    principal: Principal,
    provider_id: ProviderId,
    body: ProviderQAStatusInput,
    if_match: int | None,
) -> Response:
    entry = await quality.set_qa_status(unit, principal, provider_id, body, if_match)
    return tagged(ProviderQualityAssurance.model_validate(entry.quality_assurance), entry.version)


async def list_qa_status_history(
    unit: ReadUnit, provider_id: ProviderId, query: PageParams
) -> ProviderQAStatusChangePage:
    changes, next_cursor = await quality.qa_history_page(
        unit, provider_id, query.limit, query.cursor
    )
    return ProviderQAStatusChangePage(
        items=[ProviderQAStatusChange.model_validate(c) for c in changes], next_cursor=next_cursor
    )


async def list_provider_concerns(
    unit: ReadUnit, principal: Principal, provider_id: ProviderId, query: PageParams
) -> ProviderConcernPage:
    concerns, next_cursor = await quality.concerns_page(
        unit, principal, provider_id, query.limit, query.cursor
    )
    return ProviderConcernPage(
        items=[ProviderConcern.model_validate(c) for c in concerns], next_cursor=next_cursor
    )


async def raise_provider_concern(
    unit: WriteUnit, principal: Principal, provider_id: ProviderId, body: ProviderConcernInput
) -> ProviderConcern:
    return ProviderConcern.model_validate(
        await quality.raise_concern(unit, principal, provider_id, body)
    )


ENTRY = "/v1/providers/{provider_id}"

ENDPOINTS = [
    Endpoint(
        "GET",
        f"{ENTRY}/quality-assurance",
        list_quality_assurance_records,
        "List a provider's QA visits and audits, oldest first",
        scope=READ,
        response=ProviderQARecordPage,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        f"{ENTRY}/quality-assurance",
        record_quality_assurance,
        "Record a QA visit or audit (a local authority whose area the provider is in)",
        scope=WRITE,
        response=ProviderQARecord,
        status=201,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=(quality.QA_RECORDED,),
    ),
    Endpoint(
        "GET",
        f"{ENTRY}/qa-status",
        get_qa_status,
        "Read a provider's QA status, last visit and next due date",
        scope=READ,
        response=ProviderQualityAssurance,
        tags=TAGS,
    ),
    Endpoint(
        "PUT",
        f"{ENTRY}/qa-status",
        set_qa_status,
        "Set a provider's QA status, with the reason (a local authority whose area the "
        "provider is in; never the provider itself)",
        scope=WRITE,
        response=ProviderQualityAssurance,
        errors=WRITE_ERRORS,
        description="If-Match takes the ETag of the provider's directory entry.",
        tags=TAGS,
        events=(quality.QA_STATUS_CHANGED,),
    ),
    Endpoint(
        "GET",
        f"{ENTRY}/qa-status-history",
        list_qa_status_history,
        "List every change of a provider's QA status, oldest first",
        scope=READ,
        response=ProviderQAStatusChangePage,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        f"{ENTRY}/concerns",
        list_provider_concerns,
        "List the concerns about a provider that you may see",
        scope=READ,
        response=ProviderConcernPage,
        description="You see the concerns you raised; a provider sees those about itself; a "
        "local authority those about providers in its area; a commissioner those about "
        "providers it is using.",
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        f"{ENTRY}/concerns",
        raise_provider_concern,
        "Raise a quality concern about a provider (a school, trust or local authority)",
        scope=WRITE,
        response=ProviderConcern,
        status=201,
        errors=WRITE_ERRORS,
        tags=TAGS,
        events=(quality.CONCERN_RAISED,),
    ),
]
