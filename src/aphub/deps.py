"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security

from aphub.auth.principal import Principal, get_principal
from aphub.db import Database, WriteUnit


async def unit_of_work(request: Request) -> AsyncIterator[WriteUnit]:
    """The request's transaction. Declared with `scope="function"` so it commits after
    the handler returns and before the response is sent: a failed commit is an error
    response, never a success already on the wire."""
    database: Database = request.app.state.db
    async with database.writing() as unit:
        yield unit


UoW = Annotated[WriteUnit, Depends(unit_of_work, scope="function")]


def principal_with(*scopes: str) -> object:
    return Security(get_principal, scopes=list(scopes))


AnyPrincipal = Annotated[Principal, Security(get_principal)]
