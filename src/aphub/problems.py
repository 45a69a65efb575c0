"""Human-readable pages for the problem `type` URIs the hub returns."""

from __future__ import annotations

from pydantic import BaseModel

from aphub.api.endpoint import Endpoint
from aphub.errors import _SLUGS, _TITLES, NotFound

_DESCRIPTIONS = {
    "bad-request": "The request could not be read.",
    "unauthorised": "No access token, or one that is expired, not yet valid, for another "
    "audience, or not signed by this hub. Get a new token at /v1/oauth/token.",
    "forbidden": "The token is valid but lacks the scope this operation needs.",
    "not-found": "Nothing is there, or it exists and you may not see it: the hub never "
    "confirms that a hidden record exists.",
    "method-not-allowed": "The path exists but not with this method.",
    "conflict": "The request clashes with the current state: an illegal transition, a "
    "duplicate, or a concurrent request with the same idempotency key.",
    "precondition-failed": "If-Match names a version that is no longer current; re-read and retry.",
    "payload-too-large": "The request body is over the hub's limit.",
    "unsupported-media-type": "The body's Content-Type is not accepted by this endpoint.",
    "validation-error": "The input is not valid; `errors` names each field and why.",
    "rate-limited": "Too many requests from this client; wait for Retry-After seconds.",
    "internal-error": "The hub failed; the request id in X-Request-ID finds it in the logs.",
}


class ProblemType(BaseModel):
    """What a problem `type` means."""

    type: str
    title: str
    status: int
    description: str


async def describe_problem(slug: str) -> dict[str, str | int]:
    for status, known in _SLUGS.items():
        if known == slug:
            return {
                "type": f"/problems/{slug}",
                "title": _TITLES[status],
                "status": status,
                "description": _DESCRIPTIONS.get(slug, _TITLES[status]),
            }
    raise NotFound("No such problem type")


ENDPOINTS = [
    Endpoint(
        "GET",
        "/problems/{slug}",
        describe_problem,
        "What a problem type means",
        public=True,
        response=ProblemType,
        errors=(404,),
        tags=("ops",),
    ),
]
