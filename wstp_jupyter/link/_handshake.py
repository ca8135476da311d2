"""Opening a blocking link: finding the peer and running the core's handshake on a socket.

``connect_peer`` keeps trying a listener that does not exist yet (``LinkConnect`` semantics) until
its deadline; ``accept_peer`` accepts connections until one completes the handshake, dropping
clients that send garbage or stay silent (a wrong key is the caller's to see, so it is raised);
``handshake`` runs the exchange itself. Each returns the socket and the ``Connection``, which may
already hold frames that arrived together with the handshake.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable

from wstp_jupyter.link._connection import Connection
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import AuthenticationError, LinkClosed, LinkError, LinkTimeout
from wstp_jupyter.link._events import Close, Connected
from wstp_jupyter.link._names import Protocol
from wstp_jupyter.link._transport import (
    Listener,
    connect_socket,
    receive_once,
    send_all,
    wait_readable,
)

log = logging.getLogger("wstp_jupyter.link")

DEFAULT_HANDSHAKE_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 10.0

Opened = tuple[socket.socket, Connection]


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (``None``: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


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
        while True:
            try:
                event = conn.next_event()
            finally:
                out = conn.data_to_send()
                if out:
                    with contextlib.suppress(LinkError):
                        send_all(sock, [out])
            if isinstance(event, Connected):
                return
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


def accept_peer(
    listener: Listener,
    new_connection: Callable[[], Connection],
    *,
    name: str,
    handshake_timeout: float,
    deadline: float | None,
) -> Opened:
    """Accept until a client completes the handshake.

    The caller's deadline bounds the wait for a peer, not a handshake that has already started:
    cutting that short would drop a peer that is merely slow (a kernel starting under load).

    Raises:
        LinkTimeout: no peer completed the handshake by ``deadline``.
        AuthenticationError: a client's key differs (the listener stays open).
    """
    while True:
        sock = listener.accept(remaining(deadline))
        conn = new_connection()
        try:
            handshake(sock, conn, time.monotonic() + handshake_timeout)
        except AuthenticationError:
            raise
        except LinkError as exc:
            # A confused or hostile client must not take the listening link down with it.
            log.info("link %s: dropped a client during the handshake: %s", name, exc)
            if deadline is not None and time.monotonic() >= deadline:
                raise LinkTimeout("no peer completed the handshake in time") from exc
            continue
        return sock, conn


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
