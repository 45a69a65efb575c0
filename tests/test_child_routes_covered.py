"""Every endpoint and every GraphQL field that resolves anything is classified: child data
(and the test proving that the sharing rules hold for it) or no child data (and why).

A new endpoint that forgets the sharing layer must fail a test (design/style.md). This one
walks the endpoint table (hot endpoints included: the lean dispatch serves only declared
endpoints), checks that the application serves nothing else but documentation and GraphQL,
and walks every GraphQL field with a resolver, nested ones too (`Placement.child`), so
adding one means deciding, in review, whether it serves child data and which test proves
its sharing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, WebSocketRoute

from aphub.api.routes import EndpointRoute, FastPath
from aphub.api.table import ENDPOINTS
from aphub.config import Settings
from aphub.graphql.schema import build_schema
from aphub.middleware import HubMiddleware
from aphub.reports.catalogue import REPORTS as REPORT_CATALOGUE

CHILD_DATA = "child data"
NO_CHILD_DATA = "no child data"
Classification = tuple[str, str]


def child_data(test: str) -> Classification:
    """Serves or changes child data; `test` proves the sharing rules hold for it."""
    return (CHILD_DATA, test)


def no_child_data(reason: str) -> Classification:
    return (NO_CHILD_DATA, reason)


MATRIX_READ = child_data("test_rest_child_reads_follow_the_matrix")
MATRIX_LIST = child_data("test_rest_child_lists_follow_the_matrix")
MATRIX_WRITE = child_data("test_child_updates_follow_the_matrix_over_rest_and_graphql")
MATRIX_GRAPHQL = child_data("test_graphql_child_and_children_follow_the_matrix")
GRAPHQL = child_data("test_every_graphql_field_is_classified")  # each field, below
SECTION_EDIT = child_data(
    "test_provider_may_read_but_not_write_medical_needs_and_403_names_the_field"
)
INVOLVEMENTS = child_data("test_only_home_la_or_school_on_roll_record_or_end_involvements")
CONSENTS = child_data("test_consents_recorded_by_writers_seen_by_contact_readers")
# Placements: the lifecycle tests check who may act and that a stranger gets 404, on a few
# transitions; the placement matrix (every organisation type x every status) is still to be
# written and named here.
PLACEMENT_READS = child_data("test_placement_visibility_follows_the_matrix")
PLACEMENT_ACTIONS = child_data("test_placement_actions_follow_the_matrix")
# Attendance: returns are limited to the provider's own placements; who sees marks,
# summaries and concerns is proved organisation by organisation (test_attendance_matrix).
ATTENDANCE_READS = child_data("test_attendance_visibility_follows_the_matrix")
ATTENDANCE_RETURN = child_data(
    "test_provider_returns_only_for_its_own_placements_and_others_cannot_return"
)
CONCERNS_RUN = child_data("test_local_authority_runs_concerns_for_its_area_and_others_may_not")
OUTCOMES = child_data(
    "test_progress_accreditations_destination_and_follow_ups_show_in_views_and_history"
)
OUTCOMES_GRAPHQL = child_data("test_graphql_mutations_record_outcomes_with_rest_rules")
HOLIDAYS = no_child_data("a local authority's school holiday calendar")
DIRECTORY = no_child_data("AP provider directory (organisations, offers, sites, quality)")
EDUCATION = child_data("test_exclusions_and_education_follow_the_childs_sharing_rules")
EDUCATION_GRAPHQL = child_data("test_graphql_reads_and_records_exclusions_as_rest_does")
NESTED_PARITY = child_data("test_what_the_feed_delivers_is_what_rest_and_graphql_read_and_back")
# every report, as the home LA, the school and the trust, against another LA's child
REPORT_READS = child_data("test_another_las_child_is_in_no_report_and_every_answer_says_what_it_is")
REGISTER = no_child_data("organisations register and client credentials (operator)")
SIGN_IN = no_child_data(
    "signing people in and out of /oversight: who is signed in (organisation, type), no child"
)
DOCS = no_child_data("API documentation")
WEBHOOKS = no_child_data("webhook subscriptions: a URL, event filters, delivery state")
# a replay sends events again, each through the feed's sharing filter as it stands now
WEBHOOK_DELIVERIES = child_data("test_deliveries_stop_when_the_relationship_to_the_child_ends")

# Tests named above that do not exist yet. Remove a name once its test is written; the
# classification test fails until then only for names missing from this list.
NOT_YET_WRITTEN = {
    "test_placement_visibility_follows_the_matrix",
    "test_placement_actions_follow_the_matrix",
}

# What the application serves besides the endpoint table: documentation and GraphQL.
NOT_ENDPOINTS: dict[tuple[str, str], Classification] = {
    ("GET", "/openapi.json"): DOCS,
    ("GET", "/docs"): DOCS,
    ("GET", "/redoc"): DOCS,
    ("GET", "/docs/oauth2-redirect"): DOCS,
    ("MOUNT", "/static/docs"): no_child_data("static assets of the documentation"),
    ("MOUNT", "/static/graphiql"): no_child_data("static assets of GraphiQL"),
    # GraphQL: one endpoint, every field of its schema classified in GRAPHQL_FIELDS
    ("GET", "/graphql"): GRAPHQL,
    ("POST", "/graphql"): GRAPHQL,
    ("WEBSOCKET", "/graphql"): GRAPHQL,
    # Prometheus' text exposition, outside the JSON contract: counts by route template and
    # the event log's figures, never an identifier (tests/test_metrics.py)
    ("GET", "/metrics"): no_child_data("operational metrics for the operator's scrapers"),
}

ROUTES: dict[tuple[str, str], Classification] = {
    ("GET", "/problems/{slug}"): no_child_data("problem type descriptions"),
    ("GET", "/healthz"): no_child_data("liveness probe"),
    ("GET", "/readyz"): no_child_data("readiness probe"),
    ("POST", "/v1/oauth/token"): no_child_data("token endpoint"),
    ("GET", "/.well-known/jwks.json"): no_child_data("public keys that verify tokens"),
    ("GET", "/v1/organisations"): REGISTER,
    ("POST", "/v1/organisations"): REGISTER,
    ("GET", "/v1/organisations/{organisation_id}"): REGISTER,
    ("PATCH", "/v1/organisations/{organisation_id}"): REGISTER,
    ("GET", "/v1/organisations/{organisation_id}/clients"): REGISTER,
    ("POST", "/v1/organisations/{organisation_id}/clients"): REGISTER,
    ("DELETE", "/v1/organisations/{organisation_id}/clients/{client_id}"): REGISTER,
    ("POST", "/v1/organisations/{organisation_id}/clients/{client_id}/approve"): REGISTER,
    # oversight for people: the area's figures and a child's page, and sessions
    ("GET", "/oversight"): child_data(
        "test_the_page_shows_the_overview_and_a_childs_page_follows_sharing"
    ),
    ("GET", "/oversight/children/{child_id}"): child_data(
        "test_the_page_shows_the_overview_and_a_childs_page_follows_sharing"
    ),
    ("GET", "/oversight/sign-in"): SIGN_IN,
    ("POST", "/oversight/sign-in"): SIGN_IN,
    ("GET", "/oversight/sign-in/{issuer_name}"): SIGN_IN,
    ("GET", "/oversight/callback"): SIGN_IN,
    ("POST", "/oversight/sign-out"): SIGN_IN,
    # children
    ("GET", "/v1/children"): MATRIX_LIST,
    ("POST", "/v1/children"): child_data("test_child_visible_to_home_la_and_school_not_provider"),
    ("GET", "/v1/children/{child_id}"): MATRIX_READ,
    ("PATCH", "/v1/children/{child_id}"): MATRIX_WRITE,
    ("POST", "/v1/children/{child_id}/enrolments"): MATRIX_WRITE,
    ("POST", "/v1/children/{child_id}/enrolments/{enrolment_id}/end"): MATRIX_WRITE,
    **{
        ("PATCH", f"/v1/children/{{child_id}}/passport/{section}"): SECTION_EDIT
        for section in (
            "about_me",
            "needs_and_strategies",
            "child_voice",
            "family_voice",
            "risks_and_safeguarding",
            "health",
            "education_history",
            "post16_intentions",
            "contacts",
        )
    },
    ("GET", "/v1/children/{child_id}/passport/{section}/history"): child_data(
        "test_history_shows_only_readable_fields_and_versions"
    ),
    ("GET", "/v1/children/{child_id}/involvements"): child_data(
        "test_involvements_list_shows_organisation_basis_period_and_categories"
    ),
    ("POST", "/v1/children/{child_id}/involvements"): INVOLVEMENTS,
    ("POST", "/v1/children/{child_id}/involvements/{involvement_id}/end"): INVOLVEMENTS,
    ("GET", "/v1/children/{child_id}/consents"): CONSENTS,
    ("POST", "/v1/children/{child_id}/consents"): CONSENTS,
    ("POST", "/v1/children/{child_id}/consents/{consent_id}/withdraw"): CONSENTS,
    ("GET", "/v1/children/{child_id}/access-log"): child_data(
        "test_home_la_can_list_the_access_audit_and_no_other_organisation_can"
    ),
    ("GET", "/v1/children/{child_id}/export"): child_data(
        "test_export_holds_everything_about_the_child_for_the_home_la_only"
    ),
    ("GET", "/v1/children/{child_id}/exclusions"): EDUCATION,
    ("POST", "/v1/children/{child_id}/exclusions"): child_data(
        "test_only_the_school_whose_roll_the_child_is_on_excludes"
    ),
    ("POST", "/v1/children/{child_id}/exclusions/{exclusion_id}/status"): child_data(
        "test_a_review_outcome_moves_the_exclusion_on_and_reinstatement_ends_the_duty"
    ),
    ("GET", "/v1/children/{child_id}/education"): EDUCATION,
    ("GET", "/v1/education/flags"): child_data(
        "test_a_permanent_exclusion_breached_on_day_six_flags_the_home_la_until_provision"
    ),
    ("GET", "/v1/reports"): no_child_data(
        "the catalogue of oversight reports: their names, definitions and columns"
    ),
    **{("GET", report.path): REPORT_READS for report in REPORT_CATALOGUE},
    ("GET", "/v1/reports/children-not-in-school"): child_data(
        "test_the_register_of_children_not_in_school_is_the_home_las_and_csv_matches_json"
    ),
    ("GET", "/v1/oversight/overview"): child_data(
        "test_the_overview_counts_what_the_la_may_see_and_names_who_needs_action"
    ),
    ("GET", "/v1/returns/ap-census"): child_data(
        "test_ap_census_returns_the_las_funded_placements_and_lists_what_it_cannot_complete"
    ),
    ("GET", "/v1/returns/school-census-ap"): child_data(
        "test_school_census_ap_module_is_the_schools_own_placements"
    ),
    ("GET", "/v1/children/{child_id}/duplicates"): child_data(
        "test_a_partial_match_is_answered_as_a_new_child_and_flagged_to_the_home_la"
    ),
    ("POST", "/v1/children/{child_id}/merge"): child_data(
        "test_the_home_la_merges_a_duplicate_and_the_merged_id_answers_with_the_survivor"
    ),
    ("POST", "/v1/children/{child_id}/distinct"): child_data(
        "test_the_home_la_marks_a_possible_duplicate_distinct"
    ),
    # placements
    ("GET", "/v1/placements"): PLACEMENT_READS,
    ("GET", "/v1/placements/{placement_id}"): PLACEMENT_READS,
    ("GET", "/v1/placements/{placement_id}/history"): PLACEMENT_READS,
    ("GET", "/v1/placements/{placement_id}/reviews"): PLACEMENT_READS,
    ("POST", "/v1/placements"): PLACEMENT_ACTIONS,
    ("PATCH", "/v1/placements/{placement_id}"): PLACEMENT_ACTIONS,
    **{
        ("POST", f"/v1/placements/{{placement_id}}/{action}"): PLACEMENT_ACTIONS
        for action in (
            "offer",
            "decline",
            "start",
            "extend",
            "end",
            "cancel",
            "propose-end",
            "reviews",
        )
    },
    # attendance
    ("POST", "/v1/attendance"): ATTENDANCE_RETURN,
    ("GET", "/v1/attendance/summary"): ATTENDANCE_READS,
    ("GET", "/v1/attendance/concerns"): ATTENDANCE_READS,
    ("POST", "/v1/attendance/concerns/run"): CONCERNS_RUN,
    ("GET", "/v1/placements/{placement_id}/attendance"): ATTENDANCE_READS,
    ("GET", "/v1/placements/{placement_id}/attendance/summary"): ATTENDANCE_READS,
    ("GET", "/v1/children/{child_id}/attendance"): ATTENDANCE_READS,
    ("GET", "/v1/children/{child_id}/attendance/summary"): ATTENDANCE_READS,
    ("GET", "/v1/school-holidays"): HOLIDAYS,
    ("POST", "/v1/school-holidays"): HOLIDAYS,
    ("DELETE", "/v1/school-holidays/{holiday_id}"): HOLIDAYS,
    # outcomes
    ("GET", "/v1/placements/{placement_id}/outcomes"): OUTCOMES,
    ("POST", "/v1/placements/{placement_id}/outcomes/{outcome_id}/progress"): OUTCOMES,
    ("POST", "/v1/placements/{placement_id}/accreditations"): OUTCOMES,
    ("POST", "/v1/placements/{placement_id}/follow-ups"): OUTCOMES,
    ("GET", "/v1/follow-ups/due"): OUTCOMES,
    # the event feed
    ("GET", "/v1/events"): child_data(
        "test_feed_delivers_placement_events_to_parties_and_hides_them_from_others"
    ),
    ("GET", "/v1/events/checkpoints"): no_child_data(
        "signed checkpoints of the event log: a sequence number, a hash, a signature"
    ),
    # webhooks: the subscriptions hold a URL, filters and delivery state; what is
    # delivered is the feed's, through its sharing filter as at delivery
    ("POST", "/v1/webhook-subscriptions"): WEBHOOKS,
    ("GET", "/v1/webhook-subscriptions"): WEBHOOKS,
    ("GET", "/v1/webhook-subscriptions/{subscription_id}"): WEBHOOKS,
    ("PATCH", "/v1/webhook-subscriptions/{subscription_id}"): WEBHOOKS,
    ("DELETE", "/v1/webhook-subscriptions/{subscription_id}"): WEBHOOKS,
    ("POST", "/v1/webhook-subscriptions/{subscription_id}/rotate-secret"): WEBHOOKS,
    ("GET", "/v1/webhook-subscriptions/{subscription_id}/deliveries"): no_child_data(
        "delivery attempts: event ids, types, sequence numbers, status codes; no bodies"
    ),
    ("POST", "/v1/webhook-subscriptions/{subscription_id}/replay"): WEBHOOK_DELIVERIES,
    # the provider directory
    ("GET", "/v1/providers"): DIRECTORY,
    ("GET", "/v1/providers/{provider_id}"): DIRECTORY,
    ("PUT", "/v1/providers/{provider_id}"): DIRECTORY,
    ("PATCH", "/v1/providers/{provider_id}"): DIRECTORY,
    **{
        (method, f"/v1/providers/{{provider_id}}/{things}"): DIRECTORY
        for things in ("offers", "locations")
        for method in ("GET", "POST")
    },
    **{
        (method, f"/v1/providers/{{provider_id}}/{things}/{{{thing}_id}}"): DIRECTORY
        for things, thing in (("offers", "offer"), ("locations", "location"))
        for method in ("GET", "PUT", "PATCH", "DELETE")
    },
    ("GET", "/v1/providers/{provider_id}/quality-assurance"): DIRECTORY,
    ("POST", "/v1/providers/{provider_id}/quality-assurance"): DIRECTORY,
    ("GET", "/v1/providers/{provider_id}/qa-status"): DIRECTORY,
    ("PUT", "/v1/providers/{provider_id}/qa-status"): DIRECTORY,
    ("GET", "/v1/providers/{provider_id}/qa-status-history"): DIRECTORY,
    # dashboard statistics: counts of children under disclosure control, never a row
    ("GET", "/v1/statistics"): no_child_data("the dimensions statistics count by, no figures"),
    ("GET", "/v1/statistics/{dimension}"): child_data(
        "test_no_sequence_of_statistics_requests_reveals_a_count_under_5"
    ),
    ("GET", "/v1/providers/{provider_id}/concerns"): no_child_data(
        "quality concerns about a provider, shared with commissioners; no child record"
    ),
    ("POST", "/v1/providers/{provider_id}/concerns"): no_child_data(
        "quality concerns about a provider, shared with commissioners; no child record"
    ),
}

GRAPHQL_FIELDS: dict[tuple[str, str], Classification] = {
    ("Query", "organisations"): REGISTER,
    ("Query", "organisation"): REGISTER,
    ("Query", "children"): MATRIX_GRAPHQL,
    ("Query", "child"): MATRIX_GRAPHQL,
    ("Query", "passportHistory"): child_data("test_graphql_passport_history_is_redacted_like_rest"),
    ("Query", "accessLog"): child_data("test_graphql_access_log_for_the_home_la_only"),
    ("Mutation", "createChild"): child_data(
        "test_graphql_create_and_update_child_use_the_rest_rules"
    ),
    ("Mutation", "updateChild"): MATRIX_WRITE,
    ("Mutation", "updatePassportSection"): child_data(
        "test_graphql_section_edits_follow_the_same_rules"
    ),
    **{
        ("Mutation", name): child_data(
            "test_graphql_involvement_and_consent_mutations_use_the_same_rules"
        )
        for name in ("recordInvolvement", "endInvolvement", "recordConsent", "withdrawConsent")
    },
    ("Query", "placements"): PLACEMENT_READS,
    ("Query", "placement"): PLACEMENT_READS,
    **{
        ("Mutation", f"{action}Placement"): PLACEMENT_ACTIONS
        for action in ("request", "vary", "offer", "decline", "start", "extend", "end", "cancel")
    },
    ("Mutation", "proposePlacementEnd"): PLACEMENT_ACTIONS,
    ("Mutation", "recordPlacementReview"): PLACEMENT_ACTIONS,
    ("Query", "providers"): DIRECTORY,
    ("Query", "provider"): DIRECTORY,
    **{
        ("Mutation", name): DIRECTORY
        for name in (
            "updateProviderEntry",
            "createProviderOffer",
            "updateProviderOffer",
            "deleteProviderOffer",
            "createProviderLocation",
            "updateProviderLocation",
            "deleteProviderLocation",
            "recordProviderQualityAssurance",
            "setProviderQaStatus",
        )
    },
    ("Query", "attendanceSummary"): ATTENDANCE_READS,
    ("Query", "attendanceConcerns"): ATTENDANCE_READS,
    ("Query", "childAttendance"): ATTENDANCE_READS,
    ("Query", "placementAttendance"): ATTENDANCE_READS,
    ("Mutation", "returnAttendance"): ATTENDANCE_RETURN,
    ("Mutation", "runAttendanceConcerns"): CONCERNS_RUN,
    ("Query", "schoolHolidays"): HOLIDAYS,
    ("Mutation", "addSchoolHoliday"): HOLIDAYS,
    ("Mutation", "removeSchoolHoliday"): HOLIDAYS,
    ("Query", "placementOutcomes"): OUTCOMES_GRAPHQL,
    ("Query", "dueFollowUps"): OUTCOMES,
    ("Mutation", "recordProgress"): OUTCOMES_GRAPHQL,
    ("Mutation", "recordAccreditation"): OUTCOMES_GRAPHQL,
    ("Mutation", "recordFollowUp"): OUTCOMES_GRAPHQL,
    ("Mutation", "raiseProviderConcern"): no_child_data(
        "quality concerns about a provider, shared with commissioners; no child record"
    ),
    # nested fields that resolve data of their own
    ("Child", "involvements"): child_data(
        "test_graphql_nested_involvements_and_consents_are_batched"
    ),
    ("Child", "consents"): child_data("test_graphql_nested_involvements_and_consents_are_batched"),
    ("Placement", "child"): child_data(
        "test_every_child_in_a_graphql_page_is_audited_as_read_through_graphql"
    ),
    ("Placement", "provider"): REGISTER,
    ("Placement", "commissioner"): REGISTER,
    ("Placement", "reviews"): PLACEMENT_READS,
    ("Placement", "history"): PLACEMENT_READS,
    ("Child", "placements"): NESTED_PARITY,
    ("Child", "exclusions"): EDUCATION_GRAPHQL,
    ("Child", "education"): EDUCATION_GRAPHQL,
    ("Query", "educationFlags"): EDUCATION_GRAPHQL,
    ("Mutation", "recordExclusion"): EDUCATION_GRAPHQL,
    ("Mutation", "changeExclusionStatus"): EDUCATION_GRAPHQL,
    ("Placement", "attendanceSummary"): NESTED_PARITY,
    ("Placement", "outcomes"): NESTED_PARITY,
    **{
        ("Provider", name): DIRECTORY
        for name in ("offers", "locations", "qualityAssuranceRecords", "qaStatusHistory")
    },
    ("Provider", "concerns"): no_child_data(
        "quality concerns about a provider, shared with commissioners; no child record"
    ),
}

HOW_TO_FIX = (
    "Read and write child data only through aphub.sharing (gate / statements), add the "
    "route or field to the access matrix (tests/test_access_matrix.py) or to a test that "
    "proves its sharing, and classify it here: child_data('<that test>') or "
    "no_child_data('<why it holds no child data>')."
)


def served_routes(app: FastAPI) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """What the application serves: its endpoints' routes, and any other route."""
    endpoints: set[tuple[str, str]] = set()
    others: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = str(context.path)
        if isinstance(route, EndpointRoute):
            endpoints.add(route.hub_endpoint.key)
        elif isinstance(route, Mount):
            others.add(("MOUNT", path))
        elif isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            others.add(("WEBSOCKET", path))
        else:
            others |= {(method, path) for method in context.methods or () if method != "HEAD"}
    return endpoints, others


def graphql_fields(settings: Settings) -> set[tuple[str, str]]:
    """The root fields, and every field of any type that has a resolver of its own."""
    schema = build_schema(settings)
    converter = schema.schema_converter
    fields: set[tuple[str, str]] = set()
    for name, concrete in converter.type_map.items():
        definition = concrete.definition
        if getattr(definition, "is_input", True) or not hasattr(definition, "fields"):
            continue
        for field in definition.fields:
            if name in ("Query", "Mutation", "Subscription") or field.base_resolver is not None:
                fields.add((name, converter.config.name_converter.get_graphql_name(field)))
    return fields


def test_every_endpoint_is_classified_as_child_data_or_not() -> None:
    table = {e.key for e in ENDPOINTS}
    unclassified = sorted(table - set(ROUTES))
    assert not unclassified, (
        f"endpoints not classified as child data or not: {unclassified}. {HOW_TO_FIX}"
    )
    stale = sorted(set(ROUTES) - table)
    assert not stale, f"classified endpoints that no longer exist (remove them): {stale}"


def test_the_application_serves_its_endpoint_table_and_nothing_else(app: FastAPI) -> None:
    endpoints, others = served_routes(app)
    assert endpoints == {e.key for e in ENDPOINTS}
    unexpected = sorted(others - set(NOT_ENDPOINTS))
    assert not unexpected, (
        f"routes outside the endpoint table: {unexpected}; declare them as Endpoints"
    )
    stack = app.build_middleware_stack()  # the hub's middleware, then the lean dispatch
    assert isinstance(stack, HubMiddleware)
    assert isinstance(stack.app, FastPath)
    hot = {endpoint.key for _, endpoint in stack.app.routes}
    assert hot == {e.key for e in ENDPOINTS if e.hot}, "the lean dispatch serves hot endpoints only"


def test_every_graphql_field_is_classified(settings: Settings) -> None:
    fields = graphql_fields(settings)
    unclassified = sorted(fields - set(GRAPHQL_FIELDS))
    assert not unclassified, (
        f"GraphQL fields not classified as child data or not: {unclassified}. {HOW_TO_FIX}"
    )
    stale = sorted(set(GRAPHQL_FIELDS) - fields)
    assert not stale, f"classified GraphQL fields that no longer exist (remove them): {stale}"


def test_every_child_data_classification_names_a_test_that_exists() -> None:
    tests = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                tests.add(node.name)
    named = {
        test
        for kind, test in [*ROUTES.values(), *NOT_ENDPOINTS.values(), *GRAPHQL_FIELDS.values()]
        if kind == CHILD_DATA
    }
    missing = sorted(named - tests - NOT_YET_WRITTEN)
    assert not missing, f"classifications name tests that do not exist: {missing}"
    written = sorted(NOT_YET_WRITTEN & tests)
    assert not written, f"now written, remove from NOT_YET_WRITTEN: {written}"
    unused = sorted(NOT_YET_WRITTEN - named)
    assert not unused, f"NOT_YET_WRITTEN names no classification uses: {unused}"
