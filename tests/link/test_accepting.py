"""A listening link runs the handshakes of all pending connections at once.

Each test leaves a connection open and unanswered (silent, or a raw socket that never speaks the
protocol) while the right client connects, with a listener ``handshake_timeout`` far beyond the
test's own read limit: a listener that handled handshakes one at a time would sit on the silent
connection and the exchange would time out. No test measures time.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator

import pytest

from wstp_jupyter.link import AuthenticationError, Link, LinkError, LinkServer, Protocol, aio

SILENT_FOR = 120.0  # the listener's handshake_timeout: far beyond any read limit below
LIMIT = 10.0


def _raw_connect(protocol: Protocol, name: str) -> socket.socket:
    if protocol is Protocol.TCPIP:
        port, host = name.split("@")
        return socket.create_connection((host, int(port)), timeout=LIMIT)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(LIMIT)
    sock.connect(name)
    return sock


def _read_to_end(sock: socket.socket) -> bytes:
    """Everything the listener sends the silent socket, until it closes it."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


@pytest.fixture
def silent() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


@pytest.mark.parametrize("protocol", [Protocol.TCPIP, Protocol.Local])
def test_a_silent_connection_does_not_hold_up_the_right_client(
    protocol: Protocol, silent: list[socket.socket]
) -> None:
    listener = Link.listen(protocol, key="k", handshake_timeout=SILENT_FOR)
    silent.append(_raw_connect(protocol, listener.name))  # connected first, says nothing
    silent.append(_raw_connect(protocol, listener.name))
    silent[1].sendall(b"GET / HTTP/1.1\r\n\r\n")  # garbage: refused at once
    client = Link.connect(protocol, listener.name, key="k")
    client.put("hi")
    assert listener.get(timeout=LIMIT) == "hi"
    listener.put("back")
    assert client.get(timeout=LIMIT) == "back"
    # The silent connection was still pending; now it is told why it is closed.
    assert b"another peer completed the handshake first" in _read_to_end(silent[0])
    client.close()
    listener.close()


def test_a_wrong_key_is_reported_while_other_handshakes_go_on(
    silent: list[socket.socket],
) -> None:
    rejected: list[tuple[str, LinkError]] = []
    listener = Link.listen(
        Protocol.TCPIP,
        key="k",
        handshake_timeout=SILENT_FOR,
        on_reject=lambda peer, err: rejected.append((peer, err)),
    )
    silent.append(_raw_connect(Protocol.TCPIP, listener.name))
    intruder = Link.connect(Protocol.TCPIP, listener.name, key="wrong")
    intruder.put("x")  # the handshake runs in the background
    with pytest.raises(AuthenticationError):
        listener.activate(timeout=LIMIT)
    with pytest.raises(AuthenticationError):
        intruder.get(timeout=LIMIT)
    # The silent connection is still pending and holds up nobody.
    client = Link.connect(Protocol.TCPIP, listener.name, key="k")
    client.put(1)
    assert listener.get(timeout=LIMIT) == 1
    _read_to_end(silent[0])
    reasons = [str(err) for _, err in rejected]
    assert any("keys differ" in r for r in reasons), reasons
    assert any("another peer completed the handshake first" in r for r in reasons), reasons
    assert all("@127.0.0.1" in peer for peer, _ in rejected)
    for link in (intruder, client, listener):
        link.close()


def test_closing_a_listener_closes_its_pending_connections(silent: list[socket.socket]) -> None:
    listener = Link.listen(Protocol.TCPIP, handshake_timeout=SILENT_FOR)
    silent.append(_raw_connect(Protocol.TCPIP, listener.name))
    with pytest.raises(LinkError):  # LinkTimeout; the silent handshake stays pending
        listener.activate(timeout=0.2)
    listener.close()
    assert b"closed" in _read_to_end(silent[0])


_SILENT_THEN_CONNECT = """
import os, socket, sys
from wstp_jupyter.link import KEY_ENV, Link, LinkClosed
name = sys.argv[sys.argv.index("-linkname") + 1]
port, host = name.split("@")
silent = socket.create_connection((host, int(port)))  # first in, never says a word
link = Link.connect("TCPIP", name, key=os.environ[KEY_ENV])
link.put(link.get(timeout=30) + 1)
assert silent.recv(4096)  # the listener's HELLO; then it closes this one
try:
    link.get(timeout=30)  # waits for the parent to close the link
except LinkClosed:
    pass
"""


def test_launch_is_not_held_up_by_a_silent_connection() -> None:
    link = Link.launch(
        [sys.executable, "-c", _SILENT_THEN_CONNECT],
        link_options={"handshake_timeout": SILENT_FOR},
        timeout=60,
    )
    assert link.process is not None
    link.put(41)
    assert link.get(timeout=LIMIT) == 42
    link.close()
    assert link.process.wait(timeout=30) == 0


def test_a_listening_async_link_is_not_held_up_by_a_silent_connection(
    silent: list[socket.socket],
) -> None:
    async def main() -> None:
        listener = await aio.listen(Protocol.TCPIP, key="k", handshake_timeout=SILENT_FOR)
        silent.append(_raw_connect(Protocol.TCPIP, listener.name))
        activating = asyncio.ensure_future(listener.activate(LIMIT))
        client = await aio.connect(Protocol.TCPIP, listener.name, key="k", timeout=LIMIT)
        await activating
        await client.put("hi")
        assert await listener.get(timeout=LIMIT) == "hi"
        client.close()
        listener.close()

    asyncio.run(main())
    assert b"another peer completed the handshake first" in _read_to_end(silent[0])


def test_a_link_server_is_not_held_up_by_a_silent_connection(
    silent: list[socket.socket],
) -> None:
    with LinkServer(key="k", handshake_timeout=SILENT_FOR) as server:
        silent.append(_raw_connect(Protocol.TCPIP, server.name))
        client = Link.connect(Protocol.TCPIP, server.name, key="k")
        client.put("hi")
        link = server.accept(timeout=LIMIT)
        assert link.get(timeout=LIMIT) == "hi"
        link.close()
        client.close()


def test_concurrent_activations_of_a_listening_async_link_share_the_peer() -> None:
    async def main() -> None:
        listener = await aio.listen(Protocol.TCPIP)
        waiting = [asyncio.ensure_future(listener.activate(LIMIT)) for _ in range(2)]
        client = await aio.connect(Protocol.TCPIP, listener.name, timeout=LIMIT)
        await asyncio.gather(*waiting)
        await client.put(1)
        assert await listener.get(timeout=LIMIT) == 1
        client.close()
        listener.close()

    asyncio.run(main())


def test_a_cancelled_async_activation_leaves_the_link_usable() -> None:
    async def main() -> None:
        listener = await aio.listen(Protocol.TCPIP)
        with pytest.raises(LinkError):  # LinkTimeout: nobody connects
            await listener.activate(0.05)
        activating = asyncio.ensure_future(listener.activate())
        await asyncio.sleep(0)
        activating.cancel()
        client = await aio.connect(Protocol.TCPIP, listener.name, timeout=LIMIT)
        await listener.activate(LIMIT)
        await client.put(2)
        assert await listener.get(timeout=LIMIT) == 2
        client.close()
        listener.close()

    asyncio.run(main())
