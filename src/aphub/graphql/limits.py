"""Limits on GraphQL documents beyond strawberry's: introspection nested too deep (the
depth limiter ignores introspection fields), and introspection without a token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

# The standard introspection query (GraphiQL's) nests `ofType` seven deep below `__schema`
# → `types` → `fields` → `type`; a little more than that is plenty.
INTROSPECTION_MAX_DEPTH = 15


def _depth(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> int:
    if selections is None:
        return 0
    deepest = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # a cycle is its own error
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen | {name}))
    return deepest


def _introspection_roots(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode) and selection.name.value in ("__schema", "__type"):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _introspection_roots(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _introspection_roots(fragment.selection_set, fragments)


class IntrospectionDepthRule(ValidationRule):
    """Refuses introspection nested deeper than `INTROSPECTION_MAX_DEPTH`."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        context: ValidationContext = self.context
        fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        for root in _introspection_roots(node.selection_set, fragments):
            depth = 1 + _depth(root.selection_set, fragments, frozenset())
            if depth > INTROSPECTION_MAX_DEPTH:
                context.report_error(
                    GraphQLError(
                        f"Introspection nested {depth} deep exceeds the maximum of "
                        f"{INTROSPECTION_MAX_DEPTH}",
                        root,
                    )
                )


class IntrospectionLimits(SchemaExtension):
    """Introspection within its depth limit, and only for a caller with a token (the
    schema is documentation for integrators, not for anyone who finds the endpoint)."""

    def on_validate(self) -> Iterator[None]:
        rules: list[type[ValidationRule]] = [IntrospectionDepthRule]
        context = self.execution_context.context
        if getattr(context, "authenticated", True) is False:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *rules,
        )
        yield
