from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from aphub.graphql.context import HubInfo
from aphub.graphql.pages import checked_page_size
from aphub.models import Organisation as OrganisationRow
from aphub.models.organisations import OrganisationType
from aphub.organisations import service

strawberry.enum(OrganisationType)


@strawberry.type(name="Organisation")
class OrganisationNode:
    id: uuid.UUID
    type: OrganisationType
    name: str
    la_code: str | None
    urn: str | None
    ukprn: str | None
    laestab: str | None
    local_authority_id: uuid.UUID | None
    trust_id: uuid.UUID | None
    postcode: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: OrganisationRow) -> OrganisationNode:
        return cls(
            id=row.id,
            type=OrganisationType(row.type),
            name=row.name,
            la_code=row.la_code,
            urn=row.urn,
            ukprn=row.ukprn,
            laestab=row.laestab,
            local_authority_id=row.local_authority_id,
            trust_id=row.trust_id,
            postcode=row.postcode,
            active=row.active,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class OrganisationPage:
    items: list[OrganisationNode]
    next_cursor: str | None


@strawberry.type
class OrganisationQuery:
    @strawberry.field(description="Organisations, filtered; a page at a time")
    async def organisations(
        self,
        info: HubInfo,
        type: OrganisationType | None = None,
        la_code: str | None = None,
        name: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> OrganisationPage:
        info.context.principal()
        limit = checked_page_size(first)
        f = service.OrganisationFilter(type=type, la_code=la_code, name=name)
        rows, next_cursor = await service.search(info.context.unit, f, limit, after)
        return OrganisationPage(
            items=[OrganisationNode.from_row(r) for r in rows], next_cursor=next_cursor
        )

    @strawberry.field(description="One organisation by id")
    async def organisation(self, info: HubInfo, id: uuid.UUID) -> OrganisationNode:
        info.context.principal()
        return OrganisationNode.from_row(await service.get(info.context.unit, id))
