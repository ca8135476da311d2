"""The Jupyter kernel's connection to one Wolfram kernel process, over its three links.

A :class:`KernelConnection` obtains a kernel -- a local process from
:func:`wstp_jupyter.engine.launch` or a kernel of a wstpserver through
:func:`wstp_jupyter.server.client.attach` -- opens the preemptive and service links, switches
results to MIME bundles and then offers:

* the **main link**, read on the asyncio loop whenever its socket is readable
  (:meth:`KernelConnection.next_packet`), so the loop never blocks on it, no thread hand-off adds
  latency, and a dead kernel is noticed as soon as its link closes;
* **preemptive evaluations** (:meth:`KernelConnection.evaluate`) for completion, inspection and
  completeness checks, answered even while the main link is busy with a cell;
* the **service link**, for what is truly asynchronous (widget and ``Dynamic`` updates): every
  expression the kernel process sends there is handed to ``on_service`` on the asyncio loop
  (a reader thread of its own reads it), and :meth:`KernelConnection.send_service` sends one
  back. A cell's own output (``Print``, messages, displays) never travels there: it comes on the
  main link, in order;
* **abort**, **interrupt** and a staged **close**.

Everything blocking here (connect, evaluate, close) is meant to run in a worker thread
(``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

from wstp_jupyter import engine
from wstp_jupyter.engine._requests import SetResultFormat
from wstp_jupyter.kernel._errors import KernelDied, KernelStartError
from wstp_jupyter.kernel._mapping import prompt_number
from wstp_jupyter.kernel._options import KernelOptions
from wstp_jupyter.kernel._spec import DEFAULT_SERVER
from wstp_jupyter.link import (
    EvaluatePacket,
    InputNamePacket,
    LimitExceeded,
    LinkError,
    LinkTimeout,
    Packet,
    RemoteProtocolError,
    ReturnPacket,
)
from wstp_jupyter.server import client

log = logging.getLogger("wstp_jupyter.kernel")

_CLOSED = object()
# A wstpserver's account of a kernel that ended by itself (server/_kernel.py).
_EXITED = re.compile(r"exited with status (\d+)")


class KernelConnection:
    """One Wolfram kernel (local process or wstpserver kernel) seen from the Jupyter kernel."""

    def __init__(
        self,
        options: KernelOptions,
        *,
        on_service: Callable[[Any], None] | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        self.options = options
        self.start_timeout = start_timeout
        self.on_service = on_service
        self.kernel: Any = None  # KernelProcess or ServerSession
        self.main: Any = None
        self.preemptive: Any = None
        self.service: Any = None
        self.kernel_id: str | None = None
        self.first_prompt: int | None = None  # In[n] of the InputNamePacket read at start
        # A reattached server kernel still evaluating an earlier request: its prompt comes when
        # that ends, after the rest of its output (_early holds what was read of it).
        self.busy_at_start = False
        self._early: list[Packet] = []
        self._preemptive_lock = threading.Lock()
        self._main_write_lock = threading.Lock()
        self._service_write_lock = threading.Lock()
        self._queue: asyncio.Queue[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main_fd: int | None = None
        self._closing = False
        self.closed_reason: BaseException | None = None
        self.lost_reason: str | None = None  # the server said its kernel ended (lose())

    # -- start -------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """:meth:`connect`, then :meth:`attach_loop` (the whole start-up, blocking)."""
        self.connect()
        self.attach_loop(loop)

    def connect(self) -> None:
        """Obtain the kernel, read its first prompt, open the parallel links, ask for MIME results.

        Needs no event loop, so it can run before ipykernel is even imported
        (:func:`prestart`).

        Raises:
            KernelStartError: the kernel could not be launched or attached, or did not answer.
        """
        try:
            self.kernel = self._obtain()
            self.main = self.kernel.link
            self._read_first_prompt()
            self.service, self.preemptive = self.kernel.open_parallel_links()
        except KernelStartError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise KernelStartError(
                f"could not start the Wolfram kernel ({self.options.describe()}): {exc}"
            ) from exc
        try:
            self.set_result_format()
        except Exception as exc:
            self.close()
            raise KernelStartError(
                f"the Wolfram kernel did not accept MIME results: {exc}"
            ) from exc

    def attach_loop(
        self,
        loop: asyncio.AbstractEventLoop,
        on_service: Callable[[Any], None] | None = None,
    ) -> None:
        """Hand main-link packets (read on ``loop`` itself) and service-link expressions (read
        by a thread, passed to ``on_service``) to ``loop``."""
        self._loop = loop
        if on_service is not None:
            self.on_service = on_service
        self._queue = asyncio.Queue()
        for packet in self._early:  # read before there was a queue
            self._queue.put_nowait(packet)
        self._early.clear()
        # The main link is read on the loop itself, when its socket is readable: no thread
        # hand-off between a packet's arrival and its translation (this is the latency path).
        self._main_fd = self.main.fileno()
        loop.add_reader(self._main_fd, self._on_main_readable)
        loop.call_soon(self._on_main_readable)  # packets already buffered by the link
        if self.service is not None and self.on_service is not None:
            threading.Thread(
                target=self._read_service, name="wstp-jupyter-service-reader", daemon=True
            ).start()

    def _obtain(self) -> Any:
        options = self.options
        if not options.uses_server:
            if options.engine == "woxi":
                from wstp_jupyter.engine._woxi_process import MISSING_WOXI, woxi_available

                if not woxi_available():
                    raise KernelStartError(MISSING_WOXI)
            # Notebooks that LinkLaunch further kernels find this installation's interpreter.
            env = {**os.environ, "WSTP_JUPYTER_PYTHON": sys.executable}
            return engine.launch(
                env=env,
                startup_timeout=self.start_timeout,
                extra_args=("--engine", options.engine),
            )
        # The default local server is started on demand, so the wolfram-wstpserver kernelspec
        # works out of the box; an explicit remote address must already be serving.
        autostart = options.discover is None and options.server in (None, DEFAULT_SERVER)
        session = client.attach(
            options.server,
            pool=options.pool,
            kernel_id=options.kernel_id,
            discover=options.discover,
            profile=options.profile,
            autostart=autostart,
            timeout=self.start_timeout,
        )
        self.kernel_id = getattr(session, "kernel_id", None)
        log.info("attached to kernel %s (%s)", self.kernel_id, options.describe())
        return session

    def _read_first_prompt(self) -> None:
        # A local kernel process's links may only be opened while it is idle, i.e. after its
        # InputNamePacket. A wstpserver sends the kernel's prompt on attach when the kernel is
        # idle; a kernel reattached while it still evaluates an earlier request (whose client
        # left) sends its output first and its own prompt when it ends (docs/server.md). A
        # server kernel's parallel links are separate connections, open at any time.
        wait = self.start_timeout if not self.options.uses_server else 2.0
        try:
            packet = self.main.get_packet(timeout=wait)
        except LinkTimeout:
            if not self.options.uses_server:
                raise
            self.busy_at_start = True
            return
        match packet:
            case InputNamePacket(text=text):
                self.first_prompt = prompt_number(text)
            case _ if self.options.uses_server:
                self.busy_at_start = True
                self._early.append(packet)
            case _:
                raise KernelStartError(
                    f"the kernel sent {packet.head} instead of its first input prompt"
                )

    def _read_service(self) -> None:
        assert self._loop is not None and self.on_service is not None
        while True:
            try:
                expr = self.service.get()
            except LinkError:
                return
            try:
                self._loop.call_soon_threadsafe(self.on_service, expr)
            except RuntimeError:
                return

    def send_service(self, expr: Any) -> bool:
        """Send ``expr`` to the kernel process on the service link (asynchronous messages, e.g.
        a widget's change); False when there is no service link or it failed. Any thread."""
        if self.service is None:
            return False
        try:
            with self._service_write_lock:
                self.service.put(expr)
        except LinkError as exc:
            log.info("could not send on the service link: %s", exc)
            return False
        return True

    def set_result_format(self) -> None:
        """Ask the kernel for ``WSTPJupyter`MIMEBundle`` results (and display packets)."""
        self.evaluate(SetResultFormat(kind="MIMEBundle").to_expr(), timeout=self.start_timeout)

    # -- main link ---------------------------------------------------------------------------

    def _on_main_readable(self) -> None:
        assert self._queue is not None
        if self._main_fd is None:
            return
        try:
            while self.main.ready(0):
                try:
                    packet = self.main.get_packet(timeout=0)
                except LimitExceeded as exc:
                    # Beyond this side's receiver limits: already dropped, the link goes on.
                    # (A kernel process checks first: it sends $Failed and a message instead.)
                    log.warning("dropped a packet on the main link: %s", exc)
                    continue
                except RemoteProtocolError as exc:
                    # Not a packet: it stays queued, so take it off or it blocks the link.
                    log.warning("dropping a non-packet on the main link: %s", exc)
                    self.main.get(timeout=0)
                    continue
                self._queue.put_nowait(packet)
        except BaseException as exc:  # the link is gone: hand the reason over and stop
            self.closed_reason = exc
            self._stop_reading()
            self._queue.put_nowait(_CLOSED)

    def _stop_reading(self) -> None:
        fd, self._main_fd = self._main_fd, None
        if fd is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(fd)

    async def next_packet(self) -> Packet:
        """The next packet from the main link.

        Raises:
            KernelDied: the main link closed (the kernel process exited or was killed).
        """
        assert self._queue is not None
        packet = await self._queue.get()
        if packet is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # every later reader sees the death too
            raise KernelDied(self.death_description())
        assert isinstance(packet, Packet)
        return packet

    def put_main(self, packet: Packet) -> None:
        """Write a packet on the main link.

        Raises:
            KernelDied: the link is gone.
        """
        with self._main_write_lock:
            try:
                self.main.put_packet(packet)
            except LinkError as exc:
                raise KernelDied(self.death_description(exc)) from exc

    @property
    def alive(self) -> bool:
        """False once the main link has closed, or the server reported its kernel's end."""
        return self.closed_reason is None and self.lost_reason is None and self.main is not None

    def lose(self, reason: str) -> None:
        """Record that the wstpserver reported this kernel's end (``reason``: ``"exited with
        status 0"``, ``"killed by signal 9"``...). The links to the server stay open, but no
        request of ours reaches a kernel any more: the connection is dead."""
        self.lost_reason = reason

    def exit_status(self) -> int | None:
        """The status with which the (dead) kernel ended by itself -- ``Quit[n]``/``Exit[n]``, or
        a server's ``"exited with status n"`` -- else ``None`` (a signal, a closed link)."""
        if self.lost_reason is not None:
            match = _EXITED.fullmatch(self.lost_reason)
            return int(match.group(1)) if match else None
        process = getattr(self.kernel, "process", None)
        if process is None:
            return None
        try:
            status = process.wait(timeout=1.0)
        except Exception:
            return None
        return status if isinstance(status, int) and status >= 0 else None

    def death_description(self, exc: BaseException | None = None) -> str:
        """A sentence for users saying that the kernel died, and how."""
        if self.lost_reason is not None:
            how = f"the server's kernel ended ({self.lost_reason})"
        else:
            how = self._process_end(exc)
        return (
            f"The Wolfram kernel died: {how}. Its definitions are lost; "
            "the next cell runs in a fresh kernel process."
        )

    def _process_end(self, exc: BaseException | None) -> str:
        process = getattr(self.kernel, "process", None)
        status = None
        if process is not None:
            try:
                status = process.wait(timeout=1.0)
            except Exception:
                status = process.poll()
        if status is not None:
            if status < 0:
                return f"the kernel process was killed by signal {-status}"
            return f"the kernel process exited with status {status}"
        reason = exc or self.closed_reason
        return f"the link to the kernel closed ({reason})" if reason else "the link closed"

    # -- preemptive link ---------------------------------------------------------------------

    def evaluate(self, expr: Any, *, timeout: float = 10.0) -> Any:
        """Evaluate ``expr`` on the preemptive link (main link if none) and return the result.

        Side packets (Print, messages) produced by the evaluation are discarded: these requests
        come from the front end, not from the user.

        Raises:
            KernelDied: the link closed.
            TimeoutError: no answer within ``timeout`` seconds.
        """
        link = self.preemptive
        if link is None:
            raise KernelDied("the kernel offers no preemptive link")
        with self._preemptive_lock:
            try:
                link.put_packet(EvaluatePacket(expr))
                while True:
                    match link.get_packet(timeout=timeout):
                        case ReturnPacket(expr=value):
                            return value
            except LinkTimeout as exc:
                raise TimeoutError(f"no answer from the kernel within {timeout} s") from exc
            except LinkError as exc:
                raise KernelDied(self.death_description(exc)) from exc

    # -- control -----------------------------------------------------------------------------

    def abort(self) -> None:
        """Send the abort urgent message: the running evaluation returns ``$Aborted``."""
        if self.kernel is not None and self.alive:
            self.kernel.abort()

    def interrupt(self) -> None:
        """Send the interrupt urgent message (the kernel answers with the interrupt menu)."""
        if self.kernel is not None and self.alive:
            self.kernel.interrupt()

    @property
    def keeps_kernel(self) -> bool:
        """True when closing must leave the server's kernel running (profile or kernel ID)."""
        return self.options.uses_server and bool(self.options.profile or self.options.kernel_id)

    def close(self, *, end_kernel: bool | None = None) -> None:
        """Close the links and end the kernel; idempotent.

        Args:
            end_kernel: for a wstpserver kernel, whether to close the kernel itself; by default
                it is kept when a profile or kernel ID asked for a long-lived kernel. A local
                kernel process always ends (staged: Quit, SIGTERM, SIGKILL).
        """
        if self._closing:
            return
        self._closing = True
        kernel, self.kernel = self.kernel, None
        if kernel is not None:
            try:
                if self.options.uses_server:
                    end = (not self.keeps_kernel) if end_kernel is None else end_kernel
                    kernel.close(shutdown=end)
                else:
                    kernel.close()
            except Exception:
                log.debug("closing the kernel failed", exc_info=True)
        loop = self._loop
        if self._main_fd is not None and loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._stop_reading()
            else:
                loop.call_soon_threadsafe(self._stop_reading)


def prestart(options: KernelOptions) -> concurrent.futures.Future[KernelConnection]:
    """Begin :meth:`KernelConnection.connect` in a thread now; the kernel picks it up later.

    ``python -m wstp_jupyter.kernel`` calls this before importing ipykernel, so the kernel
    process's cold start (or the attach to a server) overlaps with the Jupyter kernel's own
    start-up.
    """
    future: concurrent.futures.Future[KernelConnection] = concurrent.futures.Future()

    def run() -> None:
        connection = KernelConnection(options)
        try:
            connection.connect()
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(connection)

    threading.Thread(target=run, name="wstp-jupyter-prestart", daemon=True).start()
    return future
