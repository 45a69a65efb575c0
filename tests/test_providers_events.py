"""Every change to the directory and its quality assurance is an event in the hash-chained
log, with actor, time and reason, committed with the change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.models import Event, Organisation
from tests.factories import auth, token_for
from tests.provider_factories import make_la, make_provider, make_school


async def _events(db: Database, subject: Organisation) -> list[Event]:
    async with db.writing() as uow:
        found = await uow.session.scalars(
            select(Event).where(Event.subject_id == subject.id).order_by(Event.seq)
        )
        return list(found)


async def test_each_qa_status_change_is_an_event_with_actor_time_and_reason(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    la = auth(token_for(app, city))
    started = datetime.now(UTC)
    next_due = (date.today() + timedelta(days=180)).isoformat()
    changes = [
        {"status": "approved", "reason": "Satisfactory visit", "next_due_on": next_due},
        {
            "status": "approved_with_conditions",
            "reason": "Attendance returns late",
            "conditions": "Daily returns by 10:00",
        },
        {"status": "suspended", "reason": "Insurance lapsed"},
    ]
    for change in changes:
        response = await client.put(
            f"/v1/providers/{provider.id}/qa-status", json=change, headers=la
        )
        assert response.status_code == 200, response.text

    events = [e for e in await _events(db, provider) if e.type == "provider.qa_status_changed"]
    assert [e.data["reason"] for e in events] == [c["reason"] for c in changes]
    assert [(e.data["from_status"], e.data["to_status"]) for e in events] == [
        ("not_assessed", "approved"),
        ("approved", "approved_with_conditions"),
        ("approved_with_conditions", "suspended"),
    ]
    assert events[1].data["conditions"] == "Daily returns by 10:00"
    for event in events:
        assert event.actor_organisation_id == city.id
        assert event.actor_client_id == f"test-{city.id.hex}"
        assert started <= event.occurred_at <= datetime.now(UTC)
        assert event.subject_type == "provider"
    # each change moved the entry to a new version, and the event names it
    assert [e.subject_version for e in events] == [2, 3, 4]
    history = await client.get(f"/v1/providers/{provider.id}/qa-status-history", headers=la)
    assert [h["reason"] for h in history.json()["items"]] == [c["reason"] for c in changes]
    assert [h["changed_by_organisation_id"] for h in history.json()["items"]] == [str(city.id)] * 3
    assert (await verify_chain(db)).ok


async def test_raising_a_concern_is_an_event_with_actor_time_and_reason(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    school = await make_school(db, city)
    started = datetime.now(UTC)

    response = await client.post(
        f"/v1/providers/{provider.id}/concerns",
        json={"category": "safeguarding", "severity": "high", "reason": "No sign-in at the gate"},
        headers=auth(token_for(app, school)),
    )
    assert response.status_code == 201, response.text

    (event,) = await _events(db, provider)
    assert event.type == "provider.concern_raised"
    assert event.actor_organisation_id == school.id
    assert event.actor_client_id == f"test-{school.id.hex}"
    assert started <= event.occurred_at <= datetime.now(UTC)
    assert event.data == {
        "reason": "No sign-in at the gate",
        "concern_id": response.json()["id"],
        "category": "safeguarding",
        "severity": "high",
    }
    assert event.subject_version is None  # a concern does not change the entry
    assert (await verify_chain(db)).ok


async def test_qa_records_and_directory_edits_are_events_too(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city = await make_la(db, "201")
    provider = await make_provider(db, city)
    me = auth(token_for(app, provider))
    visited = (date.today() - timedelta(days=3)).isoformat()
    record = {
        "kind": "visit",
        "conducted_on": visited,
        "findings": "Safe and well run",
        "outcome": "meets_standards",
        "next_due_on": (date.today() + timedelta(days=365)).isoformat(),
    }
    response = await client.post(
        f"/v1/providers/{provider.id}/quality-assurance",
        json=record,
        headers=auth(token_for(app, city)),
    )
    assert response.status_code == 201, response.text
    await client.patch(f"/v1/providers/{provider.id}", json={"description": "Garage"}, headers=me)
    offer = await client.post(
        f"/v1/providers/{provider.id}/offers", json={"type": "tuition", "name": "Maths"}, headers=me
    )

    events = await _events(db, provider)
    assert [e.type for e in events] == [
        "provider.qa_recorded",
        "provider.updated",
        "provider.updated",
    ]
    qa, edit, offered = events
    assert qa.actor_organisation_id == city.id
    assert qa.data["reason"] == f"QA visit on {visited}: meets_standards"
    assert qa.data["record_id"] == response.json()["id"]
    assert edit.actor_organisation_id == provider.id
    assert edit.data == {"reason": "directory entry updated", "changed": ["description"]}
    assert offered.data["offer_id"] == offer.json()["id"]
    assert [e.subject_version for e in events] == [2, 3, 4]
    entry = await client.get(f"/v1/providers/{provider.id}", headers=me)
    assert entry.headers["ETag"] == '"4"'
    assert entry.json()["quality_assurance"]["last_visit_on"] == visited
    assert (await verify_chain(db)).ok


async def test_a_refused_change_leaves_no_event(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    city, camden = await make_la(db, "201"), await make_la(db, "202")
    provider = await make_provider(db, city)
    await client.put(
        f"/v1/providers/{provider.id}/qa-status",
        json={"status": "approved", "reason": "not my area"},
        headers=auth(token_for(app, camden)),
    )
    await client.post(
        f"/v1/providers/{provider.id}/offers",
        json={"type": "tuition", "name": "x", "capacity": -1},
        headers=auth(token_for(app, provider)),
    )
    assert await _events(db, provider) == []
