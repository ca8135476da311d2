"""The blocking ``Link``: a thin I/O adapter around the sans-IO ``Connection``.

Reading is done by whoever needs data: ``get()``, ``ready()`` and ``get_message()`` pull bytes
from the socket into the core under a read lock and file the events (expressions into an inbox,
urgent messages into a message queue or straight to the handler). That keeps the common path free
of thread hand-offs. Once a message handler is installed, a reader thread takes over all reading,
so the handler runs as soon as a message arrives, even while the owning thread is busy evaluating;
``get()`` then waits on a condition instead. Either way every byte is parsed in arrival order, so
an urgent message is seen before any expression queued behind it is handed out, and a read-ahead
(``get_message``, ``ready``) lets a message overtake expressions that are already queued.

Writes go straight out under a write lock: a frame is one ``sendall`` (``sendmsg`` for big
payloads, so an 80 MB array is not copied to join it with its header).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from wstp_jupyter import wxf
from wstp_jupyter.link._connection import DEFAULT_MAX_FRAME_SIZE, Connection, encode
from wstp_jupyter.link._constants import ErrorCode, is_valid_message_code
from wstp_jupyter.link._errors import (
    AuthenticationError,
    LinkClosed,
    LinkError,
    LinkTimeout,
    LocalProtocolError,
    RemoteProtocolError,
)
from wstp_jupyter.link._events import NEED_DATA, Close, Connected, Expression, UrgentMessage
from wstp_jupyter.link._names import Protocol
from wstp_jupyter.link._packets import Packet
from wstp_jupyter.link._state import Role
from wstp_jupyter.link._token_api import TokenAPI
from wstp_jupyter.link._tokens import TokenReader, TokenWriter
from wstp_jupyter.link._transport import (
    Listener,
    connect_socket,
    open_listener,
    receive_once,
    send_all,
    wait_readable,
)

log = logging.getLogger("wstp_jupyter.link")

KEY_ENV = "WSTP_JUPYTER_LINK_KEY"
DEFAULT_HANDSHAKE_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 10.0

MessageHandler = Callable[[UrgentMessage], Any]


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class Link(TokenAPI):
    """One end of a WSTP-model link (``LinkObject``).

    Create links with ``Link.listen``, ``Link.connect``, ``Link.launch``, ``Link.loopback``,
    ``channel`` or ``LinkServer.accept``; the constructor itself is private. A link may be used
    from several threads: reads are serialized with each other and writes with each other.

    Attributes:
        protocol: the ``Protocol``.
        name: what a peer connects to (``"port@host"``, a socket path, an IntraProcess name).
        connection_id: the connection's UUID once active, else ``None``.
        process: the ``subprocess.Popen`` of a launched peer, else ``None``.
    """

    def __init__(
        self,
        *,
        _protocol: Protocol,
        _name: str,
        _listener: Listener | None = None,
        _sock: socket.socket | None = None,
        _role: Role = Role.CONNECTOR,
        key: bytes | str | None = None,
        connection_id: uuid.UUID | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        limits: wxf.Limits | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> None:
        self.protocol = _protocol
        self.name = _name
        self.connection_id: uuid.UUID | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._listener = _listener
        self._pending_sock = _sock
        self._role = _role
        self._key = key
        self._requested_id = connection_id
        self._max_frame_size = max_frame_size
        self._limits = limits
        self._handshake_timeout = handshake_timeout
        self._sock: socket.socket | None = None
        self._conn: Connection | None = None
        self._loopback = _protocol is Protocol.Loopback
        self._active = self._loopback
        self._closed = False
        self._peer_close: Close | None = None
        self._fatal: LinkError | None = None
        self._inbox: deque[object] = deque()
        self._received = 0
        self._messages: deque[UrgentMessage] = deque()
        self._handler: MessageHandler | None = None
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition(threading.Lock())
        self._rlock = threading.Lock()
        self._wlock = threading.Lock()
        self._alock = threading.Lock()
        self._writer = TokenWriter()
        self._current: TokenReader | None = None

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def listen(
        cls,
        protocol: Protocol | str = Protocol.TCPIP,
        name: str | int | None = None,
        *,
        key: bytes | str | None = None,
        **options: Any,
    ) -> Link:
        """Create a listening link, bound at once (``LinkCreate``).

        Args:
            protocol: ``TCPIP`` (default), ``Local`` or ``IntraProcess``.
            name: ``"port@host"`` / port for TCPIP (``None``: any free port on 127.0.0.1), a
                socket path for Local (``None``: a fresh private path), any string for
                IntraProcess (``None``: a fresh name).
            key: shared secret; required when the TCPIP host is not a loopback address.
            **options: ``max_frame_size``, ``limits`` (``wxf.Limits``), ``handshake_timeout``.

        Returns:
            The link; ``link.name`` is what the peer connects to. ``activate()`` waits for it.

        Raises:
            AuthenticationError: a non-loopback host without a key.
            LinkError: the name is taken or invalid.
        """
        proto = Protocol.parse(protocol)
        listener = open_listener(proto, name, key)
        return cls(
            _protocol=proto,
            _name=listener.name,
            _listener=listener,
            _role=Role.LISTENER,
            key=key,
            **options,
        )

    @classmethod
    def connect(
        cls,
        protocol: Protocol | str,
        name: str | int,
        *,
        key: bytes | str | None = None,
        connection_id: uuid.UUID | None = None,
        **options: Any,
    ) -> Link:
        """Create a link that connects to the listener ``name`` (``LinkConnect``).

        Returns at once; the connection and handshake happen in ``activate()`` or the first
        read or write. ``connection_id`` is presented to the listener (a link-server client
        that reconnects passes its previous id); by default a fresh UUID is used.
        """
        proto = Protocol.parse(protocol)
        if proto is Protocol.Loopback:
            raise LocalProtocolError(
                "use Link.loopback() for a loopback link", ErrorCode.WSEBADPARAM
            )
        return cls(
            _protocol=proto,
            _name=str(name),
            _role=Role.CONNECTOR,
            key=key,
            connection_id=connection_id or uuid.uuid4(),
            **options,
        )

    @classmethod
    def loopback(cls) -> Link:
        """A loopback link (``WSLoopbackOpen``): one object, what is put is got back, FIFO."""
        return cls(_protocol=Protocol.Loopback, _name="loopback")

    @classmethod
    def launch(
        cls,
        command: Sequence[str],
        *,
        protocol: Protocol | str = Protocol.TCPIP,
        key: bytes | str | None = None,
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
        link_options: Mapping[str, Any] | None = None,
        **popen: Any,
    ) -> Link:
        """Listen, start ``command`` as the peer, and activate (``LinkLaunch``).

        The command gets ``-linkmode connect -linkprotocol P -linkname NAME`` appended and the
        key in the environment variable ``WSTP_JUPYTER_LINK_KEY`` (a random key is made when
        none is given). ``link.process`` holds the ``Popen``; closing the link does not kill it.
        ``link_options`` go to ``Link.listen``, ``popen`` to ``subprocess.Popen`` (``stderr``
        set to a pipe or a seekable file puts the child's stderr into a launch error). See
        ``wstp_jupyter.link._launch.launch``.

        Raises:
            LaunchError: (``WSELAUNCHFAILED``, a ``LinkError``) the process exited before
                connecting; it carries the exit status and any captured stderr.
            LaunchTimeout: (also a ``LinkTimeout``) it did not connect within ``timeout``
                seconds; it has been killed.
        """
        from wstp_jupyter.link._launch import launch  # _launch builds on this module

        return launch(
            command,
            protocol=protocol,
            key=key,
            timeout=timeout,
            env=env,
            link_options=link_options,
            **popen,
        )

    @classmethod
    def _accepted(cls, sock: socket.socket, name: str, **options: Any) -> Link:
        return cls(_protocol=Protocol.TCPIP, _name=name, _sock=sock, _role=Role.LISTENER, **options)

    # -- activation -------------------------------------------------------------------------

    def activate(self, timeout: float | None = None) -> None:
        """Wait until the link is connected and authenticated (``LinkActivate``).

        A listening link accepts connections until one completes the handshake; a client that
        sends garbage or stays silent past the handshake timeout is dropped and waiting goes on.

        Raises:
            LinkTimeout: not active within ``timeout`` seconds.
            AuthenticationError: the peer's key differs (the listening link keeps listening).
            LinkClosed: the link was closed.
        """
        if self._active:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._alock.acquire(timeout=-1 if timeout is None else timeout):
            raise LinkTimeout("another thread is activating this link")
        try:
            if self._active:
                return
            if self._closed:
                raise LinkClosed("the link is closed")
            if self._pending_sock is not None:
                sock, self._pending_sock = self._pending_sock, None
                self._handshake(sock, self._min_deadline(deadline))
            elif self._listener is not None:
                self._activate_listener(deadline)
            else:
                self._activate_connector(deadline)
        finally:
            self._alock.release()

    def _min_deadline(self, deadline: float | None) -> float:
        hs = time.monotonic() + self._handshake_timeout
        return hs if deadline is None else min(hs, deadline)

    def _activate_listener(self, deadline: float | None) -> None:
        assert self._listener is not None
        while True:
            sock = self._listener.accept(_remaining(deadline))
            try:
                # The caller's deadline bounds the wait for a peer, not a handshake that has
                # already started: cutting that short would drop a peer that is merely slow
                # (a kernel starting under load) and make it see a closed link.
                self._handshake(sock, time.monotonic() + self._handshake_timeout)
            except AuthenticationError:
                raise
            except LinkError as exc:
                # A confused or hostile client must not take the listening link down with it.
                log.info("link %s: dropped a client during the handshake: %s", self.name, exc)
                if deadline is not None and time.monotonic() >= deadline:
                    raise LinkTimeout("no peer completed the handshake in time") from exc
                continue
            self._listener.close()
            self._listener = None
            return

    def _activate_connector(self, deadline: float | None) -> None:
        give_up = time.monotonic() + DEFAULT_CONNECT_TIMEOUT if deadline is None else deadline
        while True:
            try:
                sock = connect_socket(self.protocol, self.name, _remaining(give_up) or 0.001)
                break
            except (ConnectionRefusedError, FileNotFoundError) as exc:
                # LinkConnect semantics: the listener may not exist yet; keep trying.
                if time.monotonic() >= give_up:
                    err = LinkTimeout if deadline is not None else LinkError
                    raise err(
                        f"cannot connect to {self.name!r}: {exc}", ErrorCode.WSECONNECT
                    ) from exc
                time.sleep(0.02)
            except OSError as exc:
                raise LinkError(
                    f"cannot connect to {self.name!r}: {exc}", ErrorCode.WSECONNECT
                ) from exc
        self._handshake(sock, self._min_deadline(deadline))

    def _handshake(self, sock: socket.socket, deadline: float) -> None:
        conn = Connection(
            self._role,
            key=self._key,
            connection_id=self._requested_id,
            max_frame_size=self._max_frame_size,
            limits=self._limits,
        )
        try:
            send_all(sock, [conn.data_to_send()])
            while True:
                try:
                    event = conn.next_event()
                finally:
                    out = conn.data_to_send()
                    if out:
                        with contextlib.suppress(LinkError):
                            send_all(sock, [out])
                if isinstance(event, Connected):
                    break
                if isinstance(event, Close):
                    raise LinkClosed(
                        f"the peer closed the link during the handshake "
                        f"({event.reason or 'no reason given'})",
                        ErrorCode.WSEDEAD,
                    )
                if not wait_readable(sock, max(0.0, deadline - time.monotonic())):
                    raise LinkTimeout("the handshake timed out")
                receive_once(sock, conn)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._conn = conn
        self.connection_id = conn.connection_id
        self._active = True
        self._drain()  # frames that arrived together with the handshake
        if self._handler is not None:
            self._start_reader()

    def _ensure_active(self, timeout: float | None = None) -> None:
        if self._closed:
            raise LinkClosed("the link is closed")
        if not self._active:
            self.activate(timeout)

    # -- reading ----------------------------------------------------------------------------

    def _drain(self) -> None:
        """File every complete event the core holds. Caller holds the read lock (or is the
        activating thread)."""
        conn = self._conn
        assert conn is not None
        got_expr = False
        try:
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                if isinstance(event, Expression):
                    self._inbox.append(event.expr)
                    self._received += 1
                    got_expr = True
                elif isinstance(event, UrgentMessage):
                    self._deliver(event)
                elif isinstance(event, Close):
                    self._peer_close = event
                    break
        except LinkError as exc:
            self._fatal = exc
            out = conn.data_to_send()
            if out and self._sock is not None:
                with contextlib.suppress(LinkError), self._wlock:
                    send_all(self._sock, [out])
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
            log.warning("link %s: %s; disconnected", self.name, exc)
            got_expr = True
        # Only a reader thread leaves others waiting on the condition; without one, waiting
        # readers queue on the read lock and find the inbox filled.
        if (got_expr or self._peer_close is not None) and self._reader is not None:
            with self._cond:
                self._cond.notify_all()

    def _deliver(self, message: UrgentMessage) -> None:
        handler = self._handler
        if handler is None:
            self._messages.append(message)
            return
        try:
            handler(message)
        except Exception:
            log.exception("link %s: message handler failed on %s", self.name, message)

    def _pump(self, timeout: float | None) -> bool:
        """Read once (waiting up to ``timeout``; ``None`` = block) and file the events.
        Returns False if nothing was readable. Caller holds the read lock."""
        sock, conn = self._sock, self._conn
        if sock is None or conn is None or self._peer_close or self._fatal or self._closed:
            return False
        if timeout is not None and not wait_readable(sock, timeout):
            return False
        receive_once(sock, conn)
        self._drain()
        return True

    def _dead(self) -> LinkError | None:
        if self._closed:
            return LinkClosed("the link is closed")
        if self._fatal is not None:
            return self._fatal
        if self._peer_close is not None:
            c = self._peer_close
            return LinkClosed(
                f"the peer closed the link ({c.reason or 'no reason'})",
                ErrorCode.WSEDEAD if c.code == ErrorCode.WSEDEAD else ErrorCode.WSECLOSED,
            )
        return None

    def _wait_inbox(self, timeout: float | None) -> None:
        """Return once the inbox is non-empty; raise LinkTimeout or the link's death."""
        if self._closed or not self._active:
            self._ensure_active(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        inbox = self._inbox
        while not inbox:
            if self._closed or self._fatal is not None or self._peer_close is not None:
                dead = self._dead()
                assert dead is not None
                raise dead
            remaining = None if deadline is None else _remaining(deadline)
            if self._reader is not None:
                with self._cond:
                    if not self._inbox and self._dead() is None:
                        self._cond.wait(remaining)
            elif self._rlock.acquire(timeout=-1 if remaining is None else remaining):
                try:
                    if not self._inbox and self._reader is None:
                        self._pump(remaining)
                finally:
                    self._rlock.release()
            if not self._inbox and deadline is not None and time.monotonic() >= deadline:
                raise LinkTimeout("no expression arrived in time")

    def _read_ahead(self) -> None:
        """Pull in whatever has already arrived, without blocking."""
        if self._reader is not None or not self._active or not self._rlock.acquire(False):
            return
        try:
            while self._pump(0.0):
                pass
        finally:
            self._rlock.release()

    def _take_current(self) -> object | None:
        cur = self._current
        if cur is None:
            return None
        if cur.touched and not cur.exhausted:
            raise LocalProtocolError(
                "the current packet is partly read with the token API; finish it or call "
                "new_packet()",
                ErrorCode.WSEGSEQ,
            )
        self._current = None
        return None if cur.touched else cur.expr

    def get(self, timeout: float | None = None) -> object:
        """The next expression (``LinkRead``); blocks up to ``timeout`` seconds.

        Raises:
            LinkTimeout: nothing arrived in time (nothing is lost).
            LinkClosed: the link or its peer closed and every queued expression was read.
            RemoteProtocolError: the peer broke the protocol (after queued expressions).
        """
        if self._loopback:
            return self._loopback_get(timeout)
        pending = self._take_current()
        if pending is not None:
            return pending
        self._wait_inbox(timeout)
        return self._inbox.popleft()

    def get_packet(self, timeout: float | None = None) -> Packet:
        """The next expression as a ``Packet`` (``EvaluatePacket``, ``ReturnPacket``...).

        Raises:
            RemoteProtocolError: (``WSEUNKNOWNPACKET``) the next expression is not a packet;
                it stays queued, so ``get()`` can still read it.
            and as ``get``.
        """
        if self._current is not None and not self._current.touched:
            expr = self._current.expr
            packet = Packet.from_expr(expr)
            self._current = None
            return packet
        self._take_current()
        if self._loopback:
            self._loopback_wait(timeout)
        else:
            self._wait_inbox(timeout)
        packet = Packet.from_expr(self._inbox[0])
        self._inbox.popleft()
        return packet

    def ready(self, timeout: float = 0) -> bool:
        """True if an expression can be read without waiting (``LinkReadyQ``).

        Waits up to ``timeout`` seconds for one. A closed or failed link is "ready" too, since
        reading it raises at once.
        """
        if self._inbox or (self._current is not None and not self._current.exhausted):
            return True
        if not self._active:
            try:
                self.activate(timeout)
            except LinkTimeout:
                return False
        deadline = time.monotonic() + timeout
        while True:
            if self._inbox or self._dead() is not None:
                return True
            remaining = max(0.0, deadline - time.monotonic())
            if self._loopback or self._reader is not None:
                with self._cond:
                    if not self._inbox and self._dead() is None and remaining > 0:
                        self._cond.wait(remaining)
            elif self._rlock.acquire(timeout=remaining):
                try:
                    if not self._inbox:
                        self._pump(remaining)
                finally:
                    self._rlock.release()
            if self._inbox:
                return True
            if time.monotonic() >= deadline:
                return bool(self._inbox) or self._dead() is not None

    # -- writing ----------------------------------------------------------------------------

    def put(self, expr: object) -> None:
        """Send one expression (``LinkWrite``).

        Raises:
            LocalProtocolError: a token-level put sequence is in progress, or ``expr`` cannot
                be encoded (nothing is sent).
            LinkClosed: the link is closed.
        """
        if self._writer.active:
            raise LocalProtocolError(
                "a token-level put sequence is in progress; end_packet() first", ErrorCode.WSEPSEQ
            )
        self._put(expr)

    def _put(self, expr: object) -> None:
        if self._loopback:
            self._loopback_put(wxf.loads(b"".join(encode(expr))))
            return
        document = encode(expr)
        if self._closed or not self._active:
            self._ensure_active()
        conn, sock = self._conn, self._sock
        assert conn is not None and sock is not None
        with self._wlock:
            send_all(sock, conn.wxf_parts(document))

    def put_many(self, *exprs: object) -> None:
        """Send several expressions in order with one write (one system call when they are
        small), as WSTP's buffered puts followed by ``WSFlush`` do.

        Every expression is encoded first, so if one cannot be encoded nothing is sent.

        Raises:
            LocalProtocolError: a token-level put sequence is in progress, or an expression
                cannot be encoded (nothing is sent).
            LinkClosed: the link is closed.
        """
        if self._writer.active:
            raise LocalProtocolError(
                "a token-level put sequence is in progress; end_packet() first", ErrorCode.WSEPSEQ
            )
        if self._loopback:
            # Encode (and decode, as the wire would) every expression before queueing any.
            copies = [wxf.loads(b"".join(encode(expr))) for expr in exprs]
            for copy in copies:
                self._loopback_put(copy)
            return
        documents = [encode(expr) for expr in exprs]
        if not documents:
            return
        if self._closed or not self._active:
            self._ensure_active()
        conn, sock = self._conn, self._sock
        assert conn is not None and sock is not None
        parts: list[Any] = []
        for document in documents:
            parts += conn.wxf_parts(document)
        with self._wlock:
            send_all(sock, parts)

    def put_packet(self, packet: Packet) -> None:
        """Send a packet object, e.g. ``link.put_packet(EvaluatePacket(expr))``."""
        if not isinstance(packet, Packet):
            raise LocalProtocolError(
                f"put_packet needs a Packet, not {type(packet).__name__}", ErrorCode.WSEBADPARAM
            )
        self.put(packet.to_expr())

    def flush(self) -> None:
        """Present for WSTP familiarity; every put is already on its way."""

    # -- urgent messages --------------------------------------------------------------------

    def put_message(self, code: int, arg: int = 0) -> None:
        """Send an urgent message (``WSPutMessage``); it overtakes queued expressions.

        Raises:
            LocalProtocolError: the code is outside 1-12 and 128-255 or ``arg`` outside u32.
        """
        message = UrgentMessage(code=int(code), arg=int(arg))
        if self._loopback:
            if not is_valid_message_code(message.code) or not 0 <= message.arg <= 0xFFFFFFFF:
                raise LocalProtocolError(f"bad urgent message {message}", ErrorCode.WSEBADPARAM)
            self._deliver(message)
            return
        self._ensure_active()
        conn, sock = self._conn, self._sock
        assert conn is not None and sock is not None
        with self._wlock:
            send_all(sock, conn.send_parts(message))

    def get_message(self) -> UrgentMessage | None:
        """The oldest unhandled urgent message, or ``None``; never blocks (``WSGetMessage``).

        Reads ahead of queued expressions, so a message behind them is found too.
        """
        if not self._messages:
            self._read_ahead()
        return self._messages.popleft() if self._messages else None

    def message_ready(self) -> bool:
        """True if ``get_message()`` would return a message (``WSMessageReady``)."""
        if not self._messages:
            self._read_ahead()
        return bool(self._messages)

    def set_message_handler(self, handler: MessageHandler | None) -> None:
        """Call ``handler(message)`` for every urgent message (``WSSetMessageHandler``).

        The handler runs on the link's reader thread as soon as the message arrives, even
        while the owning thread is busy; messages already queued are handed to it at once.
        With a handler installed, messages no longer queue for ``get_message()``.
        """
        self._handler = handler
        if handler is not None:
            while self._messages:
                self._deliver(self._messages.popleft())
            if self._active and not self._loopback:
                self._start_reader()

    def _start_reader(self) -> None:
        with self._cond:
            if self._reader is not None or self._closed:
                return
            self._reader = threading.Thread(
                target=self._reader_loop, daemon=True, name=f"wstp-link-reader {self.name}"
            )
        self._reader.start()

    def _reader_loop(self) -> None:
        while True:
            with self._rlock:
                if self._closed or self._dead() is not None:
                    break
                try:
                    self._pump(None)
                except Exception:  # never let the reader die silently
                    log.exception("link %s: reader failed", self.name)
                    break
        with self._cond:
            self._cond.notify_all()

    # -- loopback ---------------------------------------------------------------------------

    def _loopback_put(self, expr: object) -> None:
        if self._closed:
            raise LinkClosed("the link is closed")
        with self._cond:
            self._inbox.append(expr)
            self._received += 1
            self._cond.notify_all()

    def _loopback_wait(self, timeout: float | None) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._inbox or self._closed, timeout):
                raise LinkTimeout("the loopback link is empty")
        if not self._inbox:
            raise LinkClosed("the link is closed")

    def _loopback_get(self, timeout: float | None) -> object:
        pending = self._take_current()
        if pending is not None:
            return pending
        self._loopback_wait(timeout)
        return self._inbox.popleft()

    # -- life -------------------------------------------------------------------------------

    @property
    def received(self) -> int:
        """How many expressions have arrived on this link so far, read or not (it only grows).

        Urgent messages are handled in wire order with the expressions around them: while a
        message handler runs, ``received`` already counts every expression the peer sent
        before that message. A handler compares it with what its reader has taken to learn
        whether a request it has not read yet came first (an abort sent right after a request
        must reach that request).
        """
        return self._received

    @property
    def is_loopback(self) -> bool:
        """True for a loopback link."""
        return self._loopback

    @property
    def active(self) -> bool:
        """True once the handshake completed (and until the link is closed)."""
        return self._active and not self._closed

    @property
    def closed(self) -> bool:
        """True after ``close()``, or once the peer is gone and nothing is left to read."""
        return self._closed or (not self._inbox and self._dead() is not None)

    def fileno(self) -> int:
        """The socket's descriptor (for ``select``), or -1 before activation."""
        return self._sock.fileno() if self._sock is not None else -1

    def close(self) -> None:
        """Close the link (``LinkClose``); the peer sees ``LinkClosed``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        sock, conn = self._sock, self._conn
        if sock is not None and conn is not None:
            if self._wlock.acquire(timeout=1.0):
                try:
                    if self._fatal is None and self._peer_close is None:
                        send_all(sock, conn.send_parts(Close(code=0, reason="closed")))
                except LinkError:
                    pass
                finally:
                    self._wlock.release()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2.0)
        if sock is not None:
            sock.close()
        if self._pending_sock is not None:
            self._pending_sock.close()
        if self._listener is not None:
            self._listener.close()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "active" if self._active else "inactive"
        return f"<Link {self.protocol.value} {self.name!r} {state}>"


def wait_ready(links: Iterable[Link], timeout: float | None = None) -> list[Link]:
    """The links that have an expression ready, waiting up to ``timeout`` seconds for one
    (``LinkReadyQ`` over several links). Returns ``[]`` on timeout."""
    group = list(links)
    deadline = None if timeout is None else time.monotonic() + timeout
    import select

    while True:
        ready = [link for link in group if link.ready(0)]
        if ready:
            return ready
        remaining = _remaining(deadline)
        if remaining == 0:
            return []
        fds = [
            link.fileno()
            for link in group
            if link._reader is None and not link._loopback and link.fileno() >= 0
        ]
        # Links read by their own thread (or loopbacks) have no descriptor to wait on; poll.
        polled = len(fds) < len(group)
        slice_ = 0.005 if polled else remaining
        if slice_ is not None and remaining is not None:
            slice_ = min(slice_, remaining)
        if fds:
            select.select(fds, [], [], slice_)
        else:
            time.sleep(slice_ or 0.005)


def channel(
    protocol: Protocol | str = Protocol.IntraProcess,
    *,
    key: bytes | str | None = None,
    timeout: float = 10.0,
) -> tuple[Link, Link]:
    """Two connected, active links (the listening end first), as wstp-rs ``channel``.

    Raises:
        LocalProtocolError: ``Loopback`` (a loopback link is one object: ``Link.loopback()``).
    """
    proto = Protocol.parse(protocol)
    if proto is Protocol.Loopback:
        raise LocalProtocolError(
            "a loopback link has one end; use Link.loopback()", ErrorCode.WSEBADPARAM
        )
    a = Link.listen(proto, None, key=key)
    b = Link.connect(proto, a.name, key=key)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            a.activate(timeout)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="wstp-channel")
    thread.start()
    try:
        b.activate(timeout)
    finally:
        thread.join()
    if failure:
        b.close()
        a.close()
        raise failure[0]
    return a, b


__all__ = ["KEY_ENV", "Link", "channel", "wait_ready"]

_ = (RemoteProtocolError,)
