"""The engine's side of the Woxi evaluator process (``_woxi_worker``): start, talk, stop.

:class:`WorkerProcess` starts the worker with a control socket and a packet-mode pipe for its
stdout and stderr, sends requests and reads reply frames. Killing the evaluating process makes
its standby copy take over (see ``_woxi_worker``); the copy's first frame is preceded by the
session's magic bytes, which :meth:`WorkerProcess.frames` looks for after a kill, so a reply
frame cut in half by the kill is dropped rather than misread. Linux only (``O_DIRECT`` pipes,
``prctl``).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import marshal
import os
import resource
import secrets
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from typing import Any

from wstp_jupyter.engine._errors import StartupError
from wstp_jupyter.engine._stack import STACK_SIZE

log = logging.getLogger("wstp_jupyter.engine")

_HEADER = struct.Struct(">I")
PIPE_PACKET = 4096  # PIPE_BUF: the largest packet of a packet-mode pipe
PR_SET_CHILD_SUBREAPER = 36
MISSING_WOXI = (
    "the Woxi engine needs the woxi package: pip install 'wstp-jupyter[woxi]'"
)


def woxi_available() -> bool:
    """True when ``import woxi`` can succeed (checked without importing it)."""
    import importlib.util

    if "woxi" in sys.modules:  # None there means an import of it is refused
        return sys.modules["woxi"] is not None
    return importlib.util.find_spec("woxi") is not None


def become_subreaper() -> None:
    """Adopt orphaned descendants (a promoted standby), so they die with this process."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        log.debug("cannot become a child subreaper")


def _large_stack() -> None:
    """Let a main thread's stack grow to ``_stack.STACK_SIZE``: the worker's, which inherits
    the limit (and this process's own, which does no deep work on its main thread).

    Woxi evaluates and serializes recursively on the worker's main thread (8 MiB by default),
    so a deep result such as ``Nest[f, x, 20000]`` would crash the worker where the engine's own
    threads have room for it. The soft limit only; the hard one stays as it is.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    wanted = STACK_SIZE if hard == resource.RLIM_INFINITY else min(STACK_SIZE, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_STACK, (wanted, hard))


class WorkerProcess:
    """One Woxi worker (and, over its life, the standby copies that replace it)."""

    def __init__(self) -> None:
        if not woxi_available():
            raise StartupError(MISSING_WOXI)
        self.magic = secrets.token_bytes(16)
        self.mark = self.magic.hex()
        self._dir = tempfile.TemporaryDirectory(prefix="wstp-woxi-")
        self.fifo = os.path.join(self._dir.name, "input")
        os.mkfifo(self.fifo, 0o600)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_read, out_write = os.pipe2(os.O_DIRECT | os.O_CLOEXEC)
        os.set_inheritable(out_write, True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        _large_stack()  # inherited by the worker
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "wstp_jupyter.engine._woxi_worker",
             str(theirs.fileno()), self.magic.hex(), self.fifo],
            stdin=subprocess.DEVNULL, stdout=out_write, stderr=out_write,
            pass_fds=(theirs.fileno(),), env=env,
        )
        theirs.close()
        os.close(out_write)
        self.ctl = ours
        self.output_fd = out_read
        fcntl.fcntl(out_read, fcntl.F_SETFL, fcntl.fcntl(out_read, fcntl.F_GETFL) | os.O_NONBLOCK)
        self._buffer = bytearray()
        self._resync = False
        self.pid = self.popen.pid
        self.closed = False
        frame = self.wait_frame(timeout=60.0)
        if frame is None or frame.get("ev") != "ready":
            self.close()
            raise StartupError("the Woxi worker process did not start")

    # -- frames ------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        data = marshal.dumps(message)
        self.ctl.sendall(_HEADER.pack(len(data)) + data)

    def frames(self) -> list[dict[str, Any]] | None:
        """Complete frames read so far (non-blocking); ``None`` once the socket has closed."""
        closed = False
        while True:
            try:
                chunk = self.ctl.recv(1 << 20, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            self._buffer += chunk
        out: list[dict[str, Any]] = []
        while True:
            at = self._buffer.find(self.magic)
            if at >= 0:
                # A standby took over: whatever precedes it came from the process it replaced
                # (which may have died in the middle of a frame).
                del self._buffer[: at + len(self.magic)]
                self._resync = False
            elif self._resync:
                # Keep a tail that may hold the start of the magic bytes.
                del self._buffer[: max(0, len(self._buffer) - len(self.magic))]
                break
            if len(self._buffer) < _HEADER.size:
                break
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                break
            body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            out.append(dict(marshal.loads(body)))
        if closed and not out:
            return None
        return out

    def wait_frame(self, timeout: float) -> dict[str, Any] | None:
        """Block for one frame (used at start and for quick helper requests)."""
        import selectors
        import time

        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.ctl, selectors.EVENT_READ)
            while True:
                got = self.frames()
                if got is None:
                    return None
                if got:
                    return got[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sel.select(min(left, 0.5))

    def read_output(self) -> list[bytes]:
        """Output packets available now (``Print`` lines, message blocks), in order."""
        packets: list[bytes] = []
        while True:
            try:
                packet = os.read(self.output_fd, PIPE_PACKET)
            except (BlockingIOError, InterruptedError):
                return packets
            if not packet:
                return packets
            packets.append(packet)

    # -- control -----------------------------------------------------------------------
    def kill(self) -> None:
        """Kill the evaluating process; its standby (if any) takes over."""
        pid = self.pid
        self._resync = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        self._reap(pid)

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def _reap(self, pid: int) -> int | None:
        """Wait for ``pid`` to end; its exit status (negative: killed by that signal)."""
        if pid == self.popen.pid:
            return self.popen.wait()
        try:
            _, status = os.waitpid(pid, 0)  # a promoted standby: our child (we are its subreaper)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status)

    def promoted(self, pid: int) -> int | None:
        """The standby ``pid`` took over: reap the process it replaced; that one's status."""
        old, self.pid = self.pid, pid
        return self._reap(old)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.ctl.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._reap(self.pid)
        os.close(self.output_fd)
        self._dir.cleanup()

    def answer_input(self, text: str, should_stop: Any) -> bool:
        """Hand the front end's answer to a waiting ``Input[]``; False if nobody read it."""
        import time

        fd = -1
        pause = 0.0002  # the reader opens it within a millisecond or so of its marker line
        while fd < 0:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: the reader has not opened it (yet)
                if should_stop():
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
        try:
            os.set_blocking(fd, True)
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        return True
