"""Fixtures for the Jupyter kernel tests: real kernels started through jupyter_client.

Kernels are started by kernelspec name (``wolfram-wstp``), exactly as JupyterLab does, so these
tests exercise the installed kernelspec, ipykernel's sockets and a real kernel process. A cold
start costs ~4-5 s of Mathics3 import, so one warm kernel is shared per test module
(``wolfram``); tests that kill or restart their kernel start their own.
"""

from __future__ import annotations

import json
import queue
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager, start_new_kernel

KERNEL_NAME = "wolfram-wstp"
STARTUP_TIMEOUT = 120


@dataclass
class Execution:
    """What one execute_request produced."""

    reply: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    arrival: list[float] = field(default_factory=list)  # perf_counter() per message

    @property
    def status(self) -> str:
        return str(self.reply["content"]["status"])

    def of_type(self, msg_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["msg_type"] == msg_type]

    def stream(self, name: str) -> str:
        return "".join(
            m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == name
        )

    @property
    def results(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.of_type("execute_result")]

    def plain(self) -> list[str]:
        return [r["data"]["text/plain"] for r in self.results]


def execute(
    kc: BlockingKernelClient,
    code: str,
    *,
    timeout: float = 60.0,
    allow_stdin: bool = False,
    stdin_answers: list[str] | None = None,
    silent: bool = False,
    store_history: bool = True,
    user_expressions: dict[str, str] | None = None,
) -> Execution:
    """Run ``code`` and collect its reply and iopub messages (until the kernel is idle)."""
    msg_id = kc.execute(
        code, silent=silent, store_history=store_history, allow_stdin=allow_stdin,
        user_expressions=user_expressions or {},
    )
    deadline = time.monotonic() + timeout
    result = Execution(reply={})
    idle = False
    answers = list(stdin_answers or [])
    while not (idle and result.reply):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete answer to {code!r} within {timeout} s")
        if allow_stdin:
            try:
                request = kc.get_stdin_msg(timeout=0.01)
                if request["parent_header"].get("msg_id") == msg_id:
                    kc.input(answers.pop(0) if answers else "")
            except queue.Empty:
                pass
        if not result.reply:
            try:
                reply = kc.get_shell_msg(timeout=0.01)
                if reply["parent_header"].get("msg_id") == msg_id:
                    result.reply = reply
            except queue.Empty:
                pass
        try:
            msg = kc.get_iopub_msg(timeout=0.02 if not idle else 0.01)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            idle = msg["content"]["execution_state"] == "idle"
        elif msg["msg_type"] != "execute_input":
            result.messages.append(msg)
            result.arrival.append(time.perf_counter())
    return result


def shell_request(kc: BlockingKernelClient, msg_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Wait for the shell reply to ``msg_id``, skipping replies to other requests."""
    deadline = time.monotonic() + timeout
    while True:
        reply = kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def failed_request(kc: BlockingKernelClient, msg_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The reply to an ``execute_request`` that fails, once the kernel is idle after it.

    After an error reply ipykernel aborts the execute requests that reach it before it goes
    idle (Jupyter's stop-on-error, for "Run All"); a test's next cell must come after that.
    """
    reply = shell_request(kc, msg_id, timeout)
    iopub_until(kc, msg_id, lambda m: m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle", timeout)
    return reply


def iopub_until(kc: BlockingKernelClient, msg_id: str,
                match: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
    """The first iopub message of request ``msg_id`` that ``match`` accepts (earlier ones of
    any request are consumed); ``queue.Empty`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id and match(msg):
            return msg


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; no psutil needed)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The ppid is the 2nd field after the parenthesised command name.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            children.append(int(entry.name))
    return children


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def engine_pids(kernel_pid: int) -> list[int]:
    """The kernel processes (``wstp_jupyter.engine``) started by a Jupyter kernel process."""
    found = []
    for pid in child_pids(kernel_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"wstp_jupyter.engine" in cmdline and pid_alive(pid):
            found.append(pid)
    return found


def start_kernel(**kwargs: Any) -> tuple[KernelManager, BlockingKernelClient]:
    km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=STARTUP_TIMEOUT, **kwargs)
    return km, kc


def start_kernel_with_options(
    tmp: Path, *options: str
) -> tuple[KernelManager, BlockingKernelClient]:
    """A Jupyter kernel started by jupyter_client from a kernelspec written under ``tmp`` whose
    argv carries the kernel's ``options`` (``--server``, ``--profile``, ...), ready for
    requests."""
    name = "wl-" + "-".join(o.strip("-").replace("@", "_").replace(".", "_") for o in options)
    folder = tmp / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "wstp_jupyter.kernel", "-f", "{connection_file}", *options]
    (folder / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": name, "language": "wolfram", "interrupt_mode": "message"}
    ))
    specs = KernelSpecManager()
    specs.kernel_dirs = [str(tmp / "kernels")]
    km = KernelManager(kernel_name=name, kernel_spec_manager=specs)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
    return km, kc


def stop_kernel(km: KernelManager, kc: BlockingKernelClient) -> None:
    kc.stop_channels()
    if km.is_alive():
        km.shutdown_kernel(now=False)


@pytest.fixture(scope="module")
def wolfram() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    """A warm ``wolfram-wstp`` kernel shared by the tests of one module."""
    km, kc = start_kernel()
    # The first execution waits for the kernel process; do it once here.
    first = execute(kc, "1", timeout=STARTUP_TIMEOUT)
    assert first.status == "ok", first.reply
    yield km, kc
    stop_kernel(km, kc)


ENGINES = ("mathics3", "woxi")


@pytest.fixture(scope="module", params=ENGINES)
def any_engine(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    """A warm ``wolfram-wstp`` kernel per engine (``WSTP_JUPYTER_ENGINE``), for the tests of
    behaviour every engine must share; the Mathics3 one is the module's ``wolfram`` kernel."""
    if request.param == "mathics3":
        yield request.getfixturevalue("wolfram")
        return
    pytest.importorskip("woxi")
    import os

    env = {**os.environ, "WSTP_JUPYTER_ENGINE": request.param}
    km, kc = start_kernel(env=env)
    first = execute(kc, "1", timeout=STARTUP_TIMEOUT)
    assert first.status == "ok", first.reply
    yield km, kc
    stop_kernel(km, kc)


@pytest.fixture(scope="module")
def ekc(any_engine: tuple[KernelManager, BlockingKernelClient]) -> BlockingKernelClient:
    """The client of :func:`any_engine`'s kernel."""
    return any_engine[1]


@pytest.fixture(scope="module")
def ekm(any_engine: tuple[KernelManager, BlockingKernelClient]) -> KernelManager:
    """The manager of :func:`any_engine`'s kernel."""
    return any_engine[0]


@pytest.fixture(scope="module")
def kc(wolfram: tuple[KernelManager, BlockingKernelClient]) -> BlockingKernelClient:
    return wolfram[1]


@pytest.fixture(scope="module")
def km(wolfram: tuple[KernelManager, BlockingKernelClient]) -> KernelManager:
    return wolfram[0]
