"""`aphub webhooks listen`: a receiver to watch deliveries with, on 127.0.0.1 only.

It does what an integrator's receiver should: verify `webhook-signature` with the
`standardwebhooks` library before reading anything, drop a `webhook-id` already seen
(deliveries are at least once), answer 2xx quickly. It prints one line per event (its
sequence number, type and subject type: no identifiers or data) and answers 401 to a
delivery that does not verify.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_BODY_BYTES = 1024 * 1024


class Listener:
    def __init__(self, secret: str, say: Callable[[str], None] = print) -> None:
        self.webhook = Webhook(secret)
        self.say = say
        self.seen: set[str] = set()

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            self.say("refused a delivery whose signature does not verify")
            return 401
        message_id = headers.get("webhook-id", "")
        if message_id in self.seen:
            self.say("dropped a repeated delivery")
            return 204
        self.seen.add(message_id)
        event = orjson.loads(body)
        subject = event.get("subject", "").split("/")[0]
        self.say(f"#{event.get('sequence')} {event.get('type')} ({subject})")
        return 204

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers: dict[str, str] = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length > MAX_BODY_BYTES:
                    break
                status = self.receive(headers, await reader.readexactly(length))
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except ValueError:
            pass
        finally:
            writer.close()


async def listen(secret: str, port: int, say: Callable[[str], None] = print) -> None:
    listener = Listener(secret, say)
    server = await asyncio.start_server(listener.serve_connection, "127.0.0.1", port)
    say(f"listening for webhooks on http://127.0.0.1:{port}/ (Ctrl-C stops)")
    async with server:
        await server.serve_forever()
