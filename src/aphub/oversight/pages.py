"""The HTML of the oversight pages: rendered by the hub, every value escaped, no script and
no asset from anywhere else (the stylesheet is inline, allowed by its hash alone)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape

from starlette.responses import HTMLResponse

from aphub.auth.issuers import IssuerConfig
from aphub.oversight import charts
from aphub.oversight.sessions import Session

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#0b0c0c;background:#fff;"
    "line-height:1.5}"
    "main{max-width:64rem;margin:2rem auto;padding:0 1rem}"
    "h1{font-size:1.75rem}"
    "label{display:block;font-weight:bold;margin-top:1rem}"
    "input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;"
    "border:2px solid #0b0c0c}"
    "input:focus,button:focus,a:focus{outline:3px solid #fd0;outline-offset:0}"
    "button,.button{display:inline-block;margin-top:1rem;font-size:1rem;padding:.5rem 1rem;"
    "background:#00703c;color:#fff;border:0;text-decoration:none;cursor:pointer}"
    ".secondary{background:#505a5f}"
    ".error{border-left:5px solid #d4351c;padding:.5rem 1rem;color:#d4351c;"
    "font-weight:bold}"
    "dt{font-weight:bold}dd{margin:0 0 .5rem 0}" + charts.STYLE
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    # not no-referrer: under it a browser sends `Origin: null` with the page's own forms,
    # which the cross-site check must refuse; same-origin keeps the origin for our own
    # forms and sends nothing to another site
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
TYPE_NAMES = {
    "local_authority": "Local authority",
    "school": "School",
    "trust": "Trust",
    "provider": "AP provider",
    "health": "Health",
    "social_care": "Social care",
    "dashboard": "Dashboard",
    "operator": "Operator",
}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - aphub oversight</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)


def _error(message: str | None) -> str:
    if not message:
        return ""
    return f'<div class="error" role="alert"><p>{escape(message)}</p></div>'


def sign_in_page(
    csrf_token: str,
    issuers: list[IssuerConfig],
    *,
    error: str | None = None,
    status: int = 200,
    client_id: str = "",
) -> HTMLResponse:
    providers = "".join(
        f'<p><a class="button secondary" href="/oversight/sign-in/{escape(i.name)}">'
        f"Sign in with {escape(i.label)}</a></p>"
        for i in issuers
    )
    if providers:
        providers = f"<h2>With your organisation's account</h2>{providers}"
    body = (
        "<h1>Sign in to oversight</h1>"
        f"{_error(error)}"
        f"{providers}"
        "<h2>With your local authority's API client</h2>"
        '<form method="post" action="/oversight/sign-in">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        '<label for="client_id">Client id</label>'
        f'<input id="client_id" name="client_id" autocomplete="username" required '
        f'value="{escape(client_id)}">'
        '<label for="client_secret">Client secret</label>'
        '<input id="client_secret" name="client_secret" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form>'
    )
    return page("Sign in", body, status)


def _when(moment: datetime) -> str:
    return moment.strftime("%d %B %Y at %H:%M UTC")


def _signed_in_as(session: Session, issuer: IssuerConfig | None) -> str:
    principal = session.principal
    kind = TYPE_NAMES.get(principal.organisation_type, principal.organisation_type)
    if issuer is not None:
        through = f"your account at {escape(issuer.label)}"
    else:
        through = f"the API client <code>{escape(principal.client_id)}</code>"
    scopes = ", ".join(sorted(principal.scopes)) or "none"
    return (
        '<section aria-labelledby="h-signed-in"><h2 id="h-signed-in">Signed in</h2><dl>'
        f"<dt>Organisation</dt><dd>{escape(session.organisation_name)}</dd>"
        f"<dt>Type</dt><dd>{escape(kind)}</dd>"
        f"<dt>Signed in with</dt><dd>{through}</dd>"
        f"<dt>Scopes</dt><dd>{escape(scopes)}</dd>"
        f"<dt>Until</dt><dd>{escape(_when(session.expires_at))}</dd></dl>"
        "<h3>The hub's API</h3><ul>"
        '<li><a href="/docs">REST API reference (Swagger UI)</a></li>'
        '<li><a href="/redoc">REST API reference (ReDoc)</a></li>'
        '<li><a href="/graphql">GraphQL (GraphiQL)</a></li></ul>'
        '<form method="post" action="/oversight/sign-out">'
        f'<input type="hidden" name="csrf_token" value="{escape(session.csrf_token)}">'
        '<button type="submit" class="secondary">Sign out</button></form></section>'
    )


def oversight_page(
    session: Session, issuer: IssuerConfig | None, summary: dict[str, object] | None
) -> HTMLResponse:
    """The area at a glance (for an LA with `reports:read`), then who is signed in."""
    if summary is None:
        area = (
            "<p>Your sign-in does not include <code>reports:read</code>, so the area's "
            "figures are not shown.</p>"
        )
    else:
        area = charts.overview_body(summary)
    body = (
        f"<h1>Oversight: {escape(session.organisation_name)}</h1>"
        '<p><a href="#h-signed-in">Who is signed in, and signing out</a></p>'
        f"{area}{_signed_in_as(session, issuer)}"
    )
    return page("Oversight", body)


def child_page(title: str, body: str) -> HTMLResponse:
    return page(
        title, f'<p><a href="/oversight">Back to the area</a></p><h1>{escape(title)}</h1>{body}'
    )


def message_page(title: str, message: str, status: int) -> HTMLResponse:
    body = (
        f"<h1>{escape(title)}</h1>{_error(message)}"
        '<p><a href="/oversight/sign-in">Back to sign in</a></p>'
    )
    return page(title, body, status)
