"""The listening side of opening a link: every pending connection's handshake at once.

A listening link has one peer, but anyone who can reach its name may connect first: a port
probe, a client that sends garbage, one that connects and stays silent, one with the wrong key.
``Acceptor`` accepts every connection as it arrives and runs all their handshakes side by side
(one ``poll`` over the listener and every pending socket, each handshake stepped without waiting
by ``_handshake.advance``), so a silent or slow connection holds up nobody: the first peer that
completes the handshake becomes the link's peer, and the others are sent a CLOSE with the reason
and closed. Each pending handshake has its own deadline (``handshake_timeout``).

The acceptor outlives a single wait: ``run(deadline)`` returning ``LinkTimeout`` or raising a
wrong key's ``AuthenticationError`` leaves the other pending handshakes in progress for the next
call (``Link.launch`` waits in short steps while it watches its child; the engine keeps
listening after a wrong key).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wstp_jupyter.link._connection import Connection
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import AuthenticationError, LinkClosed, LinkError, LinkTimeout
from wstp_jupyter.link._events import Close
from wstp_jupyter.link._handshake import advance
from wstp_jupyter.link._transport import Listener, receive_once, send_all

log = logging.getLogger("wstp_jupyter.link")

Opened = tuple[socket.socket, Connection]
#: ``on_reject(peer, error)``: a connection was dropped before it became the link's peer.
RejectCallback = Callable[[str, LinkError], object]

#: Longest single wait, so that ``close()`` from another thread is noticed.
_SLICE = 0.25
_EVENTS = select.POLLIN | select.POLLERR | select.POLLHUP


@dataclass
class _Pending:
    sock: socket.socket
    conn: Connection
    deadline: float
    peer: str


def _peer_name(sock: socket.socket) -> str:
    try:
        peer = sock.getpeername()
    except OSError:
        return "a client"
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[1]}@{peer[0]}"
    return "a local client"


class Acceptor:
    """Accepts on ``listener`` and runs the handshakes of all pending connections concurrently.

    Args:
        listener: the bound listener (closed by the owner once a peer is found).
        new_connection: makes the ``Connection`` of one accepted socket.
        name: the link's name, for the log.
        handshake_timeout: seconds each connection has to complete its handshake.
        on_reject: told of every connection dropped before it became the peer (else they are
            logged at INFO level).
    """

    def __init__(
        self,
        listener: Listener,
        new_connection: Callable[[], Connection],
        *,
        name: str,
        handshake_timeout: float,
        on_reject: RejectCallback | None = None,
    ) -> None:
        self.listener = listener
        self._new_connection = new_connection
        self._name = name
        self._handshake_timeout = handshake_timeout
        self._on_reject = on_reject
        self._pending: dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self.closed = False

    @property
    def pending(self) -> int:
        """Connections whose handshake is in progress."""
        return len(self._pending)

    def run(self, deadline: float | None) -> Opened:
        """Accept and handshake until one peer completes the handshake; returns its socket and
        ``Connection`` (which may hold frames that came with the handshake). The other pending
        connections are closed with a reason.

        Raises:
            LinkTimeout: no peer completed the handshake by ``deadline`` (pending handshakes go
                on at the next call).
            AuthenticationError: a client's key differs and no other peer completed the
                handshake in the same step (the others stay pending).
            LinkClosed: the acceptor or its listener was closed.
        """
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=-1 if left is None else left):
            raise LinkTimeout("another thread is waiting for this link's peer")
        try:
            while True:
                opened = self._step(deadline)
                if opened is not None:
                    return opened
        finally:
            if self.closed:  # shut down from another thread while this one waited
                self.close()
            self._lock.release()

    def _step(self, deadline: float | None) -> Opened | None:
        if self.closed or self.listener.closed:
            raise LinkClosed("the listening link was closed")
        now = time.monotonic()
        for fd, pending in list(self._pending.items()):
            if now >= pending.deadline:
                self._drop(fd, LinkTimeout("the handshake timed out"))
        wake = min([p.deadline for p in self._pending.values()], default=now + _SLICE)
        if deadline is not None:
            wake = min(wake, deadline)
        wait = max(0.0, min(wake - now, _SLICE))
        poller = select.poll()
        try:
            poller.register(self.listener.fileno(), _EVENTS)
        except (OSError, ValueError):
            raise LinkClosed("the listening link was closed") from None
        for fd in self._pending:
            poller.register(fd, _EVENTS)
        ready = {fd for fd, _ in poller.poll(int(wait * 1000 + 0.999))}
        if self.closed or self.listener.closed:
            raise LinkClosed("the listening link was closed")
        if self.listener.fileno() in ready:
            self._accept_waiting()
        winner: Opened | None = None
        refused: AuthenticationError | None = None
        for fd in ready:
            item = self._pending.get(fd)
            if item is None:
                continue  # the listener, or a connection accepted just now
            try:
                receive_once(item.sock, item.conn)
                done = advance(item.sock, item.conn)
            except LinkError as exc:
                self._drop(fd, exc, send_close=False)
                if isinstance(exc, AuthenticationError):
                    refused = exc
                continue
            if done and winner is None:
                del self._pending[fd]
                winner = (item.sock, item.conn)
        if winner is not None:
            self.close("another peer completed the handshake first")
            return winner
        if refused is not None:
            raise refused
        if deadline is not None and time.monotonic() >= deadline:
            raise LinkTimeout("no peer completed the handshake in time")
        return None

    def _accept_waiting(self) -> None:
        """Accept every connection that is waiting and send each its HELLO."""
        while True:
            sock = self.listener.accept_nowait()
            if sock is None:
                return
            conn = self._new_connection()
            item = _Pending(
                sock, conn, time.monotonic() + self._handshake_timeout, _peer_name(sock)
            )
            self._pending[sock.fileno()] = item
            try:
                send_all(sock, [conn.data_to_send()])
            except LinkError as exc:
                self._drop(sock.fileno(), exc, send_close=False)

    def _drop(self, fd: int, error: LinkError, *, send_close: bool = True) -> None:
        item = self._pending.pop(fd)
        if send_close:
            with contextlib.suppress(LinkError):
                code = ErrorCode.WSECONNECT
                send_all(item.sock, item.conn.send_parts(Close(code=code, reason=str(error))))
        item.sock.close()
        if self._on_reject is not None:
            try:
                self._on_reject(item.peer, error)
            except Exception:
                log.exception("link %s: the on_reject callback failed", self._name)
        else:
            log.info("link %s: dropped %s during the handshake: %s", self._name, item.peer, error)

    def close(self, reason: str = "the listening link was closed") -> None:
        """Close every pending connection, telling each ``reason``."""
        for fd in list(self._pending):
            self._drop(fd, LinkClosed(reason, ErrorCode.WSECLOSED))

    def shutdown(self) -> None:
        """Stop for good (the link is closed): pending connections are closed and ``run`` in
        another thread raises ``LinkClosed`` within a fraction of a second."""
        self.closed = True
        if self._lock.acquire(blocking=False):
            try:
                self.close()
            finally:
                self._lock.release()
