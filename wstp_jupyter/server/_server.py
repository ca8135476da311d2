"""The server: one listener, the pools, and the sessions that bridge clients to kernels.

:meth:`WSTPServer.start` logs which kernel command each pool uses, binds the client listener (an
``AsyncLinkServer``), logs where it listens, warms every pool to its MinimumKernelNumber,
advertises with DNS-SD when asked, and finally logs ``Server ready``. Each accepted link runs in
its own task (:class:`~._connection.ClientConnection`); handshakes run in the link server, each
bounded by :data:`HANDSHAKE_TIMEOUT`, so a client that never finishes its handshake holds nothing
but its own socket, and every rejected connection is logged with its reason. Who is bridged to
which kernel is kept by :class:`~._sessions.Sessions`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any

from wstp_jupyter.link import LinkError
from wstp_jupyter.link.aio import AsyncLink, AsyncLinkServer, start_server
from wstp_jupyter.server._connection import MAX_UNSENT_BYTES, ClientConnection
from wstp_jupyter.server._errors import ServerError
from wstp_jupyter.server._logging import INFORMATION, logger
from wstp_jupyter.server._model import KernelState
from wstp_jupyter.server._sessions import Sessions
from wstp_jupyter.server._settings import ServerSettings
from wstp_jupyter.server.discovery import Advertiser

#: Seconds a client has to complete its handshake.
HANDSHAKE_TIMEOUT = 10.0


class WSTPServer:
    """A running wstpserver (asyncio)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.config = settings.config
        self.port = settings.port
        self.interface = settings.interface
        self.sessions = Sessions(settings, self._spawn)
        self.pools = self.sessions.pools
        self._listener: AsyncLinkServer | None = None
        self._advertiser: Advertiser | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count(1)

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
            self._listener = await start_server(
                self.port, self.interface, key=self.settings.key, callback=self._serve,
                handshake_timeout=HANDSHAKE_TIMEOUT, on_reject=self._rejected,
                max_unsent=MAX_UNSENT_BYTES)
        except LinkError as exc:
            raise ServerError(
                f"cannot listen on port {self.port} and interface {self.interface}: {exc}"
            ) from None
        self.port = self.sessions.port = self._listener.port
        logger.log(INFORMATION, "Listening for new connections on port %d and interface %s",
                   self.port, self.interface)
        await asyncio.gather(*(pool.wait_warm() for pool in self.pools.values()))
        for pool in self.pools.values():
            logger.log(INFORMATION, 'Pool "%s": %d kernels ready%s', pool.name,
                       len([k for k in pool.kernels if k.state is KernelState.IDLE]),
                       f" (last error: {pool.last_error})" if pool.last_error else "")
        if self.settings.advertise is not None:
            self._advertiser = Advertiser(
                service=self.settings.advertise or None, port=self.port,
                interface=self.interface, pools=list(self.pools),
                auth=self.settings.key is not None)
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
        for conn in list(self.sessions.connections):
            conn.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        # Awaited too: a cancelled kernel close still runs its stages to the end.
        await asyncio.gather(*tasks, *(pool.close() for pool in self.pools.values()),
                             *(k.close() for k in self.sessions.kernels.values()
                               if k.pool is None),
                             return_exceptions=True)
        logger.log(INFORMATION, "Server stopped")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _rejected(self, peer: str, error: LinkError) -> None:
        logger.warning("Rejected a connection from %s: %s", peer, error)

    async def _serve(self, link: AsyncLink) -> None:
        conn = ClientConnection(self.sessions, link, f"client {next(self._numbers)} {link.name}")
        self.sessions.connect(conn)
        logger.debug("%s connected (connection id %s)", conn.name, link.connection_id)
        try:
            await conn.run()
        except Exception:
            logger.exception("%s: connection failed", conn.name)
            self.sessions.disconnect(conn)
