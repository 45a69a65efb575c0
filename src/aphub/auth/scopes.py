"""Scopes: what a client may do at all (relationships decide which objects)."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "organisations:admin": "Create and change organisations and their client credentials",
    "providers:read": "Search the AP provider directory",
    "providers:write": "Edit directory entries, record quality assurance, raise concerns",
    "passports:read": "Read child records and passports the sharing rules allow",
    "passports:write": "Create children and edit passport sections the sharing rules allow",
    "placements:read": "Read placements the sharing rules allow",
    "placements:write": "Request, offer, start, extend, end and review placements",
    "attendance:write": "Return attendance for the caller's placements",
    "outcomes:write": "Record progress, accreditations, destinations and follow-ups",
    "events:read": "Read the event feed",
    "webhooks:manage": "Manage webhook subscriptions",
    "reports:read": "Read oversight reports and aggregates",
    "audit:read": "Read access logs and subject access exports for resident children",
    "clients:admin": "List, approve and revoke the organisation's own API clients",
}

# What a new client of each organisation type gets when no scopes are named.
DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    "operator": ("organisations:admin", "providers:read", "events:read"),
    "local_authority": tuple(
        s for s in SCOPES if s not in ("organisations:admin", "clients:admin")
    ),
    "school": (
        "providers:read",
        "providers:write",  # commissioners raise quality concerns about providers
        "passports:read",
        "passports:write",
        "placements:read",
        "placements:write",
        "outcomes:write",
        "events:read",
        "webhooks:manage",
    ),
    "trust": (
        "providers:read",
        "providers:write",
        "passports:read",
        "passports:write",
        "placements:read",
        "placements:write",
        "outcomes:write",
        "events:read",
        "webhooks:manage",
        "reports:read",
    ),
    "provider": (
        "providers:read",
        "providers:write",
        "passports:read",
        "passports:write",
        "placements:read",
        "placements:write",
        "attendance:write",
        "outcomes:write",
        "events:read",
        "webhooks:manage",
    ),
    # sharing.md gives health and social care read access to the placements of children
    # they are involved with: the feed delivers those events, so REST and GraphQL read them
    "health": (
        "providers:read",
        "passports:read",
        "passports:write",
        "placements:read",
        "events:read",
    ),
    "social_care": (
        "providers:read",
        "passports:read",
        "passports:write",
        "placements:read",
        "events:read",
    ),
    "dashboard": ("providers:read", "reports:read"),
}


def unknown_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]


# Scopes that reach child data (a record, a placement, an audit of either).
CHILD_SCOPES = frozenset(
    {
        "passports:read",
        "passports:write",
        "placements:read",
        "placements:write",
        "attendance:write",
        "outcomes:write",
        "audit:read",
    }
)
# The most a client of each organisation type may ever hold, whoever issues it: an
# operator or a dashboard never sees a child, so holds no child scope; only the operator
# administers the register.
SCOPE_BOUNDS: dict[str, frozenset[str]] = {
    "operator": frozenset({"organisations:admin", "providers:read", "events:read"}),
    "dashboard": frozenset({"providers:read", "reports:read"}),
    "local_authority": frozenset(s for s in SCOPES if s != "organisations:admin")
    | {"clients:admin"},
    **{
        kind: frozenset(DEFAULT_SCOPES[kind]) | {"reports:read", "clients:admin"}
        for kind in ("school", "trust", "provider", "health", "social_care")
    },
}


def beyond_bounds(organisation_type: str, scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The scopes an organisation of this type may never hold."""
    allowed = SCOPE_BOUNDS.get(organisation_type, frozenset())
    return sorted(s for s in scopes if s not in allowed)
