"""``AsyncLinkServer``: many ``AsyncLink`` clients on one port, for asyncio programs.

The asyncio twin of ``LinkServer`` (``WSNewLinkServerWithPortAndInterface``): ``await
start_server(port, interface, key=...)`` binds, every accepted connection becomes an
``AsyncLink`` that completes its handshake (bounded by ``handshake_timeout``) before it is
offered, and clients are taken with ``await server.accept()``, ``async for link in server`` or a
callback. A client that fails its handshake is dropped and counted; it never disturbs the others.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from wstp_jupyter.link._aio import AsyncLink
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LinkClosed, LinkError, LinkTimeout
from wstp_jupyter.link._handshake import DEFAULT_HANDSHAKE_TIMEOUT
from wstp_jupyter.link._names import Protocol, format_tcpip_name
from wstp_jupyter.link._state import Role
from wstp_jupyter.link._transport import check_exposure

log = logging.getLogger("wstp_jupyter.link")

AsyncLinkCallback = Callable[[AsyncLink], Awaitable[Any] | Any]
#: ``on_reject(peer, error)``: a connection was dropped before it became a link, and why.
RejectCallback = Callable[[str, LinkError], Any]


class AsyncLinkServer:
    """A link server for asyncio (see ``LinkServer``). Create with ``await start_server(...)``.

    Accepted, authenticated links arrive through ``await accept()``, ``async for``, or the
    callback (a coroutine callback runs as its own task, so one slow client never blocks the
    others). Each connection's handshake must finish within ``handshake_timeout`` seconds.
    """

    def __init__(
        self,
        interface: str,
        *,
        key: bytes | str | None,
        callback: AsyncLinkCallback | None,
        handshake_timeout: float,
        on_reject: RejectCallback | None = None,
        options: dict[str, Any],
    ) -> None:
        self.interface = interface
        self.port = 0
        self.name = ""
        self._key = key
        self._callback = callback
        self._handshake_timeout = handshake_timeout
        self._on_reject = on_reject
        self._options = options
        self._queue: asyncio.Queue[AsyncLink | None] = asyncio.Queue()
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.rejected = 0

    def _factory(self) -> AsyncLink:
        link = AsyncLink(Role.LISTENER, Protocol.TCPIP, self.name, key=self._key, **self._options)
        task = asyncio.ensure_future(self._admit(link))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return link

    async def _admit(self, link: AsyncLink) -> None:
        try:
            await link.wait_connected(self._handshake_timeout)
        except LinkError as exc:
            _name_after_peer(link)
            self.rejected += 1
            log.info("link server %s: rejected %s: %s", self.name, link.name, exc)
            if self._on_reject is not None:
                self._on_reject(link.name, exc)
            if link._connected.done():
                link._connected.exception()  # retrieved: it is reported here
            link.close(f"rejected: {exc}")
            if link._transport is not None:
                link._transport.abort()
            return
        _name_after_peer(link)
        if self._closed:
            link.close()
            return
        if self._callback is None:
            self._queue.put_nowait(link)
            return
        try:
            result = self._callback(link)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("link server %s: callback failed", self.name)

    async def accept(self, timeout: float | None = None) -> AsyncLink:
        """The next authenticated link.

        Raises:
            LinkTimeout: none in time; LinkClosed: the server is closed.
        """
        try:
            link = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise LinkTimeout("no client connected in time") from None
        if link is None:
            self._queue.put_nowait(None)
            raise LinkClosed("the link server is closed")
        return link

    def __aiter__(self) -> AsyncIterator[AsyncLink]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[AsyncLink]:
        while True:
            try:
                yield await self.accept()
            except LinkClosed:
                return

    def close(self) -> None:
        """Stop accepting; links already handed out stay open."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
        while not self._queue.empty():
            link = self._queue.get_nowait()
            if link is not None:
                link.close()
        self._queue.put_nowait(None)

    async def wait_closed(self) -> None:
        """Wait until the listening socket is closed."""
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> AsyncLinkServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


def _name_after_peer(link: AsyncLink) -> None:
    transport = link._transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    if peer:
        link.name = format_tcpip_name(peer[0], peer[1])


async def start_server(
    port: int = 0,
    interface: str = "127.0.0.1",
    *,
    key: bytes | str | None = None,
    callback: AsyncLinkCallback | None = None,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    on_reject: RejectCallback | None = None,
    **link_options: Any,
) -> AsyncLinkServer:
    """Start an ``AsyncLinkServer`` on ``interface:port`` (0 = any free port).

    ``on_reject(peer, error)`` is told of every connection dropped before it became a link
    (garbage, a wrong key, a handshake past ``handshake_timeout``); ``link_options`` go to each
    ``AsyncLink`` (``max_frame_size``, ``limits``, ``max_unsent``).

    Raises:
        AuthenticationError: a non-loopback interface without a key.
        LinkError: the port cannot be bound.
    """
    check_exposure(interface, key)
    server = AsyncLinkServer(
        interface,
        key=key,
        callback=callback,
        handshake_timeout=handshake_timeout,
        on_reject=on_reject,
        options=link_options,
    )
    loop = asyncio.get_running_loop()
    try:
        server._server = await loop.create_server(
            server._factory, interface, port, reuse_address=True
        )
    except OSError as exc:
        raise LinkError(
            f"cannot listen on {port}@{interface}: {exc}", ErrorCode.WSENAMETAKEN
        ) from exc
    server.port = server._server.sockets[0].getsockname()[1]
    server.name = format_tcpip_name(interface, server.port)
    return server
