from __future__ import annotations

import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.factories import auth, make_org, token_for


async def test_operator_lists_organisations(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    r = await client.get("/v1/organisations", headers=auth(token_for(app, operator)))
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["items"]] == [str(operator.id)]
