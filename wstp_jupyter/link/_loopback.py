"""The loopback link (``WSLoopbackOpen``): one object, what is put is got back, FIFO.

It has no socket and no peer, so it is a ``Link`` whose writes file into its own ``Inbox``
(after an encode and decode, exactly as the wire would copy them) and whose reads wait on a
condition. Everything else (the token API, packets, urgent messages, ``received``) is the
``Link``'s own. ``Link.loopback()`` builds one (registered below).
"""

from __future__ import annotations

from wstp_jupyter import wxf
from wstp_jupyter.link._connection import check_message, encode
from wstp_jupyter.link._errors import LinkClosed, LinkTimeout
from wstp_jupyter.link._events import UrgentMessage
from wstp_jupyter.link._link import _REGISTERED, Link, _Outgoing
from wstp_jupyter.link._names import Protocol


class LoopbackLink(Link):
    """A ``Link`` that is its own peer; build it with ``Link.loopback()``."""

    def __init__(self) -> None:
        super().__init__(_protocol=Protocol.Loopback, _name="loopback")
        self._active = True

    @property
    def is_loopback(self) -> bool:
        return True

    def activate(self, timeout: float | None = None) -> None:
        """Always active (until closed).

        Raises:
            LinkClosed: the link was closed.
        """
        if self._inbox.closed:
            raise LinkClosed("the link is closed")

    def _put(self, expr: object) -> None:
        self._write([encode(expr, self._max_depth)])

    def _write(self, items: list[_Outgoing]) -> None:
        if self._inbox.closed:
            raise LinkClosed("the link is closed")
        # Decode every document before filing any, so a bad one files nothing.
        copies = [
            item if isinstance(item, UrgentMessage) else wxf.loads(b"".join(item))
            for item in items
        ]
        with self._cond:
            for copy in copies:
                if isinstance(copy, UrgentMessage):
                    self._inbox.deliver(copy)
                else:
                    self._inbox.push(copy)
            self._cond.notify_all()

    def put_message(self, code: int, arg: int = 0) -> None:
        message = UrgentMessage(code=int(code), arg=int(arg))
        check_message(message)
        self._write([message])

    def _wait_inbox(self, timeout: float | None) -> None:
        inbox = self._inbox
        with self._cond:
            if not self._cond.wait_for(lambda: inbox.expressions or inbox.closed, timeout):
                raise LinkTimeout("the loopback link is empty")
        if not inbox.expressions:
            raise LinkClosed("the link is closed")

    def ready(self, timeout: float = 0) -> bool:
        if self._current is not None and not self._current.exhausted:
            return True
        inbox = self._inbox
        with self._cond:
            return bool(self._cond.wait_for(lambda: inbox.ready, timeout))

    def _read_ahead(self) -> None:
        """Nothing to read: everything put is filed at once."""

    def _select_fd(self) -> int:
        return -1

    def close(self) -> None:
        with self._cond:
            self._inbox.closed = True
            self._cond.notify_all()

    def __repr__(self) -> str:
        return f"<Link Loopback {'closed' if self._inbox.closed else 'active'}>"


_REGISTERED["loopback"] = LoopbackLink
