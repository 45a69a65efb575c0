"""Every REST endpoint of the hub, in one table (routes, OpenAPI and the tests that walk
the table are all built from it)."""

from __future__ import annotations

from aphub import health, problems
from aphub.api.endpoint import Endpoint
from aphub.attendance.endpoints import ENDPOINTS as ATTENDANCE
from aphub.auth.endpoints import ENDPOINTS as AUTH
from aphub.children.endpoints import ENDPOINTS as CHILDREN
from aphub.children.record_endpoints import ENDPOINTS as CHILD_RECORDS
from aphub.education.endpoints import ENDPOINTS as EDUCATION
from aphub.events.endpoints import ENDPOINTS as EVENTS
from aphub.organisations.endpoints import ENDPOINTS as ORGANISATIONS
from aphub.outcomes.endpoints import ENDPOINTS as OUTCOMES
from aphub.oversight.api import ENDPOINTS as OVERSIGHT_API
from aphub.oversight.endpoints import ENDPOINTS as OVERSIGHT
from aphub.placements.endpoints import ENDPOINTS as PLACEMENTS
from aphub.providers.endpoints import ENDPOINTS as PROVIDERS
from aphub.providers.quality_endpoints import ENDPOINTS as PROVIDER_QUALITY
from aphub.reports.endpoints import ENDPOINTS as REPORTS
from aphub.returns.endpoints import ENDPOINTS as RETURNS
from aphub.statistics.endpoints import ENDPOINTS as STATISTICS
from aphub.webhooks.endpoints import ENDPOINTS as WEBHOOKS

ENDPOINTS: tuple[Endpoint, ...] = (
    *AUTH,
    *health.ENDPOINTS,
    *problems.ENDPOINTS,
    *ORGANISATIONS,
    *CHILDREN,
    *CHILD_RECORDS,
    *EDUCATION,
    *PLACEMENTS,
    *PROVIDERS,
    *PROVIDER_QUALITY,
    *ATTENDANCE,
    *OUTCOMES,
    *EVENTS,
    *OVERSIGHT_API,
    *OVERSIGHT,
    *STATISTICS,
    *WEBHOOKS,
    *REPORTS,
    *RETURNS,
)
