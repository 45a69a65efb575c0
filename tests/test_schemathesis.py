"""Property-based conformance of the whole REST API to its own OpenAPI document.

Every operation in the document (so every endpoint added later, too) gets generated valid
and invalid requests, authenticated in turn as the operator, a local authority, a school
and a provider (each organisation type meets different rules, and a 5xx is a defect
whoever the caller is). Every response must be documented, of the documented content
type and schema, and never a 5xx.

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
from schemathesis.checks import negative_data_rejection
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans

from aphub.auth.scopes import SCOPE_BOUNDS
from aphub.config import Settings
from aphub.contracts import render_contracts
from aphub.ids import uuid7
from aphub.main import create_app
from aphub.models import Organisation
from tests.conftest import empty_all_tables
from tests.factories import auth, token_for

EXAMPLES_PER_OPERATION = 8
CALLERS = ("operator", "local_authority", "school", "provider")

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
async def fuzz_callers(superuser: asyncpg.Connection) -> AsyncIterator[dict[str, uuid.UUID]]:
    """An organisation of each calling type that exists, so generated reads and writes
    find a real row. The tables are emptied once, after every operation has run (per
    operation would cost more than the fuzzing itself)."""
    callers = {kind: uuid7() for kind in CALLERS}
    la = callers["local_authority"]
    for kind, organisation_id in callers.items():
        await superuser.execute(
            "INSERT INTO organisations (id, type, name, la_code, local_authority_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            organisation_id,
            kind,
            f"Fuzz {kind}",
            "201" if kind == "local_authority" else None,
            la if kind in ("school", "provider") else None,
        )
        await superuser.execute(
            "INSERT INTO api_clients (id, client_id, secret_hash, organisation_id, name, "
            "scopes, approved_at) VALUES (gen_random_uuid(), $1, '-', $2, 'fuzz', $3, now())",
            f"test-{organisation_id.hex}",
            organisation_id,
            sorted(SCOPE_BOUNDS[kind]),
        )
    yield callers
    await empty_all_tables(superuser)


@pytest.fixture(scope="module")
def hub_app(settings: Settings, fuzz_callers: dict[str, uuid.UUID]) -> Iterator[FastAPI]:
    app = create_app(settings)  # no database given: its lifespan opens one in the ASGI thread
    try:
        yield app
    finally:
        shutdown_lifespans()  # runs the lifespan's exit there, closing that pool


@pytest.fixture(scope="module", params=CALLERS)
def caller_headers(
    request: pytest.FixtureRequest, hub_app: FastAPI, fuzz_callers: dict[str, uuid.UUID]
) -> dict[str, str]:
    kind = request.param
    organisation = Organisation(id=fuzz_callers[kind], type=kind)
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
    case: schemathesis.Case, hub_app: FastAPI, caller_headers: dict[str, str]
) -> None:
    excluded = []
    if case.operation.label == "POST /v1/attendance":
        # a bulk return accepts a batch whose rows break the mark schema and reports each
        # bad row in its answer (every valid row written, every bad one named): the schema
        # says what a valid mark is, not that one bad row refuses the whole return
        excluded.append(negative_data_rejection)
    case.call_and_validate(headers=caller_headers, app=hub_app, excluded_checks=excluded)
