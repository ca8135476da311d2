"""The asyncio adapter's own parts: wire-ordered receive, never-waiting writes with a bound on
what a peer may leave unread, and the same end-of-link errors as the blocking ``Link``."""

from __future__ import annotations

import asyncio
import socket

import pytest

from wstp_jupyter.link import (
    AuthenticationError,
    ErrorCode,
    Expression,
    Link,
    LinkClosed,
    LocalProtocolError,
    Protocol,
    UrgentMessage,
    aio,
    channel,
)


def test_receive_keeps_wire_order_where_get_message_overtakes() -> None:
    async def main() -> None:
        a, b = await aio.channel(Protocol.TCPIP)
        await b.put(1)
        await b.put_message(UrgentMessage.ABORT)
        await b.put(2)
        await b.put_message(UrgentMessage.INTERRUPT)
        got = [await a.receive(timeout=5) for _ in range(4)]
        assert got == [Expression(expr=1), UrgentMessage(code=3), Expression(expr=2),
                       UrgentMessage(code=2)]
        assert a.received == 2
        await b.put(3)
        await b.put_message(UrgentMessage.ABORT)
        await a.wait_ready(5)
        while a.get_message() is None:  # the message overtakes the queued expression
            await asyncio.sleep(0.01)
        assert await a.get(timeout=5) == 3
        a.close()
        b.close()

    asyncio.run(main())


def test_put_nowait_drops_a_peer_that_does_not_read() -> None:
    async def main() -> None:
        server = await aio.start_server(max_unsent=1 << 16)
        peer = Link.connect(Protocol.TCPIP, server.name)  # blocking: it reads only when asked
        await asyncio.get_running_loop().run_in_executor(None, peer.activate, 5)
        link = await server.accept(5)
        assert link.max_unsent == 1 << 16
        chunk = "x" * (1 << 16)
        sent = 0
        with pytest.raises(LinkClosed, match="does not read") as info:
            for _ in range(10_000):  # the socket buffers fill, then the transport's
                link.put_nowait(chunk)
                sent += 1
                await asyncio.sleep(0)
        assert info.value.code == ErrorCode.WSEDEAD
        with pytest.raises(LinkClosed):
            link.put_nowait(1)


        def read_all() -> int:
            got = 0
            with pytest.raises(LinkClosed, match="does not read"):  # why, after the data
                while True:
                    assert peer.get(timeout=30) == chunk
                    got += 1
            return got

        # Closing waits for the queued bytes to go out: the peer reads them meanwhile.
        assert await asyncio.get_running_loop().run_in_executor(None, read_all) <= sent
        await link.wait_closed()
        peer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())


def test_put_nowait_needs_an_active_link() -> None:
    async def main() -> None:
        link = await aio.listen(Protocol.TCPIP)
        with pytest.raises(LocalProtocolError, match="not active"):
            link.put_nowait(1)
        with pytest.raises(LocalProtocolError):
            link.put_message_nowait(0)  # not a WSTP code
        link.close()

    asyncio.run(main())


@pytest.mark.parametrize("orderly", [True, False])
def test_both_adapters_report_the_end_of_a_link_alike(orderly: bool) -> None:
    # An orderly CLOSE is WSECLOSED; a stream that just ends is WSEDEAD, for Link and AsyncLink.
    want = ErrorCode.WSECLOSED if orderly else ErrorCode.WSEDEAD

    def end(link: Link) -> None:
        if orderly:
            link.close()
        else:
            assert link._sock is not None
            link._sock.shutdown(socket.SHUT_RDWR)

    a, b = channel(Protocol.TCPIP)
    end(b)
    with pytest.raises(LinkClosed) as info:
        a.get(timeout=5)
    assert info.value.code == want
    a.close()
    b.close()

    async def main() -> int:
        server = await aio.start_server()
        peer = Link.connect(Protocol.TCPIP, server.name)
        await asyncio.get_running_loop().run_in_executor(None, peer.activate, 5)
        link = await server.accept(5)
        end(peer)
        try:
            with pytest.raises(LinkClosed) as info:
                await link.get(timeout=5)
            return info.value.code
        finally:
            link.close()
            peer.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(main()) == want


def test_a_closed_link_is_freed_without_the_cycle_collector() -> None:
    # A server with many short-lived links must get each one's buffers back at once.
    import gc
    import weakref

    async def main() -> list[weakref.ref[object]]:
        a, b = await aio.channel(Protocol.TCPIP)
        b.set_message_handler(lambda message: None)
        await a.put(1)
        assert await b.get(timeout=5) == 1
        refs: list[weakref.ref[object]] = [weakref.ref(a), weakref.ref(b)]
        a.close()
        b.close()
        await a.wait_closed()
        await b.wait_closed()
        return refs

    c, d = channel(Protocol.TCPIP)
    d.put(2)
    assert c.get(timeout=5) == 2
    blocking: list[weakref.ref[object]] = [weakref.ref(c), weakref.ref(d)]
    c.close()
    d.close()
    del c, d
    gc.disable()
    try:
        refs = asyncio.run(main()) + blocking
        assert [r() for r in refs] == [None] * 4
    finally:
        gc.enable()


def test_a_listening_async_link_keeps_listening_after_a_wrong_key() -> None:
    async def main() -> None:
        link = await aio.listen(Protocol.TCPIP, key="right")
        loop = asyncio.get_running_loop()
        intruder = Link.connect(Protocol.TCPIP, link.name, key="wrong")
        failed = loop.run_in_executor(None, intruder.activate, 5)
        with pytest.raises(AuthenticationError):
            await link.activate(5)
        with pytest.raises(AuthenticationError):
            await failed
        intruder.close()
        peer = Link.connect(Protocol.TCPIP, link.name, key="right")
        peer.put("in")  # activates in the background
        await link.activate(5)
        assert await link.get(timeout=5) == "in"
        peer.close()
        link.close()

    asyncio.run(main())
