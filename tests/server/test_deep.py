"""Deep expressions through a wstpserver: a result deeper than a link carries fails alone (a
message and ``$Failed``), the shared kernel and its definitions survive, another client is not
affected; a request deeper than the server reads is answered with a Failure, not a lost link."""

from __future__ import annotations

from typing import Any

from wstp_jupyter import wxf
from wstp_jupyter.link import Link, Protocol
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import Client, ServerProcess, failure_message, is_failure, wl_code


def _nest(n: int) -> Any:
    value: Any = Symbol("x")
    for _ in range(n):
        value = Expr(Symbol("f"), value)
    return value


def _texts(packets: list[Any], head: str) -> list[Any]:
    return [p.args[0] for p in packets if isinstance(p, Expr) and p.head == Symbol(head)]


def test_a_result_too_deep_for_the_link_fails_alone(main_server: ServerProcess) -> None:
    a, b = Client(main_server.address), Client(main_server.address)
    try:
        kid = a.command("ConnectPool")
        assert b.command("ConnectKernel", kid, Shared=True) == kid
        assert a.evaluate("deepKept = 41 + 1") == 42
        a.link.put(Expr(Symbol("EvaluatePacket"), wl_code("Nest[f, x, 1100]")))
        packets = a.until("ReturnPacket")
        assert [p.head.name for p in packets] == ["MessagePacket", "TextPacket", "ReturnPacket"]
        assert packets[0].args[1] == "linkdepth"
        assert packets[-1].args[0] == Symbol("$Failed")
        # The same kernel, its definitions, both clients.
        assert b.evaluate("deepKept") == 42
        assert a.command("GetKernelID") == kid == b.command("GetKernelID")
        assert a.evaluate("Depth[Nest[f, x, 1100]]") == 1101
        entered = b.enter("Nest[f, x, 3000]")
        assert _texts(entered, "ReturnTextPacket") == ["f[" * 3000 + "x" + "]" * 3000]
    finally:
        a.close()
        b.close()


def test_a_request_too_deep_for_the_server_is_answered(main_server: ServerProcess) -> None:
    # A client that writes deeper than the server reads (its own limits are raised).
    link = Link.connect(Protocol.TCPIP, main_server.address, limits=wxf.Limits(max_depth=5000))
    other = Client(main_server.address)
    try:
        link.activate(120)
        link.put(Expr(Symbol("EvaluatePacket"), wl_code("deepState = 7")))
        assert link.get(timeout=120) == Expr(Symbol("ReturnPacket"), 7)
        link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("Depth"), _nest(1100))))
        reply = link.get(timeout=120)
        assert reply.head == Symbol("ReturnPacket") and is_failure(reply.args[0])
        assert "could not read the request" in failure_message(reply.args[0])
        assert "max_depth 1024" in failure_message(reply.args[0])
        link.put(Expr(Symbol("EnterExpressionPacket"), Expr(Symbol("Depth"), _nest(1100))))
        first, prompt = link.get(timeout=120), link.get(timeout=120)
        assert first.head == Symbol("ReturnExpressionPacket") and is_failure(first.args[0])
        assert prompt.head == Symbol("InputNamePacket")
        # The connection and its kernel go on.
        link.put(Expr(Symbol("EvaluatePacket"), wl_code("deepState + 1")))
        assert link.get(timeout=120) == Expr(Symbol("ReturnPacket"), 8)
        assert other.evaluate("1 + 1") == 2
    finally:
        link.close()
        other.close()
