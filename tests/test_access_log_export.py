"""The data controller's view: the access audit of a child's record, and the subject access
export. Only the child's home LA may have either."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.db import Database
from aphub.events.verify import verify_chain
from aphub.models import Organisation
from tests.child_factories import Area, graphql, involve, make_area, make_child, place
from tests.factories import make_org

AUDITING_SCHOOL = [*DEFAULT_SCOPES["school"], "audit:read"]


async def host_la_seeing(db: Database, area: Area, child_id: str) -> Organisation:
    """Another LA that sees the child (it hosts the child's provider) but is not its home
    LA, so not the controller of its record."""
    host = await make_org(db, "local_authority", la_code="802")
    provider = await make_org(db, "provider", local_authority_id=host.id)
    await place(db, child_id, commissioner=area.la, provider=provider)
    return host


async def test_home_la_can_list_the_access_audit_and_no_other_organisation_can(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    assert (await client.get(f"/v1/children/{cid}", headers=area.headers(area.school))).is_success
    denied = await client.get(f"/v1/children/{cid}", headers=area.headers(area.stranger))
    assert denied.status_code == 404
    url = f"/v1/children/{cid}/access-log"

    r = await client.get(url, headers=area.headers(area.la))

    assert r.status_code == 200, r.text
    newest, school_read, created = r.json()["items"]
    assert newest["organisation_id"] == str(area.stranger.id)
    assert (newest["action"], newest["outcome"], newest["rules"]) == ("read", "denied", [])
    assert school_read["organisation_name"] == area.school.name
    assert school_read["client_id"] == f"test-{area.school.id.hex}"
    assert (school_read["action"], school_read["surface"], school_read["outcome"]) == (
        "read",
        "rest",
        "allowed",
    )
    assert school_read["rules"] == ["school_on_roll"]
    assert "contacts" in school_read["categories"]
    assert school_read["policy_version"] == "default-2026.1"
    assert created["organisation_id"] == str(area.la.id)

    host = await host_la_seeing(db, area, cid)
    assert (await client.get(f"/v1/children/{cid}", headers=area.headers(host))).is_success
    r = await client.get(url, headers=area.headers(host))
    assert r.status_code == 403, r.text  # it sees the child, but is not its controller
    r = await client.get(url, headers=area.headers(area.school, AUDITING_SCHOOL))
    assert r.status_code == 401, r.text  # a school's client may never hold audit:read
    elsewhere = await make_org(db, "local_authority", la_code="803")
    r = await client.get(url, headers=area.headers(elsewhere))
    assert r.status_code == 404, r.text  # an LA that does not see the child
    r = await client.get(url, headers=area.headers(area.school))
    assert r.status_code == 403, r.text  # and without the scope, no further question is asked

    rows = await superuser.fetch(
        "SELECT organisation_id, outcome FROM access_log_entries WHERE action = 'access_log' "
        "ORDER BY at"
    )
    assert [(r["organisation_id"], r["outcome"]) for r in rows] == [
        (area.la.id, "allowed"),
        (host.id, "denied"),
        (elsewhere.id, "denied"),
    ]
    # the listing is not a read of the record
    listing = await client.get(url, headers=area.headers(area.la))
    own = [e for e in listing.json()["items"] if e["action"] == "access_log"]
    assert own[-1]["categories"] == []


async def test_access_audit_pages_newest_first(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    for _ in range(4):
        await client.get(f"/v1/children/{cid}", headers=area.headers(area.school))
    url = f"/v1/children/{cid}/access-log"
    la = area.headers(area.la)

    first = (await client.get(f"{url}?limit=3", headers=la)).json()
    second = (await client.get(f"{url}?limit=3&cursor={first['next_cursor']}", headers=la)).json()

    seen = first["items"] + second["items"]
    assert len(seen) == 5  # create + 4 reads; the listings come after
    assert len({e["id"] for e in seen}) == 5
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    assert second["next_cursor"] is None
    r = await client.get(f"{url}?cursor=bm9wZQ", headers=la)
    assert r.status_code == 422, r.text


async def test_export_holds_everything_about_the_child_for_the_home_la_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area, upn="H801200001001", nhs_number="9434765919")
    la = area.headers(area.la)
    for summary in ("first", "second"):
        r = await client.patch(
            f"/v1/children/{cid}/passport/about_me", json={"summary": summary}, headers=la
        )
        assert r.status_code == 200, r.text
    await involve(client, area, cid, area.health, basis="ehcp", categories=["identity", "health"])
    r = await client.patch(
        f"/v1/children/{cid}/passport/health",
        json={"diagnoses": [{"name": "Asthma"}]},
        headers=area.headers(area.health),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/children/{cid}/consents",
        json={
            "purpose": "Share with CAMHS",
            "given_by": "Sara Khan",
            "relationship_to_child": "parent",
            "given_on": "2025-09-01",
        },
        headers=la,
    )
    assert r.status_code == 201, r.text
    placement_id = await place(
        db, cid, commissioner=area.school, provider=area.provider, outcomes=2
    )

    r = await client.get(f"/v1/children/{cid}/export", headers=la)

    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == f'attachment; filename="child-{cid}.json"'
    export = r.json()
    assert export["child"]["upn"] == "H801200001001"
    assert export["child"]["nhs_number"] == "9434765919"
    assert [e["school_id"] for e in export["enrolments"]] == [str(area.school.id)]
    about_me = export["passport"]["about_me"]
    assert about_me["content"] == {"summary": "second"}
    assert [v["content"]["summary"] for v in about_me["history"]] == ["first", "second"]
    assert about_me["history"][0]["changed_by_id"] == str(area.la.id)
    # the LA's agreement does not let it read diagnoses; as controller it exports them
    assert export["passport"]["health"]["history"][0]["content"]["diagnoses"][0]["name"] == "Asthma"
    assert [i["organisation_id"] for i in export["involvements"]] == [str(area.health.id)]
    assert export["consents"][0]["given_by"] == "Sara Khan"
    (placement,) = export["placements"]
    assert placement["id"] == str(placement_id)
    assert len(placement["intended_outcomes"]) == 2
    event_types = [e["type"] for e in export["events"]]
    assert event_types == [
        "child.created",
        "passport.section_updated",
        "passport.section_updated",
        "involvement.recorded",
        "passport.section_updated",
        "consent.recorded",
    ]
    seqs = [e["seq"] for e in export["events"]]
    assert seqs == sorted(seqs)
    log = export["access_log"]
    assert log[0]["action"] == "read"
    assert log[0]["organisation_id"] == str(area.la.id)
    assert (log[-1]["action"], log[-1]["surface"]) == ("export", "export")
    assert sorted(log[-1]["categories"]) == sorted(
        [
            "identity",
            "education",
            "needs",
            "health",
            "social_care",
            "safeguarding",
            "voice",
            "contacts",
            "placement",
        ]
    )
    assert (
        await superuser.fetchval("SELECT count(*) FROM access_log_entries WHERE action = 'export'")
        == 1
    )

    host = await host_la_seeing(db, area, cid)
    assert (
        await client.get(f"/v1/children/{cid}/export", headers=area.headers(host))
    ).status_code == 403
    school = area.headers(area.school, AUDITING_SCHOOL)
    assert (await client.get(f"/v1/children/{cid}/export", headers=school)).status_code == 401
    elsewhere = area.headers(await make_org(db, "local_authority", la_code="803"))
    assert (await client.get(f"/v1/children/{cid}/export", headers=elsewhere)).status_code == 404
    assert (
        await superuser.fetchval(
            "SELECT count(*) FROM access_log_entries "
            "WHERE action = 'export' AND outcome = 'allowed'"
        )
        == 1
    )


async def test_every_write_produced_its_event_and_the_chain_verifies(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    la = area.headers(area.la)
    cid = await make_child(client, area)
    r = await client.patch(f"/v1/children/{cid}", json={"preferred_name": "Ami"}, headers=la)
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/v1/children/{cid}/passport/child_voice", json={"views": "I like art"}, headers=la
    )
    assert r.status_code == 200, r.text
    involvement = await involve(client, area, cid, area.social_care)
    r = await client.post(
        f"/v1/children/{cid}/involvements/{involvement['id']}/end", json={}, headers=la
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/children/{cid}/consents",
        json={
            "purpose": "x",
            "given_by": "Sara Khan",
            "relationship_to_child": "parent",
            "given_on": "2025-09-01",
        },
        headers=la,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/children/{cid}/consents/{r.json()['id']}/withdraw", json={}, headers=la
    )
    assert r.status_code == 200, r.text
    # refused writes leave no event
    r = await client.patch(
        f"/v1/children/{cid}/passport/health", json={"medical_needs": "x"}, headers=la
    )
    assert r.status_code == 403, r.text

    rows = await superuser.fetch("SELECT type, child_id FROM events ORDER BY seq")

    assert [r["type"] for r in rows] == [
        "child.created",
        "child.updated",
        "passport.section_updated",
        "involvement.recorded",
        "involvement.ended",
        "consent.recorded",
        "consent.withdrawn",
    ]
    assert {str(r["child_id"]) for r in rows} == {cid}
    verification = await verify_chain(db)
    assert verification.ok, verification
    assert verification.checked == 7


async def test_graphql_access_log_for_the_home_la_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    cid = await make_child(client, area)
    host = await host_la_seeing(db, area, cid)
    query = (
        "query($id: UUID!) { accessLog(childId: $id, first: 10) "
        "{ items { action surface outcome organisationName } nextCursor } }"
    )

    result = await graphql(client, query, area.headers(area.la), id=cid)

    assert "errors" not in result, result
    (created,) = result["data"]["accessLog"]["items"]
    assert created["organisationName"] == area.la.name
    result = await graphql(client, query, area.headers(host), id=cid)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    result = await graphql(client, query, area.headers(area.stranger), id=cid)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # no audit:read at all


async def test_a_list_page_is_one_audit_row_per_decision_and_one_entry_per_child(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    area = await make_area(app, db)
    ids = [await make_child(client, area, legal_first_name=n) for n in ("Ada", "Ben", "Cy")]
    # placed with a provider in the LA's own area: the LA also hosts this one
    await place(db, ids[0], commissioner=area.school, provider=area.provider)
    await superuser.execute("DELETE FROM access_log")  # the creations' own reads

    r = await client.get("/v1/children?limit=10", headers=area.headers(area.la))

    assert r.status_code == 200, r.text
    assert sorted(item["id"] for item in r.json()["items"]) == sorted(ids)
    rows = await superuser.fetch(
        "SELECT rules, cardinality(child_ids) AS n FROM access_log ORDER BY n"
    )
    assert [(sorted(row["rules"]), row["n"]) for row in rows] == [
        (["la_home", "la_host"], 1),
        (["la_home"], 2),
    ]
    for cid in ids:  # and the controller's listing shows each child its own entry
        log = await client.get(f"/v1/children/{cid}/access-log", headers=area.headers(area.la))
        assert [(e["action"], e["surface"]) for e in log.json()["items"]] == [("list", "rest")]
