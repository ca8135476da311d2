"""The blocking ``Link``: a thin I/O adapter between a socket and the sans-IO core.

Reading is done by whoever needs data: ``get()``, ``ready()`` and ``get_message()`` pull bytes
from the socket into the ``Connection`` under a read lock and let the ``Inbox`` file the events
(expressions queue, urgent messages go to the handler or their own queue). That keeps the common
path free of thread hand-offs. Once a message handler is installed, a reader thread takes over all
reading, so the handler runs as soon as a message arrives, even while the owning thread is busy
evaluating; ``get()`` then waits on a condition instead. Either way every byte is parsed in
arrival order, so an urgent message is seen before any expression queued behind it is handed out.

Writes go straight out under a write lock: a frame is one ``sendall`` (``sendmsg`` for big
payloads, so an 80 MB array is not copied to join it with its header). A write on a connecting
link that is not active yet does not wait for the peer: it is queued, the link activates on a
thread of its own and sends the queue once the handshake is done (WSTP also buffers output until
the link connects), so a program may connect, write and only then serve the listening end.

Opening (accepting, connecting, the handshake) is in ``_handshake``; ``channel`` and
``wait_ready`` in ``_links``; the loopback link, which has no socket, is ``_loopback``'s
``LoopbackLink`` and launching a peer is ``_launch``. Those two build on ``Link``, so rather than
this module importing them back, each registers itself here (````_REGISTERED``) when
the package is imported; ``Link.loopback()`` and ``Link.launch()`` use what was registered.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from wstp_jupyter import wxf
from wstp_jupyter.link._accepting import Acceptor, RejectCallback
from wstp_jupyter.link._connection import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_FRAME_SIZE,
    Connection,
    check_message,
    encode,
)
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LinkClosed, LinkError, LinkTimeout, LocalProtocolError
from wstp_jupyter.link._events import Close, UrgentMessage
from wstp_jupyter.link._handshake import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HANDSHAKE_TIMEOUT,
    connect_peer,
    handshake,
    remaining,
)
from wstp_jupyter.link._inbox import Inbox, MessageHandler
from wstp_jupyter.link._names import Protocol
from wstp_jupyter.link._packets import Packet
from wstp_jupyter.link._state import Role
from wstp_jupyter.link._token_api import TokenAPI
from wstp_jupyter.link._tokens import TokenWriter
from wstp_jupyter.link._transport import (
    Listener,
    open_listener,
    receive_once,
    send_all,
    wait_readable,
)

log = logging.getLogger("wstp_jupyter.link")

KEY_ENV = "WSTP_JUPYTER_LINK_KEY"

#: ``"loopback"``: the ``LoopbackLink`` class; ``"launch"``: ``_launch.launch`` (see the module
#: docstring: they build on ``Link`` and register themselves here).
_REGISTERED: dict[str, Any] = {}

#: What waits in the outbox of a link that activates in the background: encoded documents
#: (lists of chunks) and urgent messages.
_Outgoing = list[Any] | UrgentMessage

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_HANDSHAKE_TIMEOUT", "KEY_ENV", "Link"]


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
        on_reject: RejectCallback | None = None,
    ) -> None:
        self.protocol = _protocol
        self.name = _name
        self.connection_id: uuid.UUID | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._listener = _listener
        self._acceptor: Acceptor | None = None
        self._on_reject = on_reject
        self._pending_sock = _sock
        self._role = _role
        self._key = key
        self._requested_id = connection_id
        self._max_frame_size = max_frame_size
        self._limits = limits
        # What is written must be readable by the peer (Connection.send_max_depth).
        self._max_depth = max(DEFAULT_MAX_DEPTH, limits.max_depth if limits else 0)
        self._handshake_timeout = handshake_timeout
        self._sock: socket.socket | None = None
        self._conn: Connection | None = None
        self._active = False
        self._inbox = Inbox(self._call_handler)
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition(threading.Lock())
        self._rlock = threading.Lock()
        self._wlock = threading.Lock()
        self._alock = threading.Lock()
        self._writer = TokenWriter()
        self._current = None
        # Background activation of a connecting link written to before it was active.
        self._outbox: list[_Outgoing] = []
        self._activator: threading.Thread | None = None
        self._activation_error: LinkError | None = None
        self._opening_sock: socket.socket | None = None

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
            **options: ``max_frame_size``, ``limits`` (``wxf.Limits``), ``handshake_timeout``
                (seconds each connecting client has to complete its handshake; they run
                concurrently), ``on_reject`` (``fn(peer, error)``, told of every connection
                dropped before it became the peer).

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

        Returns at once; the connection and handshake happen in ``activate()``, the first read,
        or in the background after the first write. ``connection_id`` is presented to the
        listener (a link-server client that reconnects passes its previous id); by default a
        fresh UUID is used.
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
        return _REGISTERED["loopback"]()

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
        launch = _REGISTERED["launch"]
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

        A listening link accepts every connection as it arrives and runs their handshakes
        concurrently: the first that completes becomes the peer and the others are closed with
        the reason. A client that sends garbage or stays silent past the handshake timeout is
        dropped (and reported to ``on_reject``, an option of ``listen``) without delaying
        anyone; handshakes still in progress when ``timeout`` expires go on at the next call.

        Raises:
            LinkTimeout: not active within ``timeout`` seconds.
            AuthenticationError: a client's key differs (the listening link keeps listening,
                and other clients' handshakes go on).
            LinkClosed: the link was closed.
            LinkError: a background activation (after a write) failed; it is raised again by
                every later call.
        """
        if self._active:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._alock.acquire(timeout=-1 if timeout is None else timeout):
            raise LinkTimeout("another thread is activating this link")
        try:
            if self._active:
                return
            if self._inbox.closed:
                raise LinkClosed("the link is closed")
            if self._activation_error is not None:
                raise self._activation_error
            self._open(deadline)
        finally:
            self._alock.release()

    def _new_connection(self) -> Connection:
        return Connection(
            self._role,
            key=self._key,
            connection_id=self._requested_id,
            max_frame_size=self._max_frame_size,
            limits=self._limits,
        )

    def _open(self, deadline: float | None) -> None:
        if self._pending_sock is not None:
            sock, self._pending_sock = self._pending_sock, None
            conn = self._new_connection()
            hs = time.monotonic() + self._handshake_timeout
            handshake(sock, conn, hs if deadline is None else min(hs, deadline))
        elif self._listener is not None:
            if self._acceptor is None:
                self._acceptor = Acceptor(
                    self._listener,
                    self._new_connection,
                    name=self.name,
                    handshake_timeout=self._handshake_timeout,
                    on_reject=self._on_reject,
                )
            sock, conn = self._acceptor.run(deadline)
            self._acceptor = None
            self._listener.close()
            self._listener = None
        else:
            conn = self._new_connection()
            sock = connect_peer(
                self.protocol,
                self.name,
                conn,
                handshake_timeout=self._handshake_timeout,
                deadline=deadline,
                should_stop=lambda: self._inbox.closed,
                on_socket=self._set_opening_sock,
            )
        self._sock, self._conn = sock, conn
        self.connection_id = conn.connection_id
        self._file()  # frames that arrived together with the handshake
        with self._wlock:
            outbox, self._outbox = self._outbox, []
            if outbox:
                try:
                    send_all(sock, self._frames(conn, outbox))
                except LinkError as exc:
                    log.info("link %s: queued output not sent: %s", self.name, exc)
            self._active = True
        if self._inbox.handler is not None:
            self._start_reader()

    def _set_opening_sock(self, sock: socket.socket | None) -> None:
        self._opening_sock = sock

    def _activate_in_background(self) -> None:
        try:
            self.activate()
        except LinkError as exc:
            if not self._inbox.closed:
                log.info("link %s: cannot activate: %s", self.name, exc)
                self._activation_error = exc
            with self._wlock:
                self._outbox.clear()
            with self._cond:
                self._cond.notify_all()

    def _ensure_active(self, timeout: float | None = None) -> None:
        if self._inbox.closed:
            raise LinkClosed("the link is closed")
        if not self._active:
            self.activate(timeout)

    # -- reading ----------------------------------------------------------------------------

    def _file(self) -> None:
        """File every complete event the core holds. Caller holds the read lock (or is the
        activating thread)."""
        conn = self._conn
        assert conn is not None
        try:
            woke = self._inbox.file(conn)
        except LinkError as exc:
            woke = True
            out = conn.data_to_send()  # the CLOSE that tells the peer why
            if out and self._sock is not None:
                with contextlib.suppress(LinkError), self._wlock:
                    send_all(self._sock, [out])
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
            # The next read raises it to the owner; no warning of the library's own.
            log.info("link %s: %s; disconnected", self.name, exc)
        # Only a reader thread leaves others waiting on the condition; without one, waiting
        # readers queue on the read lock and find the inbox filled.
        if woke and self._reader is not None:
            with self._cond:
                self._cond.notify_all()

    def _call_handler(self, handler: MessageHandler, message: UrgentMessage) -> None:
        try:
            handler(message)
        except Exception:
            log.exception("link %s: message handler failed on %s", self.name, message)

    def _pump(self, timeout: float | None) -> bool:
        """Read once (waiting up to ``timeout``; ``None`` = block) and file the events.
        Returns False if nothing was readable. Caller holds the read lock."""
        sock, conn = self._sock, self._conn
        if sock is None or conn is None or self._inbox.dead() is not None:
            return False
        if timeout is not None and not wait_readable(sock, timeout):
            return False
        receive_once(sock, conn)
        self._file()
        return True

    def _wait_inbox(self, timeout: float | None) -> None:
        """Return once an expression is queued; raise LinkTimeout or the link's end."""
        inbox = self._inbox
        if inbox.expressions:
            return
        self._ensure_active(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not inbox.expressions:
            dead = inbox.dead()
            if dead is not None:
                raise dead
            left = remaining(deadline)
            if self._reader is not None:
                with self._cond:
                    if not inbox.expressions and inbox.dead() is None:
                        self._cond.wait(left)
            elif self._rlock.acquire(timeout=-1 if left is None else left):
                try:
                    if not inbox.expressions and self._reader is None:
                        self._pump(left)
                finally:
                    self._rlock.release()
            if not inbox.expressions and deadline is not None and time.monotonic() >= deadline:
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

    def get(self, timeout: float | None = None) -> object:
        """The next expression (``LinkRead``); blocks up to ``timeout`` seconds.

        Raises:
            LinkTimeout: nothing arrived in time (nothing is lost).
            LinkClosed: the link or its peer closed and every queued expression was read.
            LimitExceeded: the next expression broke this side's ``limits`` and was dropped;
                the link stays usable and the following read returns the one after it.
            RemoteProtocolError: the peer broke the protocol (after queued expressions).
        """
        if self._current is not None and self._take_current():
            return self._current_expr()
        self._wait_inbox(timeout)
        return self._inbox.take()

    def get_packet(self, timeout: float | None = None) -> Packet:
        """The next expression as a ``Packet`` (``EvaluatePacket``, ``ReturnPacket``...).

        Raises:
            RemoteProtocolError: (``WSEUNKNOWNPACKET``) the next expression is not a packet;
                it stays queued, so ``get()`` can still read it.
            and as ``get``.
        """
        if self._current is not None and self._take_current():
            return self._current_packet()
        self._wait_inbox(timeout)
        return self._inbox.take_packet()

    def ready(self, timeout: float = 0) -> bool:
        """True if an expression can be read without waiting (``LinkReadyQ``).

        Waits up to ``timeout`` seconds for one. A closed or failed link is "ready" too, since
        reading it raises at once.
        """
        inbox = self._inbox
        if inbox.expressions or (self._current is not None and not self._current.exhausted):
            return True
        if not self._active:
            try:
                self.activate(timeout)
            except LinkTimeout:
                return False
            except LinkError:
                return True
        deadline = time.monotonic() + timeout
        while True:
            if inbox.ready:
                return True
            left = max(0.0, deadline - time.monotonic())
            if self._reader is not None:
                with self._cond:
                    if not inbox.ready and left > 0:
                        self._cond.wait(left)
            elif self._rlock.acquire(timeout=left):
                try:
                    if not inbox.expressions:
                        self._pump(left)
                finally:
                    self._rlock.release()
            if inbox.expressions:
                return True
            if time.monotonic() >= deadline:
                return inbox.ready

    # -- writing ----------------------------------------------------------------------------

    def put(self, expr: object) -> None:
        """Send one expression (``LinkWrite``).

        Raises:
            LocalProtocolError: a token-level put sequence is in progress, ``expr`` cannot
                be encoded, or the peer would drop it: nested deeper than its ``max_depth``
                (``WSEDEPTH``; the default 1024, or this link's own ``limits`` if higher), or
                larger than its frame limit (``WSEPBIG``, likewise). Nothing is sent; the
                link stays usable.
            LinkClosed: the link is closed.
        """
        if self._writer.active:
            raise LocalProtocolError(
                "a token-level put sequence is in progress; end_packet() first", ErrorCode.WSEPSEQ
            )
        self._put(expr)

    def _put(self, expr: object) -> None:
        document = encode(expr, self._max_depth)
        conn, sock = self._conn, self._sock
        if conn is None or sock is None or not self._active or self._inbox.dead() is not None:
            self._write([document])
            return
        parts = conn.wxf_parts(document)
        with self._wlock:
            send_all(sock, parts)

    def put_many(self, *exprs: object) -> None:
        """Send several expressions in order with one write (one system call when they are
        small), as WSTP's buffered puts followed by ``WSFlush`` do.

        Every expression is encoded first, so if one cannot be encoded nothing is sent.

        Raises:
            LocalProtocolError: a token-level put sequence is in progress, or an expression
                cannot be encoded or is beyond the peer's limits (as ``put``; nothing is sent).
            LinkClosed: the link is closed.
        """
        if self._writer.active:
            raise LocalProtocolError(
                "a token-level put sequence is in progress; end_packet() first", ErrorCode.WSEPSEQ
            )
        documents: list[_Outgoing] = [encode(expr, self._max_depth) for expr in exprs]
        if documents:
            self._write(documents)

    def _write(self, items: list[_Outgoing]) -> None:
        """Send encoded documents and messages in order, or queue them while a connecting link
        activates in the background."""
        if not self._active:
            if self._inbox.closed:
                raise LinkClosed("the link is closed")
            if self._activation_error is not None:
                raise self._activation_error
            if self._role is Role.CONNECTOR:
                with self._wlock:
                    if not self._active:
                        self._outbox += items
                        if self._activator is None:
                            self._activator = threading.Thread(
                                target=self._activate_in_background,
                                daemon=True,
                                name=f"wstp-link-activate {self.name}",
                            )
                            self._activator.start()
                        return
            else:
                self.activate()
        error = self._inbox.write_error()
        if error is not None:
            raise error
        conn, sock = self._conn, self._sock
        assert conn is not None and sock is not None
        parts = self._frames(conn, items)
        with self._wlock:
            send_all(sock, parts)

    @staticmethod
    def _frames(conn: Connection, items: list[_Outgoing]) -> list[Any]:
        parts: list[Any] = []
        for item in items:
            if isinstance(item, UrgentMessage):
                parts += conn.send_parts(item)
            else:
                parts += conn.wxf_parts(item)
        return parts

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
            LinkClosed: the link is closed.
        """
        message = UrgentMessage(code=int(code), arg=int(arg))
        check_message(message)
        self._write([message])

    def get_message(self) -> UrgentMessage | None:
        """The oldest unhandled urgent message, or ``None``; never blocks (``WSGetMessage``).

        Reads ahead of queued expressions, so a message behind them is found too.
        """
        if not self._inbox.has_message:
            self._read_ahead()
        return self._inbox.take_message()

    def message_ready(self) -> bool:
        """True if ``get_message()`` would return a message (``WSMessageReady``)."""
        if not self._inbox.has_message:
            self._read_ahead()
        return self._inbox.has_message

    def set_message_handler(self, handler: MessageHandler | None) -> None:
        """Call ``handler(message)`` for every urgent message (``WSSetMessageHandler``).

        The handler runs on the link's reader thread as soon as the message arrives, even
        while the owning thread is busy; messages already queued are handed to it at once.
        With a handler installed, messages no longer queue for ``get_message()``.
        """
        self._inbox.set_handler(handler)
        if handler is not None and self._active:
            self._start_reader()

    def _start_reader(self) -> None:
        with self._cond:
            if self._reader is not None or self._inbox.closed:
                return
            self._reader = threading.Thread(
                target=self._reader_loop, daemon=True, name=f"wstp-link-reader {self.name}"
            )
        self._reader.start()

    def _reader_loop(self) -> None:
        while True:
            with self._rlock:
                if self._inbox.dead() is not None:
                    break
                try:
                    self._pump(None)
                except Exception:  # never let the reader die silently
                    log.exception("link %s: reader failed", self.name)
                    break
        with self._cond:
            self._cond.notify_all()

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
        return self._inbox.received

    @property
    def is_loopback(self) -> bool:
        """True for a loopback link."""
        return False

    @property
    def active(self) -> bool:
        """True once the handshake completed (and until the link is closed)."""
        return self._active and not self._inbox.closed

    @property
    def closed(self) -> bool:
        """True after ``close()``, or once the peer is gone and nothing is left to read."""
        return self._inbox.closed or self._inbox.exhausted

    def fileno(self) -> int:
        """The socket's descriptor (for ``select``), or -1 before activation."""
        return self._sock.fileno() if self._sock is not None else -1

    def _select_fd(self) -> int:
        """The descriptor ``wait_ready`` may wait on, or -1 when another thread reads it."""
        return -1 if self._reader is not None else self.fileno()

    def close(self) -> None:
        """Close the link (``LinkClose``); the peer sees ``LinkClosed``. Idempotent."""
        if self._inbox.closed:
            return
        peer_gone = self._inbox.dead() is not None
        self._inbox.closed = True
        sock, conn = self._sock, self._conn
        if sock is not None and conn is not None:
            if self._wlock.acquire(timeout=1.0):
                try:
                    if not peer_gone:
                        send_all(sock, conn.send_parts(Close(code=0, reason="closed")))
                except LinkError:
                    pass
                finally:
                    self._wlock.release()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        opening = self._opening_sock
        if opening is not None:  # a background activation: cut its handshake short
            with contextlib.suppress(OSError):
                opening.shutdown(socket.SHUT_RDWR)
        for thread in (self._reader, self._activator):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=2.0)
        if sock is not None:
            sock.close()
        if self._pending_sock is not None:
            self._pending_sock.close()
        if self._acceptor is not None:
            self._acceptor.shutdown()
        if self._listener is not None:
            self._listener.close()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._inbox.closed else "active" if self._active else "inactive"
        return f"<Link {self.protocol.value} {self.name!r} {state}>"
