"""What of an event a caller may receive (feed now, webhooks later): the same rules as a
REST read of its subject, with the payload cut to the caller's categories."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from aphub.auth.principal import Principal
from aphub.models import ProviderConcern
from aphub.sharing.fields import FIELD_CATEGORY
from aphub.sharing.placements import placement_visible
from aphub.sharing.policy import Decision, Policy, active_policy
from aphub.sharing.relationships import (
    involvement_categories_expression,
    rules_expression,
    visible_condition,
)

# A poll examines at most this many events, so a caller who sees few of many stays cheap;
# the cursor still advances past everything examined.
SCAN_LIMIT = 5000
COLUMNS = (
    "e.id, e.seq, e.type, e.occurred_at, e.actor_organisation_id, e.actor_client_id, "
    "e.subject_type, e.subject_id, e.subject_version, e.child_id, e.data, e.hash"
)
WINDOW = (
    "SELECT max(seq) FROM (SELECT seq FROM events WHERE seq > :after ORDER BY seq LIMIT :scan) w"
)

# The category an event's payload belongs to, by type prefix (longest match wins).
EVENT_CATEGORY: dict[str, str] = {
    "child.": "identity",
    "child.enrolment": "education",
    "passport.": "identity",  # refined per field below
    "involvement.": "identity",  # refined by the involved organisation's type below
    "consent.": "contacts",
    "placement.": "placement",
    "attendance.": "placement",
    "exclusion.": "education",
    "education.": "education",
}
# Directory events hold no child data: every client that reads events receives them.
PUBLIC_TYPES = (
    "provider.updated",
    "provider.qa_recorded",
    "provider.qa_status_changed",
    "provider.offer_changed",
    "provider.location_changed",
)


def category_of(event_type: str) -> str | None:
    best = None
    for prefix, category in EVENT_CATEGORY.items():
        if event_type.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, category)
    return best[1] if best else None


def redacted(event_type: str, data: dict[str, Any], decision: Decision) -> dict[str, Any] | None:
    """The payload the caller may receive, or None when it may receive nothing of it."""
    if event_type.startswith("passport."):
        section = data.get("section")
        fields = [f for f in data.get("fields", []) if f"{section}.{f}" in decision.read.fields]
        if not fields:
            return None
        return {**data, "fields": fields}
    if event_type.startswith("involvement."):
        kinds = (
            [data["organisation_type"]]
            if "organisation_type" in data
            else ["health", "social_care"]
        )
        readable = all(f"involvements.{kind}" in decision.read.fields for kind in kinds)
        return data if readable else None
    if event_type == "child.updated":
        fields = [
            f
            for f in data.get("fields", [])
            if f in decision.read.fields or f not in FIELD_CATEGORY
        ]
        return {**data, "fields": fields} if fields else None
    category = category_of(event_type)
    if category is None or decision.can_read(category):
        return data
    return None


# the organisation a statement is rendered for: replaced by the caller's `:org` parameter
_RENDERED_FOR = uuid.UUID("00000000-0000-0000-0000-0000000a4b00")


def _visible_concern_ids(organisation_type: str) -> str:
    """The provider directory's own rule for concerns, rendered into the feed's SQL with
    the caller's organisation as the `:org` parameter (the statement is the same for every
    organisation of a type, so it is built once and prepared once)."""
    from aphub.providers.quality import visible_concerns  # the directory owns that rule

    rendered_for = Principal(_RENDERED_FOR, organisation_type, "", frozenset())
    query = select(ProviderConcern.id).where(visible_concerns(rendered_for))
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    literal = f"'{_RENDERED_FOR}'"
    sql = str(compiled)
    if literal not in sql:  # a rule not rendered as expected must fail loudly, not widen
        raise RuntimeError("the concerns rule no longer names the caller's organisation")
    return sql.replace(literal, ":org::uuid")


def _conditions(org_type: str, policy: Policy) -> str:
    org = ":org"
    # an event addressed to some bodies (`data.to`: the out-of-education flags, to the
    # body that must act and the home LA) reaches only those of them who see the child
    child = (
        "e.child_id IS NOT NULL AND EXISTS (SELECT 1 FROM children c WHERE c.id = e.child_id "
        f"AND {visible_condition(org_type, org)}) AND (e.subject_type <> 'placement' OR "
        "EXISTS (SELECT 1 FROM placements p WHERE p.id = e.subject_id AND "
        f"{placement_visible(org_type, org, policy)})) "
        "AND (NOT jsonb_exists(e.data, 'to') OR "
        f"e.data -> 'to' @> jsonb_build_array(({org})::text))"
    )
    public = ", ".join(f"'{t}'" for t in PUBLIC_TYPES)
    concern = (
        "e.type = 'provider.concern_raised' AND (e.data->>'concern_id')::uuid IN "
        f"({_visible_concern_ids(org_type)})"
    )
    # the register's events (an organisation, its API clients, their sign-ins to
    # oversight, its webhook subscriptions) reach the operator, who sees every event's
    # metadata, and the organisation concerned
    register = (
        "e.child_id IS NULL AND e.subject_type IN ('organisation', 'client', 'session', "
        "'webhook_subscription') "
        f"AND (e.data->>'organisation_id')::uuid = {org}::uuid"
    )
    return (
        f"(({child}) OR (e.child_id IS NULL AND e.type IN ({public})) OR ({concern}) "
        f"OR ({register}))"
    )


def feed_sql(principal: Principal) -> str:
    """The feed statement for the caller (params :org, :after, :limit, :scan). For any
    caller but the operator it answers at least one row: `upto`, the last sequence number
    the poll examined, and the events found up to there (`seq` null when none were)."""
    return _feed_sql(principal.organisation_type, active_policy())


@cache
def _feed_sql(organisation_type: str, policy: Policy) -> str:
    """Built once per kind of caller and policy: rendering it (the concerns rule through
    SQLAlchemy) cost about as much as running it.

    The window examined and the events in it are read by one statement, in one snapshot:
    read apart, an event sealed between the two reads lay inside the window the cursor
    moved past without being among the events handed out, and the reader never saw it."""
    if organisation_type == "operator":
        # support sees metadata of everything, never payloads or which child
        return (
            f"SELECT {COLUMNS}, NULL AS rules, NULL AS inv FROM events e "
            "WHERE e.seq > :after ORDER BY e.seq LIMIT :limit"
        )
    decision_columns = (
        f"(SELECT {rules_expression(organisation_type, ':org')} FROM children c "
        "WHERE c.id = e.child_id) AS rules, (SELECT "
        f"{involvement_categories_expression(organisation_type, ':org')} "
        "FROM children c WHERE c.id = e.child_id) AS inv"
    )
    events = (
        f"SELECT {COLUMNS}, {decision_columns} FROM events e WHERE e.seq > :after "
        f"AND e.seq <= w.upto AND {_conditions(organisation_type, policy)} "
        "ORDER BY e.seq LIMIT :limit"
    )
    # (OFFSET 0: folded into the events' query, the window was computed twice)
    return (
        f"SELECT w.upto, found.* FROM (SELECT coalesce(({WINDOW}), :after) AS upto OFFSET 0) w "
        f"LEFT JOIN LATERAL ({events}) found ON true ORDER BY found.seq"
    )
