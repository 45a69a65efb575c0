"""Outcomes: progress against intended outcomes, accreditations, attendance at entry and
exit, destination and follow-ups, in the placement's REST and GraphQL views and history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from aphub.db import Database
from tests.attendance_factories import mark, post_marks, started, weekdays
from tests.placement_factories import make_area, new_key

TODAY = date.today()
START = TODAY - timedelta(days=120)
END = START + timedelta(days=70)

OUTCOMES_QUERY = """
query ($id: UUID!) {
  placementOutcomes(placementId: $id) {
    version status destination endReason actualEndDate
    outcomes { id description latestRating progress { rating evidence recordedOn } }
    replacedOutcomeProgress { outcomeId outcomeDescription rating }
    accreditations { qualification level grade awardedOn }
    attendance { entry { possible attended percentage } exit { possible attended percentage } }
    followUps { kind dueOn recorded { sustained note } }
  }
}
"""


async def _graphql(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> dict[str, Any]:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_progress_accreditations_destination_and_follow_ups_show_in_views_and_history(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    placement = await started(client, area, area.la_headers, START)
    pid = placement["id"]
    outcome_id = placement["intended_outcomes"][0]["id"]

    # attendance: 50% in the first four weeks, every session in the last four
    days = weekdays(START, END)
    first_four = START + timedelta(days=27)
    marks = []
    for d in days:
        marks.append(mark(pid, d, "am", "present"))
        late_start = d <= first_four
        marks.append(
            mark(pid, d, "pm", "absent_authorised" if late_start else "present", note="Ill")
        )
    assert (await post_marks(client, area.provider_headers, marks)).json()["rejected"] == 0

    r = await client.post(
        f"/v1/placements/{pid}/outcomes/{outcome_id}/progress",
        json={
            "rating": "emerging",
            "evidence": "Attended 3 of 5 mornings",
            "recorded_on": (START + timedelta(days=14)).isoformat(),
        },
        headers={**area.provider_headers, **new_key()},
    )
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert r.headers["etag"] == f'"{version}"'
    r = await client.post(
        f"/v1/placements/{pid}/outcomes/{outcome_id}/progress",
        json={"rating": "secure", "evidence": "Every morning for four weeks"},
        headers={**area.provider_headers, "If-Match": '"1"'},
    )
    assert r.status_code == 412  # a stale version
    r = await client.post(
        f"/v1/placements/{pid}/outcomes/{outcome_id}/progress",
        json={"rating": "secure", "evidence": "Every morning for four weeks"},
        headers={**area.provider_headers, "If-Match": f'"{version}"'},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/placements/{pid}/accreditations",
        json={
            "qualification": "Functional Skills English",
            "level": "entry_3",
            "grade": "Pass",
            "awarded_on": (END - timedelta(days=3)).isoformat(),
        },
        headers=area.provider_headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/placements/{pid}/follow-ups",
        json={"kind": "six_weeks", "sustained": True},
        headers=area.la_headers,
    )
    assert r.status_code == 409  # not ended yet
    r = await client.post(
        f"/v1/placements/{pid}/end",
        json={
            "end_reason": "reintegrated",
            "destination": "reintegrated_home_school",
            "actual_end_date": END.isoformat(),
        },
        headers=area.la_headers,
    )
    assert r.status_code == 200, r.text

    r = await client.get("/v1/follow-ups/due", headers=area.la_headers)
    assert r.status_code == 200, r.text
    due = {d["kind"]: d for d in r.json()["items"]}
    assert due["six_weeks"]["due_on"] == (END + timedelta(weeks=6)).isoformat()
    assert due["six_weeks"]["overdue"] is True
    assert due["six_weeks"]["destination"] == "reintegrated_home_school"
    r = await client.get("/v1/follow-ups/due", headers=area.provider_headers)
    assert r.json()["items"] == []  # follow-ups are the commissioner's and home LA's

    r = await client.post(
        f"/v1/placements/{pid}/follow-ups",
        json={"kind": "six_weeks", "sustained": True},
        headers=area.provider_headers,
    )
    assert r.status_code == 403
    r = await client.post(
        f"/v1/placements/{pid}/follow-ups",
        json={"kind": "six_weeks", "sustained": True, "note": "Settled back in Year 9"},
        headers={**area.la_headers, **new_key()},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/v1/placements/{pid}/follow-ups",
        json={"kind": "six_weeks", "sustained": False},
        headers=area.la_headers,
    )
    assert r.status_code == 409  # recorded once
    r = await client.get("/v1/follow-ups/due?within_days=366", headers=area.la_headers)
    assert [d["kind"] for d in r.json()["items"]] == ["next_term_end"]

    # REST view
    r = await client.get(f"/v1/placements/{pid}/outcomes", headers=area.school_headers)
    assert r.status_code == 404  # the school did not commission it
    r = await client.get(f"/v1/placements/{pid}/outcomes", headers=area.la_headers)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "ended"
    assert view["destination"] == "reintegrated_home_school"
    assert view["end_reason"] == "reintegrated"
    [outcome] = view["outcomes"]
    assert [p["rating"] for p in outcome["progress"]] == ["emerging", "secure"]
    assert outcome["latest_rating"] == "secure"
    assert view["accreditations"][0]["qualification"] == "Functional Skills English"
    assert view["accreditations"][0]["level"] == "entry_3"
    entry, exit_ = view["attendance"]["entry"], view["attendance"]["exit"]
    assert entry["percentage"] == 50.0
    assert exit_["percentage"] == 100.0
    follow = {f["kind"]: f for f in view["follow_ups"]}
    assert follow["six_weeks"]["recorded"]["sustained"] is True
    assert follow["next_term_end"]["recorded"] is None
    assert follow["next_term_end"]["due_on"] is not None

    # GraphQL view: the same
    body = await _graphql(client, area.la_headers, OUTCOMES_QUERY, id=pid)
    assert "errors" not in body, body
    g = body["data"]["placementOutcomes"]
    assert g["version"] == view["version"]
    assert g["destination"] == "reintegrated_home_school"
    assert [p["rating"] for p in g["outcomes"][0]["progress"]] == ["emerging", "secure"]
    assert g["accreditations"][0]["grade"] == "Pass"
    assert g["attendance"]["entry"]["percentage"] == 50.0
    assert g["attendance"]["exit"]["percentage"] == 100.0
    assert g["followUps"][0] == {
        "kind": "six_weeks",
        "dueOn": (END + timedelta(weeks=6)).isoformat(),
        "recorded": {"sustained": True, "note": "Settled back in Year 9"},
    }

    # history: each write is one version, one event
    r = await client.get(f"/v1/placements/{pid}/history", headers=area.la_headers)
    history = r.json()
    types = [h["type"] for h in history]
    assert types[-5:] == [
        "placement.progress_recorded",
        "placement.progress_recorded",
        "placement.accreditation_recorded",
        "placement.ended",
        "placement.follow_up_recorded",
    ]
    recorded = history[-1]["data"]
    assert (recorded["kind"], recorded["sustained"]) == ("six_weeks", True)
    assert recorded["destination"] == "reintegrated_home_school"
    assert [h["version"] for h in history] == list(range(1, len(history) + 1))
    assert history[-1]["version"] == view["version"]


async def test_graphql_mutations_record_outcomes_with_rest_rules(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    placement = await started(client, area, area.la_headers, START)
    pid, outcome_id = placement["id"], placement["intended_outcomes"][0]["id"]
    mutation = """
    mutation ($p: UUID!, $o: UUID!, $v: Int) {
      recordProgress(placementId: $p, outcomeId: $o, ifMatch: $v,
                     input: {rating: "developing", evidence: "Two good weeks"}) {
        version outcomes { latestRating }
      }
    }"""
    body = await _graphql(
        client, area.provider_headers, mutation, p=pid, o=outcome_id, v=placement["version"]
    )
    assert "errors" not in body, body
    assert body["data"]["recordProgress"]["outcomes"][0]["latestRating"] == "developing"
    assert body["data"]["recordProgress"]["version"] == placement["version"] + 1

    bad = mutation.replace('"developing"', '"brilliant"')
    body = await _graphql(client, area.provider_headers, bad, p=pid, o=outcome_id, v=None)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    accreditation = """
    mutation ($p: UUID!) {
      recordAccreditation(placementId: $p, input: {qualification: "AQA Unit Award",
        level: "entry_2", awardedOn: "2020-01-01"}) { accreditations { qualification } }
    }"""
    body = await _graphql(client, area.provider_headers, accreditation, p=pid)
    assert body["data"]["recordAccreditation"]["accreditations"] == [
        {"qualification": "AQA Unit Award"}
    ]
    follow_up = """
    mutation ($p: UUID!) {
      recordFollowUp(placementId: $p, input: {kind: "six_weeks", sustained: true}) { version }
    }"""
    body = await _graphql(client, area.la_headers, follow_up, p=pid)
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"  # not ended


async def test_progress_outlives_a_variation_that_replaces_the_outcomes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    area = await make_area(app, db)
    placement = await started(client, area, area.la_headers, START)
    pid, outcome_id = placement["id"], placement["intended_outcomes"][0]["id"]
    r = await client.post(
        f"/v1/placements/{pid}/outcomes/{outcome_id}/progress",
        json={"rating": "developing"},
        headers=area.la_headers,  # the commissioner may record progress too
    )
    assert r.status_code == 201, r.text
    new_outcome = {
        "description": "Join a mainstream maths class twice a week",
        "baseline": "None",
        "target": "Twice a week for four weeks",
        "measure": "Timetable and registers",
        "target_date": (TODAY + timedelta(weeks=8)).isoformat(),
    }
    r = await client.patch(
        f"/v1/placements/{pid}", json={"intended_outcomes": [new_outcome]}, headers=area.la_headers
    )
    assert r.status_code == 200, r.text
    view = (await client.get(f"/v1/placements/{pid}/outcomes", headers=area.la_headers)).json()
    assert view["outcomes"][0]["progress"] == []
    [kept] = view["replaced_outcome_progress"]
    assert kept["outcome_id"] is None
    assert kept["outcome_description"] == "Attend every morning session"
    r = await client.post(
        f"/v1/placements/{pid}/outcomes/{outcome_id}/progress",
        json={"rating": "secure"},
        headers=area.provider_headers,
    )
    assert r.status_code == 404  # that outcome is gone
