"""Demo placements: commissions in every state, walked through the same services as the
API so every guard holds and every step is one event (a placement's event count is its
version). The acting organisations are the real commissioners and providers; the client
is `system:demo`.

What an LA sees on its first morning: Callum, permanently excluded, full time at the PRU;
Jayden on three part-time placements that make up his week (two active, one requested);
Riley still at college past the planned end; a review overdue for Jayden's workshop; Ethan's
first placement broken down and a second begun; Amara back at her school; a request
declined, one cancelled, one offered and waiting to start.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.errors import NotFound
from aphub.events.log import Actor
from aphub.models import Child, Organisation
from aphub.placements import lifecycle, reviews, service
from aphub.placements.schemas import (
    EndAction,
    ExtendAction,
    OfferAction,
    PlacementCreate,
    ProposeEndAction,
    ReasonAction,
    ReviewCreate,
    StartAction,
)

if TYPE_CHECKING:
    from aphub.demo import DemoArea

CLIENT = Actor.system("demo").client_id or "system:demo"
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday")


@dataclass(frozen=True)
class DemoPlacement:
    child: str  # legal first name of a demo child
    commissioner: str  # organisation key; the child's home LA when it cannot see the child
    provider: str
    legal_basis: str
    reason: str
    hours: float
    days: tuple[str, ...]
    started: int  # days ago
    planned_end: int  # days from today (negative: already past)
    outcome: str
    steps: tuple[str, ...]


PLACEMENTS = [
    DemoPlacement(
        "Callum", "la_city", "prov_pru", "s19_education_act_1996", "permanent_exclusion",
        25, WEEK, 140, 40, "Attend every morning session and rebuild a reading habit",
        ("offer", "start", "review continue 95 -50", "review extend 45 5 60", "extend"),
    ),
    DemoPlacement(
        "Jayden", "school_barbican", "prov_vocational", "s100_education_and_inspections_act_2006",
        "at_risk_of_exclusion", 10, ("monday", "tuesday"), 100, 60,
        "Complete the Level 1 motor vehicle unit",
        ("offer", "start", "review continue 70 -20"),  # next review was 20 days ago
    ),
    DemoPlacement(
        "Jayden", "school_barbican", "prov_sport", "s100_education_and_inspections_act_2006",
        "at_risk_of_exclusion", 5, ("wednesday",), 60, 90,
        "Take part in a team session weekly without incident",
        ("offer", "start", "review continue 15 27"),
    ),
    DemoPlacement(
        "Jayden", "school_barbican", "prov_tuition", "s100_education_and_inspections_act_2006",
        "at_risk_of_exclusion", 4, ("thursday",), -7, 120,
        "Close the gap in maths to age-related expectations",
        (),
    ),
    DemoPlacement(
        "Riley", "la_bristol", "prov_fe", "s19_education_act_1996", "permanent_exclusion",
        25, WEEK, 110, -10, "Gain a Level 1 construction qualification",
        ("offer", "start", "review continue 60 30", "propose_end"),
    ),
    DemoPlacement(
        "Ethan", "la_camden", "prov_ap_academy", "s19_education_act_1996", "permanent_exclusion",
        25, WEEK, 195, 60, "Attend 90% of sessions",
        ("offer", "start", "review end 70 0", "end breakdown other_ap 65"),
    ),
    DemoPlacement(
        "Ethan", "la_camden", "prov_independent", "s19_education_act_1996",
        "permanent_exclusion", 25, WEEK, 60, 120, "Sit two GCSEs this summer",
        ("offer", "start", "review continue 20 22"),
    ),
    DemoPlacement(
        "Amara", "school_aldgate", "prov_pru", "s29a_education_act_2002", "at_risk_of_exclusion",
        15, ("monday", "wednesday", "friday"), 120, 0,
        "Use her agreed strategies to stay in lessons",
        (
            "offer", "start", "review continue 80 -40", "review reintegrate 40 0",
            "end reintegrated reintegrated_home_school 30",
        ),
    ),
    DemoPlacement(
        "Isla", "la_city", "prov_hospital", "medical_s19", "medical", 15,
        ("monday", "tuesday", "wednesday"), 30, 80,
        "Keep up with the Year 6 curriculum while unable to attend school",
        ("offer", "start"),
    ),
    DemoPlacement(
        "Zara", "school_kentish", "prov_therapeutic", "s19_education_act_1996", "ebsa", 12,
        ("tuesday", "wednesday", "thursday"), -14, 150,
        "Attend three mornings a week in a small group",
        ("offer",),
    ),
    DemoPlacement(
        "Jack", "school_redland", "prov_construction", "s29a_education_act_2002",
        "at_risk_of_exclusion", 10, ("monday", "friday"), -10, 80,
        "Complete the CSCS health and safety course",
        (),
    ),
    DemoPlacement(
        "Tyler", "school_kentish", "prov_therapeutic", "s19_education_act_1996", "semh", 15,
        WEEK, -5, 100, "Settle into a small-group timetable",
        ("decline No places until after half term",),
    ),
    DemoPlacement(
        "Kai", "la_camden", "prov_hospital", "s42_children_and_families_act_2014",
        "awaiting_specialist_place", 20, WEEK, -3, 60, "Keep learning until the special place",
        ("cancel The special school place came through early",),
    ),
]  # fmt: skip


def _progress(message: str) -> None:
    print(f"  demo: {message}", file=sys.stderr, flush=True)


def _acting_as(organisation: Organisation) -> Principal:
    return Principal(organisation.id, organisation.type, CLIENT, frozenset())


def _day(offset: int) -> date:
    return date.today() + timedelta(days=offset)


def _request(spec: DemoPlacement, child: Child) -> PlacementCreate:
    start, end = _day(-spec.started), _day(spec.planned_end)
    body: dict[str, Any] = {
        "child_id": child.id,
        "provider_id": uuid.UUID(int=0),  # set by the caller
        "legal_basis": spec.legal_basis,
        "primary_reason": spec.reason,
        "start_date": start,
        "planned_end_date": end,
        "hours_per_week": spec.hours,
        "pattern": [{"day": d, "sessions": ["am", "pm"]} for d in spec.days],
        "intended_outcomes": [
            {
                "description": spec.outcome,
                "baseline": "Agreed at the planning meeting from the school's records",
                "target": spec.outcome,
                "measure": "Provider's weekly report, checked at each review",
                "target_date": end,
            }
        ],
        "exit_strategy": {
            "intended_destination": "reintegrated_home_school"
            if spec.reason != "medical"
            else "new_mainstream_school",
            "readiness_criteria": "Attendance above 90% for four weeks and a transition plan",
            "planned_date": end,
        },
        "review_frequency_weeks": 6,
        "next_review_date": min(_day(-spec.started + 42), end),
        "safeguarding_confirmed_on": _day(-spec.started - 7),
        "transport": "Travel pass from the commissioner",
    }
    if spec.hours < 25:
        body["part_time_justification"] = (
            "Part of a blended offer agreed with the family; reviewed every six weeks"
        )
        body["part_time_parent_agreed_on"] = _day(-spec.started - 3)
        body["part_time_review_date"] = min(_day(-spec.started + 42), end)
    return PlacementCreate.model_validate(body)


async def _walk(
    uow: WriteUnit,
    placement_id: uuid.UUID,
    steps: tuple[str, ...],
    commissioner: Principal,
    provider: Principal,
) -> None:
    last_review: uuid.UUID | None = None
    extend_to: date | None = None
    for step in steps:
        verb, _, rest = step.partition(" ")
        if verb == "offer":
            await lifecycle.offer(uow, provider, placement_id, OfferAction(), None)
        elif verb == "decline":
            await lifecycle.decline(uow, provider, placement_id, ReasonAction(reason=rest), None)
        elif verb == "cancel":
            body = ReasonAction(reason=rest)
            await lifecycle.cancel(uow, commissioner, placement_id, body, None)
        elif verb == "start":
            await lifecycle.start(uow, provider, placement_id, StartAction(), None)
        elif verb == "propose_end":
            propose = ProposeEndAction.model_validate(
                {
                    "reason": "Ready to move on to a full-time college place",
                    "proposed_end_date": _day(14),
                    "destination": "post16_education",
                }
            )
            await lifecycle.propose_end(uow, provider, placement_id, propose, None)
        elif verb == "review":  # decision, held N days ago, next review at day M, [extend to]
            decision, held, next_in, *more = rest.split()
            extend_to = _day(int(more[0])) if more else None
            review = ReviewCreate.model_validate(
                {
                    "scheduled_on": _day(-int(held)),
                    "held_on": _day(-int(held)),
                    "attendees": ["child", "parent_carer", "commissioner", "provider"],
                    "child_views": "Feels listened to; wants more practical work",
                    "decision": decision,
                    "next_review_date": _day(int(next_in))
                    if decision in ("continue", "vary", "extend")
                    else None,
                    "proposed_end_date": extend_to,
                    "attendance_percent": 86.5,
                }
            )
            recorded = await reviews.record_review(uow, commissioner, placement_id, review, None)
            last_review = recorded.id
        elif verb == "extend" and last_review is not None and extend_to is not None:
            body_extend = ExtendAction(review_id=last_review, planned_end_date=extend_to)
            await lifecycle.extend(uow, commissioner, placement_id, body_extend, None)
        elif verb == "end":
            reason, destination, ago = rest.split()
            end = EndAction.model_validate(
                {
                    "end_reason": reason,
                    "destination": destination,
                    "actual_end_date": _day(-int(ago)),
                }
            )
            await lifecycle.end(uow, commissioner, placement_id, end, None)
        else:
            raise ValueError(f"unknown demo placement step {step!r}")


async def load_placements(uow: WriteUnit, area: DemoArea) -> None:
    """The demo placements, for the demo children already in the database (by first name;
    any child of the same home LA stands in for one that is missing)."""
    children = list(await uow.session.scalars(select(Child).order_by(Child.id)))
    if not children:
        _progress("no children, so no placements")
        return
    by_name = {c.legal_first_name: c for c in children}
    organisations = {o.id: o for o in area.orgs.values()}
    placed = 0
    for spec in PLACEMENTS:
        child = by_name.get(spec.child) or next(
            (c for c in children if c.home_la_id == area.orgs[spec.commissioner].id),
            children[0],
        )
        provider = area.orgs[spec.provider]
        request = _request(spec, child).model_copy(update={"provider_id": provider.id})
        commissioner = _acting_as(area.orgs[spec.commissioner])
        try:
            placement_id = await service.request(uow, commissioner, request)
        except NotFound:  # a school that cannot see a stand-in child: its home LA commissions
            commissioner = _acting_as(organisations[child.home_la_id])
            placement_id = await service.request(uow, commissioner, request)
        await _walk(uow, placement_id, spec.steps, commissioner, _acting_as(provider))
        placed += 1
    _progress(f"{placed} placements in every state, with reviews and history")
