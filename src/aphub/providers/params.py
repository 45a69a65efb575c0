"""What every provider route shares: the caller's scope and the provider id parameter."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

from aphub.auth.principal import Principal
from aphub.deps import principal_with
from aphub.errors import problem_responses

Reader = Annotated[Principal, principal_with("providers:read")]
Writer = Annotated[Principal, principal_with("providers:write")]
ProviderId = Annotated[uuid.UUID, Path(description="The provider's organisation id")]

READ = problem_responses(401, 403, 404, 422, 429)
WRITE = problem_responses(401, 403, 404, 409, 412, 413, 415, 422, 429)
