"""GraphQL mutations of child records: the same services and rules as REST."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry
from strawberry.scalars import JSON

from aphub.children import consents, involvements, passports, service
from aphub.children.consent_schemas import ConsentCreate
from aphub.children.graphql import ChildNode, ConsentNode, InvolvementNode
from aphub.children.graphql_inputs import (
    ChildCreateInput,
    ChildUpdateInput,
    ConsentInput,
    InvolvementInput,
    parse,
    present,
)
from aphub.children.involvement_schemas import InvolvementCreate
from aphub.children.passport_schemas import parse_changes
from aphub.children.schemas import ChildCreate, ChildUpdate
from aphub.graphql.context import HubInfo
from aphub.sharing import gate


async def _shaped(info: HubInfo, child_id: uuid.UUID) -> ChildNode:
    principal = info.context.principal()
    shaped = await gate.read_child(info.context.unit, principal, child_id, surface="graphql")
    return ChildNode.from_shaped(shaped)


@strawberry.type
class ChildMutation:
    @strawberry.mutation(
        description="Record a child, or enrol them into the record the hub holds when UPN, "
        "date of birth and surname all match (as POST /v1/children)"
    )
    async def create_child(self, info: HubInfo, input: ChildCreateInput) -> ChildNode:
        principal = info.context.principal("passports:write")
        data = parse(ChildCreate, present(input, drop_null=True))
        child_id, _created = await service.create_child(info.context.writer, principal, data)
        return await _shaped(info, child_id)

    @strawberry.mutation(description="Change identity or status fields you may write")
    async def update_child(
        self, info: HubInfo, id: uuid.UUID, input: ChildUpdateInput, if_match: int | None = None
    ) -> ChildNode:
        principal = info.context.principal("passports:write")
        data = parse(ChildUpdate, present(input))
        await service.update_child(info.context.writer, principal, id, data, if_match)
        return await _shaped(info, id)

    @strawberry.mutation(
        description="Change fields of a passport section: `changes` holds the fields to set "
        "(null clears), as in PATCH /v1/children/{id}/passport/{section}; `ifMatch` is the "
        "section's version"
    )
    async def update_passport_section(
        self,
        info: HubInfo,
        child_id: uuid.UUID,
        section: str,
        changes: JSON,
        if_match: int | None = None,
    ) -> ChildNode:
        principal = info.context.principal("passports:write")
        passports.known_section(section)
        content = parse_changes(section, changes)
        await passports.update_section(
            info.context.writer, principal, child_id, section, content, if_match
        )
        return await _shaped(info, child_id)

    @strawberry.mutation(description="Record a health or social care involvement")
    async def record_involvement(
        self, info: HubInfo, child_id: uuid.UUID, input: InvolvementInput
    ) -> InvolvementNode:
        principal = info.context.principal("passports:write")
        data = parse(InvolvementCreate, present(input, drop_null=True))
        row = await involvements.record_involvement(info.context.writer, principal, child_id, data)
        return InvolvementNode.from_view(row)

    @strawberry.mutation(description="End an involvement (default: now)")
    async def end_involvement(
        self,
        info: HubInfo,
        child_id: uuid.UUID,
        involvement_id: uuid.UUID,
        end_date: date | None = None,
    ) -> InvolvementNode:
        principal = info.context.principal("passports:write")
        row = await involvements.end_involvement(
            info.context.writer, principal, child_id, involvement_id, end_date
        )
        return InvolvementNode.from_view(row)

    @strawberry.mutation(description="Record a consent given for the child")
    async def record_consent(
        self, info: HubInfo, child_id: uuid.UUID, input: ConsentInput
    ) -> ConsentNode:
        principal = info.context.principal("passports:write")
        data = parse(ConsentCreate, present(input, drop_null=True))
        row = await consents.record_consent(info.context.writer, principal, child_id, data)
        return ConsentNode.from_view(row)

    @strawberry.mutation(description="Record that a consent was withdrawn (default: today)")
    async def withdraw_consent(
        self,
        info: HubInfo,
        child_id: uuid.UUID,
        consent_id: uuid.UUID,
        withdrawn_on: date | None = None,
    ) -> ConsentNode:
        principal = info.context.principal("passports:write")
        row = await consents.withdraw_consent(
            info.context.writer, principal, child_id, consent_id, withdrawn_on
        )
        return ConsentNode.from_view(row)
