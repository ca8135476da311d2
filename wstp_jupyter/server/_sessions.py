"""The bridges between client links and kernels, with one owner: :class:`Sessions`.

Which kernel a client link is bridged to, in which role (main, preemptive, service), with which
preferences, and what happens to both sides when either goes away -- every such change is made
here and nowhere else; the command handlers (``_dispatch``) and the connections (``_connection``)
ask for it. The rules (documented in docs/server.md): a kernel handed out by a pool or connected by
ID is *attached*; when its last main-link client leaves it is kept (``DETACHED``) if keep-alive
holds for it -- reserved for reconnection by ID when the client or the pool's
``ReservePreviouslyConnectedKernels`` asked -- and closed otherwise. A dead kernel's clients get a
``Failure`` for the request that was running; with silent replacement their next requests go to
a fresh kernel of the same pool, without it the next request is answered with a ``Failure``
naming the death, and the one after that attaches a fresh kernel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from wstp_jupyter import __version__
from wstp_jupyter.server._errors import ServerCommandError
from wstp_jupyter.server._kernel import ManagedKernel
from wstp_jupyter.server._logging import logger
from wstp_jupyter.server._model import KernelState
from wstp_jupyter.server._pool import Pool
from wstp_jupyter.server._router import Attachment, Router, failure_packets
from wstp_jupyter.server._settings import ServerSettings
from wstp_jupyter.server._subkernels import pool_information

MAIN, PREEMPTIVE, SERVICE = "Main", "Preemptive", "Service"
#: Preferences a client may set before (or while) a kernel is bridged, and the kernel's
#: attribute each one sets.
PREFERENCES = {"keep_alive": "keep_alive", "allow_silent_replacement": "allow_silent_replacement",
               "reserve": "reserve_on_release"}


class Client(Attachment, Protocol):
    """What the sessions keep per client link (``_connection.ClientConnection``).

    Only :class:`Sessions` writes these attributes; the connection reads them.
    """

    role: str
    session: str | None
    kernel: ManagedKernel | None
    kernel_lost: str | None
    replacement_pool: str | None
    preferences: dict[str, bool]
    closed: bool

    def forget_requests(self) -> None: ...
    def close(self) -> None: ...
    def send_all(self, packets: list[object]) -> None: ...
    async def on_packet(self, packet: object) -> None: ...


class Sessions:
    """Every client link, every kernel by ID, and the bridges between them."""

    def __init__(self, settings: ServerSettings,
                 spawn: Callable[[Coroutine[Any, Any, None], str], None]) -> None:
        self.settings = settings
        self.config = settings.config
        self.port = settings.port
        self.interface = settings.interface
        self.connections: set[Client] = set()
        self.kernels: dict[str, ManagedKernel] = {}
        self.pools: dict[str, Pool] = {}
        self._spawn = spawn
        for pool_config in self.config.pools:
            self.pools[pool_config.name] = Pool(
                pool_config, allow_silent_replacement=self.config.allow_silent_kernel_replacement,
                on_exit=self.kernel_exited, on_new=self.kernel_new)

    # -- kernels -----------------------------------------------------------------------------

    def kernel_new(self, kernel: ManagedKernel) -> None:
        """A kernel was created (by a pool or ``StartKernel``): known by its ID from now on."""
        self.kernels[kernel.id] = kernel

    def kernel_exited(self, kernel: ManagedKernel) -> None:
        """A kernel is gone; if it died, tell its clients (see the module docstring)."""
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
                    conn.send_all(failure_packets(packet, message, kernel.prompt))
        for router in kernel.routers:  # requests of links without a main-link client
            router.fail_queued(message)

    async def _resubmit(self, conn: Client, packets: list[object]) -> None:
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

    # -- bridging ----------------------------------------------------------------------------

    def bridge(self, conn: Client, kernel: ManagedKernel, *,
               input_name: bool | None = None, by_id: bool = True) -> list[object]:
        """Attach ``conn`` to ``kernel`` (main link); returns the packets to send after the reply.

        The client's earlier preferences (keep-alive, silent replacement, reserve) now apply.
        """
        if conn.kernel is not None and conn.kernel is not kernel:
            self.release(conn)
        conn.kernel = kernel
        conn.kernel_lost = None
        conn.replacement_pool = None
        for name, value in conn.preferences.items():
            setattr(kernel, PREFERENCES[name], value)
        if input_name is None:
            input_name = self.config.send_input_name_packet_upon_kernel_connection
        out = kernel.attach(conn, input_name=input_name, by_id=by_id)
        if kernel.pool is not None:
            self.pools[kernel.pool].replenish()
        logger.debug("%s attached to kernel %s", conn.name, kernel.id)
        return out

    async def attach_pool(self, conn: Client, name: str | None, *,
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

    def bridge_parallel(self, conn: Client, kernel: ManagedKernel, role: str,
                        session: str | None) -> list[object]:
        """Make the new link ``conn`` the ``role`` (preemptive or service) link of ``kernel``.

        Raises:
            ServerCommandError: the kernel offers no such link, or ``conn`` already plays a role.
        """
        router: Router | None = kernel.preemptive if role == PREEMPTIVE else kernel.service
        if router is None:
            raise ServerCommandError(
                f"WSTPServer`ConnectKernel: kernel {kernel.id} offers no {role.lower()} link")
        if conn.kernel is not None:
            raise ServerCommandError(
                "WSTPServer`ConnectKernel: a parallel link must be a new connection")
        conn.session = session
        conn.role = role
        conn.kernel = kernel
        logger.debug("%s bridged to the %s link of kernel %s", conn.name, role, kernel.id)
        return router.attach(conn)

    def take_over(self, kernel: ManagedKernel, conn: Client) -> None:
        """``AllowStealingKernels``: the other clients of ``kernel`` lose it to ``conn``."""
        for other in [c for c in self.connections if c.kernel is kernel and c is not conn]:
            self.release(other, handover=True)
            other.kernel_lost = f"the kernel {kernel.id} was taken over by another client"

    def set_session(self, conn: Client, session: str) -> None:
        """Name the front-end session ``conn`` belongs to (it pairs the service link)."""
        conn.session = session

    def set_preference(self, conn: Client, name: str, value: bool) -> None:
        """Set one of :data:`PREFERENCES` for ``conn`` and for the kernel bridged to it."""
        conn.preferences[name] = value
        if conn.kernel is not None:
            setattr(conn.kernel, PREFERENCES[name], value)

    def release(self, conn: Client, *, handover: bool = False) -> None:
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
        pool_config = self.pools[kernel.pool].config if kernel.pool is not None else None
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

    # -- client links ------------------------------------------------------------------------

    def connect(self, conn: Client) -> None:
        """A client link completed its handshake."""
        self.connections.add(conn)

    def disconnect(self, conn: Client) -> None:
        """A client link ended: release its kernel."""
        if conn in self.connections:
            self.connections.discard(conn)
            self.release(conn)
            logger.debug("%s disconnected", conn.name)

    # -- reporting ---------------------------------------------------------------------------

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
                "Kernels": [k.id for k in pool.kernels if k.id in self.kernels],
                "LastError": pool.last_error,
                **pool_information(self.config, c),
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
                "Subkernel": k.subkernel,
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
