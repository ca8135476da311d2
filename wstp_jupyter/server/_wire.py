"""The server's asyncio I/O adapter over the link's sans-IO protocol core.

The router needs a narrow thing per link: receive the next expression or urgent message, send
one without ever blocking the event loop, close. :class:`Channel` is that, as a thin adapter over
:class:`wstp_jupyter.link` 's ``Connection`` on asyncio streams, so the frames are byte-for-byte
those of every other link in the project.

Writes never wait: bytes go to the transport's buffer at once. A peer that stops reading cannot
make the server block or grow without bound: when a new expression is to be sent while more than
``max_unsent`` bytes (:data:`MAX_UNSENT_BYTES` for clients) still wait for the peer, the channel
is closed -- a slow or malicious client loses only its own link. The check comes before the
write, so one large result still goes to a client that reads. Handshakes have a deadline for the
same reason.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from wstp_jupyter.link import (
    NEED_DATA,
    Close,
    Connected,
    Connection,
    Expression,
    LinkError,
    Role,
    UrgentMessage,
)
from wstp_jupyter.server._errors import ServerError

#: Unsent bytes a peer may leave queued before it is disconnected as too slow.
MAX_UNSENT_BYTES = 64 << 20
HANDSHAKE_TIMEOUT = 10.0
_READ_SIZE = 1 << 16


class ChannelClosed(ServerError):
    """The link ended (closed by either side, a protocol error, or the stream ended)."""


class Channel:
    """One established link, asyncio side."""

    def __init__(self, conn: Connection, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._conn = conn
        self._reader = reader
        self._writer = writer
        self._closed = False
        self.max_unsent: int | None = MAX_UNSENT_BYTES
        self.connection_id: uuid.UUID | None = conn.connection_id
        self.close_reason = ""

    @classmethod
    async def handshake(cls, role: Role, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter, *, key: bytes | None,
                        connection_id: uuid.UUID | None = None,
                        timeout: float = HANDSHAKE_TIMEOUT) -> Channel:
        """Run the handshake on a connected stream.

        Raises:
            ChannelClosed: the handshake failed (authentication, protocol, timeout, EOF); the
                stream is closed.
        """
        conn = Connection(role, key=key, connection_id=connection_id)
        chan = cls(conn, reader, writer)
        try:
            ev = await asyncio.wait_for(chan._next(), timeout)
        except TimeoutError:
            chan.close()
            raise ChannelClosed(f"handshake failed: no handshake within {timeout:g} s") from None
        except ChannelClosed as exc:
            chan.close()
            raise ChannelClosed(f"handshake failed: {exc}") from None
        if not isinstance(ev, Connected):  # pragma: no cover - the core forbids it
            chan.close()
            raise ChannelClosed("handshake failed: unexpected event")
        chan.connection_id = ev.connection_id
        return chan

    @classmethod
    async def connect(cls, host: str, port: int, *, key: bytes | None = None,
                      connection_id: uuid.UUID | None = None,
                      timeout: float = HANDSHAKE_TIMEOUT) -> Channel:
        """Connect to a listener and complete the handshake.

        Raises:
            ChannelClosed: nothing listens, or the handshake failed.
        """
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            raise ChannelClosed(f"cannot connect to {port}@{host}: {exc}") from None
        return await cls.handshake(Role.CONNECTOR, reader, writer, key=key,
                                   connection_id=connection_id, timeout=timeout)

    def _flush(self) -> None:
        out = self._conn.data_to_send()
        if out and not self._writer.is_closing():
            self._writer.write(out)

    async def _next(self) -> Connected | Expression | UrgentMessage:
        while True:
            try:
                ev = self._conn.next_event()
            except LinkError as exc:
                self._flush()
                self.close_reason = str(exc)
                self.close()
                raise ChannelClosed(str(exc)) from None
            self._flush()
            if ev is NEED_DATA:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    data = b""
                    self.close_reason = str(exc)
                self._conn.receive_data(data)
                continue
            if isinstance(ev, Close):
                self.close_reason = self.close_reason or ev.reason or "the link was closed"
                self.close()
                raise ChannelClosed(self.close_reason)
            assert isinstance(ev, Connected | Expression | UrgentMessage)
            return ev

    async def recv(self) -> Expression | UrgentMessage:
        """The next expression or urgent message, in arrival order.

        Raises:
            ChannelClosed: the link ended.
        """
        ev = await self._next()
        if isinstance(ev, Connected):  # pragma: no cover - only once, during the handshake
            raise ChannelClosed("unexpected second handshake")
        return ev

    def _write(self, parts: Sequence[bytes | bytearray | memoryview]) -> None:
        if self._closed or self._writer.is_closing():
            raise ChannelClosed(self.close_reason or "the link is closed")
        limit = self.max_unsent
        if limit is not None and self._writer.transport.get_write_buffer_size() > limit:
            self.close_reason = "the peer does not read its link (too much unsent output)"
            self.close()
            raise ChannelClosed(self.close_reason)
        self._writer.writelines(parts)

    def send(self, expr: object) -> None:
        """Queue one expression for sending (never blocks).

        Raises:
            ChannelClosed: the link is closed, or the peer stopped reading and was dropped.
        """
        try:
            self._write(self._conn.send_parts(Expression(expr=expr)))
        except LinkError as exc:
            raise ChannelClosed(str(exc)) from None

    def send_message(self, code: int, arg: int = 0) -> None:
        """Queue one urgent message (never blocks).

        Raises:
            ChannelClosed: the link is closed.
        """
        try:
            self._write(self._conn.send_parts(UrgentMessage(code=code, arg=arg)))
        except LinkError as exc:
            raise ChannelClosed(str(exc)) from None

    async def drain(self) -> None:
        """Wait until the transport accepted the queued bytes (flow control for bulk senders)."""
        try:
            await self._writer.drain()
        except (OSError, RuntimeError) as exc:
            raise ChannelClosed(str(exc)) from None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, reason: str = "") -> None:
        """Send a CLOSE frame (if still possible) and close the stream; idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._writer.is_closing():
            try:
                self._writer.writelines(self._conn.send_parts(Close(code=0, reason=reason)))
            except (LinkError, OSError, RuntimeError):
                pass
            self._writer.close()


async def serve(host: str, port: int, handler: object) -> asyncio.Server:
    """``asyncio.start_server`` with the reuse options a restartable server wants."""
    return await asyncio.start_server(handler, host, port,  # type: ignore[arg-type]
                                      reuse_address=True, limit=_READ_SIZE)
