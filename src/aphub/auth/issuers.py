"""External OIDC issuers whose tokens the hub accepts (`APHUB_OIDC_ISSUERS`).

The configuration says how far to trust an issuer: where its keys are, which audience its
tokens must name, which claim names the organisation (and which of the organisation's
identifiers that claim holds: an ODS code, an LA code, a URN, a UKPRN or the hub's own id)
and how the hub's scopes are derived (a claim, mapped or taken as it is, or a fixed list).
It does not say which organisations may be reached through it: an organisation *admits*
an issuer with a client record of its own (`authentication = external_issuer`, created as
any client is, by the operator or the organisation's admin), so an issuer's tokens act only
for organisations that admitted it, within that record's scopes and the bounds of the
organisation's type whatever the token claims, and stop within seconds of the record's
revocation, exactly like a client's tokens.

An issuer with `sign_in` also signs people in to /oversight (authorisation code with PKCE).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aphub.auth.jwks import url_problem
from aphub.auth.scopes import SCOPES

OrganisationIdentifier = Literal["id", "la_code", "urn", "ukprn", "ods_code"]
Algorithm = Literal["RS256", "PS256", "ES256"]


class IssuerConfigError(ValueError):
    """The issuers' configuration cannot be used; the hub does not start with it."""


def _configured_url(value: str) -> str:
    problem = url_problem(value, configured=True)
    if problem is not None:
        raise ValueError(problem)
    return value


class HumanSignIn(BaseModel):
    """How people sign in through the issuer (OIDC authorisation code flow with PKCE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    authorization_endpoint: str
    token_endpoint: str
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str | None = Field(None, description="none for a public client (PKCE)")
    scope: str = "openid"
    label: str | None = Field(None, max_length=100, description="the sign-in button's words")

    _urls = field_validator("authorization_endpoint", "token_endpoint")(_configured_url)


class IssuerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    issuer: str = Field(min_length=1, max_length=500, description="the tokens' `iss`, exactly")
    jwks_uri: str
    audience: str = Field(min_length=1, description="the `aud` every token must name")
    organisation_claim: str | None = None
    organisation: str | None = Field(
        None,
        description="a fixed organisation, for an issuer "
        "that serves one only (instead of organisation_claim)",
    )
    organisation_identifier: OrganisationIdentifier = "id"
    scopes_claim: str | None = None
    scope_map: dict[str, list[str]] | None = None
    fixed_scopes: list[str] | None = None
    algorithms: tuple[Algorithm, ...] = ("RS256", "PS256", "ES256")
    sign_in: HumanSignIn | None = None

    _urls = field_validator("jwks_uri")(_configured_url)

    @model_validator(mode="after")
    def _consistent(self) -> IssuerConfig:
        if (self.organisation_claim is None) == (self.organisation is None):
            raise ValueError("give organisation_claim or a fixed organisation, not both")
        if (self.scopes_claim is None) == (self.fixed_scopes is None):
            raise ValueError("give scopes_claim or fixed_scopes, not both")
        if self.scope_map is not None and self.scopes_claim is None:
            raise ValueError("scope_map maps the values of scopes_claim")
        named = [
            *(self.fixed_scopes or ()),
            *(s for v in (self.scope_map or {}).values() for s in v),
        ]
        unknown = sorted({s for s in named if s not in SCOPES})
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        return self

    @property
    def label(self) -> str:
        return (self.sign_in.label if self.sign_in else None) or self.name

    def organisation_in(self, claims: Mapping[str, Any]) -> str | None:
        """The organisation a token names (as the configured identifier), or None."""
        if self.organisation is not None:
            return self.organisation
        value = claims.get(self.organisation_claim or "")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return value if isinstance(value, str) and 0 < len(value) <= 200 else None

    def scopes_in(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The hub's scopes a token asserts: a fixed list, or its claim's values (a
        space-separated string or a list), mapped where a map is configured; values that
        name no scope of the hub are dropped. Still to be bounded by the admitting
        client's record and the organisation's type."""
        if self.fixed_scopes is not None:
            return frozenset(self.fixed_scopes)
        raw = claims.get(self.scopes_claim or "")
        values = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
        strings = [v for v in values if isinstance(v, str)]
        if self.scope_map is not None:
            return frozenset(s for v in strings for s in self.scope_map.get(v, ()))
        return frozenset(v for v in strings if v in SCOPES)


class Issuers:
    """The issuers configured, by `iss` and by name."""

    def __init__(self, configured: tuple[IssuerConfig, ...] = ()) -> None:
        self.by_issuer = {i.issuer: i for i in configured}
        self.by_name = {i.name: i for i in configured}

    def __bool__(self) -> bool:
        return bool(self.by_issuer)

    def __iter__(self) -> Iterator[IssuerConfig]:
        return iter(self.by_issuer.values())

    def find(self, name_or_issuer: str) -> IssuerConfig | None:
        return self.by_name.get(name_or_issuer) or self.by_issuer.get(name_or_issuer)

    @property
    def for_people(self) -> list[IssuerConfig]:
        return [i for i in self if i.sign_in is not None]


def load_issuers(value: str | None, *, own_issuer: str) -> Issuers:
    """The issuers of `APHUB_OIDC_ISSUERS`: JSON (one issuer, or a list), or the path of a
    file holding it. Refused whole if any issuer is invalid, two share a name or an `iss`,
    or one claims to be the hub itself."""
    if value is None or not value.strip():
        return Issuers()
    text = value.strip()
    if not text.startswith(("[", "{")):
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise IssuerConfigError(f"cannot read {text}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IssuerConfigError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    entries = document if isinstance(document, list) else [document]
    try:
        issuers = tuple(IssuerConfig.model_validate(entry) for entry in entries)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise IssuerConfigError(f"{where}: {first['msg']}") from None
    for attribute in ("name", "issuer"):
        values = [getattr(i, attribute) for i in issuers]
        if len(set(values)) != len(values):
            raise IssuerConfigError(f"two issuers share a {attribute}")
    if own_issuer in {i.issuer for i in issuers}:
        raise IssuerConfigError("an external issuer may not use the hub's own issuer name")
    return Issuers(issuers)
