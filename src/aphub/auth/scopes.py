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
}

# What a new client of each organisation type gets when no scopes are named.
DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    "operator": ("organisations:admin", "providers:read", "events:read"),
    "local_authority": tuple(s for s in SCOPES if s != "organisations:admin"),
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
    "health": ("providers:read", "passports:read", "passports:write", "events:read"),
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
