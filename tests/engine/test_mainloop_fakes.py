"""The main loop against an in-memory backend: packet sequences and output order, fast.

``ScriptBackend`` is a real ``Backend`` whose "language" is a few commands, so a test states
exactly what an evaluation does (print, message, display, clear, block, return a value) and the
loop is driven over real in-process links (``channel()``), without Mathics3. The real-process
tests beside this file check the same rules with the Mathics3 backend.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from wstp_jupyter.engine._backend import Backend, Host, LineResult, SyntaxIssue
from wstp_jupyter.engine._mainloop import MainLoop
from wstp_jupyter.engine._requests import (
    ClearOutput,
    Complete,
    DisplayData,
    Inspect,
    IsComplete,
    MIMEBundle,
    SetResultFormat,
    parse_display,
)
from wstp_jupyter.engine._sidelinks import KernelSideLinks, open_parallel_links
from wstp_jupyter.link import Link, Packet, Protocol, UrgentMessage, channel
from wstp_jupyter.wxf import Expr, Symbol, wl

from .helpers import head, read_until_end

TIMEOUT = 10.0


class Aborted(Exception):
    pass


class ScriptBackend(Backend):
    """Cells are ``;``-separated commands: ``print X``, ``msg X``, ``show X`` / ``temp X``
    (display, temporary), ``clear`` / ``clearwait``, ``block`` (until aborted), ``input P``,
    ``bad X`` (syntax error at X), anything else is the line's value (``null``: no output)."""

    def __init__(self) -> None:
        self.line = 0
        self.aborting = threading.Event()
        self.started = threading.Event()

    def next_line(self) -> int:
        return self.line + 1

    def check_syntax(self, text: str, host: Host) -> SyntaxIssue | None:
        for command in text.split(";"):
            if command.strip().startswith("bad "):
                host.message("Syntax", "sntxf", "bad input")
                return SyntaxIssue(position=int(command.split()[1]), incomplete=False)
        return None

    def run_cell(self, text: str, host: Host) -> Iterator[LineResult]:
        self.line += 1
        value = self._run(text, host)
        # "block" ends in an abort; a "$Aborted" command is that symbol as a plain value.
        aborted = value == Symbol("$Aborted") and text.strip().endswith("block")
        yield LineResult(self.line, value, aborted=aborted)

    def _run(self, text: str, host: Host) -> Any:
        value: Any = None
        for command in (c.strip() for c in text.split(";")):
            verb, _, arg = command.partition(" ")
            value = None
            if verb == "print":
                host.print_text(arg)
            elif verb == "msg":
                host.message("General", "tag", arg)
            elif verb in ("show", "temp"):
                if not host.display({"text/plain": arg}, temporary=verb == "temp"):
                    host.print_text(arg)
            elif verb in ("clear", "clearwait"):
                host.clear_output(wait=verb == "clearwait")
            elif verb == "input":
                value = host.request_input(arg, string=True)
            elif verb == "block":
                self.started.set()
                if not self.aborting.wait(TIMEOUT):
                    raise AssertionError("never aborted")
                self.aborting.clear()
                return Symbol("$Aborted")
            elif verb == "$Aborted":
                value = Symbol("$Aborted")
            elif verb != "null":
                value = command
        return value

    def run_line(self, expr: Any, host: Host) -> LineResult:
        self.line += 1
        return LineResult(self.line, expr)

    def evaluate(self, expr: Any, host: Host, *, side: bool = False) -> Any:
        return self._run(expr, host) if isinstance(expr, str) else expr

    def abort(self, *, pending: bool = False) -> bool:
        self.aborting.set()
        return True

    def hold(self) -> None:
        pass

    def clear_pending(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def to_wire(self, value: Any) -> Any:
        return value

    def output_text(self, value: Any) -> str:
        return str(value)

    def input_text(self, value: Any) -> str:
        return str(value)

    def mime_bundle(
        self, value: Any, options: dict[str, Any], *, side: bool = False
    ) -> dict[str, Any]:
        return {"text/plain": str(value)}

    def complete(self, prefix: str) -> list[str]:
        return [prefix + "1", prefix + "2"]

    def inspect(self, name: str) -> str | None:
        return f"usage of {name}"

    def is_complete(self, code: str) -> str:
        return "incomplete" if code.endswith("[") else "complete"


class Loop:
    """A running MainLoop with the front end's ends of its links."""

    def __init__(self) -> None:
        self.backend = ScriptBackend()
        kernel_end, self.link = channel(Protocol.IntraProcess)
        self.loop = MainLoop(
            self.backend, kernel_end, side_links=KernelSideLinks(Protocol.IntraProcess, None)
        )
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()
        assert self.link.get(timeout=TIMEOUT) == wl.InputNamePacket("In[1]:= ")

    def enter(self, text: str) -> list[Any]:
        self.link.put(wl.EnterTextPacket(text))
        return read_until_end(self.link, TIMEOUT)

    def evaluate(self, expr: Any, link: Link | None = None) -> list[Any]:
        link = link or self.link
        link.put(wl.EvaluatePacket(expr))
        return read_until_end(link, TIMEOUT)

    def side_links(self) -> tuple[Link, Link]:
        """Attach a service and a preemptive link (as the OpenParallelLinks exchange does)."""
        service_kernel, service = channel(Protocol.IntraProcess)
        preemptive_kernel, preemptive = channel(Protocol.IntraProcess)
        self.loop.attach_side_links(service_kernel, preemptive_kernel)
        return service, preemptive

    def close(self) -> None:
        self.link.close()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


def test_cell_packets_follow_the_main_loop_rules(loop: Loop) -> None:
    assert loop.enter("print a; msg b; c") == [
        wl.TextPacket("a\n"), wl.MessagePacket(Symbol("General"), "tag"), wl.TextPacket("b"),
        wl.OutputNamePacket("Out[1]= "), wl.ReturnTextPacket("c"), wl.InputNamePacket("In[2]:= "),
    ]
    assert loop.enter("null") == [wl.InputNamePacket("In[3]:= ")]
    assert loop.enter("bad 4") == [
        wl.MessagePacket(Symbol("Syntax"), "sntxf"), wl.TextPacket("bad input"),
        wl.SyntaxPacket(4), wl.InputNamePacket("In[3]:= "),
    ]
    assert loop.evaluate("x") == [wl.ReturnPacket("x")]


def test_displays_are_text_for_a_text_front_end(loop: Loop) -> None:
    # No MIME bundles asked for: displays print, clear-output sends nothing.
    assert [head(p) for p in loop.enter("show a; temp b; clear; null")] == [
        "TextPacket", "TextPacket", "InputNamePacket"]


def test_displays_are_packets_in_order_with_the_prints(loop: Loop) -> None:
    assert loop.evaluate(SetResultFormat(kind="MIMEBundle").to_expr()) == [
        wl.ReturnPacket("MIMEBundle")]
    packets = loop.enter("print 1; temp t; print 2; clear; show s; clearwait; print 3; v")
    assert [head(p) for p in packets] == [
        "TextPacket", "WSTPJupyter`DisplayDataPacket", "TextPacket",
        "WSTPJupyter`ClearOutputPacket", "WSTPJupyter`DisplayDataPacket",
        "WSTPJupyter`ClearOutputPacket", "TextPacket", "OutputNamePacket",
        "ReturnExpressionPacket", "WSTPJupyter`ClearDisplayPacket", "InputNamePacket",
    ]
    shown = [parse_display(Packet.from_expr(p)) for p in packets]
    temporary, kept = shown[1], shown[4]
    assert isinstance(temporary, DisplayData) and temporary.temporary
    assert isinstance(kept, DisplayData) and not kept.temporary
    assert (shown[3], shown[5]) == (ClearOutput(wait=False), ClearOutput(wait=True))
    # Only the temporary display is cleared, as the cell ends.
    assert packets[9].args == (temporary.display_id,)
    assert packets[8].args[0] == Expr(Symbol("WSTPJupyter`MIMEBundle"), {"text/plain": "v"})


def test_an_aborted_line_is_marked_in_its_bundle_and_a_value_is_not(loop: Loop) -> None:
    # For a Jupyter front end the text "$Aborted" cannot tell an abort from the value that
    # TimeConstrained returns: the bundle's metadata says which it was.
    loop.evaluate(SetResultFormat(kind="MIMEBundle").to_expr())
    loop.link.put(wl.EnterTextPacket("block"))
    assert loop.backend.started.wait(TIMEOUT)
    loop.link.put_message(UrgentMessage.ABORT)
    aborted = read_until_end(loop.link, TIMEOUT)[1]
    assert aborted == wl.ReturnExpressionPacket(Expr(Symbol("WSTPJupyter`MIMEBundle"), {
        "text/plain": "$Aborted", "metadata": {"aborted": True}}))
    value = loop.enter("$Aborted")[1]
    assert value == wl.ReturnExpressionPacket(Expr(Symbol("WSTPJupyter`MIMEBundle"), {
        "text/plain": "$Aborted"}))


def test_requests_are_answered_and_bad_ones_fail(loop: Loop) -> None:
    assert loop.evaluate(Complete(prefix="Pl").to_expr()) == [wl.ReturnPacket(["Pl1", "Pl2"])]
    assert loop.evaluate(Inspect(symbol="f").to_expr()) == [wl.ReturnPacket("usage of f")]
    assert loop.evaluate(IsComplete(code="f[").to_expr()) == [wl.ReturnPacket("incomplete")]
    bundle = loop.evaluate(MIMEBundle(expr="v").to_expr())
    assert bundle == [wl.ReturnPacket(Expr(Symbol("WSTPJupyter`MIMEBundle"),
                                           {"text/plain": "v"}))]
    for bad in (wl.WSTPJupyter.Complete(1), wl.WSTPJupyter.Inspect(),
                wl.WSTPJupyter.SetResultFormat("Nonsense"), wl.WSTPJupyter.OpenParallelLinks(1)):
        assert loop.evaluate(bad) == [wl.ReturnPacket(Symbol("$Failed"))]
    # Not a request: evaluated like any expression.
    assert loop.evaluate(wl.WSTPJupyter.Other(1)) == [wl.ReturnPacket(wl.WSTPJupyter.Other(1))]


def test_unknown_packets_are_ignored(loop: Loop) -> None:
    loop.link.put(wl.NotAPacket(1))
    loop.link.put(wl.EnterTextPacket(1))  # wrong argument type: no packet either
    assert loop.enter("v")[1] == wl.ReturnTextPacket("v")


def test_input_reads_the_front_end_answer(loop: Loop) -> None:
    loop.link.put(wl.EnterTextPacket("input name?"))
    assert loop.link.get(timeout=TIMEOUT) == wl.InputStringPacket("name?")
    loop.link.put(wl.TextPacket("Ada"))
    assert read_until_end(loop.link, TIMEOUT)[1] == wl.ReturnTextPacket("Ada")


def test_preemptive_requests_are_answered_while_a_cell_runs(loop: Loop) -> None:
    _, preemptive = loop.side_links()
    loop.link.put(wl.EnterTextPacket("block"))
    assert loop.backend.started.wait(TIMEOUT)
    assert loop.evaluate(Complete(prefix="a").to_expr(), preemptive) == [
        wl.ReturnPacket(["a1", "a2"])]
    assert not loop.link.ready(0)  # the cell still runs
    loop.link.put_message(UrgentMessage.ABORT)
    assert read_until_end(loop.link, TIMEOUT)[1] == wl.ReturnTextPacket("$Aborted")


def test_the_service_link_carries_asynchronous_messages_both_ways(loop: Loop) -> None:
    service, _ = loop.side_links()
    received: list[Any] = []
    arrived = threading.Event()

    def on_service(expr: Any) -> None:
        received.append(expr)
        arrived.set()

    loop.loop.on_service = on_service
    assert loop.loop.send_service(wl.WSTPJupyter.Update(1))
    assert service.get(timeout=TIMEOUT) == wl.WSTPJupyter.Update(1)
    assert loop.loop.main_host.send_service(wl.WSTPJupyter.Update(2))  # an evaluation's way
    assert service.get(timeout=TIMEOUT) == wl.WSTPJupyter.Update(2)
    service.put(wl.WSTPJupyter.Changed(2))
    assert arrived.wait(TIMEOUT) and received == [wl.WSTPJupyter.Changed(2)]


def test_side_links_open_by_the_wstp_exchange(loop: Loop) -> None:
    service, preemptive = open_parallel_links(loop.link, timeout=TIMEOUT)
    assert loop.evaluate(IsComplete(code="x").to_expr(), preemptive) == [
        wl.ReturnPacket("complete")]
    assert loop.loop.send_service(wl.WSTPJupyter.Update(3))
    assert service.get(timeout=TIMEOUT) == wl.WSTPJupyter.Update(3)
    # Asked again, the kernel answers with the same links; on the side link it refuses.
    request = wl.WSTPJupyter.OpenParallelLinks()
    assert loop.evaluate(request) == [wl.ReturnPacket([service.name, preemptive.name])]
    assert loop.evaluate(request, preemptive) == [wl.ReturnPacket(Symbol("$Failed"))]
