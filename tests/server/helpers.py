"""Helpers for the server tests: real wstpserver processes and real client links on loopback.

``ServerProcess`` runs ``python -m wstp_jupyter.server --port 0`` with a configuration file and
reads the port from its ``Server ready on PORT@127.0.0.1`` line; ``Client`` is a blocking link to
it with small helpers for commands and evaluations.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wstp_jupyter.link import Link, Protocol, UrgentMessage
from wstp_jupyter.wxf import Expr, Symbol

READY = re.compile(r"Server ready on (\d+)@")
REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    """A real wstpserver child process."""

    def __init__(self, config: dict[str, Any] | None, tmp: Path, *args: str,
                 env: dict[str, str] | None = None, startup_timeout: float = 120.0,
                 separate_stderr: bool = False) -> None:
        cmd = [sys.executable, "-m", "wstp_jupyter.server", "--port", "0", "-l", "debug", *args]
        if config is not None:
            path = tmp / "wstpserver.conf"
            path.write_text("# test configuration\n" + json.dumps(config, indent=2) + "\n")
            cmd += ["--configuration-file", str(path)]
        self.lines: list[str] = []
        #: What the server wrote on stderr, when ``separate_stderr`` (else it is in ``lines``).
        self.err_lines: list[str] = []
        full_env = {**os.environ, **(env or {})}
        full_env.pop("WSTPSERVER_PORT", None)
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if separate_stderr else subprocess.STDOUT,
            text=True, cwd=tmp, env=full_env)
        self._drain_err: threading.Thread | None = None
        if separate_stderr:
            self._drain_err = threading.Thread(target=self._read_err, daemon=True)
            self._drain_err.start()
        self.port = 0
        deadline = time.monotonic() + startup_timeout
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            m = READY.search(line)
            if m:
                self.port = int(m.group(1))
                break
            if time.monotonic() > deadline:
                break
        self._drain: threading.Thread | None = None
        if not self.port:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.lines))
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err_lines.append(line)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def address(self) -> str:
        return f"{self.port}@127.0.0.1"

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_for_log(self, text: str, timeout: float = 30.0) -> str:
        """The log once it contains ``text`` (the drain thread reads it a little later than
        the server writes it)."""
        deadline = time.monotonic() + timeout
        while text not in self.log:
            assert time.monotonic() < deadline, f"{text!r} not in the server log"
            time.sleep(0.02)
        return self.log

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._drain is not None:
            self._drain.join(10)  # every line the server wrote is in ``lines`` from here
        if self._drain_err is not None:
            self._drain_err.join(10)
        return self.proc.returncode


def rule(key: str, value: object) -> Expr:
    return Expr(Symbol("Rule"), key, value)


def wl_code(code: str) -> Expr:
    return Expr(Symbol("ToExpression"), code)


class Client:
    """A blocking client link to a server, with helpers.

    ``timeout`` bounds every read; it is generous because a request may wait for a cold kernel
    start on a loaded machine, and it only costs time when something is already broken.
    """

    def __init__(self, address: str, *, key: str | None = None, timeout: float = 120.0) -> None:
        self.link = Link.connect(Protocol.TCPIP, address, key=key)
        self.link.activate(timeout=timeout)
        self.timeout = timeout

    def close(self) -> None:
        self.link.close()

    def get(self, timeout: float | None = None) -> Any:
        return self.link.get(timeout=timeout or self.timeout)

    def command(self, name: str, *args: object, **options: object) -> Any:
        """``EvaluatePacket[WSTPServer`name[...]]`` -> the ReturnPacket's content."""
        rules = [rule(k, v) for k, v in options.items()]
        self.link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol(f"WSTPServer`{name}"), *args,
                                                          *rules)))
        return self.until("ReturnPacket")[-1].args[0]

    def until(self, head: str, timeout: float | None = None) -> list[Any]:
        """Packets up to and including the first one with ``head``."""
        got: list[Any] = []
        while True:
            packet = self.get(timeout)
            got.append(packet)
            if isinstance(packet, Expr) and packet.head == Symbol(head):
                return got

    def evaluate(self, code: str, timeout: float | None = None) -> Any:
        """``EvaluatePacket[ToExpression[code]]`` -> the result (side packets dropped)."""
        self.link.put(Expr(Symbol("EvaluatePacket"), wl_code(code)))
        return self.until("ReturnPacket", timeout)[-1].args[0]

    def enter(self, text: str, timeout: float | None = None) -> list[Any]:
        """``EnterTextPacket[text]`` -> every packet up to the next InputNamePacket."""
        self.link.put(Expr(Symbol("EnterTextPacket"), text))
        return self.until("InputNamePacket", timeout)

    def abort(self) -> None:
        self.link.put_message(UrgentMessage.ABORT)


def idle_kernels(address: str, pool: str = "Default", timeout: float = 60.0) -> set[str]:
    """IDs of ``pool``'s kernels that are started, initialized and free, as the server reports.

    Waits (bounded) until there is at least one: a pool refills in the background after a test
    took its kernels. A client that is then given one of these IDs was given a warm kernel --
    no kernel was started on its way, whatever the machine's speed.
    """
    observer = Client(address)  # commands only: it never takes a kernel
    try:
        deadline = time.monotonic() + timeout
        while True:
            info = observer.command("GetServerInformation")
            states = {kid: info["Kernels"][kid]["State"] for kid in info["Pools"][pool]["Kernels"]}
            idle = {kid for kid, state in states.items() if state == "Idle"}
            # While a kernel is still starting it may become the one handed out next.
            if idle and not {"Starting", "Initializing"} & set(states.values()):
                return idle
            assert time.monotonic() < deadline, f"no idle kernel in {pool} within {timeout} s"
            time.sleep(0.1)
    finally:
        observer.close()


def is_failure(value: object) -> bool:
    return isinstance(value, Expr) and value.head == Symbol("Failure")


def failure_message(value: object) -> str:
    assert is_failure(value), value
    return str(value.args[1]["Message"])  # type: ignore[attr-defined]


def jupyter_first_result(
    argv: list[str], tmp: Path, code: str = "1+1",
    while_running: Callable[[], object] | None = None,
) -> tuple[float, dict[str, Any]]:
    """Start a Jupyter kernel whose kernelspec runs ``argv`` (a spec written under ``tmp``) and
    return the seconds from ``start_kernel`` to the ``execute_result`` of ``code``, with its
    MIME data. ``while_running`` is called after the result, while the kernel still runs. The
    kernel is shut down afterwards. An ``error`` reply fails the assertion."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    name = f"k{abs(hash(tuple(argv)))}"
    folder = tmp / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": name, "language": "wolfram",
         "interrupt_mode": "message"}))
    specs = KernelSpecManager()
    specs.kernel_dirs = [str(tmp / "kernels")]
    km = KernelManager(kernel_name=name, kernel_spec_manager=specs)
    start = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        msg_id = kc.execute(code)
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            assert msg["msg_type"] != "error", msg["content"]
            if msg["msg_type"] == "execute_result":
                took = time.perf_counter() - start
                if while_running is not None:
                    while_running()
                return took, msg["content"]["data"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

