"""The demo area: a coherent small patch of England to explore the hub with.

Two neighbouring local authorities and a third further away, schools in two trusts,
AP providers registered and unregistered, health and social care bodies, a dashboard
and the operator; each gets API credentials, written to `demo-clients.json`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from aphub.auth.scopes import DEFAULT_SCOPES
from aphub.auth.service import create_client
from aphub.config import Settings
from aphub.db import Database, WriteUnit
from aphub.demo.attendance import load_attendance
from aphub.demo.children import load_children
from aphub.demo.exclusions import load_exclusions
from aphub.demo.placements import load_placements
from aphub.demo.providers import load_provider_directory
from aphub.demo.webhooks import load_webhook, write_webhook
from aphub.events.log import Actor
from aphub.models import Organisation
from aphub.progress import Steps


@dataclass
class DemoArea:
    """Organisations by a short key, so later parts of the demo can refer to them."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    credentials: list[dict[str, Any]] = field(default_factory=list)


LOCAL_AUTHORITIES = [
    ("la_city", "City of London", "201"),
    ("la_camden", "Camden", "202"),
    ("la_bristol", "Bristol, City of", "801"),
]
TRUSTS = [("trust_river", "River Learning Trust"), ("trust_oak", "Oak Academies Trust")]
SCHOOLS: list[tuple[str, str, str, str, str, str | None]] = [
    # key, name, URN, LA key, LAESTAB, trust key
    ("school_aldgate", "Aldgate Academy", "100001", "la_city", "2014001", "trust_river"),
    ("school_barbican", "Barbican School", "100002", "la_city", "2014002", "trust_river"),
    ("school_kentish", "Kentish Town Academy", "100003", "la_camden", "2024001", "trust_oak"),
    ("school_primrose", "Primrose Hill Primary", "100004", "la_camden", "2022001", None),
    ("school_redland", "Redland Green School", "100005", "la_bristol", "8014001", "trust_oak"),
]
PROVIDERS: list[tuple[str, str, str, str | None, str | None]] = [
    # key, name, LA key, URN, UKPRN
    ("prov_pru", "City Pupil Referral Unit", "la_city", "100101", "10000101"),
    ("prov_ap_academy", "Camden AP Academy", "la_camden", "100102", "10000102"),
    ("prov_hospital", "Royal Free Hospital School", "la_camden", "100103", None),
    ("prov_independent", "Thames Independent School", "la_city", "100104", "10000104"),
    ("prov_fe", "Bristol Further Education College", "la_bristol", "100105", "10000105"),
    ("prov_tuition", "Brightside Tuition Ltd", "la_city", None, None),
    ("prov_vocational", "Motor Skills Workshop CIC", "la_city", None, "10000107"),
    ("prov_therapeutic", "Green Shoots Therapeutic Education", "la_camden", None, None),
    ("prov_online", "Open Door Online Learning", "la_camden", None, None),
    ("prov_construction", "Build Up Construction Academy", "la_bristol", None, "10000110"),
    ("prov_equine", "Hoofbeats Equine Learning", "la_bristol", None, None),
    ("prov_sport", "Street League Sport Mentoring", "la_city", None, None),
]
OTHERS: list[tuple[str, str, str, str | None]] = [
    ("health_icb", "North Central London ICB", "health", "la_camden"),
    ("health_camhs", "Camden CAMHS", "health", "la_camden"),
    ("social_city", "City of London Children's Social Care", "social_care", "la_city"),
    ("social_vsh", "Camden Virtual School", "social_care", "la_camden"),
    ("dashboard", "AP Insight Dashboard", "dashboard", None),
    ("operator", "aphub Operator", "operator", None),
]


def _progress(message: str) -> None:
    print(f"  demo: {message}", file=sys.stderr, flush=True)


async def _add(uow: WriteUnit, area: DemoArea, key: str, **values: Any) -> Organisation:
    organisation = Organisation(**values)
    uow.session.add(organisation)
    await uow.session.flush()
    area.orgs[key] = organisation
    return organisation


async def load_organisations(uow: WriteUnit, area: DemoArea) -> None:
    for key, name, code in LOCAL_AUTHORITIES:
        await _add(uow, area, key, type="local_authority", name=name, la_code=code)
    for key, name in TRUSTS:
        await _add(uow, area, key, type="trust", name=name)
    for key, name, urn, la, laestab, trust in SCHOOLS:
        await _add(
            uow,
            area,
            key,
            type="school",
            name=name,
            urn=urn,
            laestab=laestab,
            local_authority_id=area.orgs[la].id,
            trust_id=area.orgs[trust].id if trust else None,
        )
    for key, name, la, provider_urn, ukprn in PROVIDERS:
        await _add(
            uow,
            area,
            key,
            type="provider",
            name=name,
            urn=provider_urn,
            ukprn=ukprn,
            local_authority_id=area.orgs[la].id,
        )
    for key, name, org_type, other_la in OTHERS:
        await _add(
            uow,
            area,
            key,
            type=org_type,
            name=name,
            local_authority_id=area.orgs[other_la].id if other_la else None,
        )


async def issue_credentials(uow: WriteUnit, area: DemoArea) -> None:
    for key, organisation in area.orgs.items():
        # a demo school's client also draws its school census AP module (reports:read is
        # within a school's bounds, not among its defaults)
        scopes = (
            [*DEFAULT_SCOPES["school"], "reports:read"] if organisation.type == "school" else None
        )
        issued = await create_client(
            uow, organisation.id, f"{organisation.name} (demo)", scopes, Actor.system("demo")
        )
        area.credentials.append(
            {
                "key": key,
                "organisation": organisation.name,
                "type": organisation.type,
                "organisation_id": str(organisation.id),
                "client_id": issued.client.client_id,
                "client_secret": issued.client_secret,
                "scopes": issued.client.scopes,
            }
        )


def write_credentials(settings: Settings, area: DemoArea) -> None:
    path = settings.data_dir / "demo-clients.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(area.credentials, handle, indent=2)
    _progress(f"credentials for {len(area.credentials)} demo clients in {path.resolve()}")


async def load_demo(database: Database, settings: Settings, *, only_if_empty: bool) -> bool:
    async with database.writing() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Organisation))
        if only_if_empty and count:
            _progress("database already holds data; demo not reloaded")
            return False
        area = DemoArea()
        steps = Steps("demo", 8)
        with steps.step("organisations"):
            await load_organisations(uow, area)
        with steps.step("provider directory"):
            await load_provider_directory(uow, area)
        with steps.step("children"):
            await load_children(uow, area)
        with steps.step("placements"):
            await load_placements(uow, area)
        with steps.step("attendance"):
            await load_attendance(uow, area)
        with steps.step("exclusions"):
            await load_exclusions(uow, area)
        with steps.step("API clients"):
            await issue_credentials(uow, area)
        with steps.step("a webhook subscription"):
            webhook = await load_webhook(uow, area.orgs["la_city"])
        _progress("committing")
    write_credentials(settings, area)
    path = write_webhook(settings, webhook)
    _progress(f"its secret in {path.resolve()}: run `aphub webhooks listen` to watch deliveries")
    steps.finish()
    return True
