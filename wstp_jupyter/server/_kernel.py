"""One supervised kernel process of the server.

A :class:`ManagedKernel` launches its process exactly as a front end would: a private loopback
listener with a random key (passed in ``WSTP_JUPYTER_LINK_KEY``), the process started with
``-wstp -linkmode connect -linkprotocol TCPIP -linkname PORT@127.0.0.1``. It reads the kernel's
first ``InputNamePacket``, evaluates the pool's ``InitializationCode`` and then
``InitializationFile`` with ``EvaluatePacket`` (so ``$Line`` stays at 1 and the next prompt is
still ``In[1]:= ``), drains their output -- all before the kernel is offered to anyone -- and then
hands the link to a :class:`~._router.Router`.

Supervision: the end of the link (or of the process) is the kernel's death; the reason (exit
status or signal) is recorded and the ``on_exit`` callback lets the server tell its clients and
replace it. Closing is staged (:func:`wstp_jupyter._process.stop_async`): close the link (the kernel
quits), wait, SIGTERM, wait, SIGKILL of the kernel's process group; a kernel closed or cancelled
while it starts is stopped all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wstp_jupyter._process import DEFAULT_GRACE, stop_async
from wstp_jupyter.link import (
    KEY_ENV,
    AuthenticationError,
    EvaluatePacket,
    Expression,
    InputNamePacket,
    LinkError,
    MessagePacket,
    Packet,
    Protocol,
    ReturnPacket,
    TextPacket,
    link_arguments,
)
from wstp_jupyter.link.aio import AsyncLink, listen
from wstp_jupyter.server._commands import as_packet
from wstp_jupyter.server._errors import ServerError
from wstp_jupyter.server._logging import logger
from wstp_jupyter.server._model import KernelEvent, KernelState, next_state
from wstp_jupyter.server._parallel import open_parallel
from wstp_jupyter.server._router import Attachment, Router
from wstp_jupyter.wxf import Expr, Symbol

LAUNCH_TIMEOUT = 120.0


class ManagedKernel:
    """A kernel process of the server: launch, initialization, routing, supervision."""

    def __init__(self, *, command: Sequence[str], pool: str | None, keep_alive: bool,
                 allow_silent_replacement: bool, initialization_code: str | None = None,
                 initialization_file: Path | None = None,
                 on_exit: Callable[[ManagedKernel], None] | None = None) -> None:
        self.id = str(uuid.uuid4())
        self.pool = pool
        self.command = tuple(command)
        self.keep_alive = keep_alive
        self.allow_silent_replacement = allow_silent_replacement
        self.reserved = False
        self.subkernel = False  # handed out to a master as a parallel subkernel
        self.reserve_on_release: bool | None = None
        self.state = KernelState.STARTING
        self._prompt = "In[1]:= "
        self.started = time.time()
        self.process: asyncio.subprocess.Process | None = None
        self.died_reason = ""
        self._init_code = initialization_code
        self._init_file = initialization_file
        self._on_exit = on_exit
        self._link: AsyncLink | None = None
        self.main: Router | None = None
        self.preemptive: Router | None = None
        self.service: Router | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._closing = False
        self._side_tasks: list[asyncio.Task[Any]] = []

    def __repr__(self) -> str:
        return f"<kernel {self.id} pool={self.pool} {self.state.value} pid={self.pid}>"

    # -- life cycle --------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def clients(self) -> list[Attachment]:
        return self.main.clients if self.main is not None else []

    @property
    def prompt(self) -> str:
        return self.main.prompt if self.main is not None else self._prompt

    @property
    def routers(self) -> list[Router]:
        return [r for r in (self.main, self.preemptive, self.service) if r is not None]

    @property
    def alive(self) -> bool:
        return self.state not in (KernelState.DEAD, KernelState.CLOSED, KernelState.CLOSING)

    def event(self, event: KernelEvent) -> None:
        self.state = next_state(self.id, self.state, event)

    async def launch(self, timeout: float = LAUNCH_TIMEOUT) -> None:
        """Start the process, wait for its link and first prompt, run the initialization.

        Whatever ends a launch early -- a failure, :meth:`close`, or cancellation of the caller
        -- the process is stopped and reaped before the error propagates: a kernel is never left
        running behind a launch that did not finish.

        Raises:
            ServerError: the process could not start, exited, did not connect in time, or the
                kernel was closed while it started.
        """
        key = secrets.token_hex(16)
        link = await listen(Protocol.TCPIP, "0@127.0.0.1", key=key)
        argv = [*self.command, "-wstp", *link_arguments(Protocol.TCPIP, link.name)]
        deadline = time.monotonic() + timeout
        try:
            await self._spawn(argv, {**os.environ, KEY_ENV: key})
            try:
                await self._connect(link, argv, timeout)
            except BaseException:
                link.close()
                raise
            self._link = link  # our own kernel: requests are bounded by the queue
            self._check_open()
            self.event(KernelEvent.LAUNCHED)
            await self._set_up(key, deadline)
        except BaseException:
            await self._kill()
            raise

    def _check_open(self) -> None:
        if self._closing:
            raise ServerError("the kernel was closed while it started")

    async def _spawn(self, argv: list[str], env: dict[str, str]) -> None:
        self._check_open()
        # Shielded: a cancellation that lands while the child is being forked must still see
        # the process object, or nobody could stop that child.
        spawn = asyncio.ensure_future(asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True))
        try:
            self.process = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            with contextlib.suppress(OSError):
                self.process = await spawn
            raise
        except OSError as exc:
            raise ServerError(f"cannot start the kernel {argv[0]!r}: {exc}") from None
        assert self.process.stderr is not None
        self._side_tasks.append(asyncio.create_task(self._log_stderr(self.process.stderr)))
        self._check_open()

    async def _connect(self, link: AsyncLink, argv: list[str], timeout: float) -> None:
        """Wait for the process's handshake on its private listener (or for its exit)."""
        assert self.process is not None
        connected = asyncio.create_task(_activate(link))
        exited = asyncio.create_task(self.process.wait())
        try:
            waiting: set[asyncio.Future[Any]] = {connected, exited}
            done, _ = await asyncio.wait(waiting, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
            if not connected.done():
                connected.cancel()
        self._check_open()
        if connected not in done:
            why = (f"exited with status {self.process.returncode}" if exited in done
                   else f"did not connect within {timeout:.0f} s")
            raise ServerError(f"kernel {' '.join(argv[:3])} {why}")
        try:
            connected.result()
        except LinkError as exc:
            raise ServerError(f"kernel link failed: {exc}") from None

    async def _set_up(self, key: str, deadline: float) -> None:
        """Initialization, the parallel links and the routers, then supervision."""
        assert self._link is not None
        try:
            await asyncio.wait_for(self._initialize(), max(1.0, deadline - time.monotonic()))
        except (TimeoutError, LinkError) as exc:
            raise ServerError(
                f"kernel initialization failed: {str(exc) or 'timed out'}") from None
        try:
            parallel = await asyncio.wait_for(open_parallel(self._link, key.encode()),
                                              max(1.0, deadline - time.monotonic()))
        except (TimeoutError, LinkError) as exc:
            raise ServerError(
                f"kernel parallel links failed: {str(exc) or 'timed out'}") from None
        self._check_open()
        self.main = Router(self._link, f"kernel {self.id[:8]} main")
        self.main.prompt = self._prompt
        if parallel is not None:
            self.service, self.preemptive = self._side_routers(*parallel)
            for router in (self.service, self.preemptive):
                self._side_tasks.append(asyncio.create_task(router.run()))
        self.event(KernelEvent.INITIALIZED)
        self._watcher = asyncio.create_task(self._watch(), name=f"kernel-{self.id}")

    async def _log_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            logger.debug("kernel %s: %s", self.id[:8], line.decode(errors="replace").rstrip())

    def _side_routers(self, service: AsyncLink, preemptive: AsyncLink) -> tuple[Router, Router]:
        """Routers for the service and preemptive links: service requests go to the service
        connection of the session whose main-link request runs."""

        def service_target() -> Attachment | None:
            owner = self.main.owner if self.main is not None else None
            session = getattr(owner, "session", None)
            if session is None or self.service is None:
                return None
            return next((c for c in self.service.clients
                         if getattr(c, "session", None) == session), None)

        label = f"kernel {self.id[:8]}"
        return (Router(service, f"{label} service", passthrough=True, prefer=service_target),
                Router(preemptive, f"{label} preemptive"))

    async def _until(self, terminal: type[Packet]) -> Packet:
        assert self._link is not None
        while True:
            event = await self._link.receive()
            if not isinstance(event, Expression):
                continue
            packet = as_packet(event.expr)
            if isinstance(packet, terminal):
                return packet
            if isinstance(packet, MessagePacket | TextPacket):
                logger.error("kernel %s initialization: %s", self.id[:8], event.expr)

    async def _initialize(self) -> None:
        assert self._link is not None
        first = await self._until(InputNamePacket)
        assert isinstance(first, InputNamePacket)
        self._prompt = first.text
        steps: list[object] = []
        if self._init_code:
            steps.append(Expr(Symbol("ToExpression"), self._init_code))
        if self._init_file is not None:
            steps.append(Expr(Symbol("Get"), str(self._init_file)))
        for step in steps:
            await self._link.put_packet(EvaluatePacket(step))
            result = await self._until(ReturnPacket)
            logger.debug("kernel %s initialization %s -> %s", self.id[:8], step, result)

    async def _kill(self) -> None:
        """End the process at once (SIGTERM then SIGKILL of its group, no grace) and reap it."""
        if self.process is not None:
            await stop_async(self.process, grace=0.0)

    async def close(self, grace: float = DEFAULT_GRACE) -> None:
        """Staged shutdown: close the links (the kernel quits), wait, SIGTERM, wait, SIGKILL.

        Works in every state: a kernel still starting is stopped by its own :meth:`launch`,
        which sees the close at its next step (or is stopped here if it already has a process).
        """
        if self._closing:
            return
        self._closing = True
        if self.alive:
            self.event(KernelEvent.CLOSING)

        def close_links() -> None:
            for router in self.routers:
                router.fail_running("the kernel was closed")
                router.fail_queued("the kernel was closed")
                router.link.close()
            if self._link is not None:
                self._link.close()

        if self.process is not None:
            await stop_async(self.process, close=close_links, grace=grace)
        else:
            close_links()
        if self._watcher is not None:
            self._watcher.cancel()
        if self.state is KernelState.CLOSING:
            self.event(KernelEvent.EXITED)

    async def _watch(self) -> None:
        assert self.main is not None
        try:
            reason = await self.main.run()
        except Exception as exc:  # one kernel's routing bug must not take the server down
            logger.exception("kernel %s: routing failed", self.id[:8])
            reason = f"routing failed: {exc}"
        if self._closing:
            return
        proc = self.process
        if proc is not None:
            # Its link ended, so it is on its way out: the stages after the link's close.
            await stop_async(proc, grace=2.0)
            code = proc.returncode
            if code is not None and code < 0:
                reason = f"killed by signal {-code}"
            elif code is not None:
                reason = f"exited with status {code}"
        self.died_reason = reason
        logger.error("kernel %s (pool %s, pid %s) died: %s", self.id, self.pool, self.pid, reason)
        for router in self.routers:
            router.link.close()
        if self.alive:
            self.event(KernelEvent.DIED)
        if self._on_exit is not None:
            self._on_exit(self)

    # -- clients -----------------------------------------------------------------------------

    def attach(self, client: Attachment, *, input_name: bool, by_id: bool = True) -> list[object]:
        """Bridge ``client`` to the main link (``by_id``: reconnecting, so it gets the buffer).

        Returns:
            The packets to send the client after the reply to its command: its
            ``InputNamePacket[prompt]`` when ``input_name``, then everything buffered while no
            client was attached, in order.
        """
        assert self.main is not None
        self.event(KernelEvent.ATTACHED)
        if not self.main.clients:
            self.reserved = False
        out: list[object] = []
        if input_name:
            out.append(InputNamePacket(self.main.prompt).to_expr())
        out.extend(self.main.attach(client, take_buffer=by_id))
        return out

    def detach(self, client: Attachment) -> None:
        """Unbridge ``client`` (from every link); a running request of its own is orphaned."""
        for router in self.routers:
            router.detach(client)
        if not self.clients and self.state is KernelState.ATTACHED:
            self.event(KernelEvent.RELEASED)


async def _activate(link: AsyncLink) -> None:
    """Wait for the launched kernel's handshake; a client with a wrong key is refused and the
    private listener keeps waiting for the kernel."""
    while True:
        try:
            await link.activate()
            return
        except AuthenticationError as exc:
            logger.debug("refused a connection to a kernel's private port: %s", exc)
