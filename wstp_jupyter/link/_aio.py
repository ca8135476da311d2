"""The asyncio adapter: ``AsyncLink`` over the same sans-IO core (the server is ``_aio_server``).

Each link is an ``asyncio.BufferedProtocol``: the event loop receives straight into the core's
buffer (``get_buffer`` / ``buffer_updated``; a big payload lands in its final place), and the
``Inbox`` that ``Link`` uses too files every event at once - expressions into the queue that
``await get()`` waits on, urgent messages to the handler (called in the loop as soon as the bytes
arrive) or a queue. The vocabulary is the blocking ``Link``'s, with ``await`` in front of whatever
can wait.

Flow control. ``await put()`` writes at once and waits only while the transport asks to pause.
A relay that must never wait (the wstpserver routing one kernel's output to many clients) uses
``put_nowait`` / ``put_message_nowait`` and bounds what a peer may leave unread with
``max_unsent``: a write that finds more than that many bytes still queued for the peer closes the
link instead (the peer does not read), so a slow or hostile peer costs only its own link. The
check comes before the write, so one large result still goes to a peer that reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from wstp_jupyter import wxf
from wstp_jupyter.link._accepting import Acceptor
from wstp_jupyter.link._connection import (
    DEFAULT_MAX_FRAME_SIZE,
    Connection,
    check_message,
    encode,
)
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import (
    LinkClosed,
    LinkError,
    LinkTimeout,
    LocalProtocolError,
)
from wstp_jupyter.link._events import Close, Expression, UrgentMessage
from wstp_jupyter.link._handshake import DEFAULT_CONNECT_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT
from wstp_jupyter.link._inbox import Inbox, MessageHandler
from wstp_jupyter.link._names import Protocol
from wstp_jupyter.link._packets import Packet
from wstp_jupyter.link._state import Role
from wstp_jupyter.link._transport import (
    Listener,
    connect_socket,
    open_listener,
    tune,
)

log = logging.getLogger("wstp_jupyter.link")

AsyncMessageHandler = Callable[[UrgentMessage], Any]

#: Longest wait of one worker-thread accept step (see ``AsyncLink._accept_one``).
_ACCEPT_STEP = 1.0


class AsyncLink(asyncio.BufferedProtocol):
    """One end of a link, for asyncio. Build it with ``connect``, ``listen``, ``channel`` or
    ``AsyncLinkServer``; see ``Link`` for the meaning of each method.

    Attributes:
        max_unsent: bytes a peer may leave unread before ``put_nowait`` drops it (``None``: no
            bound; see the module docstring).
    """

    def __init__(
        self,
        role: Role,
        protocol: Protocol,
        name: str,
        *,
        key: bytes | str | None = None,
        connection_id: uuid.UUID | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        limits: wxf.Limits | None = None,
        max_unsent: int | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> None:
        self.protocol = protocol
        self.name = name
        self.connection_id: uuid.UUID | None = None
        self.max_unsent = max_unsent
        self._conn = Connection(
            role, key=key, connection_id=connection_id, max_frame_size=max_frame_size, limits=limits
        )
        self._transport: asyncio.Transport | None = None
        self._listener: Listener | None = None
        self._acceptor: Acceptor | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._handshake_timeout = handshake_timeout
        self._loop = asyncio.get_running_loop()
        self._connected: asyncio.Future[None] = self._loop.create_future()
        self._inbox = Inbox(self._call_handler)
        self._wakeup = asyncio.Event()
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- asyncio.BufferedProtocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._conn.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self._conn.buffer_updated(nbytes)
        self._file()

    def eof_received(self) -> bool:
        if self._transport is not None:
            self._conn.receive_data(b"")
            self._file()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return  # never attached
        if self._inbox.peer_close is None and self._inbox.fatal is None:
            self._conn.receive_data(b"")
            self._file()
        if not self._connected.done():
            self._connected.set_exception(self._inbox.dead() or LinkClosed("connection lost"))
        if not self._lost.done():
            self._lost.set_result(None)
        self._can_write.set()
        self._wakeup.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # -- core plumbing ----------------------------------------------------------------------

    def _flush(self) -> None:
        out = self._conn.data_to_send()
        if out and self._transport is not None and not self._transport.is_closing():
            self._transport.write(out)

    def _file(self) -> None:
        inbox = self._inbox
        try:
            woke = inbox.file(self._conn)
        except LinkError as exc:
            self._flush()  # the CLOSE that tells the peer why
            in_handshake = not self._connected.done()
            if in_handshake:
                self._connected.set_exception(exc)
            if self._transport is not None:
                self._transport.close()
            self._wakeup.set()
            # Not a warning of the library's own: the error reaches the link's owner (the
            # handshake's waiter, e.g. a server's on_reject, or the next read), who reports it
            # in its own words; a warning here would reach stderr unformatted besides.
            log.log(
                logging.DEBUG if in_handshake else logging.INFO,
                "link %s: %s; disconnected",
                self.name,
                exc,
            )
            return
        if not self._connected.done():
            if inbox.connected is not None:
                self.connection_id = inbox.connected.connection_id
                self._connected.set_result(None)
            elif inbox.peer_close is not None:
                self._connected.set_exception(
                    LinkClosed(
                        f"the peer closed the link during the handshake "
                        f"({inbox.peer_close.reason or 'no reason given'})",
                        ErrorCode.WSEDEAD,
                    )
                )
        self._flush()
        if woke:
            self._wakeup.set()

    def _call_handler(self, handler: MessageHandler, message: UrgentMessage) -> None:
        try:
            result = handler(message)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except Exception:
            log.exception("link %s: message handler failed on %s", self.name, message)

    # -- activation -------------------------------------------------------------------------

    async def activate(self, timeout: float | None = None) -> None:
        """Wait for the peer and the handshake (``LinkActivate``).

        Raises:
            LinkTimeout, AuthenticationError, LinkClosed: as ``Link.activate``.
        """
        if self._connected.done():
            self._connected.result()
            return
        try:
            if self._listener is not None and self._transport is None:
                await self._accept_one(timeout)
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except TimeoutError:
            raise LinkTimeout("the link did not become active in time") from None

    async def _accept_one(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` for the link's one accepting task to find the peer.

        The task outlives a cancelled or timed-out ``activate()``: a peer it finds is never
        lost, and concurrent activations share it.
        """
        task = self._accepting
        if task is None or task.done():
            task = self._accepting = asyncio.ensure_future(self._accept_peer())
            task.add_done_callback(_retrieve)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise LinkTimeout("no peer completed the handshake in time") from None

    async def _accept_peer(self) -> None:
        """Accept a peer: the handshakes of all pending connections run concurrently (see
        ``_accepting``) on a worker thread; the winner's socket becomes this link's transport."""
        listener = self._listener
        assert listener is not None
        if self._acceptor is None:
            self._acceptor = Acceptor(
                listener,
                self._new_connection,
                name=self.name,
                handshake_timeout=self._handshake_timeout,
            )
        acceptor = self._acceptor
        while True:
            # In steps of at most a second, so that a worker never outlives a closed link or
            # a stopped loop for long (pending handshakes carry over from step to step).
            step = time.monotonic() + _ACCEPT_STEP
            try:
                sock, conn = await self._loop.run_in_executor(None, acceptor.run, step)
                break
            except LinkTimeout:
                continue
        self._acceptor = None
        listener.close()
        self._listener = None
        if self._inbox.closed:
            sock.close()
            raise LinkClosed("the link is closed")
        self._conn = conn
        self.connection_id = conn.connection_id
        self._connected.set_result(None)
        await _attach(self, sock)
        self._file()  # frames that arrived together with the handshake

    def _new_connection(self) -> Connection:
        old = self._conn
        return Connection(
            old.role, key=old._key, max_frame_size=old.max_frame_size, limits=old._limits
        )

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait for the handshake of a link whose transport is already attached (a link a
        server accepted). Unlike ``activate`` it never accepts another connection.

        Raises:
            LinkTimeout: (the reason says so) not done in ``timeout`` seconds.
            AuthenticationError, LinkClosed, LinkError: the handshake failed.
        """
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except TimeoutError:
            raise LinkTimeout(f"no handshake within {timeout:g} s") from None

    # -- expressions ------------------------------------------------------------------------

    async def get(self, timeout: float | None = None) -> object:
        """The next expression.

        Raises:
            LinkTimeout, LinkClosed, RemoteProtocolError: as ``Link.get``.
        """
        await self._wait_for(self._has_expression, timeout)
        return self._inbox.take()

    def _has_expression(self) -> bool:
        return bool(self._inbox.expressions) or self._inbox.dead() is not None

    async def _wait_for(self, ready: Callable[[], bool], timeout: float | None) -> None:
        if ready():
            return
        await self.activate(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ready():
            self._wakeup.clear()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                raise LinkTimeout("no expression arrived in time") from None

    async def get_packet(self, timeout: float | None = None) -> Packet:
        """The next expression as a ``Packet``; a non-packet stays queued and raises
        ``RemoteProtocolError``."""
        await self._wait_for(self._has_expression, timeout)
        return self._inbox.take_packet()

    async def receive(self, timeout: float | None = None) -> Expression | UrgentMessage:
        """The next expression or urgent message, in wire order (for relays).

        A message comes after every expression the peer sent before it, where ``get_message``
        would let it overtake them. Messages reach ``receive`` only while no handler is set.

        Raises:
            LinkTimeout, LinkClosed, RemoteProtocolError: as ``get``.
        """
        inbox = self._inbox
        event: list[Expression | UrgentMessage | None] = [None]

        def ready() -> bool:
            event[0] = inbox.next_in_order()
            return event[0] is not None

        await self._wait_for(ready, timeout)
        assert event[0] is not None
        return event[0]

    @property
    def received(self) -> int:
        """How many expressions have arrived so far, read or not (see ``Link.received``)."""
        return self._inbox.received

    def ready(self) -> bool:
        """True if ``get()`` would not wait (an expression is queued, or the link is dead)."""
        return self._inbox.ready

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds until ``ready()``; returns ``ready()``."""
        try:
            await self._wait_for(self._has_expression, timeout)
        except LinkTimeout:
            return False
        except LinkError:
            return True
        return True

    async def put(self, expr: object) -> None:
        """Send one expression; waits only for transport flow control.

        Raises:
            LocalProtocolError: not encodable (nothing sent); LinkClosed: link closed.
        """
        chunks = encode(expr, self._conn.send_max_depth)
        await self.activate()
        self._writable().writelines(self._conn.wxf_parts(chunks))
        if not self._can_write.is_set():
            await self._can_write.wait()

    async def put_wxf(self, document: bytes) -> None:
        """Send an already-encoded WXF document as one expression (relaying without decoding)."""
        await self.activate()
        self._writable().writelines(self._conn.wxf_parts([document]))
        if not self._can_write.is_set():
            await self._can_write.wait()

    def put_nowait(self, expr: object) -> None:
        """Send one expression on an active link without ever waiting (see ``max_unsent``).

        Raises:
            LocalProtocolError: not encodable, or the link is not active yet (nothing sent).
            LinkClosed: the link is closed, or the peer left too much unread and was dropped.
        """
        chunks = encode(expr, self._conn.send_max_depth)
        self._check_active()
        self._writable().writelines(self._conn.wxf_parts(chunks))

    def _check_active(self) -> None:
        if not self._connected.done():
            raise LocalProtocolError("the link is not active yet", ErrorCode.WSEPSEQ)

    def _writable(self) -> asyncio.Transport:
        """The transport, if this link may write now.

        Raises:
            LinkClosed: the link has ended, or the peer left more than ``max_unsent`` bytes
                unread (the link is closed).
        """
        error = self._inbox.write_error()
        if error is not None:
            raise error
        transport = self._transport
        assert transport is not None
        if transport.is_closing():
            raise LinkClosed("the connection is gone", ErrorCode.WSEDEAD)
        limit = self.max_unsent
        if limit is not None and transport.get_write_buffer_size() > limit:
            reason = "the peer does not read its link (too much unsent output)"
            self.close(reason)
            raise LinkClosed(reason, ErrorCode.WSEDEAD)
        return transport

    async def put_packet(self, packet: Packet) -> None:
        """Send a ``Packet``."""
        if not isinstance(packet, Packet):
            raise LocalProtocolError(
                f"put_packet needs a Packet, not {type(packet).__name__}", ErrorCode.WSEBADPARAM
            )
        await self.put(packet.to_expr())

    # -- urgent messages --------------------------------------------------------------------

    async def put_message(self, code: int, arg: int = 0) -> None:
        """Send an urgent message (see ``Link.put_message``)."""
        message = UrgentMessage(code=int(code), arg=int(arg))
        check_message(message)
        await self.activate()
        self._writable().writelines(self._conn.send_parts(message))

    def put_message_nowait(self, code: int, arg: int = 0) -> None:
        """``put_message`` on an active link, without waiting (see ``put_nowait``)."""
        message = UrgentMessage(code=int(code), arg=int(arg))
        check_message(message)
        self._check_active()
        self._writable().writelines(self._conn.send_parts(message))

    def get_message(self) -> UrgentMessage | None:
        """The oldest unhandled urgent message, or ``None``; never waits."""
        return self._inbox.take_message()

    def set_message_handler(self, handler: AsyncMessageHandler | None) -> None:
        """Call ``handler(message)`` in the event loop as each message arrives; a coroutine
        result is run as a task. Messages already queued are handed over at once."""
        self._inbox.set_handler(handler)

    # -- life -------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """True once the handshake completed and until the link closes."""
        done = self._connected.done()
        return done and not self._connected.exception() and self._inbox.dead() is None

    @property
    def closed(self) -> bool:
        """True after ``close()`` or once the peer is gone and nothing is left to read."""
        return self._inbox.closed or self._inbox.exhausted

    def close(self, reason: str = "closed") -> None:
        """Close the link; the peer sees ``LinkClosed`` with ``reason``. Idempotent."""
        inbox = self._inbox
        if inbox.closed:
            return
        transport = self._transport
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(LinkError):
                if inbox.peer_close is None and inbox.fatal is None:
                    transport.write(self._conn.send(Close(code=0, reason=reason)))
            transport.close()
        inbox.closed = True
        if self._acceptor is not None:
            self._acceptor.shutdown()
        if self._listener is not None:
            self._listener.close()
        if not self._connected.done():
            self._connected.set_exception(LinkClosed("the link is closed"))
            self._connected.exception()  # mark retrieved
        self._wakeup.set()

    async def wait_closed(self) -> None:
        """Wait until the transport is gone."""
        if self._transport is not None:
            await self._lost

    async def aclose(self) -> None:
        """``close()`` and ``wait_closed()``."""
        self.close()
        await self.wait_closed()

    async def __aenter__(self) -> AsyncLink:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncLink {self.protocol.value} {self.name!r}>"


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a task's exception retrieved: whoever awaited it has seen it."""
    if not task.cancelled():
        task.exception()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _accept_socket(listener: Listener) -> socket.socket:
    loop = asyncio.get_running_loop()
    if listener.intra is not None:
        while True:
            sock = listener.intra.accept_nowait()
            if sock is not None:
                return sock
            ready: asyncio.Future[None] = loop.create_future()
            fd = listener.intra.fileno()
            loop.add_reader(fd, _resolve, ready)
            try:
                await ready
            finally:
                loop.remove_reader(fd)
    assert listener.sock is not None
    sock, _ = await loop.sock_accept(listener.sock)
    tune(sock)
    return sock


async def _attach(link: AsyncLink, sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    if sock.family == socket.AF_UNIX:
        await loop.create_unix_connection(lambda: link, sock=sock)
    else:
        await loop.create_connection(lambda: link, sock=sock)


async def connect(
    protocol: Protocol | str,
    name: str | int,
    *,
    key: bytes | str | None = None,
    connection_id: uuid.UUID | None = None,
    timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    **options: Any,
) -> AsyncLink:
    """Connect to a listening link (or a link server) and complete the handshake.

    Raises:
        LinkError: (``WSECONNECT``) nobody listens there; LinkTimeout; AuthenticationError.
    """
    proto = Protocol.parse(protocol)
    link = AsyncLink(
        Role.CONNECTOR,
        proto,
        str(name),
        key=key,
        connection_id=connection_id or uuid.uuid4(),
        **options,
    )
    loop = asyncio.get_running_loop()
    try:
        sock = await loop.run_in_executor(None, connect_socket, proto, name, timeout)
    except OSError as exc:
        raise LinkError(f"cannot connect to {name!r}: {exc}", ErrorCode.WSECONNECT) from exc
    await _attach(link, sock)
    try:
        await link.activate(timeout)
    except BaseException:
        link.close()
        raise
    return link


async def listen(
    protocol: Protocol | str = Protocol.TCPIP,
    name: str | int | None = None,
    *,
    key: bytes | str | None = None,
    **options: Any,
) -> AsyncLink:
    """A listening link, bound at once; ``await link.activate()`` waits for the peer."""
    proto = Protocol.parse(protocol)
    listener = open_listener(proto, name, key)
    link = AsyncLink(Role.LISTENER, proto, listener.name, key=key, **options)
    link._listener = listener
    return link


async def channel(
    protocol: Protocol | str = Protocol.IntraProcess,
    *,
    key: bytes | str | None = None,
    timeout: float = 10.0,
) -> tuple[AsyncLink, AsyncLink]:
    """Two connected, active async links (the listening end first)."""
    a = await listen(protocol, None, key=key)
    activating = asyncio.ensure_future(a.activate(timeout))
    try:
        b = await connect(protocol, a.name, key=key, timeout=timeout)
        await activating
    except BaseException:
        activating.cancel()
        a.close()
        raise
    return a, b
