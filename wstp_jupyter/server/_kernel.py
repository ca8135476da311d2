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
replace it. Closing is staged: close the link (the kernel quits), wait, SIGTERM, wait, SIGKILL of
the kernel's process group.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wstp_jupyter.link import KEY_ENV, Expression, Protocol, Role, link_arguments
from wstp_jupyter.server._commands import head_name
from wstp_jupyter.server._errors import ServerError
from wstp_jupyter.server._logging import logger
from wstp_jupyter.server._model import KernelEvent, KernelState, next_state
from wstp_jupyter.server._parallel import make_routers, open_parallel
from wstp_jupyter.server._router import Attachment, Router
from wstp_jupyter.server._wire import Channel, ChannelClosed
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
        self.requests_served = 0
        self.process: asyncio.subprocess.Process | None = None
        self.died_reason = ""
        self._init_code = initialization_code
        self._init_file = initialization_file
        self._on_exit = on_exit
        self._chan: Channel | None = None
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

        Raises:
            ServerError: the process could not start, exited, or did not connect in time (the
                process is killed).
        """
        key = secrets.token_hex(16)
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.get_running_loop().create_future())

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if connected.done():
                writer.close()  # only the launched process may take this slot
            else:
                connected.set_result((reader, writer))

        listener = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        argv = [*self.command, "-wstp", *link_arguments(Protocol.TCPIP, f"{port}@127.0.0.1")]
        env = {**os.environ, KEY_ENV: key}
        deadline = time.monotonic() + timeout
        try:
            try:
                self.process = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True)
            except OSError as exc:
                raise ServerError(f"cannot start the kernel {argv[0]!r}: {exc}") from None
            assert self.process.stderr is not None
            stderr_task = asyncio.create_task(self._log_stderr(self.process.stderr))
            self._side_tasks.append(stderr_task)
            exited = asyncio.create_task(self.process.wait())
            waiting: set[asyncio.Future[Any]] = {connected, exited}
            done, _ = await asyncio.wait(waiting, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if connected not in done:
                exited.cancel()
                why = (f"exited with status {self.process.returncode}" if exited in done
                       else f"did not connect within {timeout:.0f} s")
                await self._kill()
                stderr_task.cancel()
                raise ServerError(f"kernel {' '.join(argv[:3])} {why}")
            exited.cancel()
            reader, writer = connected.result()
            self._chan = await Channel.handshake(Role.LISTENER, reader, writer, key=key.encode())
            self._chan.max_unsent = None  # our own kernel: requests are bounded by the queue
        except ChannelClosed as exc:
            await self._kill()
            raise ServerError(f"kernel link failed: {exc}") from None
        finally:
            listener.close()
        self.event(KernelEvent.LAUNCHED)
        try:
            await asyncio.wait_for(self._initialize(), max(1.0, deadline - time.monotonic()))
        except (TimeoutError, ChannelClosed) as exc:
            await self._kill()
            raise ServerError(f"kernel initialization failed: {exc or 'timed out'}") from None
        try:
            parallel = await asyncio.wait_for(open_parallel(self._chan, key.encode()),
                                              max(1.0, deadline - time.monotonic()))
        except (TimeoutError, ChannelClosed) as exc:
            await self._kill()
            raise ServerError(f"kernel parallel links failed: {exc or 'timed out'}") from None
        self.main = Router(self._chan, f"kernel {self.id[:8]} main")
        self.main.prompt = self._prompt
        if parallel is not None:
            self.service, self.preemptive = make_routers(self, *parallel)
            for router in (self.service, self.preemptive):
                self._side_tasks.append(asyncio.create_task(router.run()))
        self.event(KernelEvent.INITIALIZED)
        self._watcher = asyncio.create_task(self._watch(), name=f"kernel-{self.id}")

    async def _log_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            logger.debug("kernel %s: %s", self.id[:8], line.decode(errors="replace").rstrip())

    async def _until(self, terminal: str) -> object:
        assert self._chan is not None
        while True:
            ev = await self._chan.recv()
            if not isinstance(ev, Expression):
                continue
            name = head_name(ev.expr)
            if name == terminal:
                return ev.expr
            if name in {"MessagePacket", "TextPacket"}:
                logger.error("kernel %s initialization: %s", self.id[:8], ev.expr)

    async def _initialize(self) -> None:
        assert self._chan is not None
        first = await self._until("InputNamePacket")
        if isinstance(first, Expr) and first.args and isinstance(first.args[0], str):
            self._prompt = first.args[0]
        steps: list[object] = []
        if self._init_code:
            steps.append(Expr(Symbol("ToExpression"), self._init_code))
        if self._init_file is not None:
            steps.append(Expr(Symbol("Get"), str(self._init_file)))
        for step in steps:
            self._chan.send(Expr(Symbol("EvaluatePacket"), step))
            result = await self._until("ReturnPacket")
            logger.debug("kernel %s initialization %s -> %s", self.id[:8], step, result)

    async def _kill(self) -> None:
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        await proc.wait()

    async def close(self, grace: float = 3.0) -> None:
        """Staged shutdown: close the link (the kernel quits), wait, SIGTERM, wait, SIGKILL."""
        if self._closing:
            return
        self._closing = True
        if self.alive:
            self.event(KernelEvent.CLOSING)
        for router in self.routers:
            router.fail_running("the kernel was closed")
            router.fail_queued("the kernel was closed")
            router.chan.close()
        if self._chan is not None:
            self._chan.close()
        proc = self.process
        if proc is not None and proc.returncode is None:
            for sig in (None, signal.SIGTERM):
                try:
                    await asyncio.wait_for(proc.wait(), grace)
                    break
                except TimeoutError:
                    if sig is not None:
                        proc.send_signal(sig)
            await self._kill()
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
            try:
                await asyncio.wait_for(proc.wait(), 2.0)
            except TimeoutError:
                await self._kill()
            code = proc.returncode
            if code is not None and code < 0:
                reason = f"killed by signal {-code}"
            elif code is not None:
                reason = f"exited with status {code}"
        self.died_reason = reason
        logger.error("kernel %s (pool %s, pid %s) died: %s", self.id, self.pool, self.pid, reason)
        for router in self.routers:
            router.chan.close()
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
            out.append(Expr(Symbol("InputNamePacket"), self.main.prompt))
        out.extend(self.main.attach(client, take_buffer=by_id))
        return out

    def detach(self, client: Attachment) -> None:
        """Unbridge ``client`` (from every link); a running request of its own is orphaned."""
        for router in self.routers:
            router.detach(client)
        if not self.clients and self.state is KernelState.ATTACHED:
            self.event(KernelEvent.RELEASED)
