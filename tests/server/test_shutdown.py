"""The server's edges: every rejected connection logged with its reason, and a shutdown that
leaves no kernel process behind whatever state each kernel was in."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import wait_for
from wstp_jupyter.link import AuthenticationError, Link, Protocol

from .helpers import Client, ServerProcess

KEY = "server-test-key"


def _marked_processes(mark: str) -> list[int]:
    """Live processes (not zombies) whose environment carries ``mark``: the server and
    everything it started, even once reparented."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def test_rejected_connections_are_logged_with_their_reason(tmp_path: Path) -> None:
    config = {"Pools": {"Default": {"MinimumKernelNumber": 0, "MaximumKernelNumber": 1}}}
    server = ServerProcess(config, tmp_path, env={"WSTPSERVER_KEY": KEY})
    try:
        # The wrong key.
        intruder = Link.connect(Protocol.TCPIP, server.address, key="not-the-key")
        with pytest.raises(AuthenticationError):
            intruder.activate(timeout=30)
        intruder.close()
        server.wait_for_log("authentication failed")
        # Not a wstp-jupyter peer at all.
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n" + b"x" * 64)
            assert wait_for(lambda: server.log.count("Rejected a connection") >= 2)
        # Connected, then silent until the handshake times out.
        with socket.create_connection(("127.0.0.1", server.port)):
            server.wait_for_log("no handshake within", timeout=60)
        # Closed before a word was said.
        socket.create_connection(("127.0.0.1", server.port)).close()
        assert wait_for(lambda: server.log.count("Rejected a connection") >= 4)
        # Every rejection names its reason.
        reasons = re.findall(r"Rejected a connection from \S+: (.*)", server.log)
        assert len(reasons) == 4, server.log
        assert all(r.strip() and not r.rstrip().endswith(":") for r in reasons), reasons
        # The server is unharmed.
        c = Client(server.address, key=KEY)
        assert "Default" in c.command("GetServerInformation")["Pools"]
        c.close()
    finally:
        assert server.stop() == 0, server.log[-3000:]


def test_sigterm_while_a_replacement_kernel_starts_leaves_no_process(tmp_path: Path) -> None:
    mark = f"WSTP_TEST_MARK_{uuid.uuid4().hex}"
    config = {"Pools": {"Default": {"MinimumKernelNumber": 1, "MaximumKernelNumber": 2}}}
    server = ServerProcess(config, tmp_path, env={mark: "1"})
    try:
        c = Client(server.address)
        c.command("ConnectPool")  # takes the warm kernel: the pool starts a replacement
        # The replacement's process exists (it is still starting: Mathics3 loads for seconds).
        assert wait_for(lambda: len(_marked_processes(mark)) >= 3, timeout=60)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(60) == 0, server.log[-3000:]
        c.close()
    finally:
        server.stop()
    # Generous, yet below the 30 s an orphaned kernel process keeps retrying its connection
    # to the closed listener before it gives up by itself.
    deadline = time.monotonic() + 20
    while (left := _marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:  # do not leak them into the rest of the run
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the server: {left}\n{server.log[-3000:]}"
