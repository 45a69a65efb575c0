"""GraphQL for children: the same gate and services as REST. Fields outside the caller's
categories resolve to null (GraphQL cannot omit a selected field); `access.categories`
says which categories were granted."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from aphub.auth.principal import Principal
from aphub.children import access_log, consents, involvements, passports, service
from aphub.children.endpoints import ChildrenQuery, before_version
from aphub.children.graphql_inputs import (
    parse,
)
from aphub.children.record_endpoints import access_log_cursor, encode_access_log_cursor
from aphub.db import ReadUnit
from aphub.graphql.context import HubInfo
from aphub.graphql.pages import checked_page_size
from aphub.pagination import cursor_id, encode_cursor
from aphub.placements import repository as placement_repository
from aphub.sharing import gate
from aphub.sharing.fields import SECTION_FIELDS
from aphub.sharing.policy import active_policy
from aphub.sharing.shape import plain

if TYPE_CHECKING:
    from aphub.education.graphql import EducationStatusNode, ExclusionNode
    from aphub.placements.graphql import PlacementNode
# resolved when the schema is built: the two modules refer to each other
LazyPlacement = Annotated["PlacementNode", strawberry.lazy("aphub.placements.graphql")]
LazyExclusion = Annotated["ExclusionNode", strawberry.lazy("aphub.education.graphql")]
LazyEducation = Annotated["EducationStatusNode", strawberry.lazy("aphub.education.graphql")]


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
    hours_per_week: float | None = None


@strawberry.type
class PassportSectionNode:
    section: str
    version: int
    updated_at: datetime | None
    content: JSON = strawberry.field(description="The fields of the section you may read")


@strawberry.type(name="Involvement")
class InvolvementNode:
    id: uuid.UUID
    child_id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_type: str
    basis: str
    consent_reference: str | None
    start_date: date
    end_date: date | None
    current: bool
    categories: list[str]
    recorded_by_id: uuid.UUID | None
    version: int
    created_at: datetime

    @classmethod
    def from_view(cls, row: dict[str, Any]) -> InvolvementNode:
        return cls(**row)


@strawberry.type(name="Consent")
class ConsentNode:
    id: uuid.UUID
    child_id: uuid.UUID
    purpose: str
    given_by: str
    relationship_to_child: str
    given_on: date
    withdrawn_on: date | None
    recorded_by_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def from_view(cls, row: dict[str, Any]) -> ConsentNode:
        return cls(**row)


Batch = Callable[[ReadUnit, list[uuid.UUID]], Awaitable[dict[uuid.UUID, list[dict[str, Any]]]]]


def _children_loader(info: HubInfo, name: str, batch: Batch) -> DataLoader[uuid.UUID, Any]:
    """One loader per request and relation: a page of children costs one statement."""
    loader = info.context.loaders.get(name)
    if loader is None:
        uow = info.context.unit

        async def load(child_ids: list[uuid.UUID]) -> list[list[dict[str, Any]]]:
            found = await batch(uow, list(child_ids))
            return [found[c] for c in child_ids]

        loader = info.context.loaders[name] = DataLoader(load_fn=load)
    return cast(DataLoader[uuid.UUID, Any], loader)


@strawberry.type(name="Child")
class ChildNode:
    id: uuid.UUID
    version: int
    home_la_id: uuid.UUID
    updated_at: datetime
    legal_first_name: str | None = None
    legal_last_name: str | None = None
    preferred_name: str | None = None
    middle_names: str | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    year_group: str | None = None
    ethnicity: str | None = strawberry.field(default=None, description="DfE ethnicity code")
    home_postcode: str | None = None
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

    @strawberry.field(
        description="Health and social care involvements you may read (null when none)"
    )
    async def involvements(self, info: HubInfo) -> list[InvolvementNode] | None:
        # the rules' grants, cut to the categories left after any involvement narrowing
        grant = active_policy().decide(self.access.rules).read.fields
        kinds = {
            kind
            for kind in ("health", "social_care")
            if f"involvements.{kind}" in grant and kind in self.access.categories
        }
        if not kinds:
            return None
        loader = _children_loader(info, "child_involvements", involvements.involvements_of_children)
        rows = await loader.load(self.id)
        return [InvolvementNode.from_view(r) for r in rows if r["organisation_type"] in kinds]

    @strawberry.field(
        description="The child's placements you may see (as GET /v1/placements?child_id=)"
    )
    async def placements(self, info: HubInfo) -> list[LazyPlacement]:
        from aphub.placements.graphql import PlacementNode

        principal = info.context.principal("placements:read")
        loader = _children_loader(info, "child_placements", _placements_of(principal))
        return [PlacementNode.from_json(body) for body in await loader.load(self.id)]

    @strawberry.field(description="Suspensions and exclusions (null unless you read education)")
    async def exclusions(self, info: HubInfo) -> list[LazyExclusion] | None:
        from aphub.education import exclusions
        from aphub.education.graphql import ExclusionNode

        if "education" not in self.access.categories:
            return None
        loader = _children_loader(info, "child_exclusions", exclusions.exclusions_of_children)
        return [ExclusionNode.from_view(r) for r in await loader.load(self.id)]

    @strawberry.field(
        description="Education today: sixth-day duties, provision, days without suitable "
        "education (null unless you read education)"
    )
    async def education(self, info: HubInfo) -> LazyEducation | None:
        from aphub.education.graphql import EducationStatusNode

        if "education" not in self.access.categories:
            return None
        principal = info.context.principal("passports:read")
        loader = _children_loader(info, "child_education", _statuses_of(principal))
        return EducationStatusNode.from_view(await loader.load(self.id))

    @strawberry.field(description="Consents recorded (null unless you may read contacts)")
    async def consents(self, info: HubInfo) -> list[ConsentNode] | None:
        if "contacts" not in self.access.categories:
            return None
        loader = _children_loader(info, "child_consents", consents.consents_of_children)
        return [ConsentNode.from_view(r) for r in await loader.load(self.id)]

    @classmethod
    def from_shaped(cls, shaped: dict[str, Any]) -> ChildNode:
        child = plain(shaped)
        values = dict(child)
        values["access"] = Access(**child["access"])
        values["id"] = uuid.UUID(child["id"])  # the loaders key on the id's value
        values["home_la_id"] = uuid.UUID(child["home_la_id"])
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
                    hours_per_week=e.get("hours_per_week"),
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
class ChangedBy:
    organisation_id: uuid.UUID | None
    organisation_name: str | None
    client_id: str | None


@strawberry.type
class SectionVersion:
    version: int
    changed_at: datetime
    changed_by: ChangedBy
    changed_fields: list[str]
    content: JSON = strawberry.field(description="The fields of the section you may read")

    @classmethod
    def from_view(cls, row: dict[str, Any]) -> SectionVersion:
        return cls(
            version=row["version"],
            changed_at=row["changed_at"],
            changed_by=ChangedBy(**row["changed_by"]),
            changed_fields=row["changed_fields"],
            content=cast(JSON, row["content"]),
        )


@strawberry.type
class SectionHistoryPage:
    items: list[SectionVersion]
    next_cursor: str | None


@strawberry.type
class AccessLogEntry:
    id: uuid.UUID
    at: datetime
    organisation_id: uuid.UUID
    organisation_name: str | None
    client_id: str
    action: str
    surface: str
    outcome: str
    rules: list[str]
    categories: list[str]
    policy_version: str


@strawberry.type
class AccessLogPage:
    items: list[AccessLogEntry]
    next_cursor: str | None


def _statuses_of(principal: Principal) -> Batch:
    async def batch(uow: ReadUnit, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        from aphub.education.status import statuses_of

        return await statuses_of(uow, principal, ids)

    return batch


def _placements_of(principal: Principal) -> Batch:
    async def batch(uow: ReadUnit, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        return dict(await placement_repository.of_children(uow, principal, ids))

    return batch


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
        updated_since: str | None = None,
    ) -> ChildPage:
        principal = info.context.principal("passports:read")
        limit = checked_page_size(first)
        # the arguments checked by the model that checks REST's query string
        given = {"upn": upn, "nhs_number": nhs_number, "updated_since": updated_since}
        query = parse(ChildrenQuery, {k: v for k, v in given.items() if v is not None})
        rows, last = await service.list_children(
            info.context.unit,
            principal,
            upn=query.upn,
            nhs_number=query.nhs_number,
            after=cursor_id(after),
            limit=limit,
            passport=True,
            surface="graphql",
            updated_since=query.updated_since,
        )
        return ChildPage(
            items=[ChildNode.from_shaped(r) for r in rows],
            next_cursor=encode_cursor([str(last)]) if last else None,
        )

    @strawberry.field(description="One child, redacted for you (NOT_FOUND when hidden)")
    async def child(self, info: HubInfo, id: uuid.UUID) -> ChildNode:
        principal = info.context.principal("passports:read")
        shaped = await gate.read_child(info.context.unit, principal, id, surface="graphql")
        return ChildNode.from_shaped(shaped)

    @strawberry.field(
        description="Versions of a passport section, newest first, redacted for you "
        f"(sections: {', '.join(SECTION_FIELDS)})"
    )
    async def passport_history(
        self,
        info: HubInfo,
        child_id: uuid.UUID,
        section: str,
        first: int = 50,
        after: str | None = None,
    ) -> SectionHistoryPage:
        principal = info.context.principal("passports:read")
        limit = checked_page_size(first)
        items, before = await passports.section_history(
            info.context.unit,
            principal,
            child_id,
            section,
            before=before_version(after),
            limit=limit,
            surface="graphql",
        )
        return SectionHistoryPage(
            items=[SectionVersion.from_view(v) for v in items],
            next_cursor=encode_cursor([before]) if before is not None else None,
        )

    @strawberry.field(description="Every access to a child's record, newest first (home LA)")
    async def access_log(
        self, info: HubInfo, child_id: uuid.UUID, first: int = 50, after: str | None = None
    ) -> AccessLogPage:
        principal = info.context.principal("audit:read")
        limit = checked_page_size(first)
        items, last = await access_log.list_access_log(
            info.context.unit,
            principal,
            child_id,
            before=access_log_cursor(after),
            limit=limit,
            surface="graphql",
        )
        return AccessLogPage(
            items=[AccessLogEntry(**row) for row in items],
            next_cursor=encode_access_log_cursor(last),
        )
