"""Managing webhook subscriptions: an organisation's own, every change an event it
receives, the secret shown once, and another organisation's subscriptions 404."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.models import Organisation
from tests.factories import auth, make_org, token_for
from tests.webhook_network import CONNECTIONS, NAMES

BASE = "/v1/webhook-subscriptions"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    body.setdefault("url", "http://127.0.0.1:9/hooks")
    r = await client.post(BASE, json=body, headers={**headers, **key()})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def feed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get("/v1/events", params={"limit": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_a_school_subscribes_and_sees_its_subscription_but_never_the_secret_again(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    school = await make_org(db, "school")
    headers = auth(token_for(app, school))
    created = await subscribe(
        client, headers, event_types=["placement.*"], description="MIS integration"
    )
    assert created["secret"].startswith("whsec_")
    assert created["enabled"] is True
    assert created["event_types"] == ["placement.*"]
    assert created["consecutive_failures"] == 0

    r = await client.get(f"{BASE}/{created['id']}", headers=headers)
    assert r.status_code == 200, r.text
    assert "secret" not in r.json()
    assert r.headers["etag"] == f'"{created["version"]}"'
    listed = await client.get(BASE, headers=headers)
    assert [s["id"] for s in listed.json()["items"]] == [created["id"]]
    assert all("secret" not in s for s in listed.json()["items"])


async def test_another_organisations_subscription_is_404_on_every_path(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    owner, other = await make_org(db, "provider"), await make_org(db, "provider")
    created = await subscribe(client, auth(token_for(app, owner)))
    theirs = auth(token_for(app, other))
    one = f"{BASE}/{created['id']}"
    calls = [
        client.get(one, headers=theirs),
        client.patch(one, json={"enabled": False}, headers=theirs),
        client.post(f"{one}/rotate-secret", headers={**theirs, **key()}),
        client.post(f"{one}/replay", json={"from_seq": 1}, headers={**theirs, **key()}),
        client.get(f"{one}/deliveries", headers=theirs),
        client.delete(one, headers=theirs),
    ]
    for call in calls:
        r = await call
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
    assert (await client.get(BASE, headers=theirs)).json()["items"] == []
    assert (await client.get(one, headers=auth(token_for(app, owner)))).status_code == 200


@pytest.mark.parametrize("kind", ["health", "social_care", "dashboard", "operator"])
async def test_organisations_without_webhooks_manage_are_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database, kind: str
) -> None:
    organisation = await make_org(db, kind)
    r = await client.get(BASE, headers=auth(token_for(app, organisation)))
    assert r.status_code == 403, r.text


async def test_every_change_is_an_event_the_owner_receives_and_no_one_else(
    client: httpx.AsyncClient, app: FastAPI, db: Database, superuser: asyncpg.Connection
) -> None:
    trust = await make_org(db, "trust")
    headers = auth(token_for(app, trust))
    created = await subscribe(client, headers, url="http://127.0.0.1:9/hooks?token=receiver-token")
    one = f"{BASE}/{created['id']}"
    r = await client.patch(
        one, json={"event_types": ["attendance.*"]}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"{one}/rotate-secret", headers={**headers, **key()})
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    r = await client.post(f"{one}/replay", json={"from_seq": 1}, headers={**headers, **key()})
    assert r.status_code == 202, r.text
    assert r.json()["delivered_through"] == 0
    r = await client.delete(one, headers=headers)
    assert r.status_code == 204, r.text

    types = [
        "webhook_subscription.created",
        "webhook_subscription.updated",
        "webhook_subscription.secret_rotated",
        "webhook_subscription.replayed",
        "webhook_subscription.deleted",
    ]
    mine = [e for e in await feed(client, headers) if e["type"].startswith("webhook_")]
    assert [e["type"] for e in mine] == types
    assert mine[0]["data"]["host"] == "127.0.0.1"
    assert mine[1]["data"]["fields"] == ["event_types"]
    stored = await superuser.fetch("SELECT data::text AS data FROM events ORDER BY seq")
    for row in stored:  # neither secret nor the URL's token is in the log
        for secret in (created["secret"], rotated["secret"], "receiver-token"):
            assert secret not in row["data"]
    stranger = auth(token_for(app, await make_org(db, "trust")))
    assert not [e for e in await feed(client, stranger) if e["type"].startswith("webhook_")]


async def test_stale_if_match_is_412_and_removing_the_url_is_422(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    la = await make_org(db, "local_authority")
    headers = auth(token_for(app, la))
    one = f"{BASE}/{(await subscribe(client, headers))['id']}"
    r = await client.patch(one, json={"description": "x"}, headers={**headers, "If-Match": '"7"'})
    assert r.status_code == 412, r.text
    r = await client.patch(one, json={"url": None}, headers=headers)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "event_types",
    [["placement.strated"], ["nothing.*"], ["Placement.*"], ["placement.**"], []],
)
async def test_filters_that_match_no_event_the_hub_sends_are_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database, event_types: list[str]
) -> None:
    school = await make_org(db, "school")
    body = {"url": "http://127.0.0.1:9/hooks", "event_types": event_types}
    r = await client.post(BASE, json=body, headers={**auth(token_for(app, school)), **key()})
    assert r.status_code == 422, r.text


async def test_disabling_and_enabling_by_the_owner_and_replay_beyond_the_log_is_422(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    provider = await make_org(db, "provider")
    headers = auth(token_for(app, provider))
    one = f"{BASE}/{(await subscribe(client, headers))['id']}"
    r = await client.patch(one, json={"enabled": False}, headers=headers)
    assert r.json()["enabled"] is False
    assert r.json()["disabled_at"] is not None
    assert r.json()["disabled_reason"] is None  # the owner's choice, not a failure
    r = await client.patch(one, json={"enabled": True}, headers=headers)
    assert r.json()["enabled"] is True
    assert r.json()["disabled_at"] is None
    r = await client.post(f"{one}/replay", json={"from_seq": 10**6}, headers=headers)
    assert r.status_code == 422, r.text


async def test_an_organisation_holds_a_bounded_number_of_subscriptions(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    school = await make_org(db, "school")
    headers = auth(token_for(app, school))
    for _ in range(25):
        await subscribe(client, headers)
    r = await client.post(BASE, json={"url": "http://127.0.0.1:9/x"}, headers={**headers, **key()})
    assert r.status_code == 409, r.text


async def test_creating_and_changing_subscriptions_never_connects_anywhere(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Subscriptions are checked by resolving their name (stubbed here), never by
    connecting: deliveries happen only in the delivery job."""
    NAMES["hooks.example.org"] = ["93.184.216.34"]
    try:
        school: Organisation = await make_org(db, "school")
        headers = auth(token_for(app, school))
        before = len(CONNECTIONS)
        created = await subscribe(client, headers, url="https://hooks.example.org/aphub")
        r = await client.patch(
            f"{BASE}/{created['id']}",
            json={"url": "https://hooks.example.org/v2"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        assert len(CONNECTIONS) == before
    finally:
        NAMES.pop("hooks.example.org")
