"""Property-based conformance of the whole REST API to its own OpenAPI document.

Every operation in the document (so every endpoint added later, too) gets generated valid
and invalid requests, authenticated as an operator. Every response must be documented, of
the documented content type and schema, and never a 5xx.

Schemathesis drives an ASGI app synchronously, from an event-loop thread of its own, so these
tests cannot share the session's asyncpg pool (bound to pytest's loop). They get an app of
their own whose lifespan, run by schemathesis in that thread, opens its own pool on the same
test database; the tables are emptied when the module is done, as `clean_db` does.

The document is rendered from the code at collection (as `make contracts` does), so each
operation is a test item of its own. (schemathesis' lazy `from_fixture(...).parametrize()`
does not run under pytest 9: it sets `node._nodeid`, which pytest 9 no longer has.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans

from aphub.config import Settings
from aphub.contracts import render_contracts
from aphub.ids import uuid7
from aphub.main import create_app
from aphub.models import Organisation
from tests.conftest import empty_all_tables
from tests.factories import auth, token_for

EXAMPLES_PER_OPERATION = 15

# A schema says which requests are well formed, not which references exist or which cursors
# the hub issued: a schema-valid body naming an organisation that is not there, or a made-up
# cursor, is invalid input, 422 by the API conventions. Otherwise schemathesis' defaults (5xx
# among them only because `not_a_server_error` reports those).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        "phases": {"coverage": {"enabled": False}},
    }
)
SCHEMA = schemathesis.openapi.from_dict(
    json.loads(render_contracts()["openapi.json"]), config=CONFIG
)


@pytest.fixture(scope="module")
async def fuzz_operator(superuser: asyncpg.Connection) -> AsyncIterator[uuid.UUID]:
    """An operator that exists, so generated reads and writes find a real row. The tables
    are emptied once, after every operation has run (per operation would cost more than the
    fuzzing itself)."""
    organisation_id: uuid.UUID = uuid7()
    await superuser.execute(
        "INSERT INTO organisations (id, type, name) VALUES ($1, 'operator', 'Fuzz Operator')",
        organisation_id,
    )
    yield organisation_id
    await empty_all_tables(superuser)


@pytest.fixture(scope="module")
def hub_app(settings: Settings, fuzz_operator: uuid.UUID) -> Iterator[FastAPI]:
    app = create_app(settings)  # no database given: its lifespan opens one in the ASGI thread
    try:
        yield app
    finally:
        shutdown_lifespans()  # runs the lifespan's exit there, closing that pool


@pytest.fixture(scope="module")
def operator_headers(hub_app: FastAPI, fuzz_operator: uuid.UUID) -> dict[str, str]:
    organisation = Organisation(id=fuzz_operator, type="operator")
    return auth(token_for(hub_app, organisation))


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)
def test_operation_conforms_to_the_openapi_document(
    case: schemathesis.Case, hub_app: FastAPI, operator_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=operator_headers, app=hub_app)
