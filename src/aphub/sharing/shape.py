"""Shaping a child for a caller: fields outside the decision are absent, not null."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
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


def shape_passport(passport: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for section, visible in decision.readable_sections:
        stored = passport.get(section)
        content = stored["content"] if stored else {}
        shaped[section] = {
            "version": stored["version"] if stored else 0,
            "updated_at": stored["updated_at"] if stored else None,
            **{name: content.get(name) for name in visible},
        }
    return shaped


def shape_child(row: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    child: dict[str, Any] = {
        "id": str(row["id"]),
        "version": row["version"],
        "home_la_id": str(row["home_la_id"]),
        "updated_at": row["updated_at"].isoformat(),
    }
    for name in decision.readable_core:
        child[name] = _json(row["enrolments"]) if name == "enrolments" else _plain(row[name])
    passport = shape_passport(_json(row["passport"]) or {}, decision)
    if passport:
        child["passport"] = passport
    child["access"] = {
        "rules": list(decision.rules),
        "categories": decision.categories,
        "policy_version": decision.policy_version,
    }
    return child
