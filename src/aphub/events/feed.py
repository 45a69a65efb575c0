"""The event feed: `GET /v1/events?after=CURSOR`, in commit order (sequence order is
commit order: appends are serialised by the chain head lock), filtered and redacted by
the sharing layer exactly as a REST read of each subject would be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aphub.auth.principal import Principal
from aphub.db import ReadUnit
from aphub.metrics import FEED_LAG
from aphub.sharing import events as event_sharing
from aphub.sharing.policy import active_policy

SCAN_LIMIT = event_sharing.SCAN_LIMIT
SOURCE = "/aphub"


def cloud_event(row: Any, data: dict[str, Any] | None, *, metadata_only: bool) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(row["id"]),
        "source": SOURCE,
        "type": row["type"],
        "subject": f"{row['subject_type']}/{row['subject_id']}",
        "time": row["occurred_at"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "sequence": str(row["seq"]),
        "subjectversion": row["subject_version"],
        "actororganisation": str(actor) if (actor := row["actor_organisation_id"]) else None,
        "actorclient": row["actor_client_id"],
        "hash": row["hash"],
    }
    if not metadata_only:
        event["childid"] = str(row["child_id"]) if row["child_id"] else None
        event["datacontenttype"] = "application/json"
        event["data"] = data
    return event


async def read_feed(
    uow: ReadUnit, principal: Principal, after: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Events after sequence `after`; returns them and the sequence to resume after."""
    sql = event_sharing.feed_sql(principal)
    params: dict[str, Any] = {"after": after, "limit": limit}
    operator = principal.organisation_type == "operator"
    if not operator:
        params.update(org=principal.organisation_id, scan=SCAN_LIMIT)
    found = await uow.fetch(sql, **params)
    # (for any caller but the operator: the window examined, beside the events in it)
    rows = found if operator else [r for r in found if r["seq"] is not None]
    # how far behind this reader is: the age of the oldest event it is handed now
    behind = (datetime.now(UTC) - rows[0]["occurred_at"]).total_seconds() if rows else 0.0
    FEED_LAG.labels(principal.organisation_type).observe(max(behind, 0.0))
    policy = active_policy()
    items = []
    for row in rows:
        if operator:
            items.append(cloud_event(row, None, metadata_only=True))
            continue
        data: dict[str, Any] | None = dict(row["data"])
        if row["child_id"] is not None:
            decision = policy.decide(row["rules"] or (), row["inv"])
            data = event_sharing.redacted(row["type"], row["data"], decision)
            if data is None:
                continue
        items.append(cloud_event(row, data, metadata_only=False))
    last = rows[-1]["seq"] if rows else after
    if operator or len(rows) == limit:
        return items, int(last)
    return items, int(found[0]["upto"])  # every event up to there was examined
