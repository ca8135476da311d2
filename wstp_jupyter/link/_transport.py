"""Sockets for the link protocols: listening, connecting, the in-process registry, sending.

``open_listener`` returns a ``Listener`` whose ``accept()`` yields connected sockets; connecting
returns a connected socket. TCPIP sockets get ``TCP_NODELAY`` (a packet is one ``send`` and must
not wait for Nagle). ``IntraProcess`` links are socket pairs handed over through a registry of
names in this process, so every protocol shares one blocking and one asyncio code path.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import select
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import (
    AuthenticationError,
    LinkClosed,
    LinkError,
    LinkTimeout,
    LocalProtocolError,
)
from wstp_jupyter.link._names import (
    Protocol,
    format_tcpip_name,
    parse_tcpip_name,
)

if TYPE_CHECKING:
    from wstp_jupyter.link._connection import Connection

_SMALL = 1 << 16  # below this a frame is joined and sent with one send()


def tune(sock: socket.socket) -> None:
    """Per-connection socket options."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def send_all(sock: socket.socket, parts: Sequence[bytes | bytearray | memoryview]) -> None:
    """Send every byte of ``parts`` in order (one syscall when possible).

    Raises:
        LinkClosed: the peer is gone.
    """
    try:
        if len(parts) == 1:
            sock.sendall(parts[0])
            return
        total = sum(memoryview(p).nbytes for p in parts)
        if total <= _SMALL:
            sock.sendall(b"".join(parts))
            return
        views = [memoryview(p).cast("B") for p in parts]
        while views:
            sent = sock.sendmsg(views)
            while views and sent >= len(views[0]):
                sent -= len(views[0])
                views.pop(0)
            if sent and views:
                views[0] = views[0][sent:]
    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
        raise LinkClosed(f"the peer is gone ({exc.strerror or exc})", ErrorCode.WSEDEAD) from exc
    except OSError as exc:
        raise LinkClosed(f"cannot send: {exc}", ErrorCode.WSEDEAD) from exc


def receive_once(sock: socket.socket, conn: Connection) -> None:
    """One ``recv_into`` the connection's buffer; a socket error counts as the end of the stream
    (the core then reports the peer as gone)."""
    try:
        n = sock.recv_into(conn.get_buffer())
    except OSError:
        n = 0
    if n:
        conn.buffer_updated(n)
    else:
        conn.receive_data(b"")


def wait_readable(sock: socket.socket, timeout: float | None) -> bool:
    """True once ``sock`` has data (or EOF) within ``timeout`` seconds."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    ms = -1 if timeout is None else max(0, int(timeout * 1000 + 0.999))
    while True:
        try:
            return bool(poller.poll(ms))
        except InterruptedError:  # pragma: no cover - PEP 475 retries already
            continue


# -- the in-process registry ------------------------------------------------------------------

_intra_lock = threading.Lock()
_intra: dict[str, IntraListener] = {}
_intra_counter = itertools.count(1)


class IntraListener:
    """An ``IntraProcess`` listening name: ``connect`` hands it one end of a socket pair.

    A byte on ``doorbell`` announces each queued socket, so asyncio can wait on it too.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: deque[socket.socket] = deque()
        self._bell_r, self._bell_w = socket.socketpair()
        self._bell_r.setblocking(False)
        self.closed = False

    @property
    def doorbell(self) -> socket.socket:
        return self._bell_r

    def offer(self) -> socket.socket:
        a, b = socket.socketpair()
        with _intra_lock:
            if self.closed:
                a.close()
                b.close()
                raise ConnectionRefusedError(f"IntraProcess link {self.name!r} is closed")
            self._queue.append(a)
        self._bell_w.send(b"\x01")
        return b

    def accept_nowait(self) -> socket.socket | None:
        with _intra_lock:
            if not self._queue:
                return None
            with contextlib.suppress(BlockingIOError):
                self._bell_r.recv(1)
            return self._queue.popleft()

    def fileno(self) -> int:
        return self._bell_r.fileno()

    def close(self) -> None:
        with _intra_lock:
            self.closed = True
            if _intra.get(self.name) is self:
                del _intra[self.name]
            pending = list(self._queue)
            self._queue.clear()
        for sock in pending:
            sock.close()
        self._bell_w.close()
        self._bell_r.close()


class Listener:
    """A bound, listening endpoint of one protocol; ``name`` is what a peer connects to."""

    def __init__(
        self,
        protocol: Protocol,
        name: str,
        sock: socket.socket | None,
        intra: IntraListener | None = None,
        path: str | None = None,
    ) -> None:
        self.protocol = protocol
        self.name = name
        self.sock = sock
        self.intra = intra
        self._path = path
        self._own_dir = False
        self.closed = False

    def fileno(self) -> int:
        if self.sock is not None:
            return self.sock.fileno()
        assert self.intra is not None
        return self.intra.fileno()

    def accept_nowait(self) -> socket.socket | None:
        """A connected socket if one is waiting, else ``None``; never blocks.

        Raises:
            LinkClosed: the listener was closed or failed.
        """
        if self.closed:
            raise LinkClosed("the listening link was closed")
        if self.intra is not None:
            return self.intra.accept_nowait()
        assert self.sock is not None
        try:
            conn, _addr = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            if self.closed:
                raise LinkClosed("the listening link was closed") from None
            raise LinkClosed(f"the listening link failed: {exc}") from exc
        conn.setblocking(True)
        tune(conn)
        return conn

    def accept(self, timeout: float | None) -> socket.socket:
        """The next connected socket.

        Raises:
            LinkTimeout: nobody connected in time.
            LinkClosed: the listener was closed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.closed:
                raise LinkClosed("the listening link was closed")
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            # Wake up now and then so that close() from another thread is noticed.
            slice_ = 0.25 if remaining is None else min(remaining, 0.25)
            try:
                ready = select.select([self.fileno()], [], [], slice_)[0]
            except (OSError, ValueError):
                raise LinkClosed("the listening link was closed") from None
            if ready:
                got = self.accept_nowait()
                if got is not None:
                    return got
            if deadline is not None and time.monotonic() >= deadline:
                raise LinkTimeout("no peer connected in time")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        if self.intra is not None:
            self.intra.close()
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            if self._own_dir:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.dirname(self._path))


def is_loopback_host(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address: the one rule for "reachable
    only from this machine" (listening without a key, a server's interface, autostart).

    A name is resolved, so ``localhost`` is loopback; ``0.0.0.0`` and ``::`` (all interfaces)
    are not, and neither is a name that does not resolve.
    """
    host = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_exposure(host: str, key: bytes | str | None) -> None:
    """Refuse to listen beyond loopback without a key.

    Raises:
        AuthenticationError: ``host`` is reachable from other machines and no key was given.
    """
    if not key and not is_loopback_host(host):
        raise AuthenticationError(
            f"refusing to listen on {host!r} without a key: anyone who can reach that address "
            "could run code. Pass key=... (shared with the peer) or listen on 127.0.0.1 / ::1.",
            ErrorCode.WSEBADHOST,
        )


def open_listener(
    protocol: Protocol, name: str | int | None, key: bytes | str | None, backlog: int = 128
) -> Listener:
    """Bind and listen.

    Raises:
        LocalProtocolError: bad name; AuthenticationError: exposed without a key;
        LinkError: the address is taken or cannot be bound.
    """
    if protocol is Protocol.TCPIP:
        host, port = parse_tcpip_name(name)
        check_exposure(host, key)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
            family, _, _, _, addr = infos[0]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(addr)
            sock.listen(backlog)
        except socket.gaierror as exc:
            raise LocalProtocolError(f"bad host {host!r}: {exc}", ErrorCode.WSEBADHOST) from exc
        except OSError as exc:
            raise LinkError(
                f"cannot listen on {port}@{host}: {exc}", ErrorCode.WSENAMETAKEN
            ) from exc
        sock.setblocking(False)
        bound = sock.getsockname()
        return Listener(protocol, format_tcpip_name(host, bound[1]), sock)
    if protocol is Protocol.Local:
        path = str(name) if name else os.path.join(tempfile.mkdtemp(prefix="wstpj-"), "link.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            sock.listen(backlog)
        except OSError as exc:
            sock.close()
            raise LinkError(f"cannot listen on {path!r}: {exc}", ErrorCode.WSENAMETAKEN) from exc
        os.chmod(path, 0o600)  # a Local link is for this user only
        sock.setblocking(False)
        listener = Listener(protocol, path, sock, path=path)
        listener._own_dir = not name
        return listener
    if protocol is Protocol.IntraProcess:
        with _intra_lock:
            text = str(name) if name else f"intra-{os.getpid()}-{next(_intra_counter)}"
            if text in _intra:
                raise LinkError(f"IntraProcess name {text!r} is taken", ErrorCode.WSENAMETAKEN)
            intra = IntraListener(text)
            _intra[text] = intra
        return Listener(protocol, text, None, intra=intra)
    raise LocalProtocolError(f"cannot listen with protocol {protocol.value}", ErrorCode.WSEBADPARAM)


def connect_socket(protocol: Protocol, name: str | int, timeout: float | None) -> socket.socket:
    """A socket connected to the listener called ``name``.

    Raises:
        ConnectionRefusedError / FileNotFoundError: nobody listens there (yet).
        LocalProtocolError: bad name or protocol.
    """
    if protocol is Protocol.TCPIP:
        host, port = parse_tcpip_name(name)
        if port == 0:
            raise LocalProtocolError(
                "a TCPIP link name needs a port to connect to", ErrorCode.WSEBADNAME
            )
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.settimeout(None)
        tune(sock)
        return sock
    if protocol is Protocol.Local:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(str(name))
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return sock
    if protocol is Protocol.IntraProcess:
        with _intra_lock:
            intra = _intra.get(str(name))
        if intra is None:
            raise ConnectionRefusedError(f"no IntraProcess link is listening as {name!r}")
        return intra.offer()
    raise LocalProtocolError(
        f"cannot connect with protocol {protocol.value}", ErrorCode.WSEBADPARAM
    )
