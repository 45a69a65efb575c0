"""The SSRF catalogue: every address a webhook must never reach is refused before any
connection is made, when the subscription is made (422) and again at every delivery.

Names resolve through the tests' stub (`NAMES`), and the connector beneath the guard
records every connection it is asked for (`CONNECTIONS`) and fails the test if one is
to anything but loopback: "refused before any connection" is that list not growing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.webhooks.delivery import Deliverer
from aphub.webhooks.guard import Allowlist, Guard, Refused, refusal
from tests.factories import auth, make_org, token_for
from tests.provider_factories import make_provider
from tests.webhook_fixtures import BASE, deliveries, subscribe, until_idle
from tests.webhook_network import CONNECTIONS, NAMES, RESOLVED, Receiver

PUBLIC = "93.184.216.34"  # a documentation-era public address; never connected to here
STUB_NAMES = {
    "internal.example": ["10.0.0.7"],
    "mixed.example": [PUBLIC, "192.168.0.1"],
    "metadata.example": ["169.254.169.254"],
    "v6.example": ["fd00::5"],
    "public.example": [PUBLIC],
    "rebind.example": [PUBLIC],
    "localhost": ["127.0.0.1"],
}
CATALOGUE = {
    "loopback": "https://127.0.0.1/hooks",
    "loopback over http": "http://127.0.0.1:8080/hooks",
    "localhost": "https://localhost/hooks",
    "loopback range": "https://127.0.0.2/hooks",
    "10/8": "https://10.1.2.3/hooks",
    "172.16/12": "https://172.16.5.4/hooks",
    "172.31": "https://172.31.255.254/hooks",
    "192.168/16": "https://192.168.1.1/hooks",
    "metadata": "https://169.254.169.254/latest/meta-data/",
    "link-local": "https://169.254.10.10/hooks",
    "shared address space": "https://100.64.0.1/hooks",
    "unspecified": "https://0.0.0.0/hooks",
    "IPv6 loopback": "https://[::1]/hooks",
    "IPv6 unique-local fc00": "https://[fc00::1]/hooks",
    "IPv6 unique-local fd": "https://[fd12:3456::1]/hooks",
    "IPv6 link-local": "https://[fe80::1]/hooks",
    "IPv6 unspecified": "https://[::]/hooks",
    "IPv4-mapped private": "https://[::ffff:10.0.0.1]/hooks",
    "NAT64 of metadata": "https://[64:ff9b::a9fe:a9fe]/hooks",
    "name resolving to 10/8": "https://internal.example/hooks",
    "name resolving public and private": "https://mixed.example/hooks",
    "name resolving to metadata": "https://metadata.example/hooks",
    "name resolving to unique-local": "https://v6.example/hooks",
    "decimal host": "https://2130706433/hooks",
    "hex host": "https://0x7f.1/hooks",
    "short dotted host": "https://127.1/hooks",
    "plain http to a public name": "http://public.example/hooks",
    "credentials in the URL": "https://user:pass@public.example/hooks",
    "not http": "ftp://public.example/hooks",
    "unknown name": "https://nowhere.example/hooks",
}


@pytest.fixture(autouse=True)
def stub_names() -> Iterator[None]:
    NAMES.update(STUB_NAMES)
    yield
    for name in STUB_NAMES:
        NAMES.pop(name, None)


@pytest.fixture
def without_allowlist(app: FastAPI) -> Iterator[None]:
    """The application's guard with nothing allowlisted (loopback included)."""
    allowlisted = app.state.webhook_guard
    app.state.webhook_guard = Guard(Allowlist())
    yield
    app.state.webhook_guard = allowlisted


@pytest.mark.parametrize("url", list(CATALOGUE.values()), ids=list(CATALOGUE))
async def test_a_forbidden_destination_is_refused_at_subscription_before_any_connection(
    client: httpx.AsyncClient, app: FastAPI, db: Database, without_allowlist: None, url: str
) -> None:
    school = await make_org(db, "school")
    headers = auth(token_for(app, school))
    before = len(CONNECTIONS)
    r = await client.post(BASE, json={"url": url}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "url"
    assert len(CONNECTIONS) == before


async def test_the_allowlist_opens_loopback_but_never_metadata(app: FastAPI) -> None:
    guard = Guard(Allowlist.parse("127.0.0.1, 169.254.169.254, hooks.internal"))
    assert (await guard.check("http://127.0.0.1:9000/x")).allowlisted
    NAMES["hooks.internal"] = ["10.9.9.9"]
    try:
        assert (await guard.check("http://hooks.internal/x")).allowlisted
    finally:
        NAMES.pop("hooks.internal")
    for url in ("https://169.254.169.254/", "http://127.0.0.2/", "https://10.9.9.9/"):
        with pytest.raises(Refused):
            await guard.check(url)


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "172.16.0.1", "192.168.0.1", "127.0.0.1", "169.254.169.254", "::1", "fc00::1"],
)
def test_private_and_loopback_addresses_are_refused_unless_allowlisted(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert refusal(ip, host_allowlisted=False, allowlist=Allowlist()) is not None
    assert (
        refusal(ipaddress.ip_address(PUBLIC), host_allowlisted=False, allowlist=Allowlist()) is None
    )


async def test_a_name_that_rebinds_to_a_private_address_is_refused_at_delivery(
    client: httpx.AsyncClient, app: FastAPI, db: Database, deliverer: Deliverer
) -> None:
    """Checked when subscribed (public then), refused when delivering (private now):
    the name is resolved at each connection and the connection goes to what was
    checked, so nothing is ever opened to the new address."""
    provider = await make_provider(db, await make_org(db, "local_authority", la_code="202"))
    headers = auth(token_for(app, provider))
    receiver = Receiver(port=1)  # never listening: nothing may connect anywhere
    created = await subscribe(client, headers, receiver, event_types=["provider.*"])
    r = await client.patch(
        f"{BASE}/{created['id']}", json={"url": "https://rebind.example/hooks"}, headers=headers
    )
    assert r.status_code == 200, r.text
    NAMES["rebind.example"] = ["10.0.0.9"]
    before = len(CONNECTIONS)
    r = await client.patch(
        f"/v1/providers/{provider.id}", json={"description": "Garage"}, headers=headers
    )
    assert r.status_code == 200, r.text
    await until_idle(deliverer)
    assert len(CONNECTIONS) == before
    (attempt,) = await deliveries(client, headers, created["id"])
    assert attempt["outcome"] == "refused"
    assert attempt["status_code"] is None
    assert "private address" in attempt["error"]


async def test_a_redirect_to_a_private_address_is_not_followed(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
    deliverer: Deliverer,
) -> None:
    provider = await make_provider(db, await make_org(db, "local_authority", la_code="202"))
    headers = auth(token_for(app, provider))
    created = await subscribe(client, headers, receiver, event_types=["provider.*"])
    receiver.status = 307
    receiver.headers["location"] = "http://10.0.0.1/steal"
    before = len(CONNECTIONS)
    r = await client.patch(
        f"/v1/providers/{provider.id}", json={"description": "Garage"}, headers=headers
    )
    assert r.status_code == 200, r.text
    await until_idle(deliverer)
    assert CONNECTIONS[before:] == [("127.0.0.1", receiver.port)]  # the receiver only
    (attempt,) = await deliveries(client, headers, created["id"])
    assert attempt["outcome"] == "failed"
    assert attempt["status_code"] == 307
    assert "redirects are not followed" in attempt["error"]


async def test_a_name_is_resolved_once_and_the_connection_made_to_its_address(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    receiver: Receiver,
) -> None:
    """An allowlisted internal name: resolved once by the guard, connected to by the
    address it gave, and still named in `Host`."""
    NAMES["receiver.internal"] = ["127.0.0.1"]
    guard = Guard(Allowlist.parse("receiver.internal"))
    job = Deliverer(db, app.state.settings, guard=guard)
    provider = await make_provider(db, await make_org(db, "local_authority", la_code="202"))
    headers = auth(token_for(app, provider))
    url = f"http://receiver.internal:{receiver.port}/hooks"
    app.state.webhook_guard, allowlisted = guard, app.state.webhook_guard
    try:
        r = await client.post(
            BASE, json={"url": url, "event_types": ["provider.*"]}, headers=headers
        )
        assert r.status_code == 201, r.text
        receiver.secrets["/hooks"] = [r.json()["secret"]]
        r = await client.patch(
            f"/v1/providers/{provider.id}", json={"description": "Garage"}, headers=headers
        )
        assert r.status_code == 200, r.text
        RESOLVED.clear()
        before = len(CONNECTIONS)
        await until_idle(job)
    finally:
        app.state.webhook_guard = allowlisted
        NAMES.pop("receiver.internal")
        await job.close()
    assert RESOLVED == ["receiver.internal"]
    assert CONNECTIONS[before:] == [("127.0.0.1", receiver.port)]
    (delivered,) = receiver.accepted
    assert delivered.headers["host"] == f"receiver.internal:{receiver.port}"
