"""Relationships from sharing.md, computed in SQL.

Each rule is two fragments of SQL over the caller's organisation id (`{org}`):
`applies` is a condition on one child row `c` (used to name the rules that let the
caller see a given child, in the same statement that reads it), and `candidates`
selects the ids of every child the rule reaches, in a form an index can serve in id
order (used to build list pages without scanning children the caller cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass

from aphub.sharing.policy import INVOLVEMENT_RULES, RULE_ORGANISATION_TYPE

# "Today" is the date in England: access that ends on a date ends at local midnight.
TODAY = "(now() AT TIME ZONE 'Europe/London')::date"
CURRENT_PLACEMENT = "('requested', 'offered', 'active')"
ON_ROLL = f"e.start_date <= {TODAY} AND (e.end_date IS NULL OR e.end_date >= {TODAY})"
LEFT_ROLL = f"e.end_date < {TODAY} AND e.end_date > {TODAY} - interval '12 months'"
INVOLVEMENT_CURRENT = (
    f"i.organisation_id = {{org}} AND i.start_date <= {TODAY} "
    f"AND (i.end_date IS NULL OR i.end_date >= {TODAY})"
)
PROVIDER_PLACEMENT = (
    "p.provider_id = {org} AND (p.status IN ('offered', 'active') OR "
    f"(p.status = 'ended' AND p.actual_end_date > {TODAY} - 90))"
)
# The LA's own organisations, each list computed once per statement (an InitPlan), so a
# placement is tested by its own columns: `ix_placements_child_id` carries them, and both
# the candidates and the per-child test are index-only scans.
HOSTED = (
    f"p.status IN {CURRENT_PLACEMENT} AND (p.provider_id = ANY(ARRAY(SELECT o.id FROM "
    "organisations o WHERE o.local_authority_id = {org})) OR p.commissioner_id = ANY(ARRAY("
    "SELECT o.id FROM organisations o WHERE o.type = 'school' AND o.local_authority_id = {org})))"
)


# The trust's own commissions and its academies': each list computed once per statement.
TRUST_COMMISSIONS = (
    "(p.commissioner_id = {org} OR p.commissioner_id = ANY(ARRAY("
    "SELECT s.id FROM organisations s WHERE s.trust_id = {org})))"
)


@dataclass(frozen=True)
class RuleSQL:
    name: str
    applies: str  # condition on child row `c`
    candidates: str  # SELECT <child id> AS id ..., no ORDER/LIMIT
    candidate_id: str  # the column expression of `candidates` that is the child id


RULES: dict[str, RuleSQL] = {
    r.name: r
    for r in [
        RuleSQL(
            "la_home",
            # a record merged into another answers as its survivor (`statements.read_one`)
            "c.home_la_id = {org} AND c.merged_into_id IS NULL",
            "SELECT c.id FROM children c WHERE c.home_la_id = {org} AND c.merged_into_id IS NULL",
            "c.id",
        ),
        RuleSQL(
            "la_host",
            f"EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id AND {HOSTED})",
            f"SELECT p.child_id AS id FROM placements p WHERE {HOSTED}",
            "p.child_id",
        ),
        RuleSQL(
            "school_on_roll",
            f"EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id "
            f"AND e.school_id = {{org}} AND {ON_ROLL})",
            f"SELECT e.child_id AS id FROM enrolments e WHERE e.school_id = {{org}} AND {ON_ROLL}",
            "e.child_id",
        ),
        RuleSQL(
            "school_left_roll",
            f"EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id "
            f"AND e.school_id = {{org}} AND {LEFT_ROLL})",
            f"SELECT e.child_id AS id FROM enrolments e WHERE e.school_id = {{org}} "
            f"AND {LEFT_ROLL}",
            "e.child_id",
        ),
        RuleSQL(
            "school_commissioner",
            "EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id "
            "AND p.commissioner_id = {org})",
            "SELECT p.child_id AS id FROM placements p WHERE p.commissioner_id = {org}",
            "p.child_id",
        ),
        RuleSQL(
            "trust_school_roll",
            "EXISTS (SELECT 1 FROM enrolments e JOIN organisations s ON s.id = e.school_id "
            f"WHERE e.child_id = c.id AND s.trust_id = {{org}} AND {ON_ROLL})",
            "SELECT e.child_id AS id FROM enrolments e JOIN organisations s "
            f"ON s.id = e.school_id WHERE s.trust_id = {{org}} AND {ON_ROLL}",
            "e.child_id",
        ),
        RuleSQL(
            "trust_commissioner",
            f"EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id AND {TRUST_COMMISSIONS})",
            f"SELECT p.child_id AS id FROM placements p WHERE {TRUST_COMMISSIONS}",
            "p.child_id",
        ),
        RuleSQL(
            "provider_requested",
            "EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id "
            "AND p.provider_id = {org} AND p.status = 'requested')",
            "SELECT p.child_id AS id FROM placements p WHERE p.provider_id = {org} "
            "AND p.status = 'requested'",
            "p.child_id",
        ),
        RuleSQL(
            "provider_placement",
            f"EXISTS (SELECT 1 FROM placements p WHERE p.child_id = c.id AND {PROVIDER_PLACEMENT})",
            f"SELECT p.child_id AS id FROM placements p WHERE {PROVIDER_PLACEMENT}",
            "p.child_id",
        ),
        RuleSQL(
            "health_involvement",
            f"EXISTS (SELECT 1 FROM involvements i WHERE i.child_id = c.id "
            f"AND {INVOLVEMENT_CURRENT})",
            f"SELECT i.child_id AS id FROM involvements i WHERE {INVOLVEMENT_CURRENT}",
            "i.child_id",
        ),
        RuleSQL(
            "social_care_involvement",
            f"EXISTS (SELECT 1 FROM involvements i WHERE i.child_id = c.id "
            f"AND {INVOLVEMENT_CURRENT})",
            f"SELECT i.child_id AS id FROM involvements i WHERE {INVOLVEMENT_CURRENT}",
            "i.child_id",
        ),
    ]
}
assert set(RULES) == set(RULE_ORGANISATION_TYPE), "every policy rule needs its SQL"


def rules_for(organisation_type: str) -> list[RuleSQL]:
    """The relationships an organisation of this type can have (none: dashboards, operator)."""
    return [RULES[n] for n, t in RULE_ORGANISATION_TYPE.items() if t == organisation_type]


def rules_expression(organisation_type: str, org: str) -> str:
    """`text[]` of the rule names that let `{org}` see child `c` (empty: hidden)."""
    rules = rules_for(organisation_type)
    if not rules:
        return "ARRAY[]::text[]"
    cases = ", ".join(f"CASE WHEN {r.applies.format(org=org)} THEN '{r.name}' END" for r in rules)
    return f"array_remove(ARRAY[{cases}]::text[], NULL)"


def visible_condition(organisation_type: str, org: str) -> str:
    """A condition on child row `c`: the caller may see it."""
    rules = rules_for(organisation_type)
    if not rules:
        return "false"
    return "(" + " OR ".join(f"({r.applies.format(org=org)})" for r in rules) + ")"


def involvement_categories_expression(organisation_type: str, org: str) -> str:
    """The categories the caller's current involvements with child `c` allow (NULL: the
    caller's type has no involvement rules). An involvement recording no categories allows
    none: never NULL for an involvement type, which would mean "not narrowed"."""
    if not any(r.name in INVOLVEMENT_RULES for r in rules_for(organisation_type)):
        return "NULL::text[]"
    return (
        "(SELECT coalesce(array_agg(DISTINCT cat), ARRAY[]::text[]) "
        "FROM involvements i, unnest(i.categories) cat "
        f"WHERE i.child_id = c.id AND {INVOLVEMENT_CURRENT.format(org=org)})"
    )


def candidate_ids(
    organisation_type: str, org: str, after: str, limit: str, since: str | None = None
) -> str:
    """Ids of the next `limit` children after `after` the caller may see, in id order
    (only those whose record changed at or after `since`, when given).

    Each rule contributes its own index-ordered page; the union of those short pages
    holds the next page of the whole, so no unseen child is ever scanned.
    """
    rules = rules_for(organisation_type)
    if not rules:
        return "SELECT NULL::uuid AS id WHERE false"
    changed = (
        f" WHERE EXISTS (SELECT 1 FROM children cu WHERE cu.id = b.id AND cu.updated_at >= {since})"
        if since
        else ""
    )
    branches = []
    for r in rules:
        sql = r.candidates.format(org=org)
        branches.append(
            f"(SELECT DISTINCT id FROM ({sql} AND {r.candidate_id} > {after}) b{changed} "
            f"ORDER BY id LIMIT {limit})"
        )
    return f"SELECT id FROM ({' UNION '.join(branches)}) u ORDER BY id LIMIT {limit}"
