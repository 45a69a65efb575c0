"""Alerts derived when an entry is read: QA overdue, stale safeguarding confirmation,
expired insurance. Each turns on the day after its date, not on the date itself."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aphub.db import Database
from aphub.providers.alerts import ProviderAlertCode, alerts_for, months_after, today
from tests.factories import auth, token_for
from tests.provider_factories import gql, make_la, make_provider, make_school


async def _alerts(
    client: httpx.AsyncClient, app: FastAPI, db: Database, la_code: str = "201", **profile: Any
) -> list[dict[str, Any]]:
    city = await make_la(db, la_code)
    provider = await make_provider(db, city, **profile)
    token = token_for(app, await make_school(db, city))
    response = await client.get(f"/v1/providers/{provider.id}", headers=auth(token))
    assert response.status_code == 200, response.text
    rest: list[dict[str, Any]] = response.json()["alerts"]
    body = await gql(
        client, token, f'{{ provider(id: "{provider.id}") {{ alerts {{ code message since }} }} }}'
    )
    assert body["data"]["provider"]["alerts"] == rest  # the same rule on both surfaces
    return rest


def _codes(alerts: list[dict[str, Any]]) -> list[str]:
    return [a["code"] for a in alerts]


@pytest.mark.parametrize(
    ("days_from_today", "alerted"), [(-1, True), (-400, True), (0, False), (30, False)]
)
async def test_qa_is_overdue_once_its_next_due_date_has_passed(
    client: httpx.AsyncClient, app: FastAPI, db: Database, days_from_today: int, alerted: bool
) -> None:
    due = today() + timedelta(days=days_from_today)
    alerts = await _alerts(client, app, db, qa_status="approved", qa_next_due_on=due)
    assert _codes(alerts) == (["qa_overdue"] if alerted else [])
    if alerted:
        assert alerts[0]["since"] == (due + timedelta(days=1)).isoformat()


async def test_safeguarding_confirmation_older_than_12_months_alerts(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    stale = months_after(today(), -12) - timedelta(days=1)
    alerts = await _alerts(client, app, db, staff_checks_confirmed_on=stale)
    assert _codes(alerts) == ["safeguarding_confirmation_stale"]
    assert stale.isoformat() in alerts[0]["message"]
    assert alerts[0]["since"] <= today().isoformat()


async def test_safeguarding_confirmation_exactly_12_months_old_does_not_alert(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    exactly = months_after(today(), -12)
    assert _codes(await _alerts(client, app, db, staff_checks_confirmed_on=exactly)) == []


@pytest.mark.parametrize(("days_from_today", "alerted"), [(-1, True), (0, False), (1, False)])
async def test_insurance_expired_alerts_the_day_after_it_ends(
    client: httpx.AsyncClient, app: FastAPI, db: Database, days_from_today: int, alerted: bool
) -> None:
    expiry = today() + timedelta(days=days_from_today)
    alerts = await _alerts(client, app, db, insurance_expires_on=expiry)
    assert _codes(alerts) == (["insurance_expired"] if alerted else [])


async def test_all_three_alerts_together_and_none_without_dates(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    long_ago = today() - timedelta(days=800)
    alerts = await _alerts(
        client,
        app,
        db,
        qa_next_due_on=long_ago,
        staff_checks_confirmed_on=long_ago,
        insurance_expires_on=long_ago,
    )
    assert _codes(alerts) == [
        "qa_overdue",
        "safeguarding_confirmation_stale",
        "insurance_expired",
    ]
    assert _codes(await _alerts(client, app, db, la_code="202")) == []


def test_alerts_follow_the_calendar_across_leap_days() -> None:
    leap_day = date(2024, 2, 29)
    assert months_after(leap_day, 12) == date(2025, 2, 28)
    assert months_after(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert months_after(date(9999, 6, 1), 12) == date.max
    on = date(2025, 3, 1)
    found = alerts_for(
        qa_next_due_on=None,
        staff_checks_confirmed_on=leap_day,
        insurance_expires_on=None,
        on=on,
    )
    assert [a.code for a in found] == [ProviderAlertCode.safeguarding_confirmation_stale]
    assert (
        alerts_for(
            qa_next_due_on=None,
            staff_checks_confirmed_on=leap_day,
            insurance_expires_on=None,
            on=date(2025, 2, 28),
        )
        == []
    )
