"""Demo children out of education, recorded through the services as a school would:

- Mohammed (Aldgate Academy, City) permanently excluded three school days ago: today is
  day 4, the City's sixth-day duty is two school days away;
- Reggie (Kentish Town Academy, Camden) permanently excluded eight school days ago and
  with no provision since day 6: a breach flagged to Camden;
- Leila (Barbican School, City) suspended for eight days, with full-time provision the
  school arranged at the City PRU from day 6;
- the part-time timetables among the demo placements that are past their review.

The daily flags job then runs once, so the flags are there when the demo starts.
"""

from __future__ import annotations

import sys
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from aphub.attendance.calendar import Calendar, calendars
from aphub.auth.principal import Principal
from aphub.db import WriteUnit
from aphub.education import exclusions
from aphub.education.flags import run_flags
from aphub.education.schemas import ExclusionCreate
from aphub.models import Child, Organisation
from aphub.placements import lifecycle, service
from aphub.placements.schemas import OfferAction, PlacementCreate, StartAction

if TYPE_CHECKING:
    from aphub.demo import DemoArea

CLIENT = "demo-loader"


def _progress(message: str) -> None:
    print(f"  demo: {message}", file=sys.stderr, flush=True)


def _as(organisation: Organisation) -> Principal:
    return Principal(organisation.id, organisation.type, CLIENT, frozenset())


def school_days_back(calendar: Calendar, today: date, n: int) -> date:
    day, seen = today, 0
    while seen < n:
        day -= timedelta(days=1)
        if calendar.is_school_day(day):
            seen += 1
    return day


async def load_exclusions(uow: WriteUnit, area: DemoArea) -> None:
    children = {c.legal_first_name: c for c in await uow.session.scalars(select(Child))}
    wanted = ("Mohammed", "Reggie", "Leila")
    if not all(name in children for name in wanted):
        _progress("demo children missing, so no exclusions")
        return
    orgs = area.orgs
    today = date.today()
    by_la = await calendars(
        uow, [orgs["la_city"].id, orgs["la_camden"].id], today - timedelta(days=60)
    )
    city, camden = by_la[orgs["la_city"].id], by_la[orgs["la_camden"].id]
    for name, school, calendar, body in (
        ("Mohammed", "school_aldgate", city, {"kind": "permanent", "reasons": ["PA", "VA"]}),
        ("Reggie", "school_kentish", camden, {"kind": "permanent", "reasons": ["DB"]}),
        (
            "Leila",
            "school_barbican",
            city,
            {"kind": "suspension", "school_days": 8, "reasons": ["BU"]},
        ),
    ):
        back = {"Mohammed": 3, "Reggie": 8, "Leila": 6}[name]
        first_day = school_days_back(calendar, today, back)
        data = ExclusionCreate.model_validate({**body, "first_day": first_day})
        await exclusions.record_exclusion(uow, _as(orgs[school]), children[name].id, data)
        if name == "Leila":  # the school's own arrangement from the sixth day
            await _arrange(uow, area, children[name], calendar.nth_school_day(first_day, 6))
    result = await run_flags(uow)
    _progress(f"3 exclusions; out-of-education flags raised: {result['raised']}")


async def _arrange(uow: WriteUnit, area: DemoArea, child: Child, start: date) -> uuid.UUID:
    school, provider = area.orgs["school_barbican"], area.orgs["prov_pru"]
    request = PlacementCreate.model_validate(
        {
            "child_id": child.id,
            "provider_id": provider.id,
            "legal_basis": "s100_education_and_inspections_act_2006",
            "primary_reason": "suspension",
            "start_date": start,
            "planned_end_date": start + timedelta(days=14),
            "hours_per_week": 25,
            "intended_outcomes": [
                {
                    "description": "Keep up with English, maths and science while suspended",
                    "baseline": "Working at the expected standard before the suspension",
                    "target": "Work set by the school completed and marked",
                    "measure": "The school's subject teachers check the work each week",
                    "target_date": start + timedelta(days=14),
                }
            ],
            "exit_strategy": {
                "intended_destination": "reintegrated_home_school",
                "readiness_criteria": "The suspension ends and a reintegration meeting is held",
                "planned_date": start + timedelta(days=14),
            },
            "next_review_date": start + timedelta(days=7),
            "safeguarding_confirmed_on": start,
        }
    )
    placement_id = await service.request(uow, _as(school), request)
    await lifecycle.offer(uow, _as(provider), placement_id, OfferAction(), None)
    await lifecycle.start(uow, _as(provider), placement_id, StartAction(start_date=start), None)
    return placement_id
