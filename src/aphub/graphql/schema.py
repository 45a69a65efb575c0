"""The GraphQL schema: every domain's queries and mutations, with the limits that refuse
abusive documents during validation, before any resolver (or SQL) runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import strawberry
from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import HTMLResponse
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.unset import UNSET

from aphub.attendance.graphql import AttendanceMutation, AttendanceQuery
from aphub.children.graphql import ChildQuery
from aphub.children.graphql_mutations import ChildMutation
from aphub.config import Settings
from aphub.docs import graphiql_html
from aphub.education.graphql import EducationMutation, EducationQuery
from aphub.errors import Problem
from aphub.graphql.context import UnitPerOperation, get_context
from aphub.graphql.errors import ProblemErrors
from aphub.graphql.limits import IntrospectionLimits
from aphub.organisations.graphql import OrganisationQuery
from aphub.outcomes.graphql import OutcomesMutation, OutcomesQuery
from aphub.placements.graphql import PlacementActionMutation, PlacementMutation, PlacementQuery
from aphub.providers.graphql import ProviderMutation, ProviderQuery

log = logging.getLogger("aphub.graphql")

QUERY_TYPES: tuple[type, ...] = (
    OrganisationQuery,
    ChildQuery,
    PlacementQuery,
    ProviderQuery,
    AttendanceQuery,
    OutcomesQuery,
    EducationQuery,
)
MUTATION_TYPES: tuple[type, ...] = (
    ChildMutation,
    PlacementMutation,
    PlacementActionMutation,
    ProviderMutation,
    AttendanceMutation,
    OutcomesMutation,
    EducationMutation,
)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        ProblemErrors,
        IntrospectionLimits,
        UnitPerOperation,
    ]
    if not settings.graphql_introspection:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    query = merge_types("Query", QUERY_TYPES)
    mutation = merge_types("Mutation", MUTATION_TYPES) if MUTATION_TYPES else None
    return HubSchema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        config=StrawberryConfig(batching_config=None),
    )


class HubSchema(strawberry.Schema):
    """Logs what failed without the document or its variables (they can hold a UPN or a
    name): a refusal of the caller's request at INFO, a fault of the hub's at ERROR."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GraphQLError | Problem):
                status = getattr(original, "status", 400)
                if status < 500:
                    log.info("graphql request refused", extra={"status": status})
                    continue
            log.error(
                "graphql resolver failed",
                exc_info=(type(original), original, original.__traceback__) if original else None,
            )


class HubGraphQLRouter(GraphQLRouter[Any, None]):
    """GraphiQL served from the hub's own assets (no CDN); transport errors (a batch, a body
    that is not JSON) as problem documents like every other error, not strawberry's text."""

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as exc:
            raise Problem(exc.reason, status=exc.status_code) from None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_html(request.url.path))


def graphql_router(settings: Settings) -> HubGraphQLRouter:
    return HubGraphQLRouter(
        build_schema(settings),
        context_getter=get_context,
        multipart_uploads_enabled=False,
    )
