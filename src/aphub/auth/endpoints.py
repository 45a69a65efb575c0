"""The built-in OAuth2 client-credentials issuer and its key set."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request

from aphub.api.endpoint import Endpoint
from aphub.auth.service import authenticate_client
from aphub.auth.tokens import TokenService
from aphub.db import ReadUnit


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6749 token type, not a secret
    expires_in: int
    scope: str


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    """RFC 6749 §5.2 error response (the token endpoint's own format, not problem+json)."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="aphub"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


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
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


async def issue_token(request: Request, unit: ReadUnit) -> Any:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if fields.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported")
    basic = _basic_credentials(request.headers.get("authorization"))
    client_id, secret = basic or (fields.get("client_id", ""), fields.get("client_secret", ""))
    if not client_id or not secret:
        return _oauth_error("invalid_client", "Client credentials are required", 401)
    client = await authenticate_client(unit, client_id, secret)
    if client is None:
        return _oauth_error("invalid_client", "Unknown client or wrong secret", 401)
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
        "Exchange client credentials for an access token",
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
