"""The GraphQL request context: the caller, and the unit of work of the operation.

The caller is authenticated once per request (one rate-limit count), as REST does. The
unit opens when the operation is executed, after the document was parsed and validated
(`UnitPerOperation`): a query reads through a read unit, each statement standing alone,
so the audit of a child read holds whatever a later field does; a mutation is one write
unit, rolled back entirely if any field fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import BaseContext
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from aphub.auth.principal import Principal, bearer_token, principal_from_token
from aphub.db import Database, ReadUnit, WriteUnit
from aphub.errors import Unauthorised


class HubContext(BaseContext):
    def __init__(self, database: Database, principal: Principal | None) -> None:
        super().__init__()
        self.database = database
        self._principal = principal
        self._unit: ReadUnit | None = None
        # Per-request DataLoaders, created on first use by the resolvers that need them.
        self.loaders: dict[str, Any] = {}

    @property
    def authenticated(self) -> bool:
        return self._principal is not None

    def principal(self, *scopes: str) -> Principal:
        if self._principal is None:
            raise Unauthorised("An access token is required", error="invalid_request")
        self._principal.require(*scopes)
        return self._principal

    @property
    def unit(self) -> ReadUnit:
        """The operation's unit (a read unit for a query, the write unit of a mutation)."""
        if self._unit is None:
            raise RuntimeError("no unit: the operation is not executing")
        return self._unit

    @property
    def writer(self) -> WriteUnit:
        """The mutation's write unit."""
        if not isinstance(self._unit, WriteUnit):
            raise RuntimeError("only a mutation changes data")
        return self._unit


async def get_context(request: Request) -> HubContext:
    # GraphiQL (GET text/html) is served without a token; operations need one.
    token = bearer_token(request.headers.get("authorization"))
    principal = await principal_from_token(request, token) if token else None
    return HubContext(request.app.state.db, principal)


class UnitPerOperation(SchemaExtension):
    """Opens the operation's unit around its execution (never for a document refused by
    validation: no unit, no connection, no SQL)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, HubContext):
            yield
            return
        mutation = self.execution_context.operation_type is OperationType.MUTATION
        client = context._principal.client_id if context._principal is not None else None
        database = context.database
        unit = database.writing(client) if mutation else database.reading(client)
        await unit.__aenter__()
        context._unit = unit
        failure: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            failure = exc
            raise
        finally:
            context._unit = None
            result = self.execution_context.result
            if isinstance(unit, WriteUnit) and result is not None and result.errors:
                unit.fail()  # a mutation is all or nothing
            try:
                await unit.__aexit__(type(failure) if failure else None, failure, None)
            except Exception as exc:  # a commit that failed: the mutation did not happen
                if failure is None and result is not None:
                    result.errors = [
                        *(result.errors or []),
                        GraphQLError(str(exc), original_error=exc),
                    ]
                    result.data = None


HubInfo = Info[HubContext, None]
