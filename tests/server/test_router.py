"""The router against an in-memory kernel link and fake clients: requests in order, replies to
their requester, the kernel's questions answered by the asker, output kept for nobody."""

from __future__ import annotations

import asyncio

from wstp_jupyter.link import (
    EvaluatePacket,
    InputNamePacket,
    InputStringPacket,
    Protocol,
    ReturnPacket,
    TextPacket,
    aio,
)
from wstp_jupyter.server._commands import command_from_packet
from wstp_jupyter.server._router import Router, failure_packets
from wstp_jupyter.wxf import Expr, Symbol, wl


class FakeClient:
    """An ``Attachment`` that records what it is sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.got: list[object] = []
        self.finished = 0

    def deliver(self, packet: object) -> None:
        self.got.append(packet)

    def deliver_message(self, code: int, arg: int) -> None:
        self.got.append(("message", code, arg))

    def request_finished(self) -> None:
        self.finished += 1


def test_requests_in_order_replies_to_their_requester() -> None:
    async def main() -> None:
        kernel, server_side = await aio.channel(Protocol.IntraProcess)
        router = Router(server_side, "test")
        task = asyncio.create_task(router.run())
        a, b = FakeClient("a"), FakeClient("b")
        router.attach(a)
        router.attach(b)
        assert router.submit(a, EvaluatePacket(wl.f(1)).to_expr())
        assert router.submit(b, EvaluatePacket(wl.f(2)).to_expr())
        assert router.queued == 1 and router.busy  # b waits for a's request to end
        assert await kernel.get_packet(timeout=5) == EvaluatePacket(wl.f(1))
        await kernel.put_packet(TextPacket("for a"))
        await kernel.put_packet(InputStringPacket("? "))  # a question: only a answers it
        while len(a.got) < 2:
            await asyncio.sleep(0.01)
        assert not router.submit(a, Expr(Symbol("EnterTextPacket"), "typed"))  # the answer
        assert await kernel.get(timeout=5) == Expr(Symbol("EnterTextPacket"), "typed")
        await kernel.put_packet(ReturnPacket(1))
        assert await kernel.get_packet(timeout=5) == EvaluatePacket(wl.f(2))
        await kernel.put_packet(ReturnPacket(2))
        await kernel.put_packet(InputNamePacket("In[7]:= "))  # between requests: last owner
        while len(b.got) < 2:
            await asyncio.sleep(0.01)
        assert a.got == [TextPacket("for a").to_expr(), InputStringPacket("? ").to_expr(),
                         ReturnPacket(1).to_expr()]
        assert b.got == [ReturnPacket(2).to_expr(), InputNamePacket("In[7]:= ").to_expr()]
        assert (a.finished, b.finished) == (1, 1) and router.idle
        assert router.prompt == "In[7]:= "
        kernel.close()
        assert "closed" in await task

    asyncio.run(main())


def test_output_for_nobody_is_kept_for_the_next_client() -> None:
    async def main() -> None:
        kernel, server_side = await aio.channel(Protocol.IntraProcess)
        router = Router(server_side, "test")
        task = asyncio.create_task(router.run())
        await kernel.put_packet(TextPacket("while nobody was there"))
        while router.buffered < 1:
            await asyncio.sleep(0.01)
        late = FakeClient("late")
        assert router.attach(late) == [TextPacket("while nobody was there").to_expr()]
        kernel.close()
        await task

    asyncio.run(main())


def test_failures_answer_in_the_form_asked_and_commands_are_read_by_class() -> None:
    assert failure_packets(Expr(Symbol("EnterTextPacket"), "1+"), "gone", "In[3]:= ")[1] == (
        InputNamePacket("In[3]:= ").to_expr())
    assert failure_packets(wl.NotAPacket(1), "gone", None)[0].head == Symbol("ReturnPacket")
    # A misshapen packet is no request: it is forwarded, never taken for a command.
    misshapen = Expr(Symbol("EvaluatePacket"), wl.WSTPServer.GetKernelID(), 2)
    assert command_from_packet(misshapen) is None
