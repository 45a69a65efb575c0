"""GraphQL inputs carry values across to the REST pydantic models, which hold every rule:
a GraphQL client gets the same field errors (`extensions.errors`) as a REST client."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from strawberry.types.unset import UNSET

from aphub.errors import validation_problem

M = TypeVar("M", bound=BaseModel)


def present(value: Any, *, drop_null: bool = False) -> Any:
    """An input as plain data, without the fields the client did not send (and, when
    creating, without nulls: there a null means the same as leaving the field out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if item is UNSET or (drop_null and item is None):
                continue
            data[field.name] = present(item, drop_null=drop_null)
        return data
    if isinstance(value, list):
        return [present(v, drop_null=drop_null) for v in value]
    return value


def parse(model: type[M], data: Any) -> M:
    """Validate with the REST model; a 422 problem with the same field errors if invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors()) from None
