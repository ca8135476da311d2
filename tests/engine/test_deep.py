"""Deep expressions through a kernel process over a real link: results, Print and message
arguments thousands of levels deep are printed; what cannot be printed or sent is said with a
message (never silently lost), the rest of the cell runs, and the link survives."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from wstp_jupyter import wxf
from wstp_jupyter.link import Link, Protocol
from wstp_jupyter.wxf import Expr, Symbol, wl

from .helpers import Session, head, read_until_end

FAILED = Symbol("$Failed")


def nest(n: int) -> Any:
    value: Any = Symbol("Global`x")
    for _ in range(n):
        value = Expr(Symbol("Global`f"), value)
    return value


def text_of(n: int) -> str:
    return "f[" * n + "x" + "]" * n


def heads(packets: list[Any]) -> list[str | None]:
    return [head(p) for p in packets]


def messages(packets: list[Any]) -> list[str]:
    """``sym::tag`` of every MessagePacket."""
    return [f"{p.args[0].name}::{p.args[1]}" for p in packets if head(p) == "MessagePacket"]


def texts(packets: list[Any], packet_head: str) -> list[str]:
    return [p.args[0] for p in packets if head(p) == packet_head]


def test_a_deep_result_prints_in_full(kernel: Session) -> None:
    packets = kernel.enter("Nest[f, x, 5000]")
    assert heads(packets) == ["OutputNamePacket", "ReturnTextPacket", "InputNamePacket"]
    assert texts(packets, "ReturnTextPacket") == [text_of(5000)]


def test_deep_print_and_the_rest_of_the_cell(kernel: Session) -> None:
    packets = kernel.enter('Print["before"]; Print[Nest[f, x, 1100]]; Print["after"]; 5')
    assert texts(packets, "TextPacket") == ["before\n", text_of(1100) + "\n", "after\n"]
    assert texts(packets, "ReturnTextPacket") == ["5"]
    packets = kernel.enter("Nest[f, x, 1100]\ndeepY = 2")
    assert texts(packets, "ReturnTextPacket") == [text_of(1100), "2"]
    assert texts(kernel.enter("deepY"), "ReturnTextPacket") == ["2"]


def test_output_too_deep_to_print_is_cut_with_a_message(kernel: Session) -> None:
    packets = kernel.enter("Nest[f, x, 20000]\nPrint[Nest[g, x, 20000]]; 7")
    assert messages(packets) == ["General::deepout", "General::deepout"]
    assert "shown to depth 100" in texts(packets, "TextPacket")[0]
    cut = "f[" * 100 + "<<1>>" + "]" * 100
    assert texts(packets, "ReturnTextPacket") == [cut, "7"]
    printed = texts(packets, "TextPacket")[-1]  # Print's own wrapping counts as levels
    assert re.fullmatch(r"(g\[){90,100}<<1>>\]{90,100}\n", printed)
    # Out keeps the whole expression.
    assert texts(kernel.enter("Depth[%%]"), "ReturnTextPacket") == ["20001"]


def test_a_deep_message_argument(kernel: Session) -> None:
    packets = kernel.enter("deepMsg::a = \"got `1`\"; Message[deepMsg::a, Nest[f, x, 1500]]; 1")
    assert messages(packets) == ["deepMsg::a"]
    assert texts(packets, "TextPacket") == ["deepMsg::a: got " + text_of(1500)]


def test_a_computation_out_of_python_stack_is_reported_and_the_cell_goes_on(
    kernel: Session,
) -> None:
    packets = kernel.enter("deepD = Nest[f, x, 20000];\nLength[deepD /. x -> y]\n1 + 1")
    assert messages(packets) == ["General::nostack"]
    assert texts(packets, "ReturnTextPacket") == ["$Aborted", "2"]


def test_evaluate_packet_results_beyond_the_link_limit_fail_alone(kernel: Session) -> None:
    ok = kernel.evaluate(wl.ToExpression("Nest[f, x, 1023]"))  # ReturnPacket + 1023: 1024
    assert ok == [wl.ReturnPacket(nest(1023))]
    packets = kernel.evaluate(wl.ToExpression("Nest[f, x, 1024]"))
    assert heads(packets) == ["MessagePacket", "TextPacket", "ReturnPacket"]
    assert messages(packets) == ["General::linkdepth"]
    assert "deeper than 1024 levels" in texts(packets, "TextPacket")[0]
    assert packets[-1] == wl.ReturnPacket(FAILED)
    assert kernel.evaluate(wl.Plus(1, 1)) == [wl.ReturnPacket(2)]


def test_enter_expression_result_beyond_the_link_limit(kernel: Session) -> None:
    kernel.link.put(wl.EnterExpressionPacket(wl.ToExpression("Nest[f, x, 1100]")))
    packets = read_until_end(kernel.link)
    assert heads(packets) == [
        "OutputNamePacket", "MessagePacket", "TextPacket", "ReturnExpressionPacket",
        "InputNamePacket",
    ]  # fmt: skip
    assert packets[3] == wl.ReturnExpressionPacket(FAILED)
    assert texts(kernel.enter("Depth[%]"), "ReturnTextPacket") == ["1101"]


def test_messages_as_the_wolfram_kernel_writes_them(kernel: Session) -> None:
    packets = kernel.enter("Message[undefMsg::x]; Message[undefMsg::y, 1, y]")
    assert texts(packets, "TextPacket") == [
        "undefMsg::x: -- Message text not found --",
        "undefMsg::y: -- Message text not found -- (1) (y)",
    ]
    assert kernel.enter("Off[undefMsg::x]; Message[undefMsg::x]")[:-1] == []
    assert texts(kernel.enter("$RecursionLimit"), "ReturnTextPacket") == ["1024"]
    packets = kernel.enter("Clear[deepA]; deepA := {deepA}; deepA")
    assert texts(packets, "TextPacket") == [
        "$RecursionLimit::reclim: Recursion depth of 1024 exceeded."
    ]


@pytest.fixture(scope="module")
def deep_sender() -> Iterator[Link]:
    """A kernel whose front end may send deeper expressions than the kernel reads."""
    link = Link.launch(
        [sys.executable, "-m", "wstp_jupyter.engine", "-wstp"],
        link_options={"limits": wxf.Limits(max_depth=5000)},
        timeout=90,
    )
    assert heads(read_until_end(link, timeout=60)) == ["InputNamePacket"]
    yield link
    link.put(wl.EvaluatePacket(wl.Quit()))
    assert link.process is not None
    link.process.wait(30)
    link.close()


def test_a_request_the_kernel_cannot_read_is_answered(deep_sender: Link) -> None:
    link = deep_sender
    link.put(wl.EvaluatePacket(wl.Depth(nest(1100))))
    packets = read_until_end(link)
    assert messages(packets) == ["General::linkread"]
    assert "max_depth 1024" in texts(packets, "TextPacket")[0]
    assert packets[-1] == wl.ReturnPacket(FAILED)
    link.put(wl.EnterExpressionPacket(wl.Depth(nest(1100))))
    packets = read_until_end(link)
    assert messages(packets) == ["General::linkread"]
    assert heads(packets)[-1] == "InputNamePacket"
    # The link and the session go on. The kernel cannot know that this front end reads
    # deeper expressions: it sends what the default limits allow.
    link.put(wl.EvaluatePacket(wl.ToExpression("Nest[f, x, 1100]")))
    assert read_until_end(link)[-1] == wl.ReturnPacket(FAILED)
    link.put(wl.EnterTextPacket("1 + 1"))
    assert texts(read_until_end(link), "ReturnTextPacket") == ["2"]


@pytest.fixture(scope="module")
def woxi() -> Iterator[Session]:
    pytest.importorskip("woxi")
    from wstp_jupyter.engine import launch

    session = Session(launch(extra_args=("--engine", "woxi")))
    assert heads(read_until_end(session.link)) == ["InputNamePacket"]
    yield session
    session.kernel.close()


def test_woxi_deep_results(woxi: Session) -> None:
    packets = woxi.enter('Print["before"]; Print[Nest[f, x, 1100]]; Print["after"]; 5')
    # (Woxi's output arrives in pieces of its pipe, not one packet per Print.)
    printed = "".join(texts(packets, "TextPacket"))
    assert printed.split() == ["before", text_of(1100), "after"]
    assert texts(packets, "ReturnTextPacket") == ["5"]
    packets = woxi.enter("Nest[f, x, 3000]\nwoxiY = 2")
    assert texts(packets, "ReturnTextPacket") == [text_of(3000), "2"]
    packets = woxi.evaluate(wl.ToExpression("Nest[f, x, 1100]"))
    assert messages(packets) == ["General::linkdepth"]
    assert packets[-1] == wl.ReturnPacket(FAILED)
    assert texts(woxi.enter("woxiY + 1"), "ReturnTextPacket") == ["3"]


def test_link_functions_and_deep_expressions(kernel: Session) -> None:
    # A peer that writes deeper than the kernel's links read (its own limits are raised).
    peer = Link.listen(Protocol.TCPIP, limits=wxf.Limits(max_depth=5000))
    activating = threading.Thread(target=peer.activate, args=(60,))
    activating.start()
    try:
        packets = kernel.enter(f'deepL = LinkConnect["{peer.name}"]; LinkActivate[deepL]; 1')
        assert texts(packets, "ReturnTextPacket") == ["1"]
        activating.join()
        peer.put(nest(1100))
        peer.put(5)
        packets = kernel.enter("LinkRead[deepL]")
        assert messages(packets) == ["LinkRead::linkr"]
        assert "max_depth 1024" in texts(packets, "TextPacket")[0]
        assert texts(packets, "ReturnTextPacket") == ["$Failed"]
        assert texts(kernel.enter("LinkRead[deepL]"), "ReturnTextPacket") == ["5"]
        # Writing what the peer would drop is refused; the link goes on.
        packets = kernel.enter("LinkWrite[deepL, Nest[f, x, 1100]]")
        assert messages(packets) == ["LinkWrite::linkx"]
        assert "deeper than 1024" in texts(packets, "TextPacket")[0]
        kernel.enter("LinkWrite[deepL, 6]; LinkClose[deepL]")
        assert peer.get(timeout=30) == 6
    finally:
        peer.close()
