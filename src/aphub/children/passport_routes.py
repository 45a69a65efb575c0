"""REST for passport sections: `PATCH /v1/children/{id}/passport/{section}` (one operation
per section, each with its own content schema) and the section's history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from aphub.children import passports
from aphub.children.passport_schemas import SECTION_MODELS, Content
from aphub.children.routes import Reader, Writer, json_response
from aphub.children.schemas import ChildView, SectionHistoryPage
from aphub.deps import UoW
from aphub.errors import Invalid, problem_responses
from aphub.http import IfMatch, etag, parse_if_match
from aphub.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor
from aphub.sharing import gate
from aphub.sharing.fields import CATEGORIES, SECTION_FIELDS

router = APIRouter(prefix="/v1/children", tags=["passports"])


def _fields_doc(section: str) -> str:
    by_category: dict[str, list[str]] = {}
    for name, category in SECTION_FIELDS[section].items():
        by_category.setdefault(category, []).append(name)
    return "; ".join(f"{', '.join(by_category[c])} ({c})" for c in CATEGORIES if c in by_category)


def _add_section_route(section: str, model: type[Content]) -> None:
    async def update_section(
        child_id: uuid.UUID,
        body: Content,
        uow: UoW,
        principal: Writer,
        if_match: IfMatch = None,
    ) -> Response:
        version = await passports.update_section(
            uow, principal, child_id, section, body, parse_if_match(if_match)
        )
        child = await gate.read_child(uow, principal, child_id)
        return json_response(child, headers={"ETag": etag(version)})

    # Each section's operation validates and documents its own content model.
    update_section.__annotations__["body"] = model
    router.add_api_route(
        f"/{{child_id}}/passport/{section}",
        update_section,
        methods=["PATCH"],
        name=f"update_passport_{section}",
        summary=f"Change fields of the {section} passport section",
        description=(
            "Fields present are set, null clears one, absent ones are kept. Each field is "
            "checked against your sharing agreement's write grant (403 names the fields you "
            "may see but not change). `If-Match` is the section's version (412 when it moved "
            "on); the response is the child as you may see it, with the section's new "
            f"version as its ETag. Fields (category): {_fields_doc(section)}."
        ),
        responses={200: {"model": ChildView}, **problem_responses(401, 403, 404, 412, 415, 422)},
        response_class=Response,
    )


for _section, _model in SECTION_MODELS.items():
    _add_section_route(_section, _model)


def before_version(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, 1)
    if not values:
        return None
    if not isinstance(values[0], int) or isinstance(values[0], bool):
        raise Invalid.field("cursor", "The cursor is not one this hub issued")
    return values[0]


SectionName = Annotated[
    str,
    Path(max_length=32, description=f"One of: {', '.join(SECTION_FIELDS)}"),
]


@router.get(
    "/{child_id}/passport/{section}/history",
    summary="Versions of a passport section, newest first, redacted for you",
    description=(
        "Who changed the section, when, and which fields, with the section as it stood "
        "after each version, showing only the fields you may read. Versions that changed "
        "only fields you may not read are left out; 404 if you may read no field of the "
        "section (or the section does not exist)."
    ),
    responses={200: {"model": SectionHistoryPage}, **problem_responses(401, 403, 404, 422)},
    response_class=Response,
)
async def get_passport_section_history(
    child_id: uuid.UUID,
    section: SectionName,
    uow: UoW,
    principal: Reader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    items, before = await passports.section_history(
        uow, principal, child_id, section, before=before_version(cursor), limit=limit
    )
    body: dict[str, Any] = {
        "items": items,
        "next_cursor": encode_cursor([before]) if before is not None else None,
    }
    return json_response(body)
