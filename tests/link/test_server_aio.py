"""LinkServer (blocking) and the asyncio adapter over real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid

import pytest

from wstp_jupyter.link import (
    AuthenticationError,
    EvaluatePacket,
    Link,
    LinkClosed,
    LinkServer,
    LinkTimeout,
    Protocol,
    ReturnPacket,
    UrgentMessage,
    aio,
)
from wstp_jupyter.wxf import wl


def test_link_server_accept_iterate_and_ids() -> None:
    with LinkServer() as server:
        assert server.interface == "127.0.0.1" and server.name == f"{server.port}@127.0.0.1"
        cid = uuid.uuid4()
        c1 = Link.connect(Protocol.TCPIP, server.name, connection_id=cid)
        c2 = Link.connect(Protocol.TCPIP, server.name)
        c1.activate(5)
        c2.activate(5)
        got = {server.accept(5).connection_id, next(iter(server)).connection_id}
        assert got == {cid, c2.connection_id}
        # A client that reconnects presents its old id again.
        c1.close()
        again = Link.connect(Protocol.TCPIP, server.name, connection_id=cid)
        again.activate(5)
        link = server.accept(5)
        assert link.connection_id == cid
        again.put(1)
        assert link.get(timeout=5) == 1
        for x in (c2, again, link):
            x.close()
        with pytest.raises(LinkTimeout):
            server.accept(0.05)
    with pytest.raises(LinkClosed):
        server.accept(0.05)


def test_link_server_callback_and_key() -> None:
    arrived: list[Link] = []
    event = threading.Event()

    def on_link(link: Link) -> None:
        arrived.append(link)
        event.set()

    with LinkServer(key="k", callback=on_link) as server:
        bad = Link.connect(Protocol.TCPIP, server.name, key="nope")
        with pytest.raises(AuthenticationError):
            bad.activate(5)
        good = Link.connect(Protocol.TCPIP, server.name, key="k")
        good.activate(5)
        assert event.wait(5)
        assert arrived[0].connection_id == good.connection_id and len(arrived) == 1
        good.close()
        arrived[0].close()
    with pytest.raises(AuthenticationError, match="without a key"):
        LinkServer(interface="0.0.0.0")


def test_silent_client_times_out_and_others_still_served() -> None:
    with LinkServer(handshake_timeout=2.0) as server:
        silent = socket.create_connection(("127.0.0.1", server.port))
        deadline = time.monotonic() + 5  # the server's thread may be slow to accept under load
        while server.pending_handshakes != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.pending_handshakes == 1
        client = Link.connect(Protocol.TCPIP, server.name)
        client.activate(5)  # not held up by the silent one
        link = server.accept(5)
        silent.settimeout(5)
        while silent.recv(1000):  # our HELLO, then EOF once the timeout fires
            pass
        # The handshake thread closes the socket before it leaves its `finally`, so the EOF
        # can reach us a moment before the count drops.
        deadline = time.monotonic() + 5
        while server.pending_handshakes and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.pending_handshakes == 0 and server.rejected >= 1
        silent.close()
        client.close()
        link.close()


@pytest.mark.parametrize("protocol", [Protocol.TCPIP, Protocol.Local, Protocol.IntraProcess])
def test_aio_channel(protocol: Protocol) -> None:
    async def main() -> None:
        a, b = await aio.channel(protocol)
        await b.put_packet(EvaluatePacket(wl.Plus(1, 1)))
        assert await a.get_packet(5) == EvaluatePacket(wl.Plus(1, 1))
        await a.put_packet(ReturnPacket(2))
        assert await b.get_packet(5) == ReturnPacket(2)
        seen: list[UrgentMessage] = []
        arrived = asyncio.Event()

        async def handler(msg: UrgentMessage) -> None:
            seen.append(msg)
            arrived.set()

        for i in range(5):
            await b.put(i)
        await b.put_message(UrgentMessage.ABORT)
        await asyncio.sleep(0.05)  # the message arrives before a handler exists: queued
        a.set_message_handler(handler)
        await asyncio.wait_for(arrived.wait(), 5)
        assert seen == [UrgentMessage(code=3)]
        assert [await a.get(5) for _ in range(5)] == list(range(5))
        with pytest.raises(LinkTimeout):
            await a.get(0.05)
        await a.aclose()
        with pytest.raises(LinkClosed):
            await b.get(5)
        b.close()

    asyncio.run(main())


def test_aio_server_async_for_and_interop_with_blocking_link() -> None:
    async def main() -> None:
        async with await aio.start_server(key=b"k", handshake_timeout=2.0) as server:
            clients = [await aio.connect(Protocol.TCPIP, server.name, key=b"k") for _ in range(3)]
            ids = set()
            async for link in server:
                ids.add(link.connection_id)
                await link.put(["hello", str(link.connection_id)])
                if len(ids) == 3:
                    break
            assert ids == {c.connection_id for c in clients}
            for c in clients:
                assert (await c.get(5))[0] == "hello"  # type: ignore[index]
                c.close()
            with pytest.raises(AuthenticationError):
                await aio.connect(Protocol.TCPIP, server.name, key=b"wrong")
            # A blocking Link speaks to the asyncio server: same protocol, same core.
            blocking = Link.connect(Protocol.TCPIP, server.name, key=b"k")
            await asyncio.get_running_loop().run_in_executor(None, blocking.activate, 5)
            link = await server.accept(5)
            blocking.put(wl.x)
            assert await link.get(5) == wl.x
            blocking.close()
            link.close()
            # Garbage does not disturb the server.
            r, w = await asyncio.open_connection("127.0.0.1", server.port)
            w.write(b"\xff" * 64)
            await asyncio.wait_for(r.read(), 5)
            w.close()
            c = await aio.connect(Protocol.TCPIP, server.name, key=b"k")
            link = await server.accept(5)
            await c.put(1)
            assert await link.get(5) == 1
            c.close()
            link.close()
        with pytest.raises(AuthenticationError):
            await aio.start_server(interface="0.0.0.0")

    asyncio.run(main())


def test_aio_listen_activate() -> None:
    async def main() -> None:
        listener = await aio.listen(Protocol.Local)
        waiting = asyncio.ensure_future(listener.activate(5))
        client = await aio.connect(Protocol.Local, listener.name)
        await waiting
        assert listener.connection_id == client.connection_id and listener.active
        await client.put("x")
        assert await listener.get(5) == "x"
        await client.aclose()
        await listener.aclose()

    asyncio.run(main())


def test_aio_server_reports_a_rejected_peer_only_through_on_reject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server owns the report: the library logs no warning of its own (one that would reach
    stderr unformatted through logging's last-resort handler)."""
    rejected: list[str] = []

    async def main() -> None:
        server = await aio.start_server(
            key="right", on_reject=lambda peer, err: rejected.append(str(err))
        )
        intruder = Link.connect(Protocol.TCPIP, server.name, key="wrong")
        with pytest.raises(AuthenticationError):
            await asyncio.get_running_loop().run_in_executor(None, intruder.activate, 5)
        intruder.close()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            while len(rejected) < 2:
                await asyncio.sleep(0.01)
        server.close()
        await server.wait_closed()

    with caplog.at_level("DEBUG", logger="wstp_jupyter.link"):
        asyncio.run(asyncio.wait_for(main(), 30))
    assert len(rejected) == 2 and "keys differ" in rejected[0], rejected
    warnings = [r for r in caplog.records if r.levelno >= 30 and r.name.startswith("wstp_jupyter")]
    assert not warnings, [r.getMessage() for r in warnings]
