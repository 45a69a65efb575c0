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
from aphub.models.providers import (
    ProviderConcern,
    ProviderLocation,
    ProviderOffer,
    ProviderOfferLocation,
    ProviderProfile,
    ProviderQARecord,
    ProviderQAStatusChange,
)

__all__ = [
    "AccessLog",
    "ApiClient",
    "Base",
    "Child",
    "Consent",
    "Enrolment",
    "Event",
    "EventChainHead",
    "IntendedOutcome",
    "Involvement",
    "Organisation",
    "OrganisationType",
    "PassportSection",
    "PassportSectionVersion",
    "Placement",
    "ProviderConcern",
    "ProviderLocation",
    "ProviderOffer",
    "ProviderOfferLocation",
    "ProviderProfile",
    "ProviderQARecord",
    "ProviderQAStatusChange",
]
