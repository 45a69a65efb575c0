"""Pure ASGI middleware (BaseHTTPMiddleware would cost a task per request on hot paths)."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aphub.errors import (
    PayloadTooLarge,
    Problem,
    UnsupportedMediaType,
    internal_error,
    problem_response,
)
from aphub.logs import request_id_var
from aphub.metrics import observe_request, route_template

log = logging.getLogger("aphub.access")
errors_log = logging.getLogger("aphub.errors")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = {b"POST", b"PUT", b"PATCH"}
# Media types a path accepts for a body; anything else is 415 before the body is read.
_FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
_JSON = ("application/json",)
_ACCEPTED_BODIES: list[tuple[str, tuple[str, ...]]] = [
    ("/v1/oauth/token", _FORM),
    ("/oversight", _FORM),
    ("/v1/attendance", ("application/json", "text/csv")),
    ("/graphql", ("application/json", "multipart/form-data")),
]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def accepted_media_types(path: str) -> tuple[str, ...]:
    for prefix, types in _ACCEPTED_BODIES:
        if path == prefix or path.startswith(prefix + "/"):
            return types
    return _JSON


class HubMiddleware:
    """Request id, access log, body size limit and media-type check in one pass."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        path_limits: dict[str, int] | None = None,
        observe: bool = True,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # count each request for /metrics (off with APHUB_METRICS=false: nobody scrapes)
        self.observe = observe
        # exact paths with a limit of their own (bulk attendance returns: 8 MiB)
        self.path_limits = dict(path_limits or {})

    def _limit(self, scope: Scope) -> int:
        return self.path_limits.get(scope["path"], self.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        # 128 random bits as 32 hex digits (uuid4().hex, at a quarter of the cost)
        request_id = (
            incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        )
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                quota = scope.get("state", {}).get("rate_limit")
                if quota is not None:  # an authenticated request: where its client stands
                    headers += quota.headers()
                message = {**message, "headers": headers}
            await send(message)

        try:
            problem = self._refuse_body(scope)
            if problem is not None:
                await problem_response(problem, scope["path"])(scope, receive, send_with_id)
                return
            if scope["method"].encode() in _BODY_METHODS and not _header(scope, b"content-length"):
                # A chunked body has no declared length: read it whole, within the limit.
                body = await self._read_limited(receive, self._limit(scope))
                if body is None:
                    too_large = problem_response(self._too_large(scope), scope["path"])
                    await too_large(scope, receive, send_with_id)
                    return
                receive = _replay(body, receive)
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, inside the request's context, so the 500 carries X-Request-ID
            # and the log entry the request id points at exists. Not re-raised: the server
            # would drop the connection, and a client's next pipelined request with it.
            errors_log.error("unhandled error", exc_info=True)
            if not status_holder.get("started"):
                failed = problem_response(internal_error(), scope["path"])
                await failed(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if self.observe:
                observe_request(scope, status_holder["status"], elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        # the route's template, never the path or the query string: both may
                        # carry a child's or a placement's id
                        "route": route_template(scope),
                        "status": status_holder["status"],
                        "duration_ms": round(elapsed * 1000, 2),
                        "client_id": scope.get("state", {}).get("client_id"),
                    },
                )
            request_id_var.reset(token)

    def _too_large(self, scope: Scope) -> Problem:
        return PayloadTooLarge(f"Request bodies are limited to {self._limit(scope)} bytes")

    def _refuse_body(self, scope: Scope) -> Problem | None:
        if scope["method"].encode() not in _BODY_METHODS:
            return None
        length = _header(scope, b"content-length")
        if (
            length is not None
            and length.isascii()
            and length.isdigit()
            and int(length) > self._limit(scope)
        ):
            return self._too_large(scope)
        if length == "0":
            return None
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if not content_type and length is None:
            return None
        accepted = accepted_media_types(scope["path"])
        if content_type not in accepted:
            shown = content_type or "none"
            return UnsupportedMediaType(
                f"Content-Type {shown} is not accepted here; send {' or '.join(accepted)}"
            )
        return None

    async def _read_limited(self, receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, downstream: Receive) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await downstream()  # after the body, wait for the real disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
