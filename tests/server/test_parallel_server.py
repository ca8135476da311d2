"""wstpserver pools that serve parallel subkernels to a master's ``LaunchKernels["wstp://..."]``.

One server (a plain default pool with no warm kernel, and a pool ``Sub`` marked
``ParallelKernels`` / ``ParallelKernelDefault`` with two warm kernels) and one master kernel
process serve the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.helpers import Session, head, read_until_end, start_session
from tests.helpers import wait_for
from wstp_jupyter.server import ConfigError, ServerCommandError, load_config
from wstp_jupyter.server._subkernels import parallel_pool
from wstp_jupyter.wxf import wl

from .helpers import Client, ServerProcess, idle_kernels

CONFIG = {
    "Pools": {
        "Plain": {"Default": True, "MinimumKernelNumber": 0, "MaximumKernelNumber": 1},
        "Sub": {"ParallelKernels": True, "ParallelKernelDefault": True,
                "MinimumKernelNumber": 2, "MaximumKernelNumber": 4},
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(CONFIG, tmp_path_factory.mktemp("parallel-server"))
    yield proc
    assert proc.stop() == 0, proc.log[-3000:]


@pytest.fixture(scope="module")
def master() -> Iterator[Session]:
    session = start_session()
    yield session
    session.kernel.close()


def enter(master: Session, code: str) -> list[Any]:
    """``EnterTextPacket[code]`` and its packets; generous: launching subkernels on a loaded
    machine takes tens of seconds."""
    master.link.put(wl.EnterTextPacket(code))
    return read_until_end(master.link, timeout=300)


def one(master: Session, code: str) -> tuple[str, list[Any]]:
    packets = enter(master, code)
    (value,) = [p.args[0] for p in packets if head(p) == "ReturnTextPacket"]
    return value, packets


def info(address: str) -> dict[str, Any]:
    client = Client(address)
    try:
        result: dict[str, Any] = client.command("GetServerInformation")
        return result
    finally:
        client.close()


def test_configuration_of_parallel_pools(tmp_path: Path) -> None:
    conf = tmp_path / "wstpserver.conf"
    conf.write_text('{"Pools": {"A": {"ParallelKernelDefault": true},\n'
                    '           "B": {"ParallelKernelDefault": true}}}')
    with pytest.raises(ConfigError, match=r"more than one pool is marked ParallelKernelDefault"):
        load_config(conf)
    conf.write_text('{"Pools": {"A": {}, "B": {"ParallelKernels": true},'
                    ' "C": {"ParallelKernelDefault": true}}}')
    config = load_config(conf)
    assert parallel_pool(config, None).name == "C"  # the marked default, else the first
    assert parallel_pool(config, "B").name == "B"
    with pytest.raises(ServerCommandError, match="does not serve parallel kernels"):
        parallel_pool(config, "A")
    conf.write_text('{"Pools": {"A": {}}}')
    with pytest.raises(ServerCommandError, match="no pool of this server serves parallel"):
        parallel_pool(load_config(conf), None)


def test_launch_kernels_from_a_warm_pool(server: ServerProcess, master: Session) -> None:
    warm = idle_kernels(server.address, "Sub")
    url = f"wstp://127.0.0.1:{server.port}"
    value, _ = one(master, f'LaunchKernels["{url}", 2]')
    assert value == f'{{KernelObject[1, "{url}"], KernelObject[2, "{url}"]}}'
    assert one(master, "ParallelTable[i^2, {i, 8}]")[0] == "{1, 4, 9, 16, 25, 36, 49, 64}"
    value, packets = one(master, "ParallelEvaluate[Print[$KernelID]; $KernelID]")
    assert value == "{1, 2}"
    prints = sorted(p.args[0] for p in packets if head(p) == "TextPacket")
    assert prints == ["(kernel 1) 1\n", "(kernel 2) 2\n"]
    details = info(server.address)
    subkernels = {k for k, v in details["Kernels"].items() if v["Subkernel"]}
    assert subkernels == warm  # the warm kernels: none was started for the master
    assert details["Pools"]["Sub"]["ParallelKernels"] is True
    assert details["Pools"]["Sub"]["ParallelKernelDefault"] is True
    assert details["Pools"]["Plain"]["ParallelKernels"] is False
    # An abort of the master reaches them through the server and leaves them usable.
    master.link.put(wl.EnterTextPacket('ParallelEvaluate[Print["go"]; Do[Null, {10^9}]; 1]'))
    seen: list[Any] = []
    while sum(1 for p in seen if head(p) == "TextPacket") < 2:
        seen.append(master.link.get(timeout=120))
    master.kernel.abort()
    seen += read_until_end(master.link, timeout=120)
    assert [p.args[0] for p in seen if head(p) == "ReturnTextPacket"] == ["$Aborted"]
    assert one(master, "ParallelEvaluate[$KernelID]")[0] == "{1, 2}"
    # Closing them closes them on the server too (they carry the master's definitions).
    assert one(master, "Length[CloseKernels[]]")[0] == "2"
    assert wait_for(lambda: not subkernels & set(info(server.address)["Kernels"]), timeout=60)


def test_refusals_are_clear_and_change_nothing(server: ServerProcess, master: Session) -> None:
    base = f"wstp://127.0.0.1:{server.port}"
    for url, reason in ((f"{base}/Plain", "does not serve parallel kernels"),
                        (f"{base}/Nope", "no pool named"),
                        ("wstp://127.0.0.1:1", "no wstpserver answers")):
        value, packets = one(master, f'LaunchKernels["{url}"]')
        assert value == "$Failed"
        (message,) = [p.args[0] for p in packets if head(p) == "TextPacket"]
        assert message.startswith("LaunchKernels::fail:") and reason in message
    assert one(master, "$KernelCount")[0] == "0"
