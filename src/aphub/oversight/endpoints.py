"""/oversight: signing people in and out, and the page that shows who is signed in.

Pages for people, not the API: HTML, left out of the OpenAPI contract, each answering its
own errors as a page. The page itself is the place for the oversight figures to come; a
handler there takes its `unit` and calls `session_principal(unit, request)` to act as the
signed-in organisation through the same services as the API.
"""

from __future__ import annotations

import secrets
import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from aphub.api.endpoint import Endpoint
from aphub.auth.issuers import Issuers
from aphub.auth.service import authenticate_client
from aphub.db import Database, ReadUnit, WriteUnit
from aphub.education.exclusions import england_today
from aphub.errors import NotFound
from aphub.oversight import child_page, oidc, overview, pages
from aphub.oversight.sessions import (
    COOKIE,
    SIGN_IN_TYPES,
    SignIn,
    clear_cookie,
    current_session,
    derived_token,
    end_session,
    from_another_site,
    open_session,
    set_cookie,
    tokens_match,
)

# the sign-in form's own CSRF token comes from this cookie (login CSRF)
FORM_COOKIE = "aphub_sign_in"
_FORM_SECONDS = 3600
_CROSS_SITE = "This form was sent from another site; open the sign-in page and try again"


def _issuers(request: Request) -> Issuers:
    issuers: Issuers = request.app.state.external.issuers
    return issuers


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def _sign_in_form(
    request: Request, *, error: str | None = None, status: int = 200, client_id: str = ""
) -> Response:
    secret = request.cookies.get(FORM_COOKIE)
    fresh = not secret or len(secret) > 100
    if fresh:
        secret = secrets.token_urlsafe(32)
    assert secret is not None
    response = pages.sign_in_page(
        derived_token(secret, b"sign-in"),
        _issuers(request).for_people,
        error=error,
        status=status,
        client_id=client_id,
    )
    if fresh:
        set_cookie(response, request, FORM_COOKIE, secret, max_age=_FORM_SECONDS)
    return response


def _signed_in(request: Request, secret: str) -> Response:
    response = _redirect("/oversight")
    hours = request.app.state.settings.session_hours
    set_cookie(response, request, COOKIE, secret, max_age=hours * 3600)
    clear_cookie(response, request, FORM_COOKIE)
    clear_cookie(response, request, oidc.FLOW_COOKIE)
    return response


async def show_oversight(unit: ReadUnit, request: Request) -> Response:
    session = await current_session(unit, request)
    if session is None:
        return _redirect("/oversight/sign-in")
    issuer = _issuers(request).find(session.principal.issuer) if session.principal.issuer else None
    summary = None
    if "reports:read" in session.principal.scopes:
        summary = await overview.overview(unit, session.principal, england_today())
    return pages.oversight_page(session, issuer, summary)


async def show_child(unit: ReadUnit, request: Request, child_id: uuid.UUID) -> Response:
    """A child the signed-in LA may see, read through the sharing layer (audited)."""
    session = await current_session(unit, request)
    if session is None:
        return _redirect("/oversight/sign-in")
    try:
        body = await child_page.child_body(unit, session.principal, child_id)
    except NotFound:
        return pages.message_page("Not found", "No such child, or not visible to you", 404)
    return pages.child_page(child_page.child_title(child_id), body)


async def show_sign_in(request: Request) -> Response:
    return _sign_in_form(request)


async def sign_in_with_client(unit: WriteUnit, request: Request) -> Response:
    """A local authority's API client, its id and secret, exchanged for a session."""
    if from_another_site(request):
        return pages.message_page("Sign-in refused", _CROSS_SITE, 403)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    secret = request.cookies.get(FORM_COOKIE)
    if not secret or not tokens_match(fields.get("csrf_token"), derived_token(secret, b"sign-in")):
        return _sign_in_form(
            request, error="The sign-in form expired: please try again", status=403
        )
    client_id = fields.get("client_id", "")[:64]
    client = await authenticate_client(unit, client_id, fields.get("client_secret", ""))
    if client is None:
        return _sign_in_form(
            request, error="Unknown client or wrong secret", status=401, client_id=client_id
        )
    if client.organisation_type not in SIGN_IN_TYPES:
        return _sign_in_form(request, error="Oversight is for local authorities", status=403)
    sign_in = SignIn(
        client_id=client.client_id,
        organisation_id=client.organisation_id,
        organisation_type=client.organisation_type,
        scopes=frozenset(client.scopes),
        method="client_secret",
    )
    secret = await open_session(unit, sign_in, request.app.state.settings.session_hours)
    return _signed_in(request, secret)


async def start_provider_sign_in(request: Request, issuer_name: str) -> Response:
    issuer = _issuers(request).by_name.get(issuer_name)
    if issuer is None or issuer.sign_in is None:
        return pages.message_page("Not found", "No identity provider of that name", 404)
    started = oidc.start(request, issuer)
    response = _redirect(started.location)
    set_cookie(
        response,
        request,
        oidc.FLOW_COOKIE,
        started.flow_cookie,
        max_age=oidc.FLOW_SECONDS,
        same_site="lax",  # it must return with the provider's redirect
    )
    return response


async def finish_provider_sign_in(request: Request, query: oidc.CallbackQuery) -> Response:
    """The provider's redirect back. It writes (the session, and its event) once the
    provider has answered, in a unit opened only then: no connection is held while the
    hub waits on the provider."""
    try:
        sign_in, _issuer = await oidc.finish(request, query)
    except oidc.SignInFailed as failed:
        response = pages.message_page("Sign-in failed", str(failed), failed.status)
        clear_cookie(response, request, oidc.FLOW_COOKIE)
        return response
    database: Database = request.app.state.db
    async with database.writing() as unit:
        secret = await open_session(unit, sign_in, request.app.state.settings.session_hours)
    return _signed_in(request, secret)


async def sign_out(unit: WriteUnit, request: Request) -> Response:
    if from_another_site(request):
        return pages.message_page("Sign-out refused", _CROSS_SITE, 403)
    session = await current_session(unit, request)
    if session is not None:
        form = await request.form()
        token = form.get("csrf_token")
        if not tokens_match(token if isinstance(token, str) else None, session.csrf_token):
            return pages.message_page(
                "Sign-out refused", "The form expired: open the page and sign out again", 403
            )
        await end_session(unit, session)
    response = _redirect("/oversight/sign-in")
    clear_cookie(response, request, COOKIE)
    return response


TAGS = ("oversight",)
_FORM = "a browser's form: each sign-in opens its own session"
ENDPOINTS = [
    Endpoint(
        "GET",
        "/oversight",
        show_oversight,
        "The area at a glance, and who is signed in",
        public=True,
        include_in_schema=False,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/oversight/children/{child_id}",
        show_child,
        "A child the signed-in local authority may see",
        public=True,
        include_in_schema=False,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/oversight/sign-in",
        show_sign_in,
        "The oversight sign-in page",
        public=True,
        include_in_schema=False,
        tags=TAGS,
    ),
    Endpoint(
        "POST",
        "/oversight/sign-in",
        sign_in_with_client,
        "Sign in to oversight with a local authority's client id and secret",
        public=True,
        include_in_schema=False,
        tags=TAGS,
        events=("session.started",),
        not_idempotent=_FORM,
    ),
    Endpoint(
        "GET",
        "/oversight/sign-in/{issuer_name}",
        start_provider_sign_in,
        "Sign in to oversight with an identity provider (redirects to it)",
        public=True,
        include_in_schema=False,
        tags=TAGS,
    ),
    Endpoint(
        "GET",
        "/oversight/callback",
        finish_provider_sign_in,
        "Where the identity provider sends the browser back",
        public=True,
        include_in_schema=False,
        tags=TAGS,
        events=("session.started",),
    ),
    Endpoint(
        "POST",
        "/oversight/sign-out",
        sign_out,
        "Sign out of oversight",
        public=True,
        include_in_schema=False,
        tags=TAGS,
        events=("session.ended",),
        not_idempotent="a browser's form: signing out twice changes nothing more",
    ),
]
