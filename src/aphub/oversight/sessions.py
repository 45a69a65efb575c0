"""Server-side sessions for people signed in to /oversight.

A session is a row; the browser holds only a random secret in a cookie (HttpOnly,
SameSite=Strict, Secure when the hub is reached over https, path /oversight so it never
travels with an API request), and the hub keeps only the secret's hash. A session is
bound to the client it was opened through: a client signing in with its secret, or the
record by which the organisation admitted the identity provider a person signed in with.
Each use reads the session together with that client and its organisation, so signing
out, revoking the client or deactivating the organisation ends it at once, on every
worker.

State-changing forms carry a CSRF token derived from the session's secret (an HMAC,
so nothing more is stored), and are refused if the browser says they come from another
site. `session_principal` gives a later page the `Principal` to call the hub's services
as the signed-in organisation, with the same scopes it would hold over the API.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from aphub.auth.principal import Principal
from aphub.auth.scopes import SCOPE_BOUNDS
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Unauthorised
from aphub.events.log import Actor, record

COOKIE = "aphub_session"
PATH = "/oversight"
# who signs in to oversight: a local authority's people (the page is theirs)
SIGN_IN_TYPES = frozenset({"local_authority"})

_OPEN = (
    "INSERT INTO oversight_sessions (id, secret_hash, client_id, organisation_id, method, "
    "issuer, subject, scopes, expires_at) VALUES (:id, :secret_hash, :client_id, :org, "
    ":method, :issuer, :subject, :scopes, now() + make_interval(hours => :hours)) "
    "RETURNING expires_at"
)
_CURRENT = (
    "SELECT s.id, s.client_id, s.organisation_id, o.type AS organisation_type, "
    "o.name AS organisation_name, s.method, s.issuer, s.subject, s.scopes, "
    "c.scopes AS client_scopes, s.expires_at FROM oversight_sessions s "
    "JOIN organisations o ON o.id = s.organisation_id "
    "JOIN api_clients c ON c.client_id = s.client_id AND c.organisation_id = s.organisation_id "
    "WHERE s.secret_hash = :secret_hash AND s.ended_at IS NULL AND s.expires_at > now() "
    "AND c.revoked_at IS NULL AND c.approved_at IS NOT NULL AND o.active"
)
_END = (
    "UPDATE oversight_sessions SET ended_at = now() WHERE id = :id AND ended_at IS NULL "
    "RETURNING id"
)
EXPIRE_SESSIONS = "DELETE FROM oversight_sessions WHERE expires_at < now() - interval '1 day'"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def derived_token(secret: str, purpose: bytes) -> str:
    """A token only the holder of `secret` can compute (a form's CSRF token)."""
    return hmac.new(secret.encode(), purpose, hashlib.sha256).hexdigest()


def tokens_match(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Session:
    id: uuid.UUID
    principal: Principal
    organisation_name: str
    method: str
    expires_at: datetime
    csrf_token: str


@dataclass(frozen=True)
class SignIn:
    """Who is signing in, established by a secret or by an identity provider."""

    client_id: str
    organisation_id: uuid.UUID
    organisation_type: str
    scopes: frozenset[str]
    method: str  # client_secret | oidc
    issuer: str | None = None
    subject: str | None = None


async def open_session(unit: WriteUnit, sign_in: SignIn, hours: int) -> str:
    """A new session for `sign_in`; the secret for its cookie (kept only as a hash)."""
    secret = secrets.token_urlsafe(32)
    session_id = uuid.uuid4()
    expires_at = await unit.fetchval(
        _OPEN,
        id=session_id,
        secret_hash=_hash(secret),
        client_id=sign_in.client_id,
        org=sign_in.organisation_id,
        method=sign_in.method,
        issuer=sign_in.issuer,
        subject=sign_in.subject,
        scopes=sorted(sign_in.scopes),
        hours=hours,
    )
    record(
        unit,
        type="session.started",
        subject_type="session",
        subject_id=session_id,
        actor=Actor(sign_in.organisation_id, sign_in.client_id),
        data=_event_data(sign_in.organisation_id, sign_in.client_id, sign_in.method, expires_at)
        | ({"issuer": sign_in.issuer} if sign_in.issuer else {}),
    )
    return secret


def _event_data(
    organisation_id: uuid.UUID, client_id: str, method: str, expires_at: datetime
) -> dict[str, Any]:
    # who and how, never the person's subject at their identity provider
    return {
        "organisation_id": str(organisation_id),
        "client_id": client_id,
        "method": method,
        "expires_at": expires_at,
    }


async def current_session(unit: ReadUnit, request: Request) -> Session | None:
    """The session the request's cookie names, if it is still open and its client and
    organisation still active; else None."""
    secret = request.cookies.get(COOKIE)
    if not secret or len(secret) > 100:
        return None
    row = await unit.fetchrow(_CURRENT, secret_hash=_hash(secret))
    if row is None:
        return None
    bounds = SCOPE_BOUNDS.get(row["organisation_type"], frozenset())
    principal = Principal(
        organisation_id=row["organisation_id"],
        organisation_type=row["organisation_type"],
        client_id=row["client_id"],
        scopes=frozenset(row["scopes"]) & frozenset(row["client_scopes"]) & bounds,
        issuer=row["issuer"],
        subject=row["subject"],
    )
    return Session(
        id=row["id"],
        principal=principal,
        organisation_name=row["organisation_name"],
        method=row["method"],
        expires_at=row["expires_at"],
        csrf_token=derived_token(secret, b"csrf"),
    )


async def session_principal(unit: ReadUnit, request: Request) -> Principal:
    """The signed-in organisation, for a page that calls the hub's services as it: 401
    without an open session. Its scopes are the session's, within its client's record
    and its organisation type's bounds as they stand now."""
    session = await current_session(unit, request)
    if session is None:
        raise Unauthorised("Sign in at /oversight/sign-in first", error="invalid_request")
    return session.principal


async def end_session(unit: WriteUnit, session: Session) -> None:
    ended = await unit.fetchval(_END, id=session.id)
    if ended is None:
        return
    principal = session.principal
    record(
        unit,
        type="session.ended",
        subject_type="session",
        subject_id=session.id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data=_event_data(
            principal.organisation_id, principal.client_id, session.method, session.expires_at
        ),
    )


def is_https(request: Request) -> bool:
    """Whether the browser reached the hub over https (directly, or through a proxy whose
    X-Forwarded-Proto uvicorn trusts)."""
    return request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int,
    same_site: str = "strict",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        secure=is_https(request),
        httponly=True,
        samesite=same_site,  # type: ignore[arg-type]
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=PATH, secure=is_https(request), httponly=True)


def from_another_site(request: Request) -> bool:
    """Whether the browser says a form was sent from another site (Origin, or Fetch
    Metadata): refused before any token is looked at."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    expected = f"{request.url.scheme}://{request.url.netloc}"
    return origin.rstrip("/") != expected
