"""REST for local quality assurance of providers: QA visits and audits, QA status and its
history, and concerns. Mounted under `/v1/providers` by `routes.router`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from aphub.deps import UoW
from aphub.http import IfMatch, etag, parse_if_match
from aphub.idempotency import HubRoute
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit
from aphub.providers import quality, service
from aphub.providers.params import READ, WRITE, ProviderId, Reader, Writer
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

router = APIRouter(tags=["providers"], route_class=HubRoute)


@router.get(
    "/{provider_id}/quality-assurance",
    response_model=ProviderQARecordPage,
    summary="List a provider's QA visits and audits, oldest first",
    responses=READ,
)
async def list_quality_assurance_records(
    provider_id: ProviderId,
    uow: UoW,
    _principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProviderQARecordPage:
    records, next_cursor = await quality.qa_records_page(uow, provider_id, limit, cursor)
    return ProviderQARecordPage(
        items=[ProviderQARecord.model_validate(r) for r in records], next_cursor=next_cursor
    )


@router.post(
    "/{provider_id}/quality-assurance",
    response_model=ProviderQARecord,
    status_code=201,
    summary="Record a QA visit or audit (a local authority whose area the provider is in)",
    responses=WRITE,
)
async def record_quality_assurance(
    provider_id: ProviderId,
    body: ProviderQARecordInput,
    uow: UoW,
    principal: Writer,
) -> ProviderQARecord:
    created = await quality.record_quality_assurance(uow, principal, provider_id, body)
    return ProviderQARecord.model_validate(created)


@router.get(
    "/{provider_id}/qa-status",
    response_model=ProviderQualityAssurance,
    summary="Read a provider's QA status, last visit and next due date",
    responses=READ,
)
async def get_qa_status(
    provider_id: ProviderId, uow: UoW, _principal: Reader, response: Response
) -> ProviderQualityAssurance:
    entry = await service.get(uow, provider_id)
    response.headers["ETag"] = etag(entry.version)
    return ProviderQualityAssurance.model_validate(entry.quality_assurance)


@router.put(
    "/{provider_id}/qa-status",
    response_model=ProviderQualityAssurance,
    summary="Set a provider's QA status, with the reason (a local authority whose area the "
    "provider is in; never the provider itself)",
    description="If-Match takes the ETag of the provider's directory entry.",
    responses=WRITE,
)
async def set_qa_status(
    provider_id: ProviderId,
    body: ProviderQAStatusInput,
    uow: UoW,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderQualityAssurance:
    entry = await quality.set_qa_status(uow, principal, provider_id, body, parse_if_match(if_match))
    response.headers["ETag"] = etag(entry.version)
    return ProviderQualityAssurance.model_validate(entry.quality_assurance)


@router.get(
    "/{provider_id}/qa-status-history",
    response_model=ProviderQAStatusChangePage,
    summary="List every change of a provider's QA status, oldest first",
    responses=READ,
)
async def list_qa_status_history(
    provider_id: ProviderId,
    uow: UoW,
    _principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProviderQAStatusChangePage:
    changes, next_cursor = await quality.qa_history_page(uow, provider_id, limit, cursor)
    return ProviderQAStatusChangePage(
        items=[ProviderQAStatusChange.model_validate(c) for c in changes], next_cursor=next_cursor
    )


@router.get(
    "/{provider_id}/concerns",
    response_model=ProviderConcernPage,
    summary="List the concerns about a provider that you may see",
    description="You see the concerns you raised; a provider sees those about itself; a "
    "local authority those about providers in its area; a commissioner those about "
    "providers it is using.",
    responses=READ,
)
async def list_provider_concerns(
    provider_id: ProviderId,
    uow: UoW,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProviderConcernPage:
    concerns, next_cursor = await quality.concerns_page(uow, principal, provider_id, limit, cursor)
    return ProviderConcernPage(
        items=[ProviderConcern.model_validate(c) for c in concerns], next_cursor=next_cursor
    )


@router.post(
    "/{provider_id}/concerns",
    response_model=ProviderConcern,
    status_code=201,
    summary="Raise a quality concern about a provider (a school, trust or local authority)",
    responses=WRITE,
)
async def raise_provider_concern(
    provider_id: ProviderId,
    body: ProviderConcernInput,
    uow: UoW,
    principal: Writer,
) -> ProviderConcern:
    return ProviderConcern.model_validate(
        await quality.raise_concern(uow, principal, provider_id, body)
    )
