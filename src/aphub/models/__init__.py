"""Every table of the hub; import from here so Alembic sees the whole metadata."""

from aphub.models.attendance import AttendanceConcern, AttendanceMark, SchoolHoliday
from aphub.models.base import Base
from aphub.models.children import (
    AccessLog,
    Child,
    ChildDuplicate,
    Consent,
    Enrolment,
    Involvement,
    PassportSection,
    PassportSectionVersion,
)
from aphub.models.education import EducationFlag, Exclusion
from aphub.models.events import Event, EventChainHead, EventCheckpoint
from aphub.models.idempotency import IdempotencyKey
from aphub.models.organisations import (
    ApiClient,
    ClientAssertion,
    ClientAuthentication,
    Organisation,
    OrganisationType,
    OversightSession,
)
from aphub.models.outcomes import Accreditation, FollowUp, OutcomeProgress
from aphub.models.placements import IntendedOutcome, Placement, PlacementReview
from aphub.models.provider_offers import ProviderLocation, ProviderOffer, ProviderOfferLocation
from aphub.models.provider_quality import ProviderConcern, ProviderQARecord, ProviderQAStatusChange
from aphub.models.providers import ProviderProfile
from aphub.models.rate_limits import RateLimitCount
from aphub.models.webhooks import WebhookDelivery, WebhookSubscription

__all__ = [
    "AccessLog",
    "Accreditation",
    "ApiClient",
    "AttendanceConcern",
    "AttendanceMark",
    "Base",
    "Child",
    "ChildDuplicate",
    "ClientAssertion",
    "ClientAuthentication",
    "Consent",
    "EducationFlag",
    "Enrolment",
    "Event",
    "EventChainHead",
    "EventCheckpoint",
    "Exclusion",
    "FollowUp",
    "IdempotencyKey",
    "IntendedOutcome",
    "Involvement",
    "Organisation",
    "OrganisationType",
    "OutcomeProgress",
    "OversightSession",
    "PassportSection",
    "PassportSectionVersion",
    "Placement",
    "PlacementReview",
    "ProviderConcern",
    "ProviderLocation",
    "ProviderOffer",
    "ProviderOfferLocation",
    "ProviderProfile",
    "ProviderQARecord",
    "ProviderQAStatusChange",
    "RateLimitCount",
    "SchoolHoliday",
    "WebhookDelivery",
    "WebhookSubscription",
]
