"""Subkernels across machines: two wstpservers, each in a network namespace of its own with its
own address, and a master in the root namespace that launches a subkernel from each.

The test creates what it uses and removes it afterwards: two namespaces and two veth pairs with
private addresses (``10.231.x.y/30``), never touching an existing interface. The servers listen on
their namespace's address at the default port 31415 (each namespace has its own ports) and
require an authentication key, which the master reads from ``WSTPSERVER_KEY``. Where network
namespaces cannot be created (not root, no ``ip``, a sandbox), the test is skipped and says why.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.helpers import Session, head, read_until_end
from wstp_jupyter.engine import launch

from .helpers import Client

READY = re.compile(r"Server ready on (\d+)@")
POOLS = {"Pools": {"Par": {"ParallelKernels": True, "ParallelKernelDefault": True,
                           "MinimumKernelNumber": 1, "MaximumKernelNumber": 2}}}


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30,
                          check=check)


def _why_unavailable() -> str | None:
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"wjprobe{os.getpid()}"
    result = _ip("netns", "add", probe, check=False)
    if result.returncode != 0:
        return f"ip netns add failed: {result.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


class Machine:
    """A network namespace linked to the root namespace by a veth pair, and its wstpserver."""

    def __init__(self, tag: str, subnet: str, tmp: Path, key: str) -> None:
        self.ns = f"wj{os.getpid()}{tag}"
        self.veth = f"vwj{os.getpid()}{tag}"
        base, last = subnet.rsplit(".", 1)
        self.outer = f"{base}.{int(last) + 1}"
        self.address = f"{base}.{int(last) + 2}"
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        _ip("netns", "add", self.ns)
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
        _ip("addr", "add", f"{self.outer}/30", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        _ip("-n", self.ns, "addr", "add", f"{self.address}/30", "dev", "eth0")
        _ip("-n", self.ns, "link", "set", "eth0", "up")
        _ip("-n", self.ns, "link", "set", "lo", "up")  # the server reaches its kernels there
        conf = tmp / f"{tag}.conf"
        conf.write_text(json.dumps(POOLS))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, "-m", "wstp_jupyter.server",
             "--interface", self.address, "-l", "debug", "-c", str(conf)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp,
            env={**os.environ, "WSTPSERVER_KEY": key})

    def wait_ready(self, timeout: float = 300.0) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.proc.stdout:
            self.lines.append(line)
            if READY.search(line):
                threading.Thread(target=self._drain, daemon=True).start()
                return
            assert time.monotonic() < deadline, "".join(self.lines)
        raise AssertionError("server exited:\n" + "".join(self.lines))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _ip("netns", "del", self.ns, check=False)  # takes the veth pair with it
        _ip("link", "del", self.veth, check=False)


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Machine], str]]:
    reason = _why_unavailable()
    if reason is not None:
        pytest.skip(f"network namespaces are unavailable here: {reason}")
    key = secrets.token_hex(16)
    tmp = tmp_path_factory.mktemp("netns")
    x = os.getpid() % 250
    made: list[Machine] = []
    try:
        for tag, subnet in (("a", f"10.231.{x}.0"), ("b", f"10.231.{x}.4")):
            made.append(Machine(tag, subnet, tmp, key))
        for m in made:
            m.wait_ready()
        yield made, key
    finally:
        for m in made:
            m.close()


def _enter(session: Session, code: str) -> list[Any]:
    from wstp_jupyter.wxf import wl

    session.link.put(wl.EnterTextPacket(code))
    packets: list[Any] = []
    while not packets or head(packets[-1]) != "InputNamePacket":
        packets += read_until_end(session.link, timeout=300)
    return packets


def _value(packets: list[Any]) -> str:
    (value,) = [p.args[0] for p in packets if head(p) == "ReturnTextPacket"]
    return str(value)


def test_parallel_table_across_two_machines(machines: tuple[list[Machine], str]) -> None:
    made, key = machines
    master = Session(launch(env={**os.environ, "WSTPSERVER_KEY": key}))
    try:
        read_until_end(master.link)
        urls = ", ".join(f'"wstp://{m.address}"' for m in made)  # default port and pool
        _enter(master, f"$ConfiguredKernels = {{{urls}}};")
        value = _value(_enter(master, "LaunchKernels[]"))
        assert value == ("{" + ", ".join(f'KernelObject[{i}, "wstp://{m.address}:31415"]'
                                         for i, m in enumerate(made, 1)) + "}")
        assert _value(_enter(master, "ParallelTable[i^3 + $KernelID - $KernelID, {i, 12}]")) == (
            "{" + ", ".join(str(i ** 3) for i in range(1, 13)) + "}")
        assert _value(_enter(master, "ParallelEvaluate[$KernelID]")) == "{1, 2}"
        for m in made:  # each machine serves one of them
            client = Client(f"31415@{m.address}", key=key)
            try:
                info = client.command("GetServerInformation")
            finally:
                client.close()
            assert [k["Subkernel"] for k in info["Kernels"].values()].count(True) == 1
        _enter(master, "CloseKernels[]")
    finally:
        master.kernel.close()
