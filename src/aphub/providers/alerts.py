"""Alerts derived from a directory entry each time it is read: nothing is stored, so an
alert appears the day its condition becomes true and goes when the data is brought up to
date, with no job to run."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
SAFEGUARDING_CONFIRMATION_MONTHS = 12


class ProviderAlertCode(StrEnum):
    """`qa_overdue` the next QA due date has passed, `safeguarding_confirmation_stale` the
    written confirmation of staff checks is over 12 months old, `insurance_expired` the
    insurance cover has ended, `registration_required` an unregistered provider is over the
    registration threshold on its live placements (it must register as an independent
    school; the hub refuses to start further full-time placements that would breach it)."""

    qa_overdue = "qa_overdue"
    safeguarding_confirmation_stale = "safeguarding_confirmation_stale"
    insurance_expired = "insurance_expired"
    registration_required = "registration_required"


@dataclass(frozen=True, slots=True)
class Alert:
    code: ProviderAlertCode
    message: str
    since: date


def today() -> date:
    """The date in England: alerts turn over at midnight UK time, not UTC."""
    return datetime.now(LONDON).date()


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has none (29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def alerts_for(
    *,
    qa_next_due_on: date | None,
    staff_checks_confirmed_on: date | None,
    insurance_expires_on: date | None,
    on: date,
    registration_breach: str | None = None,
) -> list[Alert]:
    alerts = []
    if qa_next_due_on is not None and qa_next_due_on < on:
        alerts.append(
            Alert(
                ProviderAlertCode.qa_overdue,
                f"Quality assurance was due on {qa_next_due_on.isoformat()}",
                qa_next_due_on + timedelta(days=1),
            )
        )
    if staff_checks_confirmed_on is not None:
        stale_from = months_after(staff_checks_confirmed_on, SAFEGUARDING_CONFIRMATION_MONTHS)
        if on > stale_from:
            alerts.append(
                Alert(
                    ProviderAlertCode.safeguarding_confirmation_stale,
                    "Written confirmation of staff safeguarding checks was received on "
                    f"{staff_checks_confirmed_on.isoformat()}, over 12 months ago",
                    stale_from + timedelta(days=1),
                )
            )
    if insurance_expires_on is not None and insurance_expires_on < on:
        alerts.append(
            Alert(
                ProviderAlertCode.insurance_expired,
                f"Insurance expired on {insurance_expires_on.isoformat()}",
                insurance_expires_on + timedelta(days=1),
            )
        )
    if registration_breach is not None:
        alerts.append(
            Alert(
                ProviderAlertCode.registration_required,
                f"Unregistered, and teaching {registration_breach}: "
                "it must register as an independent school",
                on,
            )
        )
    return alerts
