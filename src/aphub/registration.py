"""The registration threshold for unregistered AP (domain.md): a setting that educates 5
or more pupils full time, or one full-time pupil with an EHC plan or looked after, must
register as an independent school. Counted from live placement data, for the start
guard and for the directory's alert alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, func, select

from aphub.models import Child, Placement

# DfE independent school registration counts 18 hours a week or more as full time.
FULL_TIME_HOURS = Decimal(18)
THRESHOLD_PUPILS = 5


def full_time_active(provider_id: Any) -> ColumnElement[bool]:
    return and_(
        Placement.provider_id == provider_id,
        Placement.status == "active",
        Placement.hours_per_week >= FULL_TIME_HOURS,
    )


def counts(provider_id: Any) -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """Correlatable counts of full-time pupils, and of those with an EHC plan or looked after."""
    pupils = select(func.count()).select_from(Placement).where(full_time_active(provider_id))
    flagged = (
        select(func.count())
        .select_from(Placement)
        .join(Child, Child.id == Placement.child_id)
        .where(full_time_active(provider_id), Child.looked_after | (Child.sen_provision == "ehcp"))
    )
    return pupils.scalar_subquery(), flagged.scalar_subquery()


def breach(pupils: int, flagged: int) -> str | None:
    """Why an unregistered provider with these counts must register, or None."""
    if pupils >= THRESHOLD_PUPILS:
        return f"{pupils} full-time pupils (registration required from {THRESHOLD_PUPILS})"
    if flagged:
        return "a full-time pupil with an EHC plan or who is looked after"
    return None
