"""Standard Webhooks signatures (https://www.standardwebhooks.com/), by its own library.

Each delivery carries `webhook-id` (the event's id: the same on every retry and replay,
so a receiver can drop what it already has), `webhook-timestamp` (seconds since the
epoch, when the attempt is made) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, once per secret in force. After a rotation the previous secret
signs too for `ROTATION_OVERLAP` (space-separated, as the specification allows), so a
receiver can switch secrets whenever it likes within that time.
"""

from __future__ import annotations

import base64
import functools
import secrets
from datetime import datetime, timedelta

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
ROTATION_OVERLAP = timedelta(hours=24)
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = "aphub-webhooks/1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secrets_in_force: list[str], message_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,...` per secret, the newest first."""
    return " ".join(_signer(s).sign(message_id, at, body) for s in secrets_in_force)


@functools.lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    """The library's signer for a secret (decoding the secret once, not per delivery)."""
    return Webhook(secret)


def headers(
    secrets_in_force: list[str], message_id: str, at: datetime, body: str
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets_in_force, message_id, at, body),
        "content-type": CONTENT_TYPE,
        "user-agent": USER_AGENT,
    }
