"""Every 2xx answer the tests receive, checked against the schema the committed contract
declares for it.

The tests' `client` sends its requests through `CheckingTransport`: each JSON body of a
2xx response is validated (JSON Schema 2020-12, formats included) against the response
schema that `openapi/openapi.json` declares for the operation and status, so every test
that reads or writes with real data also proves the contract, for whichever caller it
plays. An answer whose status the operation does not declare, or whose body breaks the
schema (a `null` where the schema says a date), fails the test that received it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs

CONTRACT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch"}


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    # status -> (media type, schema), for the 2xx the operation declares
    answers: dict[int, dict[str, Any]]


@dataclass
class ResponseChecker:
    operations: list[Operation]
    components: dict[str, Any]
    checked: set[tuple[str, str]] = field(default_factory=set)
    _validators: dict[int, Any] = field(default_factory=dict)

    @classmethod
    def from_contract(cls, spec: dict[str, Any]) -> ResponseChecker:
        operations = []
        for template, item in spec["paths"].items():
            regex = re.sub(r"\\{(\w+)\\}", r"[^/]+", re.escape(template))
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                answers = {
                    int(status): response.get("content", {})
                    for status, response in operation["responses"].items()
                    if status.startswith("2")
                }
                operations.append(
                    Operation(method.upper(), template, re.compile(f"^{regex}$"), answers)
                )
        # a literal segment wins over a parameter (`/v1/follow-ups/due` before `{id}`)
        operations.sort(key=lambda o: o.template.count("{"))
        return cls(operations, spec.get("components", {}))

    def operation(self, method: str, path: str) -> Operation | None:
        for operation in self.operations:
            if operation.method == method and operation.pattern.match(path):
                return operation
        return None

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = id(schema)
        if key not in self._validators:
            document = {**schema, "components": self.components}
            self._validators[key] = jsonschema_rs.Draft202012Validator(
                document, validate_formats=True
            )
        return self._validators[key]

    def check(self, method: str, path: str, response: httpx.Response) -> None:
        """Raise AssertionError if a 2xx `response` is not what the contract declares."""
        if not 200 <= response.status_code < 300:
            return
        operation = self.operation(method, path)
        if operation is None:
            return  # not a documented operation (docs, GraphQL)
        label = f"{method} {operation.template}"
        assert response.status_code in operation.answers, (
            f"{label} answered {response.status_code}, which the contract does not declare "
            f"(it declares {sorted(operation.answers)})"
        )
        content = operation.answers[response.status_code]
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not content:
            assert not response.content, f"{label} {response.status_code}: a body, none declared"
            self.checked.add((method, operation.template))
            return
        assert media_type in content, (
            f"{label} {response.status_code}: answered {media_type or 'no content type'}, "
            f"the contract declares {sorted(content)}"
        )
        schema = content[media_type].get("schema")
        if schema is None or not media_type.endswith("json"):
            self.checked.add((method, operation.template))
            return
        body = json.loads(response.content)
        errors = [
            f"{'/'.join(str(p) for p in error.instance_path) or '(body)'}: {error.message}"
            for error in self._validator(schema).iter_errors(body)
        ]
        assert not errors, (
            f"{label} {response.status_code}: the body does not match its declared schema:\n  "
            + "\n  ".join(errors[:10])
        )
        self.checked.add((method, operation.template))


@cache
def checker() -> ResponseChecker:
    """One checker for the whole run, over the committed contract."""
    return ResponseChecker.from_contract(json.loads(CONTRACT.read_text()))


class CheckingTransport(httpx.ASGITransport):
    """An ASGI transport that checks each 2xx answer against the contract."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await response.aread()
        checker().check(request.method, request.url.path, response)
        return response
