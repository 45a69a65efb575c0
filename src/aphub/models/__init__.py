"""Every table of the hub; import from here so Alembic sees the whole metadata."""

from aphub.models.base import Base
from aphub.models.events import Event, EventChainHead
from aphub.models.organisations import ApiClient, Organisation, OrganisationType

__all__ = ["ApiClient", "Base", "Event", "EventChainHead", "Organisation", "OrganisationType"]
