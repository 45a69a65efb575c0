"""The SQL that reads children: the relationship check and the category decision's inputs
travel in the one statement that fetches the data (one round trip).

The reads of a child by id and of a page (`read_one`, `read_page`) read only: the gate
hands their audit rows to the unit (`ReadUnit.record_access`), which writes them with
other reads' in one commit. The other statements here carry their access-audit row in
the statement itself, and take the parameters of `gate.audit_params`: `:org`, `:client`,
`:surface`, `:action`, `:policy_version` and `:categories_by_rule` (jsonb); then their own.

Statements are built once per organisation type and cached; asyncpg prepares them.
"""

from __future__ import annotations

from functools import cache

from aphub.sharing.policy import INVOLVEMENT_RULES
from aphub.sharing.relationships import (
    candidate_ids,
    involvement_categories_expression,
    rules_expression,
    visible_condition,
)

ORG = ":org::uuid"
CHILD_COLUMNS = (
    "c.id, c.version, c.home_la_id, c.updated_at, c.legal_first_name, "
    "c.legal_last_name, c.preferred_name, c.middle_names, c.date_of_birth, c.sex, "
    "c.year_group, c.ethnicity, c.home_postcode, c.upn, "
    "c.former_upns, c.uln, c.nhs_number, c.sen_provision, c.primary_need, "
    "c.has_medical_needs, c.looked_after, c.looked_after_la_id, c.child_in_need, "
    "c.child_protection_plan, c.young_carer, c.youth_justice, c.free_school_meals"
)
# the child's enrolments as JSON text, kept on its row by triggers on `enrolments`
# (migration 0026) and passed through to the response as they are
ENROLMENTS = "c.enrolment_list"
PASSPORT = (
    "(SELECT coalesce(json_object_agg(s.section, json_build_object('version', s.version, "
    "'content', s.content, 'updated_at', s.updated_at)), '{}'::json) "
    "FROM passport_sections s WHERE s.child_id = c.id)"
)
_INVOLVEMENT_RULES = ", ".join(f"'{r}'" for r in sorted(INVOLVEMENT_RULES))
CATEGORIES = (
    "ARRAY(SELECT DISTINCT cat FROM unnest(g.rules) r, "
    "jsonb_array_elements_text(:categories_by_rule::jsonb -> r) cat "
    f"WHERE g.inv_categories IS NULL OR r NOT IN ({_INVOLVEMENT_RULES}) "
    "OR cat = ANY(g.inv_categories) ORDER BY cat)"
)
_AUDIT_INSERT = (
    "INSERT INTO access_log (id, organisation_id, client_id, child_ids, action, surface, "
    "outcome, rules, categories, policy_version) "
    "SELECT gen_random_uuid(), :org::uuid, :client, {ids}, :action, :surface, "
    "CASE WHEN cardinality(g.rules) > 0 THEN 'allowed' ELSE 'denied' END, g.rules, "
    f"CASE WHEN cardinality(g.rules) > 0 THEN {CATEGORIES} ELSE ARRAY[]::text[] END, "
    ":policy_version "
)
# The audit of the rows read (`v`): one row per distinct decision among them, naming its
# children, with the categories computed once (a page of a list is one to three rows).
AUDIT = _AUDIT_INSERT.format(ids="g.ids") + (
    "FROM (SELECT array_agg(v.id ORDER BY v.id) AS ids, v.rules, v.inv_categories FROM v "
    "GROUP BY v.rules, v.inv_categories) g"
)
# The same for a statement that reads at most one child, without the grouping.
AUDIT_ONE = _AUDIT_INSERT.format(ids="ARRAY[g.id]") + "FROM v g"


def _decorated(organisation_type: str, source: str, *, passport: bool = True) -> str:
    """The children of `source` with what the shaping reads; without their passports
    when `passport` is false (a list page the caller asked for without them)."""
    return (
        f"SELECT {CHILD_COLUMNS}, {rules_expression(organisation_type, ORG)} AS rules, "
        f"{involvement_categories_expression(organisation_type, ORG)} AS inv_categories, "
        f"{ENROLMENTS} AS enrolments"
        + (f", {PASSPORT} AS passport" if passport else "")
        + f" FROM {source}"
    )


# A merged record's id answers with the record it was merged into.
_SURVIVOR = (
    "coalesce((SELECT m.merged_into_id FROM children m WHERE m.id = :child_id::uuid), "
    ":child_id::uuid)"
)


@cache
def read_one(organisation_type: str) -> str:
    """One child by id (`:child_id`; a merged record's id reads its survivor) with the
    caller's rules for it (`:org`), empty when it may not see it. No row: no such child."""
    return _decorated(organisation_type, f"children c WHERE c.id = {_SURVIVOR}")


@cache
def read_many(organisation_type: str) -> str:
    """Children by id (the uuid[] `:child_ids`), each audited as allowed or denied (a batch
    of `read_one`: GraphQL resolves the children of a page of placements in one statement)."""
    where = "children c WHERE c.id = ANY(:child_ids::uuid[])"
    return f"WITH v AS ({_decorated(organisation_type, where)}), a AS ({AUDIT}) SELECT * FROM v"


@cache
def read_page(organisation_type: str, passport: bool, since: bool = False) -> str:
    """The next page (`:limit` rows) after id `:after` of children the caller (`:org`)
    may see (changed at or after `:since`, when `since`)."""
    ids = candidate_ids(
        organisation_type,
        ORG,
        ":after::uuid",
        ":limit::int",
        ":since::timestamptz" if since else None,
    )
    source = f"children c JOIN ({ids}) page ON page.id = c.id"
    return _decorated(organisation_type, source, passport=passport) + " ORDER BY c.id"


def _reads_identifier(rules_param: str) -> str:
    """A condition on decorated row `m`: one of its rules reads the identifier, which
    `rules_param` lists the rules for (an involvement only if it records identity)."""
    return (
        f"EXISTS (SELECT 1 FROM unnest(m.rules) r WHERE r = ANY({rules_param}::text[]) AND "
        f"(m.inv_categories IS NULL OR r NOT IN ({_INVOLVEMENT_RULES}) "
        "OR 'identity' = ANY(m.inv_categories)))"
    )


@cache
def read_matching(organisation_type: str, passport: bool) -> str:
    """Visible children matching an identifier: UPN (current or former) `:upn`, NHS
    number `:nhs_number`.

    A child matches only on an identifier the caller may read (`:upn_rules`,
    `:former_upn_rules`, `:nhs_number_rules`: the rules reading each), or a search would
    confirm an identifier the sharing rules keep from it (a provider asked to take a child
    sees no UPN).
    """
    where = (
        "children c WHERE ((c.upn = :upn OR :upn = ANY(c.former_upns)) "
        f"OR c.nhs_number = :nhs_number) AND {visible_condition(organisation_type, ORG)}"
    )
    readable = (
        f"(m.upn = :upn AND {_reads_identifier(':upn_rules')}) "
        f"OR (:upn = ANY(m.former_upns) AND {_reads_identifier(':former_upn_rules')}) "
        f"OR (m.nhs_number = :nhs_number AND {_reads_identifier(':nhs_number_rules')})"
    )
    return (
        f"WITH m AS ({_decorated(organisation_type, where, passport=passport)}), "
        f"v AS (SELECT * FROM m WHERE {readable} ORDER BY m.id LIMIT 2), "
        f"a AS ({AUDIT}) SELECT * FROM v"
    )


@cache
def audited_rules(organisation_type: str) -> str:
    """Rules and involvement categories for child `:child_id`, audited as `:action`: for
    reads of a child's data beside its record (passport history, involvements, consents)."""
    decorated = (
        f"SELECT c.id, {rules_expression(organisation_type, ORG)} AS rules, "
        f"{involvement_categories_expression(organisation_type, ORG)} AS inv_categories "
        "FROM children c WHERE c.id = :child_id::uuid"
    )
    return f"WITH v AS ({decorated}), a AS ({AUDIT_ONE}) SELECT rules, inv_categories FROM v"


# An audit row whose outcome and categories the caller decided (access log, export), or
# one kept after a rollback undid the row the read statement wrote.
RECORD_ACCESS_MANY = (
    "INSERT INTO access_log (id, organisation_id, client_id, child_ids, action, surface, "
    "outcome, rules, categories, policy_version) "
    "VALUES (gen_random_uuid(), :org, :client, :child_ids::uuid[], :action, :surface, "
    ":outcome, :rules, :categories, :policy_version)"
)


@cache
def visible_rules(organisation_type: str) -> str:
    """Rules and involvement categories for child `:child_id`, without reading it (write
    checks)."""
    return (
        f"SELECT {rules_expression(organisation_type, ORG)} AS rules, "
        f"{involvement_categories_expression(organisation_type, ORG)} AS inv_categories "
        "FROM children c WHERE c.id = :child_id::uuid"
    )


@cache
def visible_ids_condition(organisation_type: str, org: str) -> str:
    """For other domains' queries: a condition on child row `c` that the caller sees it."""
    return visible_condition(organisation_type, org)
