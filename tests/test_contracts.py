"""The committed API contracts are exactly what the code serves."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from aphub.contracts import render_contracts

CONTRACTS = Path(__file__).resolve().parents[1] / "openapi"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_contracts()


@pytest.mark.parametrize("name", ["openapi.json", "schema.graphql"])
def test_committed_contract_matches_the_code(rendered: dict[str, str], name: str) -> None:
    committed = (CONTRACTS / name).read_text()

    assert rendered[name] == committed, (
        f"openapi/{name} is out of date with the code: run `make contracts` and commit the result"
    )


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_a_unique_operation_id(rendered: dict[str, str]) -> None:
    operations = _operations(json.loads(rendered["openapi.json"]))

    missing = [f"{m} {p}" for m, p, op in operations if not op.get("operationId")]
    counts = Counter(op["operationId"] for _, _, op in operations if op.get("operationId"))
    duplicated = sorted(name for name, n in counts.items() if n > 1)

    assert operations
    assert not missing, f"operations without an operationId: {missing}"
    assert not duplicated, f"operationIds used more than once: {duplicated}"


def test_every_operation_documents_its_errors_as_problems(rendered: dict[str, str]) -> None:
    """Anything a client must handle beyond success is in the contract, as problem+json
    (the token endpoint's RFC 6749 errors excepted)."""
    spec = json.loads(rendered["openapi.json"])
    wrong = []
    for method, path, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or path == "/v1/oauth/token":
                continue
            if "application/problem+json" not in response.get("content", {}):
                wrong.append(f"{method} {path} {status}")

    assert not wrong, f"error responses not documented as application/problem+json: {wrong}"
