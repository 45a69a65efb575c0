"""What every provider endpoint shares: its scopes, its tag, the provider id parameter,
the error statuses a write documents beyond those every endpoint of its shape gives, and
the answer with an ETag."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel
from starlette.responses import Response

from aphub.api.serve import respond
from aphub.http import etag

READ = "providers:read"
WRITE = "providers:write"
TAGS = ("providers",)
ProviderId = Annotated[uuid.UUID, Path(description="The provider's organisation id")]
# a conflicting write (409), and what the directory's writes have always documented
WRITE_ERRORS = (409, 412, 413, 415)


def tagged(document: BaseModel, version: int, *, status: int = 200, location: str = "") -> Response:
    """`document` with the ETag of `version` (and, for a creation, its Location)."""
    headers = {"ETag": etag(version)}
    if location:
        headers["Location"] = location
    return respond(document, status=status, headers=headers)
