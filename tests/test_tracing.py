"""OpenTelemetry traces: off unless the OTEL_* variables ask for them; when on, a span per
request named by its route template, a span per SQL statement, and no query string.
Spans go to an in-memory exporter: nothing leaves the process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aphub.config import Settings
from aphub.db import Database
from aphub.main import create_app
from aphub.tracing import configure_tracing, tracing_requested
from tests.factories import auth, make_org, token_for


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "aphub"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, False),
    ],
)
def test_traces_are_on_only_when_the_standard_variables_ask(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing_requested(environ) is wanted


def test_an_app_is_not_instrumented_without_them(settings: Settings, database: Database) -> None:
    app = create_app(settings, database=database)

    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    yield spans
    AsyncPGInstrumentor().uninstrument()  # asyncpg is patched process-wide


async def test_a_request_is_traced_by_route_template_with_its_sql(
    settings: Settings, database: Database, db: Database, exporter: InMemorySpanExporter
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app: FastAPI = create_app(settings, database=database)
    assert configure_tracing(app, provider)
    headers = auth(token_for(app, await make_org(db, "operator")))
    missing = uuid.uuid4()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://h") as c:
        r = await c.get(f"/v1/organisations/{missing}?zq7marker=1", headers=headers)
        assert r.status_code == 400  # an unknown parameter, after the organisation's lookup
        r = await c.get(f"/v1/organisations/{missing}", headers=headers)
        assert r.status_code == 404

    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.name == "GET /v1/organisations/{organisation_id}"]
    assert len(servers) == 2
    assert all(
        s.attributes.get("http.route") == "/v1/organisations/{organisation_id}" for s in servers
    )
    statements = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    traces = {s.context.trace_id for s in servers}
    # the lookup (and the client record's check), in the request's trace
    assert [s for s in statements if s.context.trace_id in traces]
    for span in spans:
        assert "zq7marker" not in str(dict(span.attributes or {})), span.name
