"""What a link has received and not handed out yet: the one inbox of ``Link`` and ``AsyncLink``.

Sans-IO, like the ``Connection`` it drains: the I/O adapters feed bytes to the core, call
``file(conn)`` and take expressions out; the inbox never waits, reads or writes. It is the single
place for what every adapter used to spell out for itself:

* expressions in arrival order, and ``received``, how many have arrived (read or not); an
  expression the core dropped for breaking a receiver limit keeps its place as a marker, and
  the read that reaches it raises ``LimitExceeded`` (the link goes on);
* urgent messages: handed to the message handler the moment they are filed (before any
  expression behind them is handed out), else queued with their position in the stream, so that
  ``take_message()`` lets a message overtake queued expressions while ``next_in_order()`` keeps
  wire order for a relay;
* how the link ended, and the one error that says so (``dead()``): closed on this side
  (``WSECLOSED``), closed by the peer (``WSECLOSED`` for an orderly CLOSE, ``WSEDEAD`` when the
  stream just ended), or broken by a protocol error (the ``RemoteProtocolError`` itself). The
  error is raised only once every queued expression has been read.
"""

from __future__ import annotations

import types
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from wstp_jupyter.link._connection import Connection
from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LimitExceeded, LinkClosed, LinkError
from wstp_jupyter.link._events import (
    NEED_DATA,
    Close,
    Connected,
    Expression,
    ExpressionDropped,
    UrgentMessage,
)
from wstp_jupyter.link._packets import Packet, packet_from_peer

MessageHandler = Callable[[UrgentMessage], Any]
#: How an adapter runs a handler: ``call(handler, message)`` (it logs a failing handler, and
#: the asyncio adapter schedules a coroutine the handler returns).
HandlerCall = Callable[[MessageHandler, UrgentMessage], None]


class _Dropped:
    """The place of an expression that was dropped for breaking a receiver limit."""

    __slots__ = ("event",)

    def __init__(self, event: ExpressionDropped) -> None:
        self.event = event

    def error(self) -> LimitExceeded:
        event = self.event
        return LimitExceeded(
            f"{event.reason}; the expression was dropped and the link goes on",
            event.code,
            head=event.head,
        )


class Inbox:
    """Received expressions and messages, and the state of the link's end; see the module doc."""

    def __init__(self, call: HandlerCall) -> None:
        self.expressions: deque[object] = deque()
        #: Expressions that have arrived so far (it only grows).
        self.received = 0
        #: Expressions handed out so far.
        self.taken = 0
        self.handler: MessageHandler | None = None
        #: The handshake's ``Connected`` event, once filed.
        self.connected: Connected | None = None
        self.peer_close: Close | None = None
        self.fatal: LinkError | None = None
        self.closed = False
        self._messages: deque[tuple[int, UrgentMessage]] = deque()
        # The adapter passes one of its own methods; holding it weakly keeps the pair free of a
        # reference cycle, so a closed link (and its receive buffer) goes back at once instead
        # of waiting for the cyclic garbage collector (a server with many short-lived links
        # would grow by megabytes between collections).
        if isinstance(call, types.MethodType):
            method = weakref.WeakMethod(call)

            def weak_call(handler: MessageHandler, message: UrgentMessage) -> None:
                bound = method()
                if bound is not None:
                    bound(handler, message)

            self._call: HandlerCall = weak_call
        else:
            self._call = call

    # -- filing ----------------------------------------------------------------------------

    def file(self, conn: Connection) -> bool:
        """File every complete event ``conn`` holds.

        Returns:
            True if a waiting reader should wake: an expression arrived, a message was queued,
            or the link ended.

        Raises:
            LinkError: the peer broke the protocol (it is kept as ``fatal``; the core has queued
                the CLOSE that tells the peer why in ``conn.data_to_send()``).
        """
        if self.peer_close is not None or self.fatal is not None:
            return False
        woke = False
        expressions = self.expressions
        try:
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    return woke
                if event.__class__ is Expression:
                    expressions.append(event.expr)
                    self.received += 1
                    woke = True
                elif isinstance(event, ExpressionDropped):
                    expressions.append(_Dropped(event))
                    self.received += 1
                    woke = True
                elif isinstance(event, UrgentMessage):
                    woke = self.deliver(event) or woke
                elif isinstance(event, Connected):
                    self.connected = event
                elif isinstance(event, Close):
                    self.peer_close = event
                    return True
        except LinkError as exc:
            self.fatal = exc
            raise

    def push(self, expr: object) -> None:
        """File an expression that did not come through a ``Connection`` (a loopback link)."""
        self.expressions.append(expr)
        self.received += 1

    def deliver(self, message: UrgentMessage) -> bool:
        """Hand ``message`` to the handler, or queue it at its place in the stream (then the
        result is True: a reader of ``next_in_order`` may wake)."""
        handler = self.handler
        if handler is None:
            self._messages.append((self.received, message))
            return True
        self._call(handler, message)
        return False

    def set_handler(self, handler: MessageHandler | None) -> None:
        """Install (or remove) the handler; messages already queued are handed to it now."""
        self.handler = handler
        if handler is not None:
            while self._messages:
                self._call(handler, self._messages.popleft()[1])

    # -- taking ----------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True if taking would not wait: an expression is queued, or the link has ended."""
        return bool(self.expressions) or self.dead() is not None

    def take(self) -> object:
        """The oldest expression.

        Raises:
            LimitExceeded: the oldest one was dropped for breaking a receiver limit (it is
                taken: the next call returns the one after it).
            LinkError: none is queued and the link has ended (see ``dead``).
            IndexError: none is queued yet (the adapter waits and tries again).
        """
        if not self.expressions:
            dead = self.dead()
            if dead is not None:
                raise dead
        expr = self.expressions.popleft()
        self.taken += 1
        if isinstance(expr, _Dropped):
            raise expr.error()
        return expr

    def take_packet(self) -> Packet:
        """The oldest expression as a ``Packet``; an expression that is no packet stays queued.

        Raises:
            RemoteProtocolError: (``WSEUNKNOWNPACKET``) it is not a packet.
            and as ``take`` (a dropped expression is taken).
        """
        if not self.expressions or self.expressions[0].__class__ is _Dropped:
            self.take()  # raises the link's end, a dropped expression, or IndexError
        packet = packet_from_peer(self.expressions[0])
        self.expressions.popleft()
        self.taken += 1
        return packet

    def take_message(self) -> UrgentMessage | None:
        """The oldest queued message, ahead of any queued expression; ``None`` if there is none."""
        return self._messages.popleft()[1] if self._messages else None

    @property
    def has_message(self) -> bool:
        return bool(self._messages)

    def next_in_order(self) -> Expression | UrgentMessage | None:
        """The next expression or queued message in wire order (for relays), or ``None``.

        Raises:
            LimitExceeded: the next expression was dropped (as ``take``).
            LinkError: nothing is queued and the link has ended.
        """
        if self._messages and self._messages[0][0] <= self.taken:
            return self._messages.popleft()[1]
        if self.expressions or self.dead() is not None:
            return Expression(expr=self.take())
        return None

    # -- the end ---------------------------------------------------------------------------

    def dead(self) -> LinkError | None:
        """The error that reading raises once the queue is empty, or ``None`` while alive."""
        if self.closed:
            return LinkClosed("the link is closed")
        if self.fatal is not None:
            return self.fatal
        close = self.peer_close
        if close is not None:
            return LinkClosed(
                f"the peer closed the link ({close.reason or 'no reason given'})",
                ErrorCode.WSEDEAD if close.code == ErrorCode.WSEDEAD else ErrorCode.WSECLOSED,
            )
        return None

    def write_error(self) -> LinkClosed | None:
        """The error a write raises on a link that has ended (always a ``LinkClosed``)."""
        dead = self.dead()
        if dead is None or isinstance(dead, LinkClosed):
            return dead
        return LinkClosed(f"the link is down: {dead.args[0]}", ErrorCode.WSEDEAD)

    @property
    def exhausted(self) -> bool:
        """True once the link has ended and every expression has been read."""
        return not self.expressions and self.dead() is not None
