"""Routing through a real server: a client link behaves as a direct link to a warm kernel."""

from __future__ import annotations

import socket
import time

from wstp_jupyter.link import UrgentMessage
from wstp_jupyter.server._server import HANDSHAKE_TIMEOUT
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import Client, ServerProcess, failure_message, idle_kernels


def heads(packets: list[object]) -> list[str]:
    return [p.head.name for p in packets if isinstance(p, Expr) and isinstance(p.head, Symbol)]


def test_warm_kernel_answers_at_once_and_was_initialized(main_server: ServerProcess) -> None:
    warm = idle_kernels(main_server.address)
    c = Client(main_server.address)
    try:
        assert c.evaluate("1+1") == 2
        # The client was given a kernel that was already initialized and waiting (how fast
        # that is, is measured in benchmarks/bench_server.py).
        assert c.command("GetKernelID") in warm
        # InitializationCode then InitializationFile ran before the kernel was offered.
        assert c.evaluate("{initValue, fileValue}") == [42, 43]
        n = c.evaluate("$Line") + 1  # the next input; kernels may be reused (kept alive)
        packets = c.enter("2+2")
        assert packets == [Expr(Symbol("OutputNamePacket"), f"Out[{n}]= "),
                           Expr(Symbol("ReturnTextPacket"), "4"),
                           Expr(Symbol("InputNamePacket"), f"In[{n + 1}]:= ")]
    finally:
        c.close()


def test_packets_as_on_a_direct_link(main_server: ServerProcess) -> None:
    c = Client(main_server.address)
    try:
        c.link.put(Expr(Symbol("EvaluatePacket"),
                        Expr(Symbol("ToExpression"), 'Print["hello"]; 1/0; 7')))
        got = c.until("ReturnPacket")
        assert heads(got) == ["TextPacket", "MessagePacket", "TextPacket", "ReturnPacket"]
        assert got[0].args[0] == "hello\n" and got[-1].args[0] == 7
        c.link.put(Expr(Symbol("EnterExpressionPacket"), Expr(Symbol("Plus"), 1, 2)))
        got = c.until("InputNamePacket")
        assert Expr(Symbol("ReturnExpressionPacket"), 3) in got
        # Abort (urgent message) is forwarded: the evaluation returns $Aborted, state intact.
        c.evaluate("keepMe = 5")
        c.link.put(Expr(Symbol("EvaluatePacket"),
                        Expr(Symbol("ToExpression"), "Do[Pause[0.05], {200}]; 1")))
        time.sleep(0.3)
        c.abort()
        assert c.until("ReturnPacket", 10)[-1].args[0] == Symbol("$Aborted")
        assert c.evaluate("keepMe") == 5
        # Interrupt: the kernel's MenuPacket comes through, the answer goes back.
        c.link.put(Expr(Symbol("EvaluatePacket"),
                        Expr(Symbol("ToExpression"), "Do[Pause[0.05], {40}]; 11")))
        time.sleep(0.3)
        c.link.put_message(UrgentMessage.INTERRUPT)
        menu = c.until("MenuPacket", 10)[-1]
        assert menu.args[1] == "Interrupt> "
        c.link.put("c")  # continue
        assert c.until("ReturnPacket", 20)[-1].args[0] == 11
        # Input[]: the kernel's InputPacket comes through; a command meanwhile is answered at
        # once, and the answer to the question goes to the kernel, not into the queue.
        c.link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("ToExpression"),
                                                        'Input["n? "] + 1')))
        assert c.until("InputPacket", 10)[-1].head == Symbol("InputPacket")
        assert isinstance(c.command("GetKernelID"), str)
        c.link.put(Expr(Symbol("EnterTextPacket"), "41"))
        assert c.until("ReturnPacket", 10)[-1].args[0] == 42
    finally:
        c.close()


def test_commands_in_every_form(main_server: ServerProcess) -> None:
    c = Client(main_server.address)
    try:
        # No kernel yet: the client may choose one first (EnableAutomaticKernelConnection off).
        assert "no kernel is bridged" in failure_message(c.command("GetKernelID"))
        kid = c.command("ConnectPool")
        assert isinstance(kid, str) and len(kid) == 36
        assert c.command("GetKernelID") == kid
        assert c.command("GetPoolName") == "Default"
        n = c.evaluate("$Line") + 1
        prompt = Expr(Symbol("InputNamePacket"), f"In[{n}]:= ")
        c.link.put(Expr(Symbol("EnterTextPacket"), "WSTPServer`GetKernelID[]"))
        assert c.until("InputNamePacket") == [Expr(Symbol("ReturnTextPacket"), f'"{kid}"'),
                                             prompt]
        c.link.put(Expr(Symbol("EnterExpressionPacket"), Expr(Symbol("WSTPServer`GetPoolName"))))
        assert c.until("InputNamePacket")[0] == Expr(Symbol("ReturnExpressionPacket"), "Default")
        # The commands did not reach the kernel: its $Line did not move.
        assert c.enter("1")[0] == Expr(Symbol("OutputNamePacket"), f"Out[{n}]= ")
        info = c.command("GetServerInformation")
        assert info["Port"] == main_server.port and info["Interface"] == "127.0.0.1"
        assert set(info["Pools"]) == {"Default", "Small"}
        assert info["Pools"]["Default"]["MinimumKernelNumber"] == 2
        mine = info["Kernels"][kid]
        assert mine["State"] == "Attached" and mine["Clients"] == 1 and mine["Pool"] == "Default"
        assert isinstance(mine["PID"], int)
        # Failures: unknown command, bad arguments, unknown options, unparsable text.
        assert "unknown command" in failure_message(c.command("Frobnicate"))
        assert "True or False" in failure_message(c.command("SetKeepAlive", "yes"))
        assert "takes 1 argument" in failure_message(c.command("ConnectKernel"))
        assert "unknown option" in failure_message(c.command("ConnectPool", Colour=1))
        c.link.put(Expr(Symbol("EnterTextPacket"), "WSTPServer`ConnectKernel[x]"))
        text = c.until("InputNamePacket")[0].args[0]
        assert text.startswith('Failure["WSTPServer"') and "unsupported argument" in text
        # ... and the link is still fine.
        assert c.evaluate("3*3") == 9
    finally:
        c.close()


def test_pool_choice_input_name_and_maximum(main_server: ServerProcess) -> None:
    a, b = Client(main_server.address), Client(main_server.address)
    try:
        a.link.put(Expr(Symbol("EvaluatePacket"), Expr(
            Symbol("WSTPServer`ConnectPool"), "Small",
            Expr(Symbol("Rule"), "SendInputNamePacket", True))))
        kid = a.get().args[0]
        assert isinstance(kid, str)
        # A fresh kernel: its initialization did not advance $Line.
        assert a.get() == Expr(Symbol("InputNamePacket"), "In[1]:= ")
        assert a.evaluate("smallInit") == 1
        assert a.command("GetPoolName") == "Small"
        # The pool's only kernel is taken: a clear answer, not a hang (b.command would time out).
        msg = failure_message(b.command("ConnectPool", "Small"))
        assert "no free kernel" in msg and "MaximumKernelNumber" in msg
        assert "no pool named" in failure_message(b.command("ConnectPool", "Nope"))
        # A non-command packet with the pool exhausted is answered with a Failure too.
        assert b.command("ConnectPool") != kid  # b takes one from Default instead
        a.command("CloseKernel")  # Small is KeepAlive: close explicitly to free it
    finally:
        a.close()
        b.close()


def test_bad_clients_do_not_stall_others(main_server: ServerProcess) -> None:
    c = Client(main_server.address)
    silent = garbage = None
    try:
        assert c.evaluate("0") == 0  # attached (possibly after a kernel start)
        silent = socket.create_connection(("127.0.0.1", main_server.port))  # no handshake
        garbage = socket.create_connection(("127.0.0.1", main_server.port))
        garbage.sendall(b"GET / HTTP/1.1\r\n\r\n" * 100)
        hog = Client(main_server.address)  # a client that never reads what it asked for
        hog.command("ConnectPool")
        for _ in range(20):
            hog.link.put(Expr(Symbol("EvaluatePacket"),
                              Expr(Symbol("ToExpression"), 'StringJoin[Table["x", {2000}]]')))
        t = time.perf_counter()
        for i in range(5):
            assert c.evaluate(f"{i}+1") == i + 1
        # Had the silent client held the server up, these would have waited for its handshake
        # timeout; the bound tells the two apart on any machine.
        assert time.perf_counter() - t < HANDSHAKE_TIMEOUT
        hog.close()
    finally:
        c.close()
        for s in (silent, garbage):
            if s is not None:
                s.close()


def test_start_kernel_outside_pools(main_server: ServerProcess) -> None:
    a, b = Client(main_server.address), Client(main_server.address)
    try:
        kid = a.command("StartKernel", Pool="Small")  # Small's command and initialization
        assert isinstance(kid, str), kid
        info = a.command("GetServerInformation")["Kernels"][kid]
        assert info["Pool"] is None and info["State"] == "Idle" and info["KeepAlive"] is True
        assert a.command("ConnectKernel", kid) == kid
        assert a.command("GetPoolName") == Symbol("None")
        assert a.evaluate("smallInit") == 1
        # Held by a: another client may not close it (AllowStealingKernels is off).
        assert "another client" in failure_message(b.command("CloseKernel", kid))
        assert a.command("CloseKernel") is None
        assert "no kernel is bridged" in failure_message(a.command("GetKernelID"))
        assert kid not in a.command("GetServerInformation")["Kernels"]
        assert "unknown option" in failure_message(a.command("StartKernel", Colour=1))
    finally:
        a.close()
        b.close()
