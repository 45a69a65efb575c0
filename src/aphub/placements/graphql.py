"""GraphQL for placements: the repository's reads (visibility decided by the sharing layer)
and the same services as REST.

Nested fields of a page are batched per request with DataLoaders keyed by id: the
children, the organisations, the reviews and the history of a whole page are one
statement each, whatever the page size (intended outcomes travel in the placement's own
statement).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader

from aphub.attendance import repository as attendance
from aphub.auth.principal import Principal
from aphub.children.graphql import ChildNode
from aphub.db import ReadUnit
from aphub.errors import NotFound
from aphub.graphql.context import HubInfo
from aphub.graphql.inputs import parse, present
from aphub.graphql.pages import checked_page_size
from aphub.organisations.graphql import OrganisationNode
from aphub.outcomes import views as outcome_views
from aphub.pagination import cursor_id, encode_cursor
from aphub.placements import listing, repository, reviews, service
from aphub.placements.actions import ACTIONS, PlacementAction
from aphub.placements.graphql_inputs import (
    EndPlacementInput,
    ExtendPlacementInput,
    OfferPlacementInput,
    PlacementPlanInput,
    PlacementRequestInput,
    PlacementReviewInput,
    ProposePlacementEndInput,
    ReasonInput,
    StartPlacementInput,
)
from aphub.placements.graphql_types import (
    ExitStrategyNode,
    FlagsNode,
    FundingNode,
    HistoryEntryNode,
    OutcomeNode,
    PatternDayNode,
    ReviewNode,
)
from aphub.placements.repository import LockedPlacement
from aphub.placements.schemas import (
    Destination,
    EndReason,
    LegalBasis,
    PlacementCreate,
    PlacementStatus,
    PlacementVary,
    PrimaryReason,
    ReviewCreate,
    Session,
    Weekday,
)
from aphub.placements.views import PlacementView
from aphub.sharing import gate

V = TypeVar("V")
Batch = Callable[[ReadUnit, Principal, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, V]]]

if TYPE_CHECKING:
    from aphub.attendance.graphql import SummaryNode
# resolved when the schema is built: the two modules refer to each other
LazySummary = Annotated["SummaryNode", strawberry.lazy("aphub.attendance.graphql")]

if TYPE_CHECKING:
    from aphub.outcomes.graphql import OutcomesNode
# resolved when the schema is built: the two modules refer to each other
LazyOutcomes = Annotated["OutcomesNode", strawberry.lazy("aphub.outcomes.graphql")]


def _loader(
    info: HubInfo, name: str, principal: Principal, batch: Batch[V]
) -> DataLoader[uuid.UUID, V | None]:
    """The request's DataLoader `name`: every key asked for in one tick, one batch call."""
    loader = info.context.loaders.get(name)
    if loader is None:
        uow = info.context.unit

        async def load(keys: list[uuid.UUID]) -> list[V | None]:
            found = await batch(uow, principal, keys)
            return [found.get(k) for k in keys]

        loader = info.context.loaders[name] = DataLoader(load_fn=load)
    return cast(DataLoader[uuid.UUID, V | None], loader)


async def _children(
    uow: ReadUnit, principal: Principal, ids: list[uuid.UUID]
) -> Mapping[uuid.UUID, dict[str, Any]]:
    return await gate.read_children_by_ids(uow, principal, ids, surface="graphql")


async def _organisations(
    uow: ReadUnit, _principal: Principal, ids: list[uuid.UUID]
) -> Mapping[uuid.UUID, Any]:
    return await repository.organisations_by_id(uow, ids)


@strawberry.type(name="Placement")
class PlacementNode:
    id: uuid.UUID
    version: int
    status: PlacementStatus
    child_id: uuid.UUID
    commissioner_id: uuid.UUID
    commissioner_type: str
    provider_id: uuid.UUID
    home_school_id: uuid.UUID | None
    offer_id: uuid.UUID | None
    delivery_location_ids: list[uuid.UUID]
    legal_basis: LegalBasis
    primary_reason: PrimaryReason
    dual_registered: bool
    attendance_code: str = strawberry.field(
        description="The home school's code for attended sessions: K, B or D"
    )
    start_date: date
    planned_end_date: date
    actual_end_date: date | None
    hours_per_week: float | None
    pattern: list[PatternDayNode]
    part_time_justification: str | None
    part_time_parent_agreed_on: date | None
    part_time_review_date: date | None
    intended_outcomes: list[OutcomeNode]
    exit_strategy: ExitStrategyNode | None
    review_frequency_weeks: int | None
    next_review_date: date | None
    funding: FundingNode | None
    transport: str | None
    safeguarding_confirmed_on: date | None
    ehcp_caseworker_notified_on: date | None
    virtual_school_head_notified_on: date | None
    end_reason: EndReason | None
    destination: Destination | None
    closing_note: str | None
    created_at: datetime
    updated_at: datetime
    flags: FlagsNode

    @classmethod
    def from_json(cls, body: str) -> PlacementNode:
        view = PlacementView.model_validate_json(body)
        nested = {"pattern", "intended_outcomes", "exit_strategy", "funding", "flags"}
        values = {name: getattr(view, name) for name in PlacementView.model_fields}
        for name in nested:
            values.pop(name)
        return cls(
            **values,
            pattern=[
                PatternDayNode(day=Weekday(d["day"]), sessions=[Session(s) for s in d["sessions"]])
                for d in view.pattern.get("days", [])
            ],
            intended_outcomes=[OutcomeNode(**o.model_dump()) for o in view.intended_outcomes],
            exit_strategy=ExitStrategyNode(**view.exit_strategy.model_dump())
            if view.exit_strategy
            else None,
            funding=FundingNode(
                source=view.funding.source, rate=float(view.funding.rate), unit=view.funding.unit
            )
            if view.funding
            else None,
            flags=FlagsNode(**view.flags.model_dump()),
        )

    @strawberry.field(
        description="The child, redacted for you as `child` is (null if you may not see it)"
    )
    async def child(self, info: HubInfo) -> ChildNode | None:
        principal = info.context.principal("passports:read")
        loader = _loader(info, "placements.children", principal, _children)
        shaped = await loader.load(self.child_id)
        return ChildNode.from_shaped(shaped) if shaped else None

    @strawberry.field(description="The AP provider")
    async def provider(self, info: HubInfo) -> OrganisationNode | None:
        return await self._organisation(info, self.provider_id)

    @strawberry.field(description="The school, trust or local authority that commissioned it")
    async def commissioner(self, info: HubInfo) -> OrganisationNode | None:
        return await self._organisation(info, self.commissioner_id)

    async def _organisation(
        self, info: HubInfo, organisation_id: uuid.UUID
    ) -> OrganisationNode | None:
        principal = info.context.principal("placements:read")
        loader = _loader(info, "placements.organisations", principal, _organisations)
        row = await loader.load(organisation_id)
        return OrganisationNode.from_row(row) if row is not None else None

    @strawberry.field(description="Reviews, by date held")
    async def reviews(self, info: HubInfo) -> list[ReviewNode]:
        principal = info.context.principal("placements:read")
        loader = _loader(info, "placements.reviews", principal, repository.reviews_of)
        return [ReviewNode.from_json(r) for r in await loader.load(self.id) or []]

    @strawberry.field(
        description="Every transition, in order, with actor and time (in a mutation's "
        "answer, without that mutation's own event: it joins the log as the change commits)"
    )
    async def history(self, info: HubInfo) -> list[HistoryEntryNode]:
        principal = info.context.principal("placements:read")
        loader = _loader(info, "placements.history", principal, repository.history_of)
        return [HistoryEntryNode.from_json(e) for e in await loader.load(self.id) or []]

    @strawberry.field(
        description="Attendance since the placement started, counted (as REST's "
        "attendance summary without a window)"
    )
    async def attendance_summary(self, info: HubInfo) -> LazySummary | None:
        from aphub.attendance.graphql import SummaryNode

        principal = info.context.principal("placements:read")
        loader = _loader(info, "placements.attendance", principal, attendance.summaries_of)
        found = await loader.load(self.id)
        return SummaryNode.from_json(found) if found else None

    @strawberry.field(
        description="Progress per intended outcome, accreditations, attendance "
        "at entry and exit, destination and follow-ups (as GET .../outcomes)"
    )
    async def outcomes(self, info: HubInfo) -> LazyOutcomes | None:
        from aphub.outcomes.graphql import OutcomesNode

        principal = info.context.principal("placements:read")
        loader = _loader(info, "placements.outcomes", principal, outcome_views.outcomes_of)
        found = await loader.load(self.id)
        return OutcomesNode.from_json(found) if found else None


@strawberry.type
class PlacementPage:
    items: list[PlacementNode]
    next_cursor: str | None


@strawberry.type
class PlacementQuery:
    @strawberry.field(description="Placements you may see, in id order, a page at a time")
    async def placements(
        self,
        info: HubInfo,
        first: int = 50,
        after: str | None = None,
        status: PlacementStatus | None = None,
        child_id: uuid.UUID | None = None,
        provider_id: uuid.UUID | None = None,
        commissioner_id: uuid.UUID | None = None,
        updated_since: datetime | None = None,
    ) -> PlacementPage:
        principal = info.context.principal("placements:read")
        limit = checked_page_size(first)
        bodies, last = await listing.read_page_json(
            info.context.unit,
            principal,
            after=cursor_id(after),
            limit=limit,
            filters={
                "status": status.value if status else None,
                "child_id": child_id,
                "provider_id": provider_id,
                "commissioner_id": commissioner_id,
                "updated_since": updated_since,
            },
        )
        return PlacementPage(
            items=[PlacementNode.from_json(b) for b in bodies],
            next_cursor=encode_cursor([str(last)]) if last else None,
        )

    @strawberry.field(description="One placement (NOT_FOUND when hidden)")
    async def placement(self, info: HubInfo, id: uuid.UUID) -> PlacementNode:
        principal = info.context.principal("placements:read")
        body = await repository.read_json(info.context.unit, principal, id)
        if body is None:
            raise NotFound("No such placement, or not visible to you")
        return PlacementNode.from_json(body)


async def _changed(info: HubInfo, placement_id: uuid.UUID) -> PlacementNode:
    """The placement as the change left it (as REST answers an action)."""
    return PlacementNode.from_json(
        await repository.read_json_after_change(info.context.writer, placement_id)
    )


def _as_changed(p: LockedPlacement) -> PlacementNode:
    """The placement as a transition left it, from the JSON its statement returned."""
    assert p.json is not None, "a transition writes the placement's JSON"
    return PlacementNode.from_json(p.json)


@strawberry.type(name="RecordedPlacementReview")
class RecordedReview:
    review: ReviewNode
    placement: PlacementNode


IfMatch = Annotated[
    int | None,
    strawberry.argument(description="The version you read; PRECONDITION_FAILED if it moved on"),
]


@strawberry.type
class PlacementMutation:
    @strawberry.mutation(description="Request a placement (the commission)")
    async def request_placement(self, info: HubInfo, input: PlacementRequestInput) -> PlacementNode:
        principal = info.context.principal("placements:write")
        data = parse(PlacementCreate, present(input, drop_null=True))
        return await _changed(info, await service.request(info.context.writer, principal, data))

    @strawberry.mutation(description="Vary the plan: only the fields sent change")
    async def vary_placement(
        self,
        info: HubInfo,
        id: uuid.UUID,
        input: PlacementPlanInput,
        if_match: IfMatch = None,
    ) -> PlacementNode:
        principal = info.context.principal("placements:write")
        data = parse(PlacementVary, present(input))
        p = await service.vary(info.context.writer, principal, id, data, if_match)
        return _as_changed(p)

    @strawberry.mutation(description="Record a review: progress, views, decision, next review")
    async def record_placement_review(
        self,
        info: HubInfo,
        id: uuid.UUID,
        input: PlacementReviewInput,
        if_match: IfMatch = None,
    ) -> RecordedReview:
        principal = info.context.principal("placements:write")
        data = parse(ReviewCreate, present(input))
        recorded = await reviews.record_review(info.context.writer, principal, id, data, if_match)
        return RecordedReview(
            review=ReviewNode.from_json(recorded.review), placement=await _changed(info, id)
        )


# Each action's mutation, built from the action table REST builds its endpoints from; its
# input type is the GraphQL form of the action's body model.
ACTION_INPUTS: dict[str, type] = {
    "offer": OfferPlacementInput,
    "decline": ReasonInput,
    "start": StartPlacementInput,
    "extend": ExtendPlacementInput,
    "end": EndPlacementInput,
    "cancel": ReasonInput,
    "propose-end": ProposePlacementEndInput,
}


def _action_mutation(action: PlacementAction) -> Any:
    async def resolve(
        info: HubInfo, id: uuid.UUID, input: Any = None, if_match: IfMatch = None
    ) -> PlacementNode:
        principal = info.context.principal("placements:write")
        data = parse(action.body, present(input) if input is not None else {})
        p = await action.act(info.context.writer, principal, id, data, if_match)
        return _as_changed(p)

    input_type = ACTION_INPUTS[action.name]
    if action.body_optional:
        resolve.__annotations__["input"] = input_type | None
    else:
        resolve.__annotations__["input"] = input_type
        resolve.__defaults__ = (None,)  # `if_match` alone keeps a default
    return strawberry.mutation(resolver=resolve, name=action.mutation, description=action.summary)


assert set(ACTION_INPUTS) == {a.name for a in ACTIONS}, "every action needs its GraphQL input"
PlacementActionMutation = strawberry.type(
    type(
        "PlacementActionMutation",
        (),
        {a.operation_id: _action_mutation(a) for a in ACTIONS},
    )
)
