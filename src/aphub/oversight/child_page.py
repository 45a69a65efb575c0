"""One child as the signed-in local authority may see it: the link target of the oversight
page's "children needing action". Read through the sharing layer (audited, surface
`oversight`; a child the LA may not see is a 404 page, as in the API) with the child's
placements the LA may see and their open out-of-education flags."""

from __future__ import annotations

import uuid
from html import escape
from typing import Any

import orjson

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.oversight.charts import label
from aphub.placements import repository
from aphub.sharing import gate

# the record's fields an officer looks for first, in this order, when the caller sees them
FIELDS = (
    ("legal_first_name", "First name"),
    ("legal_last_name", "Last name"),
    ("preferred_name", "Preferred name"),
    ("date_of_birth", "Date of birth"),
    ("year_group", "Year group"),
    ("upn", "UPN"),
    ("sen_provision", "SEN provision"),
    ("primary_need", "Primary need"),
    ("looked_after", "Looked after"),
    ("child_in_need", "Child in need"),
    ("child_protection_plan", "Child protection plan"),
    ("has_medical_needs", "Medical needs"),
)
PLACEMENT_COLUMNS = (
    ("status", "Status"),
    ("primary_reason", "Reason"),
    ("start_date", "Start"),
    ("planned_end_date", "Planned end"),
    ("hours_per_week", "Hours a week"),
    ("next_review_date", "Next review"),
)


async def child_body(unit: ReadUnit, principal: Principal, child_id: uuid.UUID) -> str:
    """The page's sections; NotFound (404) when the child is hidden or unknown."""
    child = await gate.read_child(unit, principal, child_id, surface="oversight")
    placements = [
        orjson.loads(body)
        for body in (await repository.of_children(unit, principal, [child_id]))[child_id]
    ]
    return _record(child) + _placements(placements)


def child_title(child_id: uuid.UUID) -> str:
    return f"Child {str(child_id)[:8]}"


def _value(value: Any) -> str:
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return escape(str(value))


def _record(child: dict[str, Any]) -> str:
    rows = "".join(
        f"<div><dt>{escape(title)}</dt><dd>{_value(child[key])}</dd></div>"
        for key, title in FIELDS
        if child.get(key) is not None
    )
    return (
        '<section aria-labelledby="h-record"><h2 id="h-record">Record</h2>'
        f'<dl class="record">{rows}</dl>'
        "<p>Only what your organisation may see is shown; the whole record, as the API "
        f"gives it: <code>GET /v1/children/{escape(str(child['id']))}</code>.</p></section>"
    )


def _placements(placements: list[dict[str, Any]]) -> str:
    if not placements:
        body = "<p>No placement you may see.</p>"
    else:
        head = "".join(f'<th scope="col">{escape(t)}</th>' for _, t in PLACEMENT_COLUMNS)
        rows = []
        for p in placements:
            cells = "".join(f"<td>{_cell(p, k)}</td>" for k, _ in PLACEMENT_COLUMNS)
            rows.append(f'<tr><th scope="row">{escape(str(p["id"])[:8])}</th>{cells}</tr>')
        body = (
            "<table><caption>Placements you may see</caption><thead><tr>"
            f'<th scope="col">Placement</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    return (
        '<section aria-labelledby="h-placements"><h2 id="h-placements">Placements</h2>'
        f"{body}</section>"
    )


def _cell(placement: dict[str, Any], key: str) -> str:
    value = placement.get(key)
    if value is None:
        return ""
    return escape(label(str(value)) if key in ("status", "primary_reason") else str(value))
