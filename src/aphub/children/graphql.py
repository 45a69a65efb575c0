"""GraphQL for children: the same gate and services as REST. Fields outside the caller's
categories resolve to null (GraphQL cannot omit a selected field); `access.categories`
says which categories were granted."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from aphub.children import service
from aphub.children.routes import cursor_id
from aphub.graphql.context import HubInfo
from aphub.graphql.pages import checked_page_size
from aphub.pagination import encode_cursor
from aphub.sharing import gate


@strawberry.type
class Access:
    rules: list[str]
    categories: list[str]
    policy_version: str


@strawberry.type(name="Enrolment")
class EnrolmentNode:
    id: uuid.UUID
    school_id: uuid.UUID
    status: str
    start_date: date
    end_date: date | None


@strawberry.type
class PassportSectionNode:
    section: str
    version: int
    updated_at: datetime | None
    content: JSON = strawberry.field(description="The fields of the section you may read")


@strawberry.type(name="Child")
class ChildNode:
    id: uuid.UUID
    version: int
    home_la_id: uuid.UUID
    updated_at: datetime
    legal_first_name: str | None = None
    legal_last_name: str | None = None
    preferred_name: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    year_group: str | None = None
    upn: str | None = None
    former_upns: list[str] | None = None
    uln: str | None = None
    nhs_number: str | None = None
    enrolments: list[EnrolmentNode] | None = None
    sen_provision: str | None = None
    free_school_meals: bool | None = None
    primary_need: str | None = None
    has_medical_needs: bool | None = None
    looked_after: bool | None = None
    looked_after_la_id: uuid.UUID | None = None
    child_in_need: bool | None = None
    child_protection_plan: bool | None = None
    young_carer: bool | None = None
    youth_justice: bool | None = None
    passport: list[PassportSectionNode] | None = None
    access: Access

    @classmethod
    def from_shaped(cls, child: dict[str, Any]) -> ChildNode:
        values = dict(child)
        values["access"] = Access(**child["access"])
        if "date_of_birth" in values:
            values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
        values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        if "enrolments" in values:
            values["enrolments"] = [
                EnrolmentNode(
                    id=uuid.UUID(e["id"]),
                    school_id=uuid.UUID(e["school_id"]),
                    status=e["status"],
                    start_date=date.fromisoformat(e["start_date"]),
                    end_date=date.fromisoformat(e["end_date"]) if e["end_date"] else None,
                )
                for e in values["enrolments"]
            ]
        if "passport" in values:
            values["passport"] = [
                PassportSectionNode(
                    section=name,
                    version=body["version"],
                    updated_at=(
                        datetime.fromisoformat(body["updated_at"]) if body["updated_at"] else None
                    ),
                    content=cast(
                        JSON,
                        {k: v for k, v in body.items() if k not in ("version", "updated_at")},
                    ),
                )
                for name, body in values["passport"].items()
            ]
        return cls(**values)


@strawberry.type
class ChildPage:
    items: list[ChildNode]
    next_cursor: str | None


@strawberry.type
class ChildQuery:
    @strawberry.field(description="Children you may see (or those matching a UPN / NHS number)")
    async def children(
        self,
        info: HubInfo,
        first: int = 50,
        after: str | None = None,
        upn: str | None = None,
        nhs_number: str | None = None,
    ) -> ChildPage:
        principal = info.context.principal("passports:read")
        limit = checked_page_size(first)
        after_id = cursor_id(after)
        rows, last = await service.list_children(
            info.context.uow,
            principal,
            upn=upn,
            nhs_number=nhs_number,
            after=after_id,
            limit=limit,
            surface="graphql",
        )
        return ChildPage(
            items=[ChildNode.from_shaped(r) for r in rows],
            next_cursor=encode_cursor([str(last)]) if last else None,
        )

    @strawberry.field(description="One child, redacted for you (NOT_FOUND when hidden)")
    async def child(self, info: HubInfo, id: uuid.UUID) -> ChildNode:
        principal = info.context.principal("passports:read")
        shaped = await gate.read_child(info.context.uow, principal, id, surface="graphql")
        return ChildNode.from_shaped(shaped)
