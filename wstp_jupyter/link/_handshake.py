"""Opening a blocking link: finding the peer and running the core's handshake on a socket.

``connect_peer`` keeps trying a listener that does not exist yet (``LinkConnect`` semantics) until
its deadline; ``handshake`` runs the exchange itself on one socket and ``advance`` takes it one
step without waiting (the listening side, ``_accepting.Acceptor``, runs many at once with it).
The socket's ``Connection`` may already hold frames that arrived together with the handshake.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable

from wstp_jupyter.link._connection import Connection
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LinkClosed, LinkError, LinkTimeout
from wstp_jupyter.link._events import Close, Connected
from wstp_jupyter.link._names import Protocol
from wstp_jupyter.link._transport import (
    connect_socket,
    receive_once,
    send_all,
    wait_readable,
)

DEFAULT_HANDSHAKE_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 10.0

Opened = tuple[socket.socket, Connection]


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (``None``: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def advance(sock: socket.socket, conn: Connection) -> bool:
    """Take the handshake of ``conn`` as far as the bytes it holds allow, sending what the core
    has to say; True once ``Connected``. Never waits.

    Raises:
        AuthenticationError: the keys differ.
        LinkClosed: (``WSEDEAD``) the peer closed the link during the handshake.
        LinkError: the peer broke the protocol.
    """
    try:
        event = conn.next_event()
    finally:
        out = conn.data_to_send()
        if out:
            with contextlib.suppress(LinkError):
                send_all(sock, [out])
    if isinstance(event, Connected):
        return True
    if isinstance(event, Close):
        raise LinkClosed(
            f"the peer closed the link during the handshake "
            f"({event.reason or 'no reason given'})",
            ErrorCode.WSEDEAD,
        )
    return False


def handshake(sock: socket.socket, conn: Connection, deadline: float) -> None:
    """Run the handshake of ``conn`` over ``sock`` until ``Connected``; the socket is closed on
    failure.

    Raises:
        LinkTimeout: not done by ``deadline``.
        AuthenticationError: the keys differ.
        LinkClosed: (``WSEDEAD``) the peer closed the link during the handshake.
        LinkError: the peer broke the protocol.
    """
    try:
        send_all(sock, [conn.data_to_send()])
        while not advance(sock, conn):
            if not wait_readable(sock, max(0.0, deadline - time.monotonic())):
                raise LinkTimeout("the handshake timed out")
            receive_once(sock, conn)
    except BaseException:
        sock.close()
        raise


def connect_peer(
    protocol: Protocol,
    name: str,
    conn: Connection,
    *,
    handshake_timeout: float,
    deadline: float | None,
    should_stop: Callable[[], bool] = lambda: False,
    on_socket: Callable[[socket.socket | None], None] = lambda sock: None,
) -> socket.socket:
    """Connect to the listener ``name`` (waiting for it to appear) and run the handshake.

    ``on_socket`` is told the socket while the handshake runs (and ``None`` after), so that
    ``close()`` from another thread can cut a background activation short.

    Raises:
        LinkTimeout: (``WSECONNECT``) nobody listened by ``deadline``; or the handshake timed out.
        LinkError: (``WSECONNECT``) nobody listened within the default connect timeout (no
            deadline given), or the name cannot be reached.
        LinkClosed: ``should_stop()`` became true (the link was closed).
    """
    give_up = time.monotonic() + DEFAULT_CONNECT_TIMEOUT if deadline is None else deadline
    while True:
        if should_stop():
            raise LinkClosed("the link is closed")
        try:
            sock = connect_socket(protocol, name, remaining(give_up) or 0.001)
            break
        except (ConnectionRefusedError, FileNotFoundError) as exc:
            # LinkConnect semantics: the listener may not exist yet; keep trying.
            if time.monotonic() >= give_up:
                err = LinkTimeout if deadline is not None else LinkError
                raise err(f"cannot connect to {name!r}: {exc}", ErrorCode.WSECONNECT) from exc
            time.sleep(0.02)
        except OSError as exc:
            raise LinkError(f"cannot connect to {name!r}: {exc}", ErrorCode.WSECONNECT) from exc
    hs_deadline = time.monotonic() + handshake_timeout
    on_socket(sock)
    try:
        handshake(sock, conn, hs_deadline if deadline is None else min(hs_deadline, deadline))
    finally:
        on_socket(None)
    return sock
