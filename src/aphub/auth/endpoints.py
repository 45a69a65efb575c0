"""The built-in OAuth2 client-credentials issuer and its key set.

A client authenticates with its secret (HTTP Basic or the form's `client_secret`) or with
a private_key_jwt assertion (`client_assertion_type` and `client_assertion`,
aphub.auth.assertions). Errors are RFC 6749 §5.2 documents (what every OAuth client reads)
that also carry the RFC 9457 problem members, so a client of the hub's problems reads them
too.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request

from aphub.api.endpoint import Endpoint
from aphub.auth.assertions import JWT_BEARER, AssertionRefused, authenticate_assertion
from aphub.auth.service import AuthenticatedClient, authenticate_client
from aphub.auth.tokens import TokenService
from aphub.db import ReadUnit
from aphub.errors import PROBLEM_BASE


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6749 token type, not a secret
    expires_in: int
    scope: str


_ERROR_TITLES = {
    "invalid_request": "Invalid token request",
    "invalid_client": "Client authentication failed",
    "invalid_scope": "Scope not granted",
    "unsupported_grant_type": "Unsupported grant type",
}


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    """RFC 6749 §5.2 error response, with the problem members beside its own."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="aphub"'
    body = {
        "error": error,
        "error_description": description,
        "type": f"{PROBLEM_BASE}{'unauthorised' if status == 401 else 'bad-request'}",
        "title": _ERROR_TITLES.get(error, "Token request refused"),
        "status": status,
        "detail": description,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


_TOKEN_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "client_assertion_type": {
                            "type": "string",
                            "enum": [JWT_BEARER],
                            "description": "private_key_jwt (RFC 7523), with client_assertion",
                        },
                        "client_assertion": {
                            "type": "string",
                            "description": "a JWT signed with the client's private key: iss "
                            "and sub the client id, aud this endpoint's URL, exp within 5 "
                            "minutes, a jti never used before",
                        },
                        "scope": {"type": "string", "description": "space-separated subset"},
                    },
                },
                "example": {
                    "grant_type": "client_credentials",
                    "client_id": "loc_3f9a0c2e",
                    "client_secret": "s3cr3t-shown-once",
                    "scope": "placements:read attendance:write",
                },
            }
        },
    }
}
_OAUTH_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def token_endpoint_url(request: Request) -> str:
    """This endpoint's URL as clients address it: `APHUB_PUBLIC_URL`'s, or the request's."""
    public_url = request.app.state.settings.public_url
    if public_url:
        return f"{public_url.rstrip('/')}/v1/oauth/token"
    url = request.url
    return f"{url.scheme}://{url.netloc}{url.path}"


async def _authenticate(
    request: Request, unit: ReadUnit, fields: dict[str, str]
) -> AuthenticatedClient | JSONResponse:
    """The client, authenticated by the one method the request uses; or the refusal."""
    basic = _basic_credentials(request.headers.get("authorization"))
    assertion_type = fields.get("client_assertion_type")
    assertion = fields.get("client_assertion")
    if assertion_type is not None or assertion is not None:
        if basic or fields.get("client_secret"):
            return _oauth_error("invalid_request", "Authenticate with one method only")
        if assertion_type != JWT_BEARER or not assertion:
            return _oauth_error(
                "invalid_client", f"client_assertion_type must be {JWT_BEARER}", 401
            )
        settings = request.app.state.settings
        try:
            return await authenticate_assertion(
                unit,
                request.app.state.jwks,
                assertion,
                client_id=fields.get("client_id"),
                audiences=[token_endpoint_url(request), settings.issuer],
            )
        except AssertionRefused as refused:
            return _oauth_error("invalid_client", str(refused), 401)
    client_id, secret = basic or (fields.get("client_id", ""), fields.get("client_secret", ""))
    if not client_id or not secret:
        return _oauth_error("invalid_client", "Client credentials are required", 401)
    client = await authenticate_client(unit, client_id, secret)
    if client is None:
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
    return client


async def issue_token(request: Request, unit: ReadUnit) -> Any:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if fields.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported")
    client = await _authenticate(request, unit, fields)
    if isinstance(client, JSONResponse):
        return client
    requested = fields.get("scope", "").split()
    if any(s not in client.scopes for s in requested):
        return _oauth_error("invalid_scope", "A requested scope is not granted to this client")
    scopes = requested or client.scopes
    tokens: TokenService = request.app.state.tokens
    token, ttl = tokens.issue(
        client_id=client.client_id,
        organisation_id=client.organisation_id,
        organisation_type=client.organisation_type,
        scopes=scopes,
    )
    body = TokenResponse(access_token=token, expires_in=ttl, scope=" ".join(sorted(scopes)))
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


class PublicKey(BaseModel):
    """A JSON Web Key (RFC 7517) that verifies the hub's tokens."""

    kty: str
    crv: str
    x: str
    y: str
    use: str
    alg: str
    kid: str


class KeySet(BaseModel):
    keys: list[PublicKey]


async def jwks(request: Request) -> dict[str, list[dict[str, Any]]]:
    tokens: TokenService = request.app.state.tokens
    return {"keys": [tokens.key.public_jwk()]}


TAGS = ("auth",)
ENDPOINTS = [
    Endpoint(
        "POST",
        "/v1/oauth/token",
        issue_token,
        "Exchange client credentials (a secret or a private_key_jwt assertion) for an access token",
        public=True,
        response=TokenResponse,
        openapi_extra={
            **_TOKEN_FORM,
            "responses": {
                "400": {
                    "description": "RFC 6749 error",
                    "content": {"application/json": {"schema": _OAUTH_ERROR_SCHEMA}},
                },
                "401": {
                    "description": "RFC 6749 invalid_client",
                    "content": {"application/json": {"schema": _OAUTH_ERROR_SCHEMA}},
                },
            },
        },
        tags=TAGS,
        not_idempotent="issuing a token changes nothing, so a retry is always safe",
    ),
    Endpoint(
        "GET",
        "/.well-known/jwks.json",
        jwks,
        "Public keys that verify the hub's tokens",
        public=True,
        response=KeySet,
        tags=TAGS,
    ),
]
