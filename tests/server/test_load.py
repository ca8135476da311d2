"""Bounded load: 32 clients x 25 evaluations, 8 clients per kernel over a pool of 4 kernels."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_for

from .helpers import Client, ServerProcess
from .loadgen import run_load

CONFIG = {"Pools": {"Load": {"MinimumKernelNumber": 4, "MaximumKernelNumber": 4,
                             "KeepAlive": True}}}


@pytest.fixture(scope="module")
def load_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(CONFIG, tmp_path_factory.mktemp("load"))
    yield server
    c = Client(server.address)
    pids = [k["PID"] for k in c.command("GetServerInformation")["Kernels"].values()]
    c.close()
    assert len(pids) == 4
    assert server.stop() == 0
    for pid in pids:  # shutdown leaves no kernel process behind
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
            f"/proc/{pid}/status").read_text()


def settled_rss(server: ServerProcess) -> int:
    # Time for the server to see every disconnect and drop the links; their buffers are freed
    # as soon as that happens (a link holds no reference cycle), not by a later collection.
    time.sleep(1.0)
    return server.rss_kib()


def test_no_lost_or_misrouted_reply_and_no_leak(load_server: ServerProcess) -> None:
    # A short warm-up with the same number of simultaneous links, so that the one-time growth
    # of the heap to that working set (imports, caches, 32 links' buffers) is not counted as a
    # leak; the measured run then opens and closes 32 new links.
    warm = run_load(load_server.address, clients=32, kernels=4, evaluations=3)
    assert not warm.errors and not warm.wrong
    before = settled_rss(load_server)
    result = run_load(load_server.address, clients=32, kernels=4, evaluations=25)
    assert result.errors == []
    assert result.wrong == []
    assert result.replies == 32 * 25
    assert len(result.kernels) == 4
    c = Client(load_server.address)
    try:
        # The 32 links were just closed: the server may still be seeing their ends.
        assert wait_for(lambda: all(k["Clients"] == 0 for k in c.command(
            "GetServerInformation")["Kernels"].values()), timeout=10)
        kernels = c.command("GetServerInformation")["Kernels"]
        assert set(kernels) == result.kernels  # the same 4 kernels, kept alive, nothing extra
        assert sum(k["Requests"] for k in kernels.values()) >= 32 * 25
        assert all(k["Clients"] == 0 and k["QueuedRequests"] == 0 for k in kernels.values())
    finally:
        c.close()
    after = settled_rss(load_server)
    assert after <= before * 1.10, (before, after)
