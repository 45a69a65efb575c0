"""Shaping a child for a caller: fields outside the decision are absent, not null."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

import orjson

from aphub.sharing.policy import Decision, Policy


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is not None and not isinstance(value, str | int | float | bool | dict):
        return str(value)  # UUIDs
    return value


def decision_for(row: Mapping[str, Any], policy: Policy) -> Decision:
    return policy.decide(row["rules"] or (), row["inv_categories"])


@cache
def _unrecorded(visible: tuple[str, ...]) -> dict[str, Any]:
    """A section the child has no entry for: version 0, every readable field null."""
    return {"version": 0, "updated_at": None, **dict.fromkeys(visible)}


def shape_passport(passport: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for section, visible in decision.readable_sections:
        stored = passport.get(section)
        if stored is None:
            shaped[section] = dict(_unrecorded(visible))
            continue
        content = stored["content"]
        shaped[section] = {
            "version": stored["version"],
            "updated_at": stored["updated_at"],
            **{name: content.get(name) for name in visible},
        }
    return shaped


# values JSON carries as they are; anything else (dates, UUIDs, lists of them) is converted
_NATIVE = frozenset({str, int, bool, float, type(None)})


def shape_child(row: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    child: dict[str, Any] = {
        "id": str(row["id"]),
        "version": row["version"],
        "home_la_id": str(row["home_la_id"]),
        "updated_at": row["updated_at"].isoformat(),
    }
    for name in decision.readable_core:
        value = row[name]
        if name == "enrolments":  # jsonb, as text
            child[name] = _json(value)
        elif type(value) in _NATIVE:
            child[name] = value
        else:
            child[name] = _plain(value)
    passport = shape_passport(_json(row["passport"]) or {}, decision)
    if passport:
        child["passport"] = passport
    child["access"] = {
        "rules": list(decision.rules),
        "categories": decision.categories,
        "policy_version": decision.policy_version,
    }
    return child
