"""DNS-SD on loopback only, automatic kernel connection and InputNamePacket upon connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wstp_jupyter.server import SERVICE_TYPE, find_servers
from wstp_jupyter.server.discovery import PROTOCOL_VERSION
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import Client, ServerProcess

SERVICE = f"test{os.getpid()}"
CONFIG = {
    "EnableAutomaticKernelConnection": True,
    "SendInputNamePacketUponKernelConnection": True,
    "Pools": {"Auto": {"MinimumKernelNumber": 1, "MaximumKernelNumber": 2},
              "Other": {"MinimumKernelNumber": 0}},
}


@pytest.fixture(scope="module")
def advertised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # The server listens on 127.0.0.1, so it announces itself on loopback only.
    server = ServerProcess(CONFIG, tmp_path_factory.mktemp("dnssd"), "--advertise", SERVICE)
    yield server
    server.stop()


def test_advertised_and_found(advertised: ServerProcess) -> None:
    assert f"Advertising the server with DNS-SD as WSTPServer-Instance-{SERVICE}" in advertised.log
    assert SERVICE_TYPE == "_wstp._tcp.local."
    found = find_servers(timeout=1.5, interfaces=["127.0.0.1"], service=SERVICE)
    assert len(found) == 1
    info = found[0]
    assert info.name == f"WSTPServer-Instance-{SERVICE}"
    assert info.port == advertised.port and info.link_name == advertised.address
    assert info.pools == ("Auto", "Other") and info.default_pool == "Auto"
    assert info.protocol == "TCPIP" and info.protocol_version == PROTOCOL_VERSION
    assert info.auth is False


def test_discover_command(advertised: ServerProcess) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wstp_jupyter.cli", "discover", "-i", "127.0.0.1", "-t", "1.5",
         "--json", SERVICE], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)
    assert entry["link_name"] == advertised.address and entry["pools"] == ["Auto", "Other"]


def test_automatic_connection_sends_input_name(advertised: ServerProcess) -> None:
    c = Client(advertised.address)
    try:
        # No command sent: the server attached a kernel and announced it like a fresh kernel.
        assert c.get() == Expr(Symbol("InputNamePacket"), "In[1]:= ")
        assert c.enter("6*7")[1] == Expr(Symbol("ReturnTextPacket"), "42")
        assert c.command("GetPoolName") == "Auto"
    finally:
        c.close()


def test_unregistered_on_shutdown(tmp_path: Path) -> None:
    name = f"{SERVICE}bye"
    server = ServerProcess({"Pools": {"P": {"MinimumKernelNumber": 0}}}, tmp_path,
                           "--advertise", name)
    try:
        assert find_servers(timeout=1.5, interfaces=["127.0.0.1"], service=name)
    finally:
        assert server.stop() == 0
    time.sleep(0.2)
    assert find_servers(timeout=1.0, interfaces=["127.0.0.1"], service=name) == []
