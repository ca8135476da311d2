"""The Jupyter kernel's way in: attach(), parallel links, profiles, autostart."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from wstp_jupyter.link import Link, Protocol
from wstp_jupyter.server import AttachError, ServerSession, attach
from wstp_jupyter.server.client import call, load_profile, normalize_address
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import ServerProcess, idle_kernels, wl_code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def evaluate(link: Link, code: str, timeout: float = 20) -> object:
    link.put(Expr(Symbol("EvaluatePacket"), wl_code(code)))
    while True:
        p = link.get(timeout=timeout)
        if p.head == Symbol("ReturnPacket"):
            return p.args[0]


def test_normalize_address() -> None:
    assert normalize_address("31415@127.0.0.1") == "31415@127.0.0.1"
    assert normalize_address("localhost:4000") == "4000@localhost"
    assert normalize_address("wstp://[::1]:5") == "5@::1"
    assert normalize_address("77") == "77@127.0.0.1"
    with pytest.raises(AttachError):
        normalize_address("no-port")


def test_attach_like_a_kernel_process(main_server: ServerProcess) -> None:
    warm = idle_kernels(main_server.address)
    s = attach(main_server.address)
    try:
        assert isinstance(s, ServerSession) and len(s.kernel_id) == 36
        assert s.kernel_id in warm  # warm pool: no kernel start on the way
        # As with KernelProcess, the first packet is the kernel's InputNamePacket.
        prompt = s.link.get(timeout=10)
        assert prompt.head == Symbol("InputNamePacket")
        n = int(prompt.args[0].removeprefix("In[").removesuffix("]:= "))
        s.link.put(Expr(Symbol("EnterTextPacket"), "1+1"))
        assert s.link.get(timeout=10) == Expr(Symbol("OutputNamePacket"), f"Out[{n}]= ")
        assert s.link.get(timeout=10) == Expr(Symbol("ReturnTextPacket"), "2")
        assert s.link.get(timeout=10) == Expr(Symbol("InputNamePacket"), f"In[{n + 1}]:= ")
        service, preemptive = s.open_parallel_links()
        assert (service, preemptive) == (s.service, s.preemptive)
        # The preemptive link answers while the main link is busy.
        s.link.put(Expr(Symbol("EvaluatePacket"), wl_code("While[True, Pause[0.05]]")))
        time.sleep(0.1)
        assert evaluate(preemptive, "1+2") == 3  # the main evaluation never ends by itself
        preemptive.put(Expr(Symbol("EvaluatePacket"),
                            Expr(Symbol("WSTPJupyter`Complete"), "Plu")))
        assert "Plus" in preemptive.get(timeout=10).args[0]
        assert not s.link.ready(0)  # ... and is still running
        s.abort()
        assert s.link.get(timeout=10).args[0] == Symbol("$Aborted")
    finally:
        s.close(shutdown=True)


def test_profiles_reattach_and_fall_back(main_server: ServerProcess, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    first = attach(main_server.address, profile="nb")
    kid = first.kernel_id
    assert load_profile("nb")["kernel_id"] == kid
    assert (tmp_path / "wstp_jupyter" / "profiles" / "nb.json").is_file()
    first.link.get(timeout=10)
    assert evaluate(first.link, "remembered = 99") == 99
    first.close()  # a profile keeps the kernel alive
    again = attach(main_server.address, profile="nb")
    try:
        assert again.kernel_id == kid
        assert again.link.get(timeout=10).head == Symbol("InputNamePacket")
        assert evaluate(again.link, "remembered") == 99
    finally:
        again.close(shutdown=True)
    # The remembered kernel is gone: a new one is taken and remembered.
    time.sleep(0.3)
    third = attach(main_server.address, profile="nb")
    try:
        assert third.kernel_id != kid and load_profile("nb")["kernel_id"] == third.kernel_id
    finally:
        third.close(shutdown=True)


def test_attach_errors(main_server: ServerProcess) -> None:
    with pytest.raises(AttachError, match="no kernel with ID"):
        attach(main_server.address, kernel_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(AttachError, match="no pool named"):
        attach(main_server.address, pool="Nope")
    t = time.perf_counter()
    with pytest.raises(AttachError, match="no wstpserver answers"):
        attach(f"{free_port()}@127.0.0.1", timeout=60)
    assert time.perf_counter() - t < 30  # at once, not after the timeout


def test_autostart_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # built-in default configuration
    address = f"{free_port()}@127.0.0.1"
    s = attach(address, autostart=True, timeout=120)
    pid = None
    try:
        assert s.link.get(timeout=10).head == Symbol("InputNamePacket")
        probe = Link.connect(Protocol.TCPIP, address)
        info = call(probe, "GetServerInformation")
        probe.close()
        pid = info["ServerPID"]  # type: ignore[index]
        assert info["Pools"]["Default"]["Default"] is True  # type: ignore[index]
        assert (tmp_path / "wstpserver-autostart.log").is_file()
    finally:
        s.close()
        if pid is None:  # the assertions failed early: still stop the server we started
            probe = Link.connect(Protocol.TCPIP, address)
            pid = call(probe, "GetServerInformation")["ServerPID"]  # type: ignore[index]
            probe.close()
        os.kill(pid, signal.SIGTERM)
