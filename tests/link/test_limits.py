"""Receiver limits on real links: an expression that breaks one is dropped, that one read fails
with ``LimitExceeded`` (``WSEDEPTH``), and the link goes on; a sender refuses what its peer would
drop (docs/protocol.md, "Receiver limits")."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from wstp_jupyter import wxf
from wstp_jupyter.link import (
    ErrorCode,
    EvaluatePacket,
    Expression,
    LimitExceeded,
    Link,
    LocalProtocolError,
    PacketCode,
    Protocol,
    RemoteProtocolError,
    ReturnPacket,
    UrgentMessage,
    aio,
    channel,
)
from wstp_jupyter.wxf import Expr, Symbol, wl

DEEP = 1100  # beyond the default max_depth (1024), as a Nest[f, x, 1100] result is


def nest(n: int) -> Any:
    value: Any = Symbol("x")
    for _ in range(n):
        value = Expr(Symbol("f"), value)
    return value


def _pair(protocol: Protocol) -> tuple[Link, Link]:
    """(receiver with default limits, sender that may write deeper)."""
    receiver = Link.listen(protocol)
    sender = Link.connect(protocol, receiver.name, limits=wxf.Limits(max_depth=5000))
    activating = threading.Thread(target=receiver.activate, args=(10,))
    activating.start()
    sender.activate(10)
    activating.join()
    return receiver, sender


@pytest.mark.parametrize("protocol", [Protocol.TCPIP, Protocol.Local, Protocol.IntraProcess])
def test_a_dropped_expression_fails_one_read_and_the_link_goes_on(protocol: Protocol) -> None:
    receiver, sender = _pair(protocol)
    try:
        sender.put(1)
        sender.put(EvaluatePacket(nest(DEEP)).to_expr())
        sender.put(2)
        sender.put_packet(ReturnPacket(nest(DEEP)))
        sender.put_packet(ReturnPacket(3))
        sender.put(nest(DEEP))
        sender.put(4)
        assert receiver.get(timeout=10) == 1
        with pytest.raises(LimitExceeded, match="max_depth 1024") as info:
            receiver.get(timeout=10)
        assert info.value.code == ErrorCode.WSEDEPTH
        assert info.value.head == wl.EvaluatePacket
        assert isinstance(info.value, RemoteProtocolError)
        assert receiver.get(timeout=10) == 2
        with pytest.raises(LimitExceeded) as info:
            receiver.get_packet(timeout=10)
        assert info.value.head == wl.ReturnPacket
        assert receiver.get_packet(timeout=10) == ReturnPacket(3)
        assert receiver.ready(10)
        with pytest.raises(LimitExceeded):
            receiver.next_packet(timeout=10)  # the token API reads through the same inbox
        assert receiver.next_packet(timeout=10) == PacketCode.ILLEGALPKT
        assert receiver.get(timeout=10) == 4
        assert receiver.received == 7
        # Both directions still work, and the receiver told its peer nothing went wrong.
        receiver.put(5)
        assert sender.get(timeout=10) == 5
        sender.put_message(UrgentMessage.ABORT)
        sender.put(6)
        assert receiver.get(timeout=10) == 6
        assert receiver.get_message() == UrgentMessage(code=UrgentMessage.ABORT)
    finally:
        sender.close()
        receiver.close()


def test_a_sender_refuses_what_its_peer_would_drop() -> None:
    a, b = channel(Protocol.IntraProcess)
    try:
        with pytest.raises(LocalProtocolError, match="deeper than 1024") as info:
            b.put(nest(DEEP))
        assert info.value.code == ErrorCode.WSEDEPTH
        with pytest.raises(LocalProtocolError, match="deeper than 1024"):
            b.put_many(1, ReturnPacket(nest(DEEP)).to_expr())  # all or nothing
        b.put(nest(1024))  # the limit itself is readable
        assert a.get(timeout=10) == nest(1024)
        assert not a.ready(0.2)  # nothing of the refused writes was sent
        loop = Link.loopback()
        with pytest.raises(LocalProtocolError, match="deeper than 1024"):
            loop.put(nest(DEEP))
        loop.put(7)
        assert loop.get(timeout=1) == 7
    finally:
        a.close()
        b.close()


def test_async_links_drop_and_go_on() -> None:
    async def main() -> None:
        receiver = await aio.listen(Protocol.TCPIP)
        activating = asyncio.ensure_future(receiver.activate(10))
        sender = await aio.connect(
            Protocol.TCPIP, receiver.name, limits=wxf.Limits(max_depth=5000), timeout=10
        )
        await activating
        try:
            await sender.put(EvaluatePacket(nest(DEEP)).to_expr())
            await sender.put(1)
            await sender.put(nest(DEEP))
            await sender.put_message(UrgentMessage.INTERRUPT)
            await sender.put(2)
            with pytest.raises(LimitExceeded) as info:
                await receiver.get(timeout=10)
            assert info.value.head == wl.EvaluatePacket
            assert await receiver.get(timeout=10) == 1
            with pytest.raises(LimitExceeded):
                await receiver.receive(timeout=10)  # the relay's wire-ordered read
            assert await receiver.receive(timeout=10) == UrgentMessage(code=2)
            assert await receiver.receive(timeout=10) == Expression(expr=2)
            await receiver.put(3)
            assert await sender.get(timeout=10) == 3
            with pytest.raises(LocalProtocolError, match="deeper than 1024"):
                await receiver.put(nest(DEEP))
            with pytest.raises(LocalProtocolError, match="deeper than 1024"):
                receiver.put_nowait(nest(DEEP))
        finally:
            sender.close()
            receiver.close()

    asyncio.run(main())
