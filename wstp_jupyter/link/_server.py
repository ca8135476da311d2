"""``LinkServer``: one TCPIP port, many clients (``WSNewLinkServerWithPortAndInterface``).

An accept thread takes connections off the listening socket and hands each to a short-lived
handshake thread (at most ``max_pending`` at a time; beyond that new connections are closed at
once, so a flood cannot exhaust threads). A connection that completes the handshake becomes a
``Link`` and is queued for ``accept()`` / iteration, or passed to the callback. Anything a client
does wrong - garbage, a wrong key, silence past the handshake timeout - costs only that client its
connection; the accept loop never sees the exception.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LinkClosed, LinkError, LinkTimeout
from wstp_jupyter.link._handshake import DEFAULT_HANDSHAKE_TIMEOUT
from wstp_jupyter.link._link import Link
from wstp_jupyter.link._names import Protocol, format_tcpip_name
from wstp_jupyter.link._transport import open_listener, tune

log = logging.getLogger("wstp_jupyter.link")

LinkCallback = Callable[[Link], Any]


class LinkServer:
    """A link server on ``interface:port``.

    Args:
        port: the TCP port; 0 picks a free one (``.port`` tells which).
        interface: the address to bind; anything but a loopback address needs ``key``.
        key: the shared secret every client must prove.
        callback: if given, called with each new ``Link`` on a server thread
            (``WSRegisterCallbackFunctionWithLinkServer``); otherwise links queue for
            ``accept()``.
        handshake_timeout: seconds a client may take to complete the handshake.
        max_pending: most handshakes in progress at once.
        **link_options: ``max_frame_size`` and ``limits`` for the accepted links.

    Raises:
        AuthenticationError: a non-loopback interface without a key.
        LinkError: the port cannot be bound.
    """

    def __init__(
        self,
        port: int = 0,
        interface: str = "127.0.0.1",
        *,
        key: bytes | str | None = None,
        callback: LinkCallback | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        max_pending: int = 64,
        **link_options: Any,
    ) -> None:
        self._listener = open_listener(Protocol.TCPIP, f"{port}@{interface}", key)
        assert self._listener.sock is not None
        bound = self._listener.sock.getsockname()
        self.interface: str = interface
        self.port: int = int(bound[1])
        self.name: str = format_tcpip_name(interface, self.port)
        self._key = key
        self._options = dict(link_options, handshake_timeout=handshake_timeout)
        self._queue: queue.Queue[Link | None] = queue.Queue()
        self._callback: LinkCallback | None = callback
        self._slots = threading.BoundedSemaphore(max_pending)
        self._lock = threading.Lock()
        self._handshakes: set[threading.Thread] = set()
        self._closed = False
        self.rejected = 0  # connections dropped before becoming links (diagnostics, tests)
        self._thread = threading.Thread(
            target=self._accept_loop, daemon=True, name=f"wstp-linkserver {self.name}"
        )
        self._thread.start()

    # -- accepting --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        sock = self._listener.sock
        assert sock is not None
        while not self._closed:
            try:
                ready = select.select([sock], [], [], 0.25)[0]
                if not ready:
                    continue
                conn, addr = sock.accept()
            except BlockingIOError:
                continue
            except (OSError, ValueError):
                if self._closed:
                    break
                log.exception("link server %s: accept failed", self.name)
                continue
            try:
                self._start_handshake(conn, addr)
            except Exception:  # the loop must survive anything one connection does
                log.exception("link server %s: cannot serve %s", self.name, addr)
                with contextlib.suppress(OSError):
                    conn.close()
        self._queue.put(None)

    def _start_handshake(self, conn: socket.socket, addr: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("link server %s: too many pending handshakes; dropping %s", self.name, addr)
            self.rejected += 1
            conn.close()
            return
        conn.setblocking(True)
        tune(conn)
        thread = threading.Thread(
            target=self._handshake,
            args=(conn, addr),
            daemon=True,
            name=f"wstp-linkserver-handshake {addr}",
        )
        with self._lock:
            self._handshakes.add(thread)
        thread.start()

    def _handshake(self, conn: socket.socket, addr: Any) -> None:
        try:
            host, port = addr[0], addr[1]
            link = Link._accepted(
                conn, format_tcpip_name(host, port), key=self._key, **self._options
            )
            try:
                link.activate()
            except LinkError as exc:
                self.rejected += 1
                log.info("link server %s: rejected %s: %s", self.name, addr, exc)
                link.close()
                return
            if self._closed:
                link.close()
                return
            callback = self._callback
            if callback is None:
                self._queue.put(link)
                return
            try:
                callback(link)
            except Exception:
                log.exception("link server %s: callback failed", self.name)
        except Exception:
            log.exception("link server %s: handshake with %s failed", self.name, addr)
            with contextlib.suppress(OSError):
                conn.close()
        finally:
            self._slots.release()
            with self._lock:
                self._handshakes.discard(threading.current_thread())

    def accept(self, timeout: float | None = None) -> Link:
        """The next connected, authenticated link (``WSWaitForNewLinkFromLinkServer``).

        Raises:
            LinkTimeout: no client within ``timeout`` seconds.
            LinkClosed: the server was closed.
        """
        if self._closed and self._queue.empty():
            raise LinkClosed("the link server is closed")
        try:
            link = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise LinkTimeout("no client connected in time") from None
        if link is None:
            self._queue.put(None)  # wake other waiters too
            raise LinkClosed("the link server is closed")
        return link

    def __iter__(self) -> Iterator[Link]:
        """Accepted links, until the server is closed."""
        while True:
            try:
                yield self.accept()
            except LinkClosed:
                return

    def set_callback(self, callback: LinkCallback | None) -> None:
        """Hand every future link - and those already queued - to ``callback``."""
        self._callback = callback
        if callback is None:
            return
        while True:
            try:
                link = self._queue.get_nowait()
            except queue.Empty:
                return
            if link is None:
                self._queue.put(None)
                return
            try:
                callback(link)
            except Exception:
                log.exception("link server %s: callback failed", self.name)

    @property
    def pending_handshakes(self) -> int:
        """Connections currently in their handshake."""
        with self._lock:
            return len(self._handshakes)

    @property
    def closed(self) -> bool:
        """True after ``close()``."""
        return self._closed

    def close(self) -> None:
        """Stop accepting (``WSShutdownLinkServer``); links already handed out stay open."""
        if self._closed:
            return
        self._closed = True
        self._listener.close()
        self._thread.join(timeout=2.0)
        while True:  # links nobody accepted are closed with the server
            try:
                link = self._queue.get_nowait()
            except queue.Empty:
                break
            if link is not None:
                link.close()
        self._queue.put(None)

    def __enter__(self) -> LinkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<LinkServer {self.name}{' closed' if self._closed else ''}>"


_ = ErrorCode
