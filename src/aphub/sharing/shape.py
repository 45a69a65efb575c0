"""Shaping a child for a caller: fields outside the decision are absent, not null.

A decision's shape is compiled once (decisions are few and cached by the policy): the
fields it reads in catalogue order, its passport sections with the fields of each, and
the parts that never vary from child to child (the `access` member, the empty sections)
serialised in advance as `orjson.Fragment`s. Shaping a row is then copying its readable
columns. The result is for `orjson.dumps`: dates and times are still `date`/`datetime`,
and fragments are JSON already written; `plain` gives the JSON values themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from aphub.sharing.policy import Decision, Policy

Shaper = Callable[[Mapping[str, Any]], dict[str, Any]]
# columns that need converting: asyncpg's UUIDs are not ones orjson writes, and the
# enrolments arrive as the JSON text the statement aggregated (or already decoded, on a
# connection of the ORM's, which decodes JSON itself; so may the passport)
_UUID_COLUMNS = frozenset({"looked_after_la_id"})
_JSON_COLUMNS = frozenset({"enrolments"})


def decision_for(row: Mapping[str, Any], policy: Policy) -> Decision:
    return policy.decide(row["rules"] or (), row["inv_categories"])


def _fragment(value: Any) -> orjson.Fragment:
    return orjson.Fragment(orjson.dumps(value))


# by the decision's identity (the policy hands out one object per decision; hashing its
# grants on every row would cost more than the lookup saves), keeping the decision alive
_SHAPERS: dict[tuple[int, bool], tuple[Decision, Shaper]] = {}


def shaper(decision: Decision, *, passport: bool = True) -> Shaper:
    """The function shaping rows under `decision` (compiled once per decision), with the
    passport or without it (rows read without it)."""
    found = _SHAPERS.get((id(decision), passport))
    if found is None:
        found = _SHAPERS[(id(decision), passport)] = (decision, _compile(decision, passport))
    return found[1]


def _compile(decision: Decision, with_passport: bool) -> Shaper:
    core = decision.readable_core
    plain = tuple(n for n in core if n not in _UUID_COLUMNS | _JSON_COLUMNS)
    in_order = plain == core  # no column to convert: copy them in one pass
    sections = decision.readable_sections if with_passport else ()
    unrecorded = {s: {"version": 0, "updated_at": None} | dict.fromkeys(f) for s, f in sections}
    empty_sections = {s: _fragment(body) for s, body in unrecorded.items()}
    no_passport = _fragment(unrecorded)
    access = _fragment(
        {
            "rules": list(decision.rules),
            "categories": decision.categories,
            "policy_version": decision.policy_version,
        }
    )

    def passport(stored: Any) -> Any:
        if stored == "{}" or not stored:
            return no_passport  # most children have no section recorded yet
        if isinstance(stored, str):
            stored = orjson.loads(stored)
        shaped: dict[str, Any] = {}
        for section, fields in sections:
            entry = stored.get(section)
            if entry is None:
                shaped[section] = empty_sections[section]
                continue
            content = entry["content"]
            shaped[section] = {
                "version": entry["version"],
                "updated_at": entry["updated_at"],
                **{name: content.get(name) for name in fields},
            }
        return shaped

    def shape(row: Mapping[str, Any]) -> dict[str, Any]:
        child: dict[str, Any] = {
            "id": str(row["id"]),
            "version": row["version"],
            "home_la_id": str(row["home_la_id"]),
            "updated_at": row["updated_at"],
        }
        if in_order:
            for name in core:
                child[name] = row[name]
        else:
            for name in core:
                value = row[name]
                if name in _JSON_COLUMNS and isinstance(value, str):
                    value = orjson.Fragment(value)
                elif name in _UUID_COLUMNS and value is not None:
                    value = str(value)
                child[name] = value
        if sections:
            child["passport"] = passport(row["passport"])
        child["access"] = access
        return child

    return shape


def shape_child(row: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    return shaper(decision)(row)


def shape_rows(rows: list[Any], policy: Policy, *, passport: bool = True) -> list[dict[str, Any]]:
    """Rows of one statement, each shaped under its own decision (a page holds few)."""
    shapers: dict[tuple[Any, ...], Shaper] = {}
    shaped = []
    for row in rows:
        rules, narrowed = row["rules"], row["inv_categories"]
        key = (*rules, None if narrowed is None else tuple(narrowed))
        shape = shapers.get(key)
        if shape is None:
            shape = shapers[key] = shaper(decision_for(row, policy), passport=passport)
        shaped.append(shape(row))
    return shaped


def plain(shaped: dict[str, Any]) -> dict[str, Any]:
    """A shaped child as JSON values (strings for dates and times, fragments read)."""
    return orjson.loads(orjson.dumps(shaped))  # type: ignore[no-any-return]
