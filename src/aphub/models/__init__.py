"""Every table of the hub; import from here so Alembic sees the whole metadata."""

from aphub.models.base import Base
from aphub.models.children import (
    AccessLog,
    Child,
    Consent,
    Enrolment,
    Involvement,
    PassportSection,
    PassportSectionVersion,
)
from aphub.models.events import Event, EventChainHead
from aphub.models.organisations import ApiClient, Organisation, OrganisationType
from aphub.models.placements import IntendedOutcome, Placement

__all__ = [
    "AccessLog",
    "Child",
    "Consent",
    "Enrolment",
    "Involvement",
    "PassportSection",
    "PassportSectionVersion",
    "IntendedOutcome",
    "Placement",
    "ApiClient",
    "Base",
    "Event",
    "EventChainHead",
    "Organisation",
    "OrganisationType",
]
