"""The GraphQL request context: the same principal and unit of work as REST."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from aphub.auth.principal import Principal, bearer_token, principal_from_token
from aphub.db import WriteUnit
from aphub.deps import UoW
from aphub.errors import Unauthorised


class HubContext(BaseContext):
    def __init__(self, uow: WriteUnit, principal: Principal | None) -> None:
        super().__init__()
        self.uow = uow
        self._principal = principal
        # Per-request DataLoaders, created on first use by the resolvers that need them.
        self.loaders: dict[str, Any] = {}

    def principal(self, *scopes: str) -> Principal:
        if self._principal is None:
            raise Unauthorised("An access token is required", error="invalid_request")
        self._principal.require(*scopes)
        return self._principal


async def get_context(request: Request, uow: UoW) -> HubContext:
    # GraphiQL (GET text/html) is served without a token; queries need one.
    token = bearer_token(request.headers.get("authorization"))
    principal = principal_from_token(request, token) if token else None
    return HubContext(uow, principal)


HubInfo = Info[HubContext, None]
