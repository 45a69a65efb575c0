"""`/metrics`: scraped and parsed as Prometheus does, its figures move with the traffic,
it holds no identifier, and only its scrapers may read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from aphub import jobs
from aphub.config import Settings
from aphub.db import Database
from aphub.events import feed
from aphub.events.log import Actor, record
from aphub.main import create_app
from tests.factories import auth, make_org, token_for

SCRAPE_TOKEN = "scrape-" + uuid.uuid4().hex


@pytest.fixture
def hub(settings: Settings, database: Database, clean_db: None) -> FastAPI:
    return create_app(
        settings.model_copy(update={"metrics_token": SecretStr(SCRAPE_TOKEN)}), database=database
    )


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = await client.get("/metrics", headers=auth(SCRAPE_TOKEN))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_scrape_parses_and_its_figures_follow_the_requests(
    hub: FastAPI, db: Database
) -> None:
    operator = await make_org(db, "operator")
    headers = auth(token_for(hub, operator))
    missing = f"/v1/organisations/{uuid.uuid4()}"
    route = "/v1/organisations/{organisation_id}"

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://h") as c:
        before = await _scrape(c)
        for _ in range(3):
            assert (await c.get(missing, headers=headers)).status_code == 404
        assert (await c.get("/v1/organisations", headers=headers)).status_code == 200
        async with db.writing() as unit:  # an event waiting to be sealed
            await unit.execute(
                "INSERT INTO event_outbox (id, type, occurred_at, subject_type, subject_id, data) "
                "VALUES (gen_random_uuid(), 'test.waiting', now() - interval '5 seconds', "
                "'organisation', gen_random_uuid(), '{}')"
            )
        after = await _scrape(c)
        text = (await c.get("/metrics", headers=auth(SCRAPE_TOKEN))).text

    requests = "aphub_http_requests_total"
    assert _value(after, requests, method="GET", route=route, status="404") == (
        _value(before, requests, method="GET", route=route, status="404") + 3
    )
    latency = "aphub_http_request_duration_seconds_count"
    assert _value(after, latency, method="GET", route=route) == (
        _value(before, latency, method="GET", route=route) + 3
    )
    assert _value(after, requests, method="GET", route="/metrics", status="200") >= 1
    assert _value(after, "aphub_db_pool_connections_max", pool="reads") > 0
    assert _value(after, "aphub_db_pool_checkouts", pool="reads") > _value(
        before, "aphub_db_pool_checkouts", pool="reads"
    )
    assert (
        _value(after, "aphub_event_outbox_depth") == _value(before, "aphub_event_outbox_depth") + 1
    )
    assert _value(after, "aphub_event_sealing_lag_seconds") >= 5
    # route templates, never paths: no identifier reaches a label
    assert missing not in text
    assert str(operator.id) not in text
    assert f"test-{operator.id.hex}" not in text


async def test_an_unknown_path_counts_as_unmatched(hub: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://h") as c:
        before = await _scrape(c)
        await c.get(f"/nowhere/{uuid.uuid4()}")
        after = await _scrape(c)

    name = "aphub_http_requests_total"
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _value(after, name, **labels) == _value(before, name, **labels) + 1


async def test_job_runs_and_failures_are_counted(
    hub: FastAPI, db: Database, settings: Settings
) -> None:
    async def fails(_database: Database, _settings: Settings) -> dict[str, str]:
        raise RuntimeError("boom")

    ran = jobs.Job("test-ok", lambda _s: 60, jobs.expire_kept_answers)
    failed = jobs.Job("test-failing", lambda _s: 60, fails)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://h") as c:
        before = await _scrape(c)
        await jobs.run_once(ran, db, settings)
        await jobs.run_once(failed, db, settings)
        after = await _scrape(c)

    assert _value(after, "aphub_job_runs_total", job="test-ok") == (
        _value(before, "aphub_job_runs_total", job="test-ok") + 1
    )
    assert _value(after, "aphub_job_failures_total", job="test-failing") == (
        _value(before, "aphub_job_failures_total", job="test-failing") + 1
    )
    assert _value(after, "aphub_job_failures_total", job="test-ok") == 0
    assert _value(after, "aphub_job_last_success_timestamp_seconds", job="test-ok") > 0


async def test_only_its_scrapers_may_read_the_metrics(
    hub: FastAPI, db: Database, settings: Settings, database: Database
) -> None:
    operator = auth(token_for(hub, await make_org(db, "operator")))
    la = auth(token_for(hub, await make_org(db, "local_authority")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://h") as c:
        anonymous = await c.get("/metrics")
        wrong = await c.get("/metrics", headers=auth("not-the-scrape-token"))
        by_la = await c.get("/metrics", headers=la)
        by_operator = await c.get("/metrics", headers=operator)
    off = create_app(settings.model_copy(update={"metrics": False}), database=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://h") as c:
        disabled = await c.get("/metrics", headers=operator)

    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert by_la.status_code == 403
    assert by_operator.status_code == 200
    assert disabled.status_code == 404


async def test_feed_readers_lag_is_the_age_of_the_oldest_event_they_are_handed(
    hub: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = auth(token_for(hub, await make_org(db, "operator")))
    async with db.writing() as unit:
        record(
            unit,
            type="test.appended",
            subject_type="test",
            subject_id=uuid.uuid4(),
            actor=Actor.system("test"),
        )
    name = "aphub_event_feed_reader_lag_seconds"
    operator = {"organisation_type": "operator"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://h") as c:
        before = await _scrape(c)
        # read two hours after the event was written: the reader is two hours behind
        later = datetime.now(UTC) + timedelta(hours=2)
        monkeypatch.setattr(feed, "datetime", _Clock(later))
        page = (await c.get("/v1/events", headers=headers)).json()
        monkeypatch.undo()
        caught_up = await c.get(
            "/v1/events", params={"after": page["next_cursor"]}, headers=headers
        )
        after = await _scrape(c)

    assert [e["type"] for e in page["items"]] == ["test.appended"]
    assert caught_up.json()["items"] == []

    def bucket(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], le: str) -> float:
        return _value(samples, f"{name}_bucket", le=le, **operator)

    assert (
        _value(after, f"{name}_count", **operator)
        == _value(before, f"{name}_count", **operator) + 2
    )
    assert bucket(after, "1.0") == bucket(before, "1.0") + 1  # the caught-up read
    assert bucket(after, "3600.0") == bucket(before, "3600.0") + 1  # not the one behind
    assert bucket(after, "14400.0") == bucket(before, "14400.0") + 2
    assert (
        _value(after, f"{name}_sum", **operator) >= _value(before, f"{name}_sum", **operator) + 7190
    )


class _Clock:
    """`datetime` whose `now` is a fixed moment."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self, tz: object = None) -> datetime:
        return self.moment


async def test_with_metrics_off_requests_are_not_counted(
    hub: FastAPI, settings: Settings, database: Database
) -> None:
    off = create_app(settings.model_copy(update={"metrics": False}), database=database)
    name = "aphub_http_requests_total"
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=hub), base_url="http://h") as on,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://h") as c,
    ):
        before = await _scrape(on)
        for _ in range(3):
            assert (await c.get("/healthz")).status_code == 200
        unchanged = await _scrape(on)
        await on.get("/healthz")
        after = await _scrape(on)

    assert _value(unchanged, name, **labels) == _value(before, name, **labels)
    assert _value(after, name, **labels) == _value(before, name, **labels) + 1
