"""Fixtures of the server tests: one real wstpserver per module where the tests can share it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import ServerProcess

MAIN_CONFIG = {
    "Pools": {
        "Default": {
            "Default": True,
            "MinimumKernelNumber": 2,
            "MaximumKernelNumber": 6,
            "InitializationCode": "initValue = 6*7",
            "InitializationFile": "init.wl",
            # Kept alive and not reserved: a client that leaves returns its kernel to the pool,
            # so the tests reuse kernels instead of waiting for fresh ones (Mathics3 starts
            # slowly). Tests that need a kernel closed with its client say SetKeepAlive[False].
            "KeepAlive": True,
        },
        "Small": {"MinimumKernelNumber": 1, "MaximumKernelNumber": 1, "KeepAlive": True,
                  "InitializationCode": "smallInit = 1"},
    },
}


@pytest.fixture(scope="package")
def main_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Pools ``Default`` (2 warm kernels, kept alive, init code and file) and ``Small`` (one)."""
    tmp: Path = tmp_path_factory.mktemp("main-server")
    (tmp / "init.wl").write_text("fileValue = initValue + 1;\n")
    server = ServerProcess(MAIN_CONFIG, tmp)
    yield server
    assert server.stop() == 0, server.log[-3000:]
