"""The webhook sender's HTTP/1.1 against receivers that misbehave in the ways real ones
do: answers in pieces, chunked or running to the close, too large, never; connections
kept, dropped while idle, refused; TLS verified against the URL's name while connecting
to the address the guard resolved it to.

Each receiver here is a raw asyncio server on 127.0.0.1 whose handler the test writes, so
what goes over the wire is exactly what the test says.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import trustme
import uvloop

from aphub.webhooks.guard import Allowlist, Guard, Target
from aphub.webhooks.sender import MAX_RESPONSE_BYTES, Answer, Sender, request_bytes
from tests.webhook_network import CONNECTIONS, NAMES

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
HEADERS = {"webhook-id": "msg_1", "content-type": "application/json"}


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


class Server:
    """A receiver on 127.0.0.1: `handler` serves each connection; `requests` is every
    request read by `answer_each`."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, handler: Handler, tls: ssl.SSLContext | None = None) -> Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await handler(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def answer_each(self, answer: bytes) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                self.requests.append(await read_request(reader))
                writer.write(answer)
                await writer.drain()

        return handler

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    running = Server()
    yield running
    await running.stop()


GUARD = Guard(Allowlist.parse("127.0.0.1,receiver.test"))


def sender(timeout: float = 2.0, tls: ssl.SSLContext | None = None) -> Sender:
    return Sender(GUARD, timeout, tls=tls)


def target(url: str) -> Target:
    return GUARD.target(url)


async def post(to: Sender, server: Server, path: str = "/hook") -> Answer:
    return await to.post(target(f"http://127.0.0.1:{server.port}{path}"), HEADERS, b'{"a":1}')


async def test_the_request_is_what_the_receiver_reads(server: Server) -> None:
    await server.start(server.answer_each(NO_CONTENT))
    to = sender()
    assert await post(to, server, "/hook?x=1") == Answer(204)
    await to.close()
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /hook?x=1 HTTP/1.1"
    assert f"host: 127.0.0.1:{server.port}" in lines
    assert "webhook-id: msg_1" in lines
    assert "content-length: 7" in lines
    assert body == b'{"a":1}'


async def test_one_connection_carries_every_delivery_while_the_receiver_keeps_it(
    server: Server,
) -> None:
    await server.start(server.answer_each(NO_CONTENT))
    to = sender()
    answers = [await post(to, server) for _ in range(20)]
    await to.close()
    assert all(a.delivered for a in answers)
    assert (len(server.requests), server.connections, to.opened) == (20, 1, 1)


async def test_an_answer_in_pieces_chunked_or_interim_is_read_whole(server: Server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            server.requests.append(await read_request(reader))
            for piece in (
                b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n",
                b"HTTP/1.1 200 OK\r\ntransfer-",
                b"encoding: chunked\r\n\r\n5\r\nhello\r\n",
                b"0\r\n\r\n",
            ):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.01)

    await server.start(handler)
    to = sender()
    assert [await post(to, server) for _ in range(3)] == [Answer(200)] * 3
    await to.close()
    assert server.connections == 1  # and the connection was fit to use again


async def test_an_answer_running_to_the_close_stands(server: Server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 202 Accepted\r\n\r\nthanks")
        await writer.drain()

    await server.start(handler)
    to = sender()
    assert [await post(to, server) for _ in range(2)] == [Answer(202)] * 2
    await to.close()
    assert to.opened == 2


async def test_a_connection_the_receiver_dropped_while_idle_is_replaced(server: Server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.requests.append(await read_request(reader))
        writer.write(NO_CONTENT)
        await writer.drain()
        # keeps the connection open but drops it, unanswered, when the next request comes
        server.requests.append(await read_request(reader))

    await server.start(handler)
    to = sender()
    assert [await post(to, server) for _ in range(3)] == [Answer(204)] * 3
    await to.close()
    # the second and third deliveries each met a dropped connection and were sent again
    assert len(server.requests) == 5
    assert to.opened == 3


async def test_a_connection_dropped_midway_through_the_answer_fails_the_delivery(
    server: Server,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 20")

    await server.start(handler)
    to = sender()
    assert await post(to, server) == Answer(None, "the connection failed")
    await to.close()


async def test_an_answer_too_large_is_cut_off_and_its_connection_closed(server: Server) -> None:
    huge = b"x" * (2 * MAX_RESPONSE_BYTES)
    await server.start(
        server.answer_each(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(huge), huge))
    )
    to = sender()
    assert [await post(to, server) for _ in range(2)] == [Answer(200)] * 2
    await to.close()
    assert to.opened == 2


async def test_a_head_too_large_fails_the_delivery(server: Server) -> None:
    await server.start(server.answer_each(b"HTTP/1.1 200 OK\r\nx: " + b"y" * MAX_RESPONSE_BYTES))
    to = sender()
    answer = await post(to, server)
    await to.close()
    assert answer.status is None
    assert answer.error == f"the answer was larger than {MAX_RESPONSE_BYTES} bytes"


async def test_garbage_fails_the_delivery(server: Server) -> None:
    await server.start(server.answer_each(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    to = sender()
    assert await post(to, server) == Answer(None, "the connection failed")
    await to.close()


async def test_a_receiver_that_never_answers_times_out(server: Server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12")  # then nothing
        await asyncio.sleep(5)

    await server.start(handler)
    to = sender(timeout=0.3)
    assert await post(to, server) == Answer(None, "no answer within the time allowed")
    await to.close()


async def test_nothing_listening_is_could_not_connect(server: Server) -> None:
    await server.start(server.answer_each(NO_CONTENT))
    await server.stop()
    assert server.server is not None
    await server.server.wait_closed()
    assert await post(sender(), server) == Answer(None, "could not connect")


def test_the_sender_runs_on_uvloop_as_the_jobs_process_does() -> None:
    """uvloop's transports are not asyncio's classes: the whole exchange, on its loop."""

    async def exchange() -> tuple[list[Answer], int]:
        server = Server()
        await server.start(server.answer_each(NO_CONTENT))
        to = sender()
        answers = [await post(to, server) for _ in range(3)]
        await to.close()
        await server.stop()
        return answers, to.opened

    assert uvloop.run(exchange()) == ([Answer(204)] * 3, 1)


def test_a_line_break_never_reaches_the_wire() -> None:
    with pytest.raises(ValueError, match="line break"):
        request_bytes(target("http://127.0.0.1:9/h"), {"x": "a\r\nevil: 1"}, b"")


# --- TLS ---------------------------------------------------------------------------------


@pytest.fixture
def receiver_name() -> Iterator[str]:
    NAMES["receiver.test"] = ["127.0.0.1"]
    yield "receiver.test"
    NAMES.pop("receiver.test", None)


async def tls_exchange(server: Server, certificate_for: str, name: str) -> tuple[Answer, int]:
    authority = trustme.CA()
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(certificate_for).configure_cert(served)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    await server.start(server.answer_each(NO_CONTENT), tls=served)
    to = sender(tls=trusting)
    before = len(CONNECTIONS)
    answer = await to.post(target(f"https://{name}:{server.port}/hook"), HEADERS, b"{}")
    await to.close()
    assert CONNECTIONS[before:] == [("127.0.0.1", server.port)]  # the address, not the name
    return answer, len(server.requests)


async def test_tls_is_verified_against_the_urls_name(server: Server, receiver_name: str) -> None:
    assert await tls_exchange(server, receiver_name, receiver_name) == (Answer(204), 1)


async def test_a_certificate_for_another_name_is_refused(
    server: Server, receiver_name: str
) -> None:
    answer, delivered = await tls_exchange(server, "elsewhere.test", receiver_name)
    assert (answer, delivered) == (Answer(None, "the TLS handshake failed"), 0)
