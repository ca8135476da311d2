"""A pool of Woxi kernels next to a Mathics3 pool: ``"Engine"`` in the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from wstp_jupyter.server import attach
from wstp_jupyter.server._sessions import engine_of
from wstp_jupyter.wxf import Expr, Symbol

from .helpers import Client, ServerProcess, idle_kernels

pytest.importorskip("woxi")


def test_engine_of_a_kernel_command() -> None:
    assert engine_of(("python", "-m", "wstp_jupyter.engine")) == "mathics3"
    assert engine_of(("python", "-m", "wstp_jupyter.engine", "--engine", "woxi")) == "woxi"
    assert engine_of(("/opt/WolframKernel",)) == "external"


def test_one_server_offers_both_engines(tmp_path: Path) -> None:
    config = {"Pools": {
        "Fast": {"Default": True, "Engine": "woxi", "MinimumKernelNumber": 1,
                 "MaximumKernelNumber": 1},
        "Wide": {"Engine": "mathics3", "MinimumKernelNumber": 0, "MaximumKernelNumber": 1},
    }}
    server = ServerProcess(config, tmp_path)
    try:
        idle_kernels(server.address, "Fast")
        session = attach(server.address, pool="Fast", timeout=120)
        try:
            session.link.put(Expr(Symbol("EvaluatePacket"), Symbol("$Version")))
            while True:
                packet = session.link.get(timeout=60)
                if isinstance(packet, Expr) and packet.head == Symbol("ReturnPacket"):
                    break
            assert "Woxi" in str(packet.args[0])
            observer = Client(server.address)
            info = observer.command("GetServerInformation")
            observer.close()
            assert info["Pools"]["Fast"]["Engine"] == "woxi"
            assert info["Pools"]["Wide"]["Engine"] == "mathics3"
            assert {k["Engine"] for k in info["Kernels"].values()} == {"woxi"}
        finally:
            session.close()
    finally:
        assert server.stop() == 0, server.log[-3000:]
