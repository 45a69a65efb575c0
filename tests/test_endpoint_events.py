"""Every writing endpoint of the table, driven by one real, successful request: the events
it appends are the ones its declaration names, and they name the caller as the actor.

Each writing endpoint has a scenario: an async function that builds what the request needs
(over the API where the tests of that endpoint do, straight into the database where they
do) and returns the one `Call` to measure. A new writing endpoint without a scenario fails
`test_every_writing_endpoint_has_a_scenario`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar, cast

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.api.endpoint import Endpoint
from aphub.api.table import ENDPOINTS
from aphub.db import Database
from aphub.models import Organisation
from tests import child_factories as records
from tests import placement_factories as placements
from tests.attendance_factories import as_csv, mark, post_marks, started
from tests.factories import auth, make_client_admin, make_org, register_client, token_for
from tests.identity_factories import (
    StubProvider,
    admit,
    form_token,
    install_provider,
    secret_client,
    sign_in_with_secret,
)
from tests.provider_factories import add_location, add_offer, make_la, make_provider, make_school

T = TypeVar("T")
TODAY = date.today()
# endpoints with a write unit, and those that open one once they are ready to write (the
# identity provider's redirect back, which waits on the provider first)
WRITING = [e for e in ENDPOINTS if e.writes or e.events]


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


@dataclass(frozen=True)
class Call:
    """The one request a scenario measures, made by `caller` (an organisation: the test
    sends its bearer token, and every event appended must name it as the actor)."""

    method: str
    url: str
    caller: Organisation
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # a browser's form or redirect back, answered with 303 See Other where it succeeds
    redirects: bool = False


@dataclass
class Ctx:
    """What a scenario builds with: the app, its client and database, and test data built
    on first use (each test starts from empty tables)."""

    client: httpx.AsyncClient
    app: FastAPI
    db: Database
    _built: dict[str, Any] = field(default_factory=dict)
    # what a scenario changed in the app, undone when the test ends
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def headers(self, organisation: Organisation) -> dict[str, str]:
        return auth(token_for(self.app, organisation))

    async def post(self, url: str, caller: Organisation, body: Any, status: int = 201) -> Any:
        """A setup request that must succeed; its JSON answer (None when it has none)."""
        headers = {**self.headers(caller), **new_key()}
        r = await self.client.post(url, json=body, headers=headers)
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    async def _once(self, name: str, build: Callable[[], Awaitable[T]]) -> T:
        if name not in self._built:
            self._built[name] = await build()
        return cast(T, self._built[name])

    async def operator(self) -> Organisation:
        return await self._once("operator", lambda: make_org(self.db, "operator"))

    async def child_area(self) -> records.Area:
        """The child-record area: home LA, school, providers, health and social care."""
        return await self._once("records", lambda: records.make_area(self.app, self.db))

    async def child(self) -> str:
        """A child of the records area, created by its home LA over the API."""
        area = await self.child_area()
        return await self._once("child", lambda: records.make_child(self.client, area))

    async def placement_area(self) -> placements.Area:
        """The placement area: LA, school, a PRU provider and a child on roll."""
        build = partial(placements.make_area, self.app, self.db, registration="pru")
        return await self._once("area", build)

    async def directory(self) -> tuple[Organisation, Organisation]:
        """A local authority (the City, 201) and a provider in its area."""

        async def build() -> tuple[Organisation, Organisation]:
            city = await make_la(self.db, "201")
            return city, await make_provider(self.db, city)

        return await self._once("directory", build)


Scenario = Callable[[Ctx], Awaitable[Call]]


# --- the register of organisations ---------------------------------------------------------


async def create_organisation(ctx: Ctx) -> Call:
    body = {"type": "trust", "name": "Oak Academies Trust"}
    return Call("POST", "/v1/organisations", await ctx.operator(), json=body)


async def update_organisation(ctx: Ctx) -> Call:
    trust = await make_org(ctx.db, "trust")
    url = f"/v1/organisations/{trust.id}"
    return Call("PATCH", url, await ctx.operator(), json={"name": "Renamed Trust"})


async def create_client(ctx: Ctx) -> Call:
    la = await make_org(ctx.db, "local_authority")
    url = f"/v1/organisations/{la.id}/clients"
    return Call("POST", url, await ctx.operator(), json={"name": "Case management system"})


async def revoke_client(ctx: Ctx) -> Call:
    la = await make_org(ctx.db, "local_authority")
    operator = await ctx.operator()
    url = f"/v1/organisations/{la.id}/clients"
    issued = await ctx.post(url, operator, {"name": "Case management system"})
    return Call("DELETE", f"{url}/{issued['client_id']}", operator)


async def approve_client(ctx: Ctx) -> Call:
    """The LA has an administrator of its own, so a client with child scopes that the
    operator creates for it waits for the LA's approval."""
    la = await make_org(ctx.db, "local_authority")
    await make_client_admin(ctx.db, la)
    url = f"/v1/organisations/{la.id}/clients"
    issued = await ctx.post(url, await ctx.operator(), {"name": "Case management system"})
    assert issued["approved_at"] is None
    admin = auth(token_for(ctx.app, la, scopes=["clients:admin"]))
    return Call("POST", f"{url}/{issued['client_id']}/approve", la, json={}, headers=admin)


async def _possible_duplicate(ctx: Ctx) -> tuple[records.Area, str, str]:
    """Two records with one UPN and different dates of birth: flagged to the home LA."""
    area = await ctx.child_area()
    held = await records.make_child(ctx.client, area, upn="H801200001001")
    other = await records.make_child(
        ctx.client, area, upn="H801200001001", date_of_birth="2011-01-01"
    )
    return area, held, other


async def merge_children(ctx: Ctx) -> Call:
    area, held, other = await _possible_duplicate(ctx)
    return Call("POST", f"/v1/children/{held}/merge", area.la, json={"other_child_id": other})


async def mark_children_distinct(ctx: Ctx) -> Call:
    area, held, other = await _possible_duplicate(ctx)
    return Call("POST", f"/v1/children/{held}/distinct", area.la, json={"other_child_id": other})


async def record_exclusion(ctx: Ctx) -> Call:
    area = await placements.make_area(ctx.app, ctx.db)
    body = {
        "kind": "suspension",
        "first_day": TODAY.isoformat(),
        "school_days": 2,
        "reasons": ["DB"],
    }
    return Call("POST", f"/v1/children/{area.child.id}/exclusions", area.school, json=body)


async def change_exclusion_status(ctx: Ctx) -> Call:
    area = await placements.make_area(ctx.app, ctx.db)
    url = f"/v1/children/{area.child.id}/exclusions"
    body = {"kind": "permanent", "first_day": TODAY.isoformat(), "reasons": ["PA"]}
    excluded = await ctx.post(url, area.school, body)
    status = {"status": "upheld", "on": TODAY.isoformat()}
    return Call("POST", f"{url}/{excluded['id']}/status", area.school, json=status)


# --- children and their records --------------------------------------------------------------


async def create_child(ctx: Ctx) -> Call:
    area = await ctx.child_area()
    body = {
        "legal_first_name": "Amira",
        "legal_last_name": "Khan",
        "date_of_birth": "2012-03-04",
        "home_la_id": str(area.la.id),
        "enrolments": [
            {"school_id": str(area.school.id), "status": "C", "start_date": "2023-09-01"}
        ],
    }
    return Call("POST", "/v1/children", area.la, json=body)


async def update_child(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    return Call("PATCH", f"/v1/children/{cid}", area.la, json={"preferred_name": "Ami"})


async def _enrolment_body(ctx: Ctx) -> dict[str, Any]:
    area = await ctx.child_area()
    second = await make_org(ctx.db, "school", local_authority_id=area.la.id)
    return {"school_id": str(second.id), "status": "S", "start_date": "2024-09-02"}


async def add_enrolment(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    body = await _enrolment_body(ctx)
    return Call("POST", f"/v1/children/{cid}/enrolments", area.la, json=body)


async def end_enrolment(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    url = f"/v1/children/{cid}/enrolments"
    enrolment = await ctx.post(url, area.la, await _enrolment_body(ctx))
    body = {"end_date": TODAY.isoformat()}
    return Call("POST", f"{url}/{enrolment['id']}/end", area.la, json=body)


# A valid edit of each passport section (from tests/test_passports.py).
SECTIONS: dict[str, dict[str, Any]] = {
    "about_me": {"summary": "Loves football", "what_works_for_me": "Short tasks"},
    "needs_and_strategies": {"strategies": ["Movement breaks", "Check-in at 10:00"]},
    "child_voice": {"views": "I like the workshop mornings"},
    "family_voice": {"views": "Mum wants a full timetable"},
    "risks_and_safeguarding": {"risk_summary": "Vulnerable on the walk home"},
    "health": {"health_summary": "Type 1 diabetes; insulin pump"},
    "education_history": {
        "settings": [
            {
                "name": "Oak Academy",
                "urn": "100000",
                "start_date": "2019-09-01",
                "end_date": "2025-02-03",
                "reason_left": "Permanently excluded",
            }
        ],
        "exclusions": [{"date": "2025-02-03", "reason_code": "PD"}],
    },
    "post16_intentions": {"intentions": "College: motor vehicle level 1"},
    "contacts": {
        "parents_carers": [
            {
                "name": "Sara Khan",
                "relationship": "mother",
                "parental_responsibility": True,
                "phone": "01632 960001",
            }
        ],
        "professionals": [{"name": "Dr Lee", "role": "GP", "organisation": "Oak Surgery"}],
    },
}


def passport_section(section: str) -> Scenario:
    """The home LA edits the section; health, which it may not write, is edited by a
    health body with a current involvement."""

    async def scenario(ctx: Ctx) -> Call:
        area, cid = await ctx.child_area(), await ctx.child()
        caller = area.la
        if section == "health":
            await records.involve(ctx.client, area, cid, area.health, basis="ehcp")
            caller = area.health
        url = f"/v1/children/{cid}/passport/{section}"
        return Call("PATCH", url, caller, json=SECTIONS[section])

    scenario.__name__ = f"update_passport_{section}"
    return scenario


def _involvement_body(area: records.Area) -> dict[str, Any]:
    return {
        "organisation_id": str(area.social_care.id),
        "basis": "child_in_need",
        "start_date": "2025-01-06",
    }


async def record_involvement(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    url = f"/v1/children/{cid}/involvements"
    return Call("POST", url, area.la, json=_involvement_body(area))


async def end_involvement(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    url = f"/v1/children/{cid}/involvements"
    involvement = await ctx.post(url, area.la, _involvement_body(area))
    return Call("POST", f"{url}/{involvement['id']}/end", area.la, json={})


CONSENT = {
    "purpose": "Share the health summary with the AP provider",
    "given_by": "Sara Khan",
    "relationship_to_child": "parent",
    "given_on": "2025-09-01",
}


async def record_consent(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    return Call("POST", f"/v1/children/{cid}/consents", area.school, json=CONSENT)


async def withdraw_consent(ctx: Ctx) -> Call:
    area, cid = await ctx.child_area(), await ctx.child()
    url = f"/v1/children/{cid}/consents"
    consent = await ctx.post(url, area.school, CONSENT)
    return Call("POST", f"{url}/{consent['id']}/withdraw", area.la, json={})


# --- placements ------------------------------------------------------------------------------


async def _requested(ctx: Ctx, *, plan: bool = False) -> str:
    area = await ctx.placement_area()
    overrides = placements.complete_plan(area) if plan else {}
    return str((await placements.requested(ctx.client, area, **overrides))["id"])


async def _offered(ctx: Ctx) -> str:
    area = await ctx.placement_area()
    pid = await _requested(ctx, plan=True)
    await ctx.post(f"/v1/placements/{pid}/offer", area.provider, {}, status=200)
    return pid


async def _active(ctx: Ctx) -> dict[str, Any]:
    return await placements.active(ctx.client, await ctx.placement_area())


async def request_placement(ctx: Ctx) -> Call:
    area = await ctx.placement_area()
    return Call("POST", "/v1/placements", area.la, json=placements.request_body(area))


async def vary_placement(ctx: Ctx) -> Call:
    area, pid = await ctx.placement_area(), await _requested(ctx)
    body = placements.complete_plan(area)
    return Call("PATCH", f"/v1/placements/{pid}", area.la, json=body)


async def offer_placement(ctx: Ctx) -> Call:
    area, pid = await ctx.placement_area(), await _requested(ctx)
    return Call("POST", f"/v1/placements/{pid}/offer", area.provider, json={})


async def decline_placement(ctx: Ctx) -> Call:
    area, pid = await ctx.placement_area(), await _requested(ctx)
    body = {"reason": "No places this term"}
    return Call("POST", f"/v1/placements/{pid}/decline", area.provider, json=body)


async def start_placement(ctx: Ctx) -> Call:
    area, pid = await ctx.placement_area(), await _offered(ctx)
    return Call("POST", f"/v1/placements/{pid}/start", area.provider, json={})


async def extend_placement(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    pid = placement["id"]
    new_end = TODAY + timedelta(weeks=20)
    review = placements.review_body(decision="extend", proposed_end_date=new_end.isoformat())
    review_id = (await ctx.post(f"/v1/placements/{pid}/reviews", area.la, review))["id"]
    body = {"review_id": review_id, "planned_end_date": new_end.isoformat()}
    return Call("POST", f"/v1/placements/{pid}/extend", area.la, json=body)


END = {"end_reason": "reintegrated", "destination": "new_mainstream_school"}


async def end_placement(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    return Call("POST", f"/v1/placements/{placement['id']}/end", area.la, json=END)


async def cancel_placement(ctx: Ctx) -> Call:
    area, pid = await ctx.placement_area(), await _offered(ctx)
    body = {"reason": "A school place was found"}
    return Call("POST", f"/v1/placements/{pid}/cancel", area.la, json=body)


async def propose_end_placement(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    body = {
        "reason": "Ready to return to school",
        "proposed_end_date": (TODAY + timedelta(weeks=4)).isoformat(),
        "destination": "reintegrated_home_school",
    }
    url = f"/v1/placements/{placement['id']}/propose-end"
    return Call("POST", url, area.provider, json=body)


async def record_placement_review(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    url = f"/v1/placements/{placement['id']}/reviews"
    return Call("POST", url, area.la, json=placements.review_body())


# --- outcomes --------------------------------------------------------------------------------


async def record_outcome_progress(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    outcome_id = placement["intended_outcomes"][0]["id"]
    url = f"/v1/placements/{placement['id']}/outcomes/{outcome_id}/progress"
    body = {"rating": "emerging", "evidence": "Attended 3 of 5 mornings"}
    return Call("POST", url, area.provider, json=body)


async def record_accreditation(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    body = {
        "qualification": "Functional Skills English",
        "level": "entry_3",
        "grade": "Pass",
        "awarded_on": TODAY.isoformat(),
    }
    url = f"/v1/placements/{placement['id']}/accreditations"
    return Call("POST", url, area.provider, json=body)


async def record_follow_up(ctx: Ctx) -> Call:
    area, placement = await ctx.placement_area(), await _active(ctx)
    pid = placement["id"]
    await ctx.post(f"/v1/placements/{pid}/end", area.la, END, status=200)
    body = {"kind": "six_weeks", "sustained": True, "note": "Settled back in Year 9"}
    return Call("POST", f"/v1/placements/{pid}/follow-ups", area.la, json=body)


# --- the provider directory ------------------------------------------------------------------

OFFER = {
    "type": "vocational",
    "name": "Motor vehicle (KS4)",
    "key_stages": ["ks4"],
    "age_min": 14,
    "age_max": 16,
    "capacity": 12,
    "places_free": 3,
}
LOCATION = {
    "name": "Workshop",
    "address_1": "4 Bartholomew Close",
    "postcode": "ec1a7bl",
    "la_code": "201",
}


async def replace_provider_entry(ctx: Ctx) -> Call:
    _, provider = await ctx.directory()
    body = {"description": "Workshop", "safeguarding": {"designated_lead_name": "Jo"}}
    return Call("PUT", f"/v1/providers/{provider.id}", provider, json=body)


async def update_provider_entry(ctx: Ctx) -> Call:
    _, provider = await ctx.directory()
    return Call("PATCH", f"/v1/providers/{provider.id}", provider, json={"description": "Garage"})


async def create_provider_offer(ctx: Ctx) -> Call:
    _, provider = await ctx.directory()
    return Call("POST", f"/v1/providers/{provider.id}/offers", provider, json=OFFER)


async def _offer_url(ctx: Ctx) -> tuple[Organisation, str]:
    _, provider = await ctx.directory()
    offer = await add_offer(ctx.db, provider, capacity=4, places_free=1)
    return provider, f"/v1/providers/{provider.id}/offers/{offer.id}"


async def replace_provider_offer(ctx: Ctx) -> Call:
    provider, url = await _offer_url(ctx)
    return Call("PUT", url, provider, json=OFFER)


async def update_provider_offer(ctx: Ctx) -> Call:
    provider, url = await _offer_url(ctx)
    return Call("PATCH", url, provider, json={"places_free": 0})


async def delete_provider_offer(ctx: Ctx) -> Call:
    provider, url = await _offer_url(ctx)
    return Call("DELETE", url, provider)


async def create_provider_location(ctx: Ctx) -> Call:
    _, provider = await ctx.directory()
    return Call("POST", f"/v1/providers/{provider.id}/locations", provider, json=LOCATION)


async def _location_url(ctx: Ctx) -> tuple[Organisation, str]:
    _, provider = await ctx.directory()
    location = await add_location(ctx.db, provider)
    return provider, f"/v1/providers/{provider.id}/locations/{location.id}"


async def replace_provider_location(ctx: Ctx) -> Call:
    provider, url = await _location_url(ctx)
    return Call("PUT", url, provider, json=LOCATION)


async def update_provider_location(ctx: Ctx) -> Call:
    provider, url = await _location_url(ctx)
    return Call("PATCH", url, provider, json={"city": "London"})


async def delete_provider_location(ctx: Ctx) -> Call:
    provider, url = await _location_url(ctx)
    return Call("DELETE", url, provider)


async def record_quality_assurance(ctx: Ctx) -> Call:
    city, provider = await ctx.directory()
    body = {
        "kind": "visit",
        "conducted_on": (TODAY - timedelta(days=3)).isoformat(),
        "findings": "Safe and well run",
        "outcome": "meets_standards",
        "next_due_on": (TODAY + timedelta(days=365)).isoformat(),
    }
    return Call("POST", f"/v1/providers/{provider.id}/quality-assurance", city, json=body)


async def set_qa_status(ctx: Ctx) -> Call:
    city, provider = await ctx.directory()
    body = {"status": "approved", "reason": "Satisfactory QA visit"}
    return Call("PUT", f"/v1/providers/{provider.id}/qa-status", city, json=body)


async def raise_provider_concern(ctx: Ctx) -> Call:
    city, provider = await ctx.directory()
    school = await make_school(ctx.db, city)
    body = {"category": "safeguarding", "severity": "high", "reason": "No sign-in at the gate"}
    return Call("POST", f"/v1/providers/{provider.id}/concerns", school, json=body)


# --- attendance ------------------------------------------------------------------------------


def _last_school_day() -> date:
    """The weekday before today (no holidays are configured, so a school day)."""
    day = TODAY - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


async def _attending(ctx: Ctx) -> tuple[placements.Area, str, date]:
    """An LA-arranged placement that started on the last school day."""
    area, day = await ctx.placement_area(), _last_school_day()
    placement = await started(ctx.client, area, area.la_headers, day)
    return area, str(placement["id"]), day


async def return_attendance(ctx: Ctx) -> Call:
    area, pid, day = await _attending(ctx)
    body = as_csv([mark(pid, day, "am"), mark(pid, day, "pm", "late", minutes_late=10)])
    return Call("POST", "/v1/attendance", area.provider, content=body, content_type="text/csv")


async def run_attendance_concerns(ctx: Ctx) -> Call:
    """An unauthorised absence with no note on a school day: an unexplained absence."""
    area, pid, day = await _attending(ctx)
    r = await post_marks(
        ctx.client, area.provider_headers, [mark(pid, day, "am", "absent_unauthorised")]
    )
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 0, r.text
    return Call("POST", "/v1/attendance/concerns/run", area.la)


HOLIDAY = {
    "from_date": (TODAY + timedelta(days=70)).isoformat(),
    "to_date": (TODAY + timedelta(days=74)).isoformat(),
    "name": "Half term",
}


async def add_school_holiday(ctx: Ctx) -> Call:
    area = await ctx.placement_area()
    return Call("POST", "/v1/school-holidays", area.la, json=HOLIDAY)


async def remove_school_holiday(ctx: Ctx) -> Call:
    area = await ctx.placement_area()
    holiday = await ctx.post("/v1/school-holidays", area.la, HOLIDAY)
    return Call("DELETE", f"/v1/school-holidays/{holiday['id']}", area.la)


# --- signing in to oversight ----------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


async def sign_in_to_oversight(ctx: Ctx) -> Call:
    la = await make_org(ctx.db, "local_authority")
    issued = await secret_client(ctx.db, la)
    page = await ctx.client.get("/oversight/sign-in")
    form = {
        "csrf_token": form_token(page.text),
        "client_id": issued.client.client_id,
        "client_secret": issued.client_secret,
    }
    content = str(httpx.QueryParams(form)).encode()
    return Call(
        "POST", "/oversight/sign-in", la, content=content, content_type=FORM, redirects=True
    )


async def sign_out_of_oversight(ctx: Ctx) -> Call:
    la = await make_org(ctx.db, "local_authority")
    r = await sign_in_with_secret(ctx.client, await secret_client(ctx.db, la))
    assert r.status_code == 303, r.text
    page = await ctx.client.get("/oversight")
    content = str(httpx.QueryParams({"csrf_token": form_token(page.text)})).encode()
    return Call(
        "POST", "/oversight/sign-out", la, content=content, content_type=FORM, redirects=True
    )


async def sign_in_with_a_provider(ctx: Ctx) -> Call:
    provider = StubProvider()
    ctx.cleanups.append(install_provider(ctx.app, provider))
    la = await make_org(ctx.db, "local_authority", la_code="202")
    await admit(ctx.db, la)
    started = await ctx.client.get(f"/oversight/sign-in/{provider.name}")
    code, state = provider.authorise(started.headers["location"], la_code="202")
    url = f"/oversight/callback?{httpx.QueryParams({'code': code, 'state': state})}"
    return Call("GET", url, la, redirects=True)


# --- webhook subscriptions ------------------------------------------------------------------

HOOKS = "/v1/webhook-subscriptions"
# an allowlisted loopback receiver: nothing listens there, and nothing is delivered here
SUBSCRIPTION = {"url": "http://127.0.0.1:9/hooks", "event_types": ["placement.*"]}


async def _subscription(ctx: Ctx) -> tuple[Organisation, str]:
    area = await ctx.placement_area()
    created = await ctx.post(HOOKS, area.school, SUBSCRIPTION)
    return area.school, f"{HOOKS}/{created['id']}"


async def create_webhook_subscription(ctx: Ctx) -> Call:
    area = await ctx.placement_area()
    return Call("POST", HOOKS, area.school, json=SUBSCRIPTION)


async def update_webhook_subscription(ctx: Ctx) -> Call:
    owner, one = await _subscription(ctx)
    return Call("PATCH", one, owner, json={"event_types": ["*"], "description": "MIS"})


async def delete_webhook_subscription(ctx: Ctx) -> Call:
    owner, one = await _subscription(ctx)
    return Call("DELETE", one, owner)


async def rotate_webhook_secret(ctx: Ctx) -> Call:
    owner, one = await _subscription(ctx)
    return Call("POST", f"{one}/rotate-secret", owner)


async def replay_webhook_events(ctx: Ctx) -> Call:
    owner, one = await _subscription(ctx)
    return Call("POST", f"{one}/replay", owner, json={"from_seq": 1})


# --- the table of scenarios ------------------------------------------------------------------

CHILD = "/v1/children/{child_id}"
PLACEMENT = "/v1/placements/{placement_id}"
PROVIDER = "/v1/providers/{provider_id}"

SCENARIOS: dict[tuple[str, str], Scenario] = {
    ("POST", "/v1/organisations"): create_organisation,
    ("PATCH", "/v1/organisations/{organisation_id}"): update_organisation,
    ("POST", "/v1/organisations/{organisation_id}/clients"): create_client,
    ("DELETE", "/v1/organisations/{organisation_id}/clients/{client_id}"): revoke_client,
    ("POST", "/v1/organisations/{organisation_id}/clients/{client_id}/approve"): approve_client,
    ("POST", "/v1/children"): create_child,
    ("PATCH", CHILD): update_child,
    ("POST", f"{CHILD}/merge"): merge_children,
    ("POST", f"{CHILD}/exclusions"): record_exclusion,
    ("POST", f"{CHILD}/exclusions/{{exclusion_id}}/status"): change_exclusion_status,
    ("POST", f"{CHILD}/distinct"): mark_children_distinct,
    ("POST", f"{CHILD}/enrolments"): add_enrolment,
    ("POST", f"{CHILD}/enrolments/{{enrolment_id}}/end"): end_enrolment,
    **{("PATCH", f"{CHILD}/passport/{s}"): passport_section(s) for s in SECTIONS},
    ("POST", f"{CHILD}/involvements"): record_involvement,
    ("POST", f"{CHILD}/involvements/{{involvement_id}}/end"): end_involvement,
    ("POST", f"{CHILD}/consents"): record_consent,
    ("POST", f"{CHILD}/consents/{{consent_id}}/withdraw"): withdraw_consent,
    ("POST", "/v1/placements"): request_placement,
    ("PATCH", PLACEMENT): vary_placement,
    ("POST", f"{PLACEMENT}/offer"): offer_placement,
    ("POST", f"{PLACEMENT}/decline"): decline_placement,
    ("POST", f"{PLACEMENT}/start"): start_placement,
    ("POST", f"{PLACEMENT}/extend"): extend_placement,
    ("POST", f"{PLACEMENT}/end"): end_placement,
    ("POST", f"{PLACEMENT}/cancel"): cancel_placement,
    ("POST", f"{PLACEMENT}/propose-end"): propose_end_placement,
    ("POST", f"{PLACEMENT}/reviews"): record_placement_review,
    ("PUT", PROVIDER): replace_provider_entry,
    ("PATCH", PROVIDER): update_provider_entry,
    ("POST", f"{PROVIDER}/offers"): create_provider_offer,
    ("PUT", f"{PROVIDER}/offers/{{offer_id}}"): replace_provider_offer,
    ("PATCH", f"{PROVIDER}/offers/{{offer_id}}"): update_provider_offer,
    ("DELETE", f"{PROVIDER}/offers/{{offer_id}}"): delete_provider_offer,
    ("POST", f"{PROVIDER}/locations"): create_provider_location,
    ("PUT", f"{PROVIDER}/locations/{{location_id}}"): replace_provider_location,
    ("PATCH", f"{PROVIDER}/locations/{{location_id}}"): update_provider_location,
    ("DELETE", f"{PROVIDER}/locations/{{location_id}}"): delete_provider_location,
    ("POST", f"{PROVIDER}/quality-assurance"): record_quality_assurance,
    ("PUT", f"{PROVIDER}/qa-status"): set_qa_status,
    ("POST", f"{PROVIDER}/concerns"): raise_provider_concern,
    ("POST", "/v1/attendance"): return_attendance,
    ("POST", "/v1/attendance/concerns/run"): run_attendance_concerns,
    ("POST", "/v1/school-holidays"): add_school_holiday,
    ("DELETE", "/v1/school-holidays/{holiday_id}"): remove_school_holiday,
    ("POST", f"{PLACEMENT}/outcomes/{{outcome_id}}/progress"): record_outcome_progress,
    ("POST", f"{PLACEMENT}/accreditations"): record_accreditation,
    ("POST", f"{PLACEMENT}/follow-ups"): record_follow_up,
    ("POST", "/oversight/sign-in"): sign_in_to_oversight,
    ("POST", "/oversight/sign-out"): sign_out_of_oversight,
    ("GET", "/oversight/callback"): sign_in_with_a_provider,
    ("POST", HOOKS): create_webhook_subscription,
    ("PATCH", f"{HOOKS}/{{subscription_id}}"): update_webhook_subscription,
    ("DELETE", f"{HOOKS}/{{subscription_id}}"): delete_webhook_subscription,
    ("POST", f"{HOOKS}/{{subscription_id}}/rotate-secret"): rotate_webhook_secret,
    ("POST", f"{HOOKS}/{{subscription_id}}/replay"): replay_webhook_events,
}

# Endpoints whose events do not (yet) match their declaration: (method, path) -> why.
MISMATCHED: dict[tuple[str, str], str] = {}
# Endpoints that run a job of the hub's: its events name the job, not the caller.
SYSTEM_JOBS: dict[tuple[str, str], str] = {
    ("POST", "/v1/attendance/concerns/run"): "system:attendance-concerns",
}


def _cases() -> list[Any]:
    cases = []
    for e in WRITING:
        marks = (
            [pytest.mark.xfail(reason=MISMATCHED[e.key], strict=True)]
            if e.key in MISMATCHED
            else []
        )
        cases.append(pytest.param(e, id=f"{e.method} {e.path}", marks=marks))
    return cases


def test_every_writing_endpoint_has_a_scenario() -> None:
    """A new writing endpoint needs a scenario here (and a removed one loses its own)."""
    assert {e.key for e in WRITING} == set(SCENARIOS)


async def _last_seq(superuser: asyncpg.Connection) -> int:
    return int(await superuser.fetchval("SELECT coalesce(max(seq), 0) FROM events"))


@pytest.mark.parametrize("endpoint", _cases())
async def test_a_writing_endpoint_appends_its_declared_events(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    superuser: asyncpg.Connection,
    endpoint: Endpoint,
) -> None:
    """The scenario's setup may append events of its own; only those appended after it,
    by the one measured request, are checked."""
    ctx = Ctx(client, app, db)
    try:
        await _drive(ctx, superuser, endpoint)
    finally:
        for undo in ctx.cleanups:
            undo()


async def _drive(ctx: Ctx, superuser: asyncpg.Connection, endpoint: Endpoint) -> None:
    client = ctx.client
    call = await SCENARIOS[endpoint.key](ctx)
    headers = {**ctx.headers(call.caller), **call.headers}
    if endpoint.idempotent:
        headers.update(new_key())
    if call.content_type:
        headers["Content-Type"] = call.content_type
    before = await _last_seq(superuser)

    r = await client.request(
        call.method, call.url, json=call.json, content=call.content, headers=headers
    )

    assert 200 <= r.status_code < 300 or (call.redirects and r.status_code == 303), r.text
    appended = await superuser.fetch(
        "SELECT type, actor_organisation_id, actor_client_id FROM events WHERE seq > $1 "
        "ORDER BY seq",
        before,
    )
    types = [row["type"] for row in appended]
    assert types, f"{endpoint.method} {endpoint.path} appended no event"
    undeclared = sorted(set(types) - set(endpoint.events))
    assert not undeclared, f"appended {undeclared}, declared {list(endpoint.events)}"
    job = SYSTEM_JOBS.get(endpoint.key)
    for row in appended:
        actor = (row["actor_organisation_id"], row["actor_client_id"])
        if job is not None and row["actor_client_id"] == job:
            assert actor == (None, job), dict(row)
        else:
            assert row["actor_organisation_id"] == call.caller.id, dict(row)


# --- the register's events -------------------------------------------------------------------


async def _feed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 500} | ({"after": cursor} if cursor else {})
        r = await client.get("/v1/events", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if not page["items"] or page["next_cursor"] == cursor:
            return items
        cursor = page["next_cursor"]


async def test_register_events_carry_metadata_only_and_reach_the_operator(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    """Register events hold no child and no secret; the operator's feed has their
    metadata, never a payload; the organisation concerned should see them too."""
    ctx = Ctx(client, app, db)
    operator = await ctx.operator()
    la = await ctx.post(
        "/v1/organisations",
        operator,
        {"type": "local_authority", "name": "Camden", "la_code": "202"},
    )
    url = f"/v1/organisations/{la['id']}"
    r = await client.patch(url, json={"name": "Camden Council"}, headers=ctx.headers(operator))
    assert r.status_code == 200, r.text
    issued = await ctx.post(f"{url}/clients", operator, {"name": "Case management system"})
    assert issued["client_secret"]
    spare = await ctx.post(f"{url}/clients", operator, {"name": "Spare"})
    r = await client.delete(f"{url}/clients/{spare['client_id']}", headers=ctx.headers(operator))
    assert r.status_code == 204, r.text

    rows = await superuser.fetch(
        "SELECT type, child_id, data FROM events "
        "WHERE type LIKE 'organisation.%' OR type LIKE 'client.%' ORDER BY seq"
    )
    assert [row["type"] for row in rows] == [
        "organisation.created",
        "organisation.updated",
        "client.created",
        "client.created",
        "client.revoked",
    ]
    for row in rows:
        assert row["child_id"] is None, row["type"]
        assert "client_secret" not in json.loads(row["data"]), row["type"]
        assert issued["client_secret"] not in row["data"], row["type"]  # nor anywhere else

    seen = await _feed(client, ctx.headers(operator))
    register = [e for e in seen if e["type"].startswith(("organisation.", "client."))]
    assert [e["type"] for e in register] == [row["type"] for row in rows]
    for event in register:
        assert "data" not in event, event  # metadata only
        assert "childid" not in event, event
        assert event["actororganisation"] == str(operator.id)

    # the organisation concerned: the local authority, with a token of its own
    camden = Organisation(id=uuid.UUID(la["id"]), type="local_authority", name="Camden Council")
    await register_client(ctx.db, camden)
    delivered = await _feed(client, ctx.headers(camden))
    assert [e["type"] for e in delivered] == [row["type"] for row in rows]
    assert all("client_secret" not in e["data"] for e in delivered)
    # and no other organisation
    stranger = await make_org(ctx.db, "local_authority")
    assert not [
        e
        for e in await _feed(client, ctx.headers(stranger))
        if e["type"].startswith(("organisation.", "client."))
    ]
