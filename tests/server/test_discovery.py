"""A server with every root switch on, a key and DNS-SD (loopback only).

Covers advertising and discovery, EnableAutomaticKernelConnection,
SendInputNamePacketUponKernelConnection, AllowStealingKernels, authentication and trace logging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wstp_jupyter.link import LinkError
from wstp_jupyter.server import SERVICE_TYPE, AttachError, attach, find_servers
from wstp_jupyter.server.discovery import PROTOCOL_VERSION
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import Client, ServerProcess, failure_message

SERVICE = f"test{os.getpid()}"
KEY = "test-key-0123456789"
CONFIG = {
    "AllowStealingKernels": True,
    "EnableAutomaticKernelConnection": True,
    "SendInputNamePacketUponKernelConnection": True,
    "Pools": {"Auto": {"MinimumKernelNumber": 1, "MaximumKernelNumber": 2},
              "Other": {"MinimumKernelNumber": 0}},
}


@pytest.fixture(scope="module")
def advertised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # The server listens on 127.0.0.1, so it announces itself on loopback only.
    tmp = tmp_path_factory.mktemp("dnssd")
    (tmp / "key").write_text(KEY + "\n")
    server = ServerProcess(CONFIG, tmp, "--advertise", SERVICE, "--key-file", str(tmp / "key"),
                           "--log-level", "trace")
    yield server
    server.stop()


def test_advertised_and_found(advertised: ServerProcess) -> None:
    assert f"Advertising the server with DNS-SD as WSTPServer-Instance-{SERVICE}" in advertised.log
    assert SERVICE_TYPE == "_wstp._tcp.local."
    found = find_servers(timeout=3, interfaces=["127.0.0.1"], service=SERVICE)
    assert len(found) == 1
    info = found[0]
    assert info.name == f"WSTPServer-Instance-{SERVICE}"
    assert info.port == advertised.port and info.link_name == advertised.address
    assert info.pools == ("Auto", "Other") and info.default_pool == "Auto"
    assert info.protocol == "TCPIP" and info.protocol_version == PROTOCOL_VERSION
    assert info.auth is True


def test_discover_command(advertised: ServerProcess) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wstp_jupyter.cli", "discover", "-i", "127.0.0.1", "-t", "3",
         "--json", SERVICE], check=False, capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)
    assert entry["link_name"] == advertised.address and entry["pools"] == ["Auto", "Other"]


def test_automatic_connection_sends_input_name(advertised: ServerProcess) -> None:
    c = Client(advertised.address, key=KEY)
    try:
        # No command sent: the server attached a kernel and announced it like a fresh kernel.
        assert c.get() == Expr(Symbol("InputNamePacket"), "In[1]:= ")
        assert c.enter("6*7")[1] == Expr(Symbol("ReturnTextPacket"), "42")
        assert c.command("GetPoolName") == "Auto"
        # --log-level trace: every routed packet is logged.
        assert "<- kernel" in advertised.wait_for_log('ReturnTextPacket["42"]')
    finally:
        c.close()


def test_key_required(advertised: ServerProcess) -> None:
    with pytest.raises(LinkError):
        Client(advertised.address, timeout=5)  # no key: refused in the handshake
    with pytest.raises(AttachError):
        attach(advertised.address, timeout=5)
    with pytest.raises(LinkError):
        Client(advertised.address, key="wrong", timeout=5)


def test_stealing_a_kernel(advertised: ServerProcess) -> None:
    a = Client(advertised.address, key=KEY)
    b = Client(advertised.address, key=KEY)
    try:
        a.get()  # InputNamePacket of a's automatically attached kernel
        kid = a.command("GetKernelID")
        b.get()
        assert b.command("GetKernelID") != kid
        a.evaluate("owner = 1")
        # AllowStealingKernels: b takes a's kernel without asking to share it.
        assert b.command("ConnectKernel", kid, SendInputNamePacket=False) == kid
        assert b.evaluate("owner") == 1
        msg = failure_message(a.evaluate("1"))
        assert "taken over by another client" in msg
    finally:
        a.close()
        b.close()


def test_unregistered_on_shutdown(tmp_path: Path) -> None:
    name = f"{SERVICE}bye"
    server = ServerProcess({"Pools": {"P": {"MinimumKernelNumber": 0}}}, tmp_path,
                           "--advertise", name)
    try:
        assert find_servers(timeout=3, interfaces=["127.0.0.1"], service=name)
    finally:
        assert server.stop() == 0
    time.sleep(0.2)
    assert find_servers(timeout=1.0, interfaces=["127.0.0.1"], service=name) == []
