"""The demo's webhook: the City of London subscribed to every event it may see, delivered
to `aphub webhooks listen` on 127.0.0.1.

The subscription starts at the beginning of the log, so once the listener runs it
receives the demo area's history as the City's feed gives it, then every new event. Its
secret is written (0600) to `demo-webhook.json` beside the demo clients' credentials;
the listener verifies each delivery with it. Loopback is allowed only because `make run`
sets `APHUB_WEBHOOK_ALLOWLIST=127.0.0.1`; without that the hub refuses the address and
the delivery log says so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aphub.auth.principal import Principal
from aphub.config import Settings
from aphub.db import WriteUnit
from aphub.models import Organisation
from aphub.webhooks import service
from aphub.webhooks.guard import Allowlist, Guard
from aphub.webhooks.schemas import WebhookSubscriptionCreate

LISTEN_PORT = 8765
LISTEN_PATH = "/aphub-demo"
FILE = "demo-webhook.json"


def demo_url(port: int = LISTEN_PORT) -> str:
    return f"http://127.0.0.1:{port}{LISTEN_PATH}"


async def load_webhook(uow: WriteUnit, owner: Organisation) -> dict[str, Any]:
    """The subscription, made as the owner would make it over the API."""
    principal = Principal(owner.id, owner.type, "system:demo", frozenset({"webhooks:manage"}))
    body = WebhookSubscriptionCreate(
        url=demo_url(),
        event_types=["*"],
        description="Demo: `aphub webhooks listen` prints each delivery",
    )
    created = await service.create(uow, principal, body, Guard(Allowlist.parse("127.0.0.1")))
    await uow.execute(
        "UPDATE webhook_subscriptions SET delivered_seq = 0 WHERE id = :id", id=created["id"]
    )
    return {
        "organisation": owner.name,
        "subscription_id": str(created["id"]),
        "url": created["url"],
        "secret": created["secret"],
    }


def write_webhook(settings: Settings, found: dict[str, Any]) -> Path:
    path = settings.data_dir / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(found, handle, indent=2)
    return path


def read_secret(settings: Settings) -> str:
    found: dict[str, Any] = json.loads((settings.data_dir / FILE).read_text())
    return str(found["secret"])
