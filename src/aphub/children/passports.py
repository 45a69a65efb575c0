"""Passport sections: edits checked field by field against the caller's write grant, each
one a new version (full snapshot, the fields it changed, who), and the history of a
section redacted to the fields the caller may read."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from aphub.auth.principal import Principal
from aphub.children.passport_schemas import Content
from aphub.db import ReadUnit, WriteUnit
from aphub.errors import Invalid, NotFound, PreconditionFailed
from aphub.events.log import Actor, record
from aphub.models import Child, Organisation, PassportSection, PassportSectionVersion
from aphub.sharing import gate
from aphub.sharing.fields import SECTION_FIELDS
from aphub.sharing.policy import Decision


def known_section(section: str) -> dict[str, str]:
    """The section's fields and categories; 404 for a section the passport does not have."""
    fields = SECTION_FIELDS.get(section)
    if fields is None:
        raise NotFound(f"The passport has no section {section[:40]!r}")
    return fields


def section_subject_id(child_id: uuid.UUID, section: str) -> uuid.UUID:
    """The stable id of one child's section, the subject of its events (the section is keyed
    by child and name; events need one id, and one event per version of it)."""
    return uuid.uuid5(child_id, section)


def readable_fields(decision: Decision, section: str) -> list[str]:
    return [name for name in known_section(section) if f"{section}.{name}" in decision.read.fields]


async def update_section(
    uow: WriteUnit,
    principal: Principal,
    child_id: uuid.UUID,
    section: str,
    changes: Content,
    if_match: int | None,
) -> int:
    """Apply the fields present in `changes` (null clears); the section's new version.

    Nothing is written when every value is already as sent (a retried PATCH is harmless).
    """
    known_section(section)
    decision = await gate.decide(uow, principal, child_id)
    present = sorted(changes.model_fields_set)
    if not present:
        raise Invalid.field("body", "name at least one field of the section to change")
    gate.require_write(decision, [f"{section}.{name}" for name in present])

    # The child row is the lock: two first edits of a section cannot both insert it.
    locked = await uow.session.scalar(
        select(Child.id).where(Child.id == child_id).with_for_update(key_share=True)
    )
    if locked is None:
        raise NotFound("No such child, or not visible to you")
    current = await uow.session.get(PassportSection, (child_id, section))
    version = current.version if current else 0
    if if_match is not None and if_match != version:
        raise PreconditionFailed(f"The {section} section is at version {version}, not {if_match}")

    content: dict[str, Any] = dict(current.content) if current else {}
    sent = changes.model_dump(mode="json", include=set(present))
    changed = [name for name in present if content.get(name) != sent[name]]
    if not changed:
        return version
    for name in changed:
        if sent[name] is None:
            content.pop(name, None)
        else:
            content[name] = sent[name]

    version += 1
    if current is None:
        uow.session.add(
            PassportSection(
                child_id=child_id,
                section=section,
                version=version,
                content=content,
                updated_by_id=principal.organisation_id,
                updated_by_client=principal.client_id,
            )
        )
    else:
        current.version = version
        current.content = content
        current.updated_by_id = principal.organisation_id
        current.updated_by_client = principal.client_id
    uow.session.add(
        PassportSectionVersion(
            child_id=child_id,
            section=section,
            version=version,
            content=content,
            changed_fields=changed,
            changed_by_id=principal.organisation_id,
            changed_by_client=principal.client_id,
        )
    )
    await uow.session.flush()
    record(
        uow,
        type="passport.section_updated",
        subject_type="passport_section",
        subject_id=section_subject_id(child_id, section),
        subject_version=version,
        child_id=child_id,
        actor=Actor(principal.organisation_id, principal.client_id),
        data={"section": section, "version": version, "fields": changed},
    )
    return version


def _version_view(
    row: PassportSectionVersion, organisation_name: str | None, readable: list[str]
) -> dict[str, Any]:
    return {
        "version": row.version,
        "changed_at": row.changed_at,
        "changed_by": {
            "organisation_id": str(row.changed_by_id) if row.changed_by_id else None,
            "organisation_name": organisation_name,
            "client_id": row.changed_by_client,
        },
        "changed_fields": [f for f in row.changed_fields if f in readable],
        "content": {name: row.content.get(name) for name in readable},
    }


async def section_history(
    uow: ReadUnit,
    principal: Principal,
    child_id: uuid.UUID,
    section: str,
    *,
    before: int | None,
    limit: int,
    surface: str = "rest",
) -> tuple[list[dict[str, Any]], int | None]:
    """Versions of a section, newest first, each redacted to the fields the caller may read.

    A version that changed only fields the caller may not read is left out: its existence
    alone would tell something (that a diagnosis changed, say). A caller that may read no
    field of the section gets 404, as it would for a section it cannot see in the child.
    The read is audited as action `history`. Returns the page and the cursor version.
    """
    known_section(section)
    decision = await gate.decide_audited(
        uow, principal, child_id, action="history", surface=surface
    )
    readable = readable_fields(decision, section)
    if not readable:
        raise NotFound(f"No {section} section of this child is visible to you")
    query = (
        select(PassportSectionVersion, Organisation.name)
        .outerjoin(Organisation, Organisation.id == PassportSectionVersion.changed_by_id)
        .where(
            PassportSectionVersion.child_id == child_id,
            PassportSectionVersion.section == section,
            PassportSectionVersion.changed_fields.overlap(readable),
        )
        .order_by(PassportSectionVersion.version.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(PassportSectionVersion.version < before)
    rows = (await uow.session.execute(query)).all()
    page = [_version_view(v, name, readable) for v, name in rows[:limit]]
    next_before = page[-1]["version"] if len(rows) > limit else None
    return page, next_before
