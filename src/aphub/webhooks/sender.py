"""One HTTP POST of one delivery, through the guard, with timeouts and a size limit.

The client is httpcore's connection pool with the guard as its network backend: every
connection it opens goes to an address the guard passed, kept alive for the next
delivery to the same receiver. Redirects are never followed (a 3xx is a failed
delivery), no proxy is taken from the environment, and at most `MAX_RESPONSE_BYTES` of
an answer are read (and none kept).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass

import httpcore

from aphub.webhooks.guard import Guard, Refused, Target

MAX_RESPONSE_BYTES = 64 * 1024
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    error: str | None = None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def outcome(self) -> str:
        if self.delivered:
            return "delivered"
        return "refused" if self.refused else "failed"


def host_header(target: Target) -> str:
    host = target.host
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            host = f"[{host}]"
    except ValueError:
        pass
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


class Sender:
    def __init__(
        self,
        guard: Guard,
        timeout_seconds: float,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.timeout = timeout_seconds
        self.pool = httpcore.AsyncConnectionPool(
            network_backend=guard.backend(backend),
            max_connections=200,
            keepalive_expiry=30.0,
            retries=0,
        )

    async def close(self) -> None:
        await self.pool.aclose()

    async def post(self, target: Target, headers: dict[str, str], body: bytes) -> Answer:
        timeout = self.timeout
        extensions = {
            "timeout": {
                "connect": min(CONNECT_TIMEOUT_SECONDS, timeout),
                "read": timeout,
                "write": timeout,
                "pool": timeout,
            }
        }
        sent = [("host", host_header(target)), *headers.items()]
        try:
            async with asyncio.timeout(timeout):  # the whole attempt, however it trickles
                async with self.pool.stream(
                    "POST",
                    target.request_url(),
                    headers=sent,
                    content=body,
                    extensions=extensions,
                ) as response:
                    read = 0
                    async for chunk in response.aiter_stream():
                        read += len(chunk)
                        if read > MAX_RESPONSE_BYTES:
                            break  # the connection is closed, not reused
                    status = response.status
        except Refused as refused:
            return Answer(None, str(refused), refused=True)
        except (TimeoutError, httpcore.TimeoutException):
            return Answer(None, "no answer within the time allowed")
        except httpcore.ConnectError:
            return Answer(None, "could not connect")
        except ssl.SSLError:
            return Answer(None, "the TLS handshake failed")
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError):
            return Answer(None, "the connection failed")
        if 200 <= status < 300:
            return Answer(status)
        if 300 <= status < 400:
            return Answer(status, f"HTTP {status}: redirects are not followed")
        return Answer(status, f"HTTP {status}")
