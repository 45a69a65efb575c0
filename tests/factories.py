"""Small async factories: organisations straight into the database, tokens straight from
the hub's issuer (the token endpoint itself is tested in test_auth)."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import FastAPI

from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.db import Database
from aphub.identifiers import LA_CODES
from aphub.models import Organisation

_serial = itertools.count(1)


async def make_org(database: Database, type: str = "school", **values: Any) -> Organisation:
    n = next(_serial)
    values.setdefault("name", f"{type.replace('_', ' ').title()} {n}")
    if type == "local_authority":
        values.setdefault("la_code", "201")
    async with database.writing() as uow:
        if type == "school" and "local_authority_id" not in values:
            la = Organisation(type="local_authority", name=f"LA for {n}", la_code=_free_la())
            uow.session.add(la)
            await uow.session.flush()
            values["local_authority_id"] = la.id
        organisation = Organisation(type=type, **values)
        uow.session.add(organisation)
    return organisation


# Codes for the LA areas of schools made without one: taken from the end of the reference
# list (tests name the London and Bristol codes explicitly), cycling, so a long session
# never runs out; each test starts from empty tables, so reuse across tests is safe.
_la_codes = itertools.cycle(sorted((c for c in LA_CODES if c >= "850"), reverse=True))


def _free_la() -> str:
    return next(_la_codes)


def token_for(app: FastAPI, organisation: Organisation, scopes: list[str] | None = None) -> str:
    token, _ = app.state.tokens.issue(
        client_id=f"test-{organisation.id.hex[:8]}",
        organisation_id=organisation.id,
        organisation_type=organisation.type,
        scopes=list(scopes if scopes is not None else DEFAULT_SCOPES[organisation.type]),
    )
    return str(token)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
