"""GraphQL errors with the same meaning as REST problems."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from aphub.errors import Problem, database_input_problem

_CODES = {
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    422: "BAD_USER_INPUT",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


# Refusals of the document itself, before any resolver ran, by what their messages say.
_REFUSALS = (
    ("exceeds maximum operation depth", "DEPTH_LIMIT_EXCEEDED"),
    ("Introspection nested", "DEPTH_LIMIT_EXCEEDED"),
    ("aliases found", "ALIAS_LIMIT_EXCEEDED"),
    ("tokens. Parsing aborted", "TOKEN_LIMIT_EXCEEDED"),
    ("introspection has been disabled", "INTROSPECTION_DISABLED"),
)


def _refusal_code(error: GraphQLError) -> str:
    for fragment, code in _REFUSALS:
        if fragment in error.message:
            return code
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


def _coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # a refusal of the document (parse, validation, a limit): coded by what it says
        if error.extensions and "code" in error.extensions:
            return error
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": _refusal_code(error)},
        )
    original = database_input_problem(original) or original
    if isinstance(original, Problem):
        extensions: dict[str, Any] = {
            "code": _CODES.get(original.status, "INTERNAL_SERVER_ERROR"),
            "status": original.status,
        }
        if original.errors:
            extensions["errors"] = original.errors
        extensions.update(original.extra)
        message = original.detail
    else:
        # logged once, with its traceback, by HubSchema.process_errors
        extensions = {"code": "INTERNAL_SERVER_ERROR", "status": 500}
        message = "The hub could not complete the request; it has been logged."
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ProblemErrors(SchemaExtension):
    """Turns Problems raised in resolvers into coded errors and masks anything unexpected
    (a failed mutation's unit rolls back: `aphub.graphql.context.UnitPerOperation`)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if not isinstance(result, GraphQLExecutionResult | ExecutionResult) or not result.errors:
            return
        result.errors = [_coded(e) for e in result.errors]
