"""OpenTelemetry traces, switched on by the standard `OTEL_*` environment variables and
off otherwise (no exporter, no instrumentation, nothing per request).

On when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER` names an exporter
(`otlp`, `console`), unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The
SDK reads the rest itself (`OTEL_SERVICE_NAME`, default `aphub`; `OTEL_RESOURCE_ATTRIBUTES`;
`OTEL_EXPORTER_OTLP_HEADERS`; `OTEL_TRACES_SAMPLER`; ...). OTLP goes over HTTP/protobuf.

Each request is a server span named by its route template (`GET /v1/children/{child_id}`),
with a child span per SQL statement (asyncpg). The statement's text is recorded, never
its parameters; the query string of a request is dropped from its span (filters may name
a child), as it is from the access log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(environ.get(name) for name in _ENDPOINTS)


def _exporter(environ: Mapping[str, str]) -> Any:
    names = [n.strip() for n in environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")]
    if "console" in names:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*


def _without_query(span: Any, scope: dict[str, Any]) -> None:
    """The request's span keeps its path, never its query string."""
    if span is None or not span.is_recording():
        return
    path = scope.get("path", "")
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
    url = f"{scope.get('scheme', 'http')}://{host}{path}"
    for name, value in (("http.target", path), ("http.url", url), ("url.full", url)):
        span.set_attribute(name, value)
    span.set_attribute("url.query", "")


def configure_tracing(app: FastAPI, provider: Any = None) -> bool:
    """Instrument `app` (and asyncpg, once per process) if tracing is requested or a
    tracer provider is given (tests: an in-memory exporter). Whether it did."""
    if provider is None:
        if not tracing_requested():
            return False
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        service = os.environ.get("OTEL_SERVICE_NAME", "aphub")
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(BatchSpanProcessor(_exporter(os.environ)))
        trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    app.traced = True  # type: ignore[attr-defined]  # (aphub.main.HubApp) see there
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        server_request_hook=_without_query,
        exclude_spans=["receive", "send"],
    )
    asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not asyncpg.is_instrumented_by_opentelemetry:
        asyncpg.instrument(tracer_provider=provider)
    return True
