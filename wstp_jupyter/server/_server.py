"""The server: one listener, the pools, every kernel by ID, and the bridges between them.

:meth:`WSTPServer.start` logs which kernel command each pool uses, binds the client listener,
logs where it listens, warms every pool to its MinimumKernelNumber, advertises with DNS-SD when
asked, and finally logs ``Server ready``. Each accepted link runs in its own task
(:class:`~._connection.ClientConnection`); the accept callback itself only does the handshake
in that task, so a client that never finishes its handshake holds nothing but its own socket.

Bridging rules (documented in docs/server.md): a kernel handed out by a pool or connected by ID
is *attached*; when its last client leaves it is kept (``DETACHED``) if keep-alive holds for it
-- reserved for reconnection by ID when the client or the pool's
``ReservePreviouslyConnectedKernels`` asked -- and closed otherwise. A dead kernel's clients
get a ``Failure`` for the request that was running; with silent replacement their next
requests go to a fresh kernel of the same pool, without it the next request is answered with a
``Failure`` naming the death, and the one after that attaches a fresh kernel.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any

from wstp_jupyter import __version__
from wstp_jupyter.link import Role
from wstp_jupyter.server._commands import Command
from wstp_jupyter.server._config import PoolConfig
from wstp_jupyter.server._connection import MAIN, ClientConnection
from wstp_jupyter.server._errors import ServerCommandError, ServerError
from wstp_jupyter.server._kernel import ManagedKernel
from wstp_jupyter.server._logging import INFORMATION, logger
from wstp_jupyter.server._model import KernelState
from wstp_jupyter.server._pool import Pool
from wstp_jupyter.server._router import failure_packets
from wstp_jupyter.server._wire import Channel, ChannelClosed
from wstp_jupyter.server.cli import ServerOptions
from wstp_jupyter.server.discovery import Advertiser


class WSTPServer:
    """A running wstpserver (asyncio)."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.config = options.config
        self.port = options.port
        self.interface = options.interface
        self.pools: dict[str, Pool] = {}
        self.kernels: dict[str, ManagedKernel] = {}
        self.connections: set[ClientConnection] = set()
        self._listener: asyncio.Server | None = None
        self._advertiser: Advertiser | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)
        for pool_config in self.config.pools:
            self.pools[pool_config.name] = Pool(
                pool_config, allow_silent_replacement=self.config.allow_silent_kernel_replacement,
                on_exit=self._kernel_exited, on_new=self._kernel_new)

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind, warm the pools, advertise; returns once the server is ready.

        Raises:
            ServerError: the address cannot be bound, or advertising failed.
        """
        for pc in self.config.pools:
            logger.log(INFORMATION, 'Using "%s" as the kernel command of pool "%s"%s',
                       " ".join(pc.kernel_command), pc.name,
                       " (the default pool)" if pc is self.config.default_pool else "")
        try:
            self._listener = await asyncio.start_server(
                self._accept, self.interface, self.port, reuse_address=True)
        except OSError as exc:
            raise ServerError(
                f"cannot listen on port {self.port} and interface {self.interface}: {exc}"
            ) from None
        self.port = self._listener.sockets[0].getsockname()[1]
        logger.log(INFORMATION, "Listening for new connections on port %d and interface %s",
                   self.port, self.interface)
        await asyncio.gather(*(pool.wait_warm() for pool in self.pools.values()))
        for pool in self.pools.values():
            logger.log(INFORMATION, 'Pool "%s": %d kernels ready%s', pool.name,
                       len([k for k in pool.kernels if k.state is KernelState.IDLE]),
                       f" (last error: {pool.last_error})" if pool.last_error else "")
        if self.options.advertise is not None:
            self._advertiser = Advertiser(
                service=self.options.advertise or None, port=self.port,
                interface=self.interface, pools=list(self.pools), auth=self.options.key is not None)
            name = await self._advertiser.start()
            logger.log(INFORMATION, "Advertising the server with DNS-SD as %s", name)
        logger.log(INFORMATION, "Server ready on %d@%s", self.port, self.interface)

    async def close(self) -> None:
        """Stop listening, withdraw the advertisement, close every link and kernel."""
        logger.log(INFORMATION, "Shutting down")
        if self._advertiser is not None:
            await self._advertiser.close()
        if self._listener is not None:
            self._listener.close()
        for conn in list(self.connections):
            conn.closed = True
            conn.chan.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(pool.close() for pool in self.pools.values()),
                             *(k.close() for k in self.kernels.values() if k.pool is None),
                             return_exceptions=True)
        logger.log(INFORMATION, "Server stopped")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            chan = await Channel.handshake(Role.LISTENER, reader, writer, key=self.options.key)
        except ChannelClosed as exc:
            logger.debug("rejected a connection from %s: %s", peer, exc)
            return
        conn = ClientConnection(self, chan, f"client {next(self._numbers)} {peer}")
        self.connections.add(conn)
        logger.debug("%s connected (connection id %s)", conn.name, chan.connection_id)
        try:
            await conn.run()
        except Exception:
            logger.exception("%s: connection failed", conn.name)
            self.disconnect(conn)

    # -- kernels -----------------------------------------------------------------------------

    def _kernel_new(self, kernel: ManagedKernel) -> None:
        self.kernels[kernel.id] = kernel

    def _kernel_exited(self, kernel: ManagedKernel) -> None:
        self.kernels.pop(kernel.id, None)
        if kernel.state is not KernelState.DEAD:
            return
        message = f"the kernel {kernel.id} died ({kernel.died_reason})"
        silent = kernel.allow_silent_replacement
        for router in kernel.routers:
            router.fail_running(message)
        for conn in [c for c in self.connections if c.kernel is kernel]:
            queued = kernel.main.take_queued(conn) if kernel.main is not None else []
            conn.kernel = None
            conn.forget_requests()
            if conn.role == MAIN and silent:
                conn.replacement_pool = kernel.pool or self.config.default_pool.name
                if queued:  # resubmitted, in order, to the replacement kernel
                    self._spawn(self._resubmit(conn, queued), f"resubmit-{conn.name}")
            elif conn.role == MAIN:
                conn.kernel_lost = message
                for packet in queued:
                    conn.send_all(list(failure_packets(packet, message, kernel.prompt)))
        for router in kernel.routers:  # requests of links without a main-link client
            router.fail_queued(message)

    async def _resubmit(self, conn: ClientConnection, packets: list[object]) -> None:
        for packet in packets:
            if conn.closed:
                return
            await conn.on_packet(packet)

    def pool_for(self, name: str | None) -> Pool:
        """The named pool, or the default one for ``None``.

        Raises:
            ServerCommandError: no pool of that name.
        """
        if name is None:
            return self.pools[self.config.default_pool.name]
        if name not in self.pools:
            raise ServerCommandError(
                f"no pool named {name!r} (pools: {', '.join(self.pools)})")
        return self.pools[name]

    def bridge(self, conn: ClientConnection, kernel: ManagedKernel, *,
               input_name: bool | None = None, by_id: bool = True) -> list[object]:
        """Attach ``conn`` to ``kernel`` (main link); returns the packets to send after the reply.

        The client's earlier preferences (keep-alive, silent replacement, reserve) now apply.
        """
        if conn.kernel is not None and conn.kernel is not kernel:
            self.release(conn)
        conn.kernel = kernel
        conn.kernel_lost = None
        conn.replacement_pool = None
        if conn.keep_alive is not None:
            kernel.keep_alive = conn.keep_alive
        if conn.allow_silent_replacement is not None:
            kernel.allow_silent_replacement = conn.allow_silent_replacement
        if conn.reserve is not None:
            kernel.reserve_on_release = conn.reserve
        if input_name is None:
            input_name = self.config.send_input_name_packet_upon_kernel_connection
        out = kernel.attach(conn, input_name=input_name, by_id=by_id)
        if kernel.pool is not None:
            self.pools[kernel.pool].replenish()
        logger.debug("%s attached to kernel %s", conn.name, kernel.id)
        return out

    async def attach_pool(self, conn: ClientConnection, name: str | None, *,
                          input_name: bool | None = None) -> list[object]:
        """Attach ``conn`` to a kernel of the pool ``name`` (default pool for ``None``).

        Raises:
            ServerCommandError: unknown pool, or the pool cannot provide a kernel.
        """
        pool = self.pool_for(name)
        kernel = await pool.acquire()
        if conn.closed:
            return []
        return self.bridge(conn, kernel, input_name=input_name, by_id=False)

    def release(self, conn: ClientConnection, *, handover: bool = False) -> None:
        """Unbridge ``conn``; keep its kernel alive or close it, by the keep-alive rules.

        With ``handover`` (another client is taking the kernel over) the kernel is kept.
        """
        kernel, conn.kernel = conn.kernel, None
        conn.forget_requests()
        if kernel is None:
            return
        was_attached = conn in kernel.clients
        kernel.detach(conn)
        if (handover or conn.role != MAIN or not was_attached or kernel.clients
                or not kernel.alive):
            return
        pool_config: PoolConfig | None = (
            self.pools[kernel.pool].config if kernel.pool is not None else None)
        if kernel.keep_alive:
            if kernel.reserve_on_release is not None:
                kernel.reserved = kernel.reserve_on_release
            elif pool_config is not None and pool_config.reserve_previously_connected_kernels:
                kernel.reserved = True
            logger.debug("kernel %s kept alive (reserved: %s)", kernel.id, kernel.reserved)
            if kernel.pool is not None:
                self.pools[kernel.pool].notify()
        else:
            self.close_kernel(kernel)

    def close_kernel(self, kernel: ManagedKernel) -> None:
        """Close ``kernel`` in the background; its clients are detached."""
        for conn in [c for c in self.connections if c.kernel is kernel]:
            conn.kernel = None
            conn.forget_requests()
        self.kernels.pop(kernel.id, None)

        async def close() -> None:
            await kernel.close()
            if kernel.pool is not None:
                self.pools[kernel.pool].notify()

        self._spawn(close(), f"close-{kernel.id}")

    def disconnect(self, conn: ClientConnection) -> None:
        """A client link ended."""
        if conn in self.connections:
            self.connections.discard(conn)
            self.release(conn)
            logger.debug("%s disconnected", conn.name)

    # -- commands ----------------------------------------------------------------------------

    async def execute(self, conn: ClientConnection, cmd: Command) -> tuple[object, list[object]]:
        """Run one command; returns its result and the packets to send after the reply.

        Raises:
            ServerCommandError: the command failed (becomes a ``Failure``).
        """
        from wstp_jupyter.server._dispatch import execute

        return await execute(self, conn, cmd)

    def information(self) -> dict[str, object]:
        """The ``GetServerInformation[]`` association."""
        pools: dict[str, object] = {}
        for pool in self.pools.values():
            c = pool.config
            pools[pool.name] = {
                "Default": pool.config is self.config.default_pool,
                "KernelCommand": list(c.kernel_command),
                "Engine": engine_of(c.kernel_command),
                "MinimumKernelNumber": c.minimum_kernel_number,
                "MaximumKernelNumber": c.maximum_kernel_number,
                "KeepAlive": c.keep_alive,
                "Kernels": [k.id for k in pool.kernels],
                "LastError": pool.last_error,
            }
        kernels: dict[str, object] = {}
        for k in self.kernels.values():
            kernels[k.id] = {
                "Pool": k.pool,
                "Engine": engine_of(tuple(getattr(k, "command", ()))),
                "State": k.state.value,
                "PID": k.pid,
                "Clients": len(k.clients),
                "KeepAlive": k.keep_alive,
                "Reserved": k.reserved,
                "AllowSilentKernelReplacement": k.allow_silent_replacement,
                "Busy": bool(k.main and k.main.busy),
                "QueuedRequests": k.main.queued if k.main else 0,
                "BufferedPackets": k.main.buffered if k.main else 0,
                "Requests": k.main.requests_served if k.main else 0,
                "Prompt": k.prompt,
                "StartTime": k.started,
            }
        return {
            "Pools": pools,
            "Kernels": kernels,
            "Port": self.port,
            "Interface": self.interface,
            "Clients": len(self.connections),
            "Version": __version__,
            "ServerPID": os.getpid(),
            "ProtocolVersion": "1",
        }


def engine_of(command: tuple[str, ...]) -> str:
    """The engine a kernel command runs: ``"mathics3"``, ``"woxi"`` or ``"external"`` (a
    ``KernelPath`` that is not this project's kernel process)."""
    if "wstp_jupyter.engine" not in command:
        return "external"
    for flag in ("--engine", "-engine", "-backend"):
        if flag in command[:-1]:
            value = command[command.index(flag) + 1].lower()
            return "mathics3" if value in ("mathics", "mathics3") else value
    return "mathics3"
