"""The feed's statement is one text per kind of caller: the organisation is a parameter.

Rendering it per organisation (the concerns rule compiled with the caller's id as a
literal) cost about as much as running it, made every organisation's poll a statement
of its own to prepare and plan, and wrote organisation ids into statement text (slow-query
logs, pg_stat_statements). Which concerns reach whom is tested in test_providers_events.
"""

from __future__ import annotations

import uuid

import pytest

from aphub.auth.principal import Principal
from aphub.sharing import events as event_sharing

TYPES = ("local_authority", "school", "trust", "provider", "health", "social_care", "operator")


def _principal(organisation_type: str) -> Principal:
    return Principal(uuid.uuid4(), organisation_type, "test-client", frozenset())


@pytest.mark.parametrize("organisation_type", TYPES)
def test_one_statement_per_kind_of_caller(organisation_type: str) -> None:
    first, second = _principal(organisation_type), _principal(organisation_type)
    sql = event_sharing.feed_sql(first)
    assert event_sharing.feed_sql(second) is sql  # built once, not per poll
    for principal in (first, second):
        assert str(principal.organisation_id) not in sql
    assert str(event_sharing._RENDERED_FOR) not in sql
    if organisation_type != "operator":
        assert ":org::uuid" in sql  # the concerns rule names the caller by parameter
