"""Long-lived and shared kernels: keep-alive, reconnect by ID, buffered output, sharing, deaths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers import wait_for
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import Client, ServerProcess, failure_message, is_failure, wl_code


def kernel_info(c: Client, kid: str) -> dict[str, object] | None:
    info = c.command("GetServerInformation")
    return info["Kernels"].get(kid)  # type: ignore[no-any-return]


def test_keep_alive_reconnect_by_id_with_buffered_result(main_server: ServerProcess) -> None:
    a = Client(main_server.address)
    a.command("SetKeepAlive", True)
    kid = a.command("ConnectPool")
    assert a.evaluate("kept = 123") == 123
    # Disconnect in the middle of an evaluation; its result must not be lost.
    # (Long enough that the server sees the disconnect before the result, even when slow.)
    a.link.put(Expr(Symbol("EvaluatePacket"), wl_code('Pause[2]; Print["while away"]; kept + 1')))
    time.sleep(0.1)
    a.close()
    b = Client(main_server.address)
    try:
        assert wait_for(lambda: (kernel_info(b, kid) or {}).get("Clients") == 0)
        info = kernel_info(b, kid)
        assert info is not None and info["State"] == "Detached"
        assert b.command("ConnectKernel", kid) == kid
        got = b.until("ReturnPacket", 20)
        assert got[-1] == Expr(Symbol("ReturnPacket"), 124)
        assert Expr(Symbol("TextPacket"), "while away\n") in got  # output made while detached
        assert b.evaluate("kept") == 123  # definitions intact
        assert b.command("GetKernelID") == kid
    finally:
        b.command("CloseKernel")
        b.close()
    probe = Client(main_server.address)
    try:
        assert wait_for(lambda: kernel_info(probe, kid) is None)
    finally:
        probe.close()


def test_reserved_kernel_only_by_id(main_server: ServerProcess) -> None:
    a = Client(main_server.address)
    a.command("SetKeepAlive", True)
    a.command("SetReserveKernel", True)
    kid = a.command("ConnectPool")
    assert isinstance(kid, str), kid
    a.evaluate("secret = 7")
    assert a.command("DisconnectKernel") is None
    assert "no kernel is bridged" in failure_message(a.command("GetKernelID"))
    try:
        info = kernel_info(a, kid)
        assert info is not None and info["Reserved"] is True and info["State"] == "Detached"
        other = Client(main_server.address)
        try:
            assert other.command("ConnectPool") != kid  # the pool never hands it out
        finally:
            other.close()
        assert a.command("ConnectKernel", kid) == kid
        assert a.evaluate("secret") == 7
    finally:
        a.command("CloseKernel")
        a.close()


def test_shared_kernel_state_and_routing(main_server: ServerProcess) -> None:
    a, b = Client(main_server.address), Client(main_server.address)
    try:
        kid = a.command("ConnectPool")
        msg = failure_message(b.command("ConnectKernel", kid))
        assert "bridged to another client" in msg and "Shared" in msg
        assert b.command("ConnectKernel", kid, Shared=True) == kid
        assert a.evaluate("x = 42") == 42
        assert b.evaluate("x") == 42  # the same kernel state
        # Concurrent requests: each reply (and its Print) goes to the client that asked.
        a.link.put(Expr(Symbol("EvaluatePacket"), wl_code('Print["for a"]; Pause[0.3]; "a"')))
        b.link.put(Expr(Symbol("EvaluatePacket"), wl_code('Print["for b"]; "b"')))
        got_a = a.until("ReturnPacket")
        got_b = b.until("ReturnPacket")
        assert got_a == [Expr(Symbol("TextPacket"), "for a\n"), Expr(Symbol("ReturnPacket"), "a")]
        assert got_b == [Expr(Symbol("TextPacket"), "for b\n"), Expr(Symbol("ReturnPacket"), "b")]
        # b's abort does not touch a's running evaluation (it is not b's request).
        a.link.put(Expr(Symbol("EvaluatePacket"), wl_code("Pause[0.5]; 5")))
        time.sleep(0.1)
        b.abort()
        assert a.until("ReturnPacket")[-1].args[0] == 5
        info = kernel_info(a, kid)
        assert info is not None and info["Clients"] == 2
        a.close()
        assert b.evaluate("x + 1") == 43  # a leaving does not close a shared kernel
    finally:
        a.close()
        b.close()


def _client_script(address: str, keep: bool) -> str:
    return textwrap.dedent(f"""
        import os, sys, time
        from wstp_jupyter.link import Link, Protocol
        from wstp_jupyter.wxf import Expr, Symbol
        link = Link.connect(Protocol.TCPIP, {address!r})
        def cmd(name, *args):
            link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPServer`" + name), *args)))
            while True:
                p = link.get(timeout=60)
                if p.head == Symbol("ReturnPacket"):
                    return p.args[0]
        cmd("SetKeepAlive", {keep!r})
        print(cmd("ConnectPool"), flush=True)
        link.put(Expr(Symbol("EvaluatePacket"),
                      Expr(Symbol("ToExpression"), 'Pause[2]; "finished"')))
        time.sleep(0.1)
        os.kill(os.getpid(), 9)
    """)


@pytest.mark.parametrize("keep", [True, False])
def test_client_death_during_evaluation(main_server: ServerProcess, keep: bool) -> None:
    proc = subprocess.run([sys.executable, "-c", _client_script(main_server.address, keep)],
                          check=False, capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == -signal.SIGKILL
    kid = proc.stdout.strip()
    c = Client(main_server.address)
    try:
        if keep:
            assert c.command("ConnectKernel", kid) == kid
            assert c.until("ReturnPacket", 20)[-1].args[0] == "finished"
            c.command("CloseKernel")
        else:  # without keep-alive the kernel goes with its client
            assert wait_for(lambda: kernel_info(c, kid) is None)
            assert "no kernel with ID" in failure_message(c.command("ConnectKernel", kid))
    finally:
        c.close()


def test_kernel_death_during_evaluation(main_server: ServerProcess) -> None:
    c, other = Client(main_server.address), Client(main_server.address)
    try:
        kid = c.command("ConnectPool")
        assert other.command("ConnectKernel", kid, Shared=True) == kid
        pid = kernel_info(c, kid)["PID"]  # type: ignore[index]
        c.link.put(Expr(Symbol("EvaluatePacket"), wl_code("Pause[20]; 1")))
        time.sleep(0.3)
        other.link.put(Expr(Symbol("EnterTextPacket"), "1+1"))  # queued behind c's request
        time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
        # Well before the Pause would have ended: the death was detected and reported.
        result = c.until("ReturnPacket", 15)[-1].args[0]
        msg = failure_message(result)
        assert kid in msg and "died" in msg and "signal 9" in msg
        # The queued request is answered too, in the form it was asked in.
        answer = other.until("InputNamePacket", 10)
        assert answer[0].head == Symbol("ReturnTextPacket") and "died" in answer[0].args[0]
        # Not silent: the next request is told once ...
        assert "died" in failure_message(c.evaluate("1+1"))
        # ... and the one after runs in a fresh kernel of the same pool.
        assert c.evaluate("1+1") == 2
        new = c.command("GetKernelID")
        assert new != kid and c.command("GetPoolName") == "Default"
        assert c.evaluate("initValue") == 42
    finally:
        c.close()
        other.close()


def test_silent_replacement_resubmits_queued_requests(main_server: ServerProcess) -> None:
    a, b = Client(main_server.address), Client(main_server.address)
    try:
        kid = a.command("ConnectPool")
        assert b.command("ConnectKernel", kid, Shared=True) == kid
        b.command("SetAllowSilentKernelReplacement", True)
        pid = kernel_info(a, kid)["PID"]  # type: ignore[index]
        a.link.put(Expr(Symbol("EvaluatePacket"), wl_code("Pause[20]; 1")))
        time.sleep(0.3)
        b.link.put(Expr(Symbol("EvaluatePacket"), wl_code("3*3")))  # queued
        time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert "died" in failure_message(a.until("ReturnPacket", 10)[-1].args[0])
        # b's request had not started: it runs in a fresh kernel of the same pool.
        assert b.until("ReturnPacket", 60)[-1].args[0] == 9
        assert b.command("GetKernelID") != kid and b.command("GetPoolName") == "Default"
    finally:
        a.close()
        b.close()


def test_silent_replacement(main_server: ServerProcess) -> None:
    c = Client(main_server.address)
    try:
        c.command("SetAllowSilentKernelReplacement", True)
        kid = c.command("ConnectPool")
        pid = kernel_info(c, kid)["PID"]  # type: ignore[index]
        os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert wait_for(lambda: kernel_info(c, kid) is None)
        result = c.evaluate("2+2")
        assert not is_failure(result) and result == 4
        assert c.command("GetKernelID") != kid
    finally:
        c.close()
