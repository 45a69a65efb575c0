"""Which placements an organisation may see (sharing.md, category `placement`).

A placement is visible when the caller has a relationship to the placement itself
(its commissioner, its provider while the provider's access lasts, the child's home LA,
the host LA of a current placement, an involved health or social care body) AND the
sharing policy grants `placement` to a rule by which the caller sees the child.
"""

from __future__ import annotations

from functools import cache

from aphub.sharing.policy import Policy
from aphub.sharing.relationships import (
    CURRENT_PLACEMENT,
    INVOLVEMENT_CURRENT,
    RULES,
    TODAY,
    RuleSQL,
    rules_for,
)

_PLACEMENT_RELATION: dict[str, str] = {
    "local_authority": (
        "(p.commissioner_id = {org} "
        "OR EXISTS (SELECT 1 FROM children pc WHERE pc.id = p.child_id AND pc.home_la_id = {org}) "
        f"OR (p.status IN {CURRENT_PLACEMENT} AND ("
        "EXISTS (SELECT 1 FROM organisations prov WHERE prov.id = p.provider_id "
        "AND prov.local_authority_id = {org}) "
        "OR EXISTS (SELECT 1 FROM organisations comm WHERE comm.id = p.commissioner_id "
        "AND comm.type = 'school' AND comm.local_authority_id = {org}))))"
    ),
    "school": "p.commissioner_id = {org}",
    # a trust's academies commission in its name: their placements are the trust's own
    "trust": (
        "(p.commissioner_id = {org} OR p.commissioner_id = ANY(ARRAY("
        "SELECT s.id FROM organisations s WHERE s.trust_id = {org})))"
    ),
    "provider": (
        "(p.provider_id = {org} AND (p.status IN ('requested', 'offered', 'active') "
        f"OR (p.status = 'ended' AND p.actual_end_date > {TODAY} - 90)))"
    ),
    "health": (
        "EXISTS (SELECT 1 FROM involvements i WHERE i.child_id = p.child_id AND "
        f"{INVOLVEMENT_CURRENT} AND 'placement' = ANY(i.categories))"
    ),
}
_PLACEMENT_RELATION["social_care"] = _PLACEMENT_RELATION["health"]
# The same relations for a statement that has joined the placement's child as `c`: the
# home LA's test reads the joined row instead of a subquery (which PostgreSQL hashes over
# every resident, once per statement: a page of a report would pay for the whole area).
_JOINED_RELATION = {
    **_PLACEMENT_RELATION,
    "local_authority": _PLACEMENT_RELATION["local_authority"].replace(
        "EXISTS (SELECT 1 FROM children pc WHERE pc.id = p.child_id AND pc.home_la_id = {org})",
        "c.home_la_id = {org}",
    ),
}
assert _JOINED_RELATION["local_authority"] != _PLACEMENT_RELATION["local_authority"]


def _sees_child(organisation_type: str, org: str, policy: Policy) -> str | None:
    """A condition on child row `c`: a rule that grants `placement` lets the caller see it."""
    granting = _granting(organisation_type, policy)
    if not granting:
        return None
    return " OR ".join(f"({r.applies.format(org=org)})" for r in granting)


# Relationships to a placement that are themselves a rule's test, applied to that
# placement (`PROVIDER_PLACEMENT` and the provider's requests, the school's or trust's
# commission): a placement the caller is tied to this way makes the rule hold for its
# child. When the policy grants `placement` to every rule listed, the relationship alone
# decides, and the child's row and other placements are never read (nor planned: each
# sub-plan of a statement costs its start-up on every execution).
_RELATION_IS_RULES: dict[str, tuple[str, ...]] = {
    "provider": ("provider_requested", "provider_placement"),
    "school": ("school_commissioner",),
    "trust": ("trust_commissioner",),
}
assert all(set(names) <= set(RULES) for names in _RELATION_IS_RULES.values())


def _granting(organisation_type: str, policy: Policy) -> list[RuleSQL]:
    """The caller's rules to which the policy grants the `placement` category."""
    return [
        r
        for r in rules_for(organisation_type)
        if r.name in policy.rules and "placement" in policy.rules[r.name].read.categories
    ]


@cache
def _visible(organisation_type: str, org: str, policy: Policy) -> str:
    relation = _PLACEMENT_RELATION.get(organisation_type)
    sees_child = _sees_child(organisation_type, org, policy)
    if relation is None or sees_child is None:
        return "false"
    tied = relation.format(org=org)
    granting = {r.name for r in _granting(organisation_type, policy)}
    if organisation_type in _RELATION_IS_RULES and granting >= set(
        _RELATION_IS_RULES[organisation_type]
    ):
        return f"({tied})"
    return (
        f"({tied} AND EXISTS (SELECT 1 FROM children c WHERE c.id = p.child_id AND ({sees_child})))"
    )


@cache
def _visible_joined(organisation_type: str, org: str, policy: Policy) -> str:
    # (no short cut: the child's row is joined already, its tests are per row)
    relation = _JOINED_RELATION.get(organisation_type)
    sees_child = _sees_child(organisation_type, org, policy)
    if relation is None or sees_child is None:
        return "false"
    return f"({relation.format(org=org)} AND ({sees_child}))"


def placement_visible(organisation_type: str, org: str, policy: Policy) -> str:
    """A condition on placement row `p`: the caller may see it."""
    return _visible(organisation_type, org, policy)


def placement_visible_with_child(organisation_type: str, org: str, policy: Policy) -> str:
    """`placement_visible` for a statement that joins the placement's child as `c`
    (`JOIN children c ON c.id = p.child_id`): the same condition, tested on the joined
    row, so that a statement paging through many placements pays per row it reads."""
    return _visible_joined(organisation_type, org, policy)
