"""What operations staff scrape at `/metrics`, in the Prometheus text format.

- HTTP: requests by method, route template and status; latency histograms by route
  template. A template (`/v1/children/{child_id}`), never a path: no identifier reaches a
  label, and an unknown path counts as `unmatched`, so nobody can grow the series.
- The database pools of each worker: connections in use, idle and at most.
- The event log, read from the database at scrape time: the outbox's depth and the age of
  its oldest event (the sealing lag), the head of the sealed log, and how far the last
  signed checkpoint trails it. The feed serves sealed events as soon as they are sealed,
  so the sealing lag is the feed's lag too; how far behind its *readers* are is a
  histogram of the age of the oldest event on each page served, by organisation type.
- Jobs: runs and failures by job, their duration, the time of the last success.
- Requests refused by the rate limit.

With several workers (`aphub serve --workers N`), each process writes its figures to
files in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode, which
`aphub serve` sets up) and a scrape, whichever worker answers it, sums them; pool figures
are refreshed by each worker every few seconds. Without it (one worker, the default), the
process's own registry is served.

Who may scrape: `/metrics` is never public. It answers a bearer token equal to
APHUB_METRICS_TOKEN (a static secret for Prometheus' `authorization` setting), or an
access token of the operator organisation (Prometheus' `oauth2` client credentials against
/v1/oauth/token); APHUB_METRICS=false turns it off (404).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from aphub.errors import Forbidden, NotFound, Problem, Unauthorised, problem_response

if TYPE_CHECKING:
    from aphub.db import Database

log = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
POOL_REFRESH_SECONDS = 5.0
UNMATCHED = "unmatched"

# Latency buckets (seconds): the hot reads answer in a few milliseconds, bulk returns and
# exports in seconds.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "aphub_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "aphub_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=_BUCKETS,
)
RATE_LIMITED = Counter(
    "aphub_rate_limited_requests", "Requests refused with 429 by the per-client rate limit"
)
POOL_IN_USE = Gauge(
    "aphub_db_pool_connections_in_use",
    "Database connections held by units of work, by pool",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_IDLE = Gauge(
    "aphub_db_pool_connections_idle",
    "Open database connections waiting in the pool, by pool",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "aphub_db_pool_connections_max",
    "Most connections the pool opens, by pool (summed over workers)",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_CHECKOUTS = Gauge(
    "aphub_db_pool_checkouts",
    "Connections taken from the pool since the worker started, by pool",
    ["pool"],
    multiprocess_mode="livesum",
)
FEED_LAG = Histogram(
    "aphub_event_feed_reader_lag_seconds",
    "How far behind its readers read the event feed: per page served, the age of its "
    "oldest event (0: the reader is caught up), by the reader's organisation type",
    ["organisation_type"],
    buckets=(1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600),
)
JOB_RUNS = Counter("aphub_job_runs", "Runs of the scheduled jobs, by job", ["job"])
JOB_FAILURES = Counter("aphub_job_failures", "Failed runs of the scheduled jobs, by job", ["job"])
JOB_DURATION = Histogram(
    "aphub_job_duration_seconds",
    "Time a scheduled job's run took, by job",
    ["job"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900),
)
JOB_LAST_SUCCESS = Gauge(
    "aphub_job_last_success_timestamp_seconds",
    "When the job last ran without failing (Unix time)",
    ["job"],
    multiprocess_mode="max",
)


def route_template(scope: Scope) -> str:
    """The template of the route that served the request (set on the scope by the router
    or `FastPath`), never the path itself."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


# the labelled series of each (method, route, status) seen, looked up once: `labels()`
# takes a lock and builds its key on every call (routes are templates: few series)
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    route = route_template(scope)
    method = scope.get("method", "")
    key = (method, route, status)
    series = _SERIES.get(key)
    if series is None:
        series = _SERIES[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
    series[0].inc()
    series[1].observe(seconds)


@contextlib.contextmanager
def job_run(name: str) -> Iterator[None]:
    """Count one run of a job, its duration and whether it failed."""
    started = time.perf_counter()
    JOB_RUNS.labels(name).inc()
    try:
        yield
    except BaseException as exc:
        if not isinstance(exc, asyncio.CancelledError):
            JOB_FAILURES.labels(name).inc()
        raise
    else:
        JOB_LAST_SUCCESS.labels(name).set(time.time())
    finally:
        JOB_DURATION.labels(name).observe(time.perf_counter() - started)


def refresh_pools(database: Database | None) -> None:
    """Copy this worker's pool figures into the gauges."""
    if database is None:
        return
    for name, pool in (("reads", database.reads), ("writes", database.writes)):
        POOL_IN_USE.labels(name).set(pool.in_use)
        POOL_IDLE.labels(name).set(pool.idle)
        POOL_SIZE.labels(name).set(pool.size)
        POOL_CHECKOUTS.labels(name).set(pool.taken)


async def refresh_pools_forever(database: Database) -> None:
    """Each worker's pool figures, every few seconds (multiprocess mode: a scrape is
    answered by one worker, which cannot read the others' pools)."""
    while True:
        refresh_pools(database)
        await asyncio.sleep(POOL_REFRESH_SECONDS)


# The event log's state, in one statement on a read unit at scrape time. The outbox holds
# committed events not yet sealed (normally none: each is sealed before its response).
_EVENT_LOG = """
SELECT
  (SELECT count(*) FROM event_outbox) AS outbox_depth,
  (SELECT coalesce(extract(epoch FROM now() - min(occurred_at)), 0) FROM event_outbox)
    AS sealing_lag,
  (SELECT coalesce(max(seq), 0) FROM events) AS head_seq,
  (SELECT coalesce(max(tree_size), 0) FROM event_checkpoints) AS checkpoint_size,
  (SELECT extract(epoch FROM now() - max(signed_at)) FROM event_checkpoints)
    AS checkpoint_age
"""


async def event_log_state(database: Database) -> dict[str, float | None]:
    async with database.reading() as unit:
        row = await unit.fetchrow(_EVENT_LOG)
    assert row is not None
    age = row["checkpoint_age"]
    return {
        "outbox_depth": float(row["outbox_depth"]),
        "sealing_lag": float(row["sealing_lag"]),
        "head_seq": float(row["head_seq"]),
        "unsigned": float(row["head_seq"] - row["checkpoint_size"]),
        "checkpoint_age": float(age) if age is not None else None,
    }


class EventLogCollector(Collector):
    """Figures read once per scrape (the database's, so the same from every worker)."""

    def __init__(self, state: dict[str, float | None]) -> None:
        self.state = state

    def collect(self) -> Iterable[GaugeMetricFamily]:
        s = self.state
        yield GaugeMetricFamily(
            "aphub_event_outbox_depth",
            "Committed events waiting in the outbox to be sealed into the log",
            value=s["outbox_depth"],
        )
        yield GaugeMetricFamily(
            "aphub_event_sealing_lag_seconds",
            "Age of the oldest event waiting to be sealed (0: none waits); the feed and its "
            "readers lag by as much",
            value=s["sealing_lag"],
        )
        yield GaugeMetricFamily(
            "aphub_event_log_head_seq", "Sequence number of the newest sealed event", s["head_seq"]
        )
        yield GaugeMetricFamily(
            "aphub_event_log_unsigned_events",
            "Sealed events after the last signed checkpoint",
            value=s["unsigned"],
        )
        if s["checkpoint_age"] is not None:
            yield GaugeMetricFamily(
                "aphub_event_checkpoint_age_seconds",
                "Time since the last checkpoint of the log was signed",
                value=s["checkpoint_age"],
            )


async def render(database: Database | None) -> bytes:
    """The exposition: this process's registry (or every worker's, in multiprocess mode)
    and the event log's figures."""
    refresh_pools(database)
    registry = CollectorRegistry()
    if MULTIPROCESS:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    output = generate_latest(registry)
    if database is not None:
        extra = CollectorRegistry()
        try:
            extra.register(EventLogCollector(await event_log_state(database)))
            output += generate_latest(extra)
        except Exception:  # the database being down must not hide the process's figures
            log.warning("metrics: the event log's figures could not be read", exc_info=True)
    return output


async def _require_scraper(request: Request) -> None:
    from aphub.auth.principal import bearer_token, principal_from_token

    settings = request.app.state.settings
    if not settings.metrics:
        raise NotFound()
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthorised("A scrape token or an operator's access token is required")
    secret = settings.metrics_token
    if secret is not None and hmac.compare_digest(
        token.encode(), secret.get_secret_value().encode()
    ):
        return
    principal = await principal_from_token(request, token)
    if principal.organisation_type != "operator":
        raise Forbidden("Only the operator's clients may read the hub's metrics")


async def metrics_endpoint(request: Request) -> Response:
    try:
        await _require_scraper(request)
    except Problem as problem:
        return problem_response(problem, request.url.path)
    body = await render(request.app.state.db)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
