"""Where an evaluation's output goes: the link it came from, as packets, in order.

A :class:`LinkHost` is the ``Host`` (see ``_backend``) of the evaluations of one link. Everything
an evaluation shows -- ``Print`` (``TextPacket``), messages (``MessagePacket`` + ``TextPacket``),
displays and clear-output requests (the application packets of ``_requests``) -- is written on
that link, by the evaluating thread, in the order the evaluation made it. A front end reading the
link therefore sees a cell's output in order without any bookkeeping; the main loop writes the
clearing of temporary displays just before the evaluation's last packet.

Writes to a link come from several threads (the worker, the loop, the main link's reader for the
interrupt menu), so each link has one :class:`LinkWriter` that serialises them. It also keeps a
legitimate result from being lost or from killing the session: a packet whose expression the
front end could not read (nested deeper than its limit, or larger than a frame may be, which the
link refuses before sending) is sent with ``$Failed`` in its place, after a message that says so
(``General::linkdepth``, ``General::linksize``).
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable
from typing import Any

from wstp_jupyter.engine._requests import ResultFormat, clear_display, clear_output, display_data
from wstp_jupyter.link import (
    EnterTextPacket,
    ErrorCode,
    InputPacket,
    InputStringPacket,
    Link,
    LocalProtocolError,
    MessagePacket,
    Packet,
    ReturnPacket,
    ReturnTextPacket,
    TextPacket,
)
from wstp_jupyter.wxf import Symbol

_display_ids = itertools.count(1)  # display ids are unique in the process, over all links
_FAILED = Symbol("$Failed")
# What the link refuses to send because the peer would drop it -> the message saying so.
_UNREADABLE: dict[int, str] = {ErrorCode.WSEDEPTH: "linkdepth", ErrorCode.WSEPBIG: "linksize"}


class LinkWriter:
    """Serialises the writes to one link from several threads."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.lock = threading.Lock()

    def put(self, *packets: Packet) -> None:
        """Write ``packets`` in one go (the Out name and its result, a message and its text):
        one wake-up of the front end instead of several.

        A packet with an expression the front end could not read (see the module docstring)
        goes with ``$Failed`` in its place, after a ``General::linkdepth`` (or ``linksize``)
        message.

        Raises:
            LinkError: the link failed or is closed; LocalProtocolError for a packet that
                cannot be sent and has no expression to replace.
        """
        with self.lock:
            try:
                self.link.put_many(*(p.to_expr() for p in packets))
            except LocalProtocolError as exc:
                if exc.code not in _UNREADABLE:
                    raise
                for packet in packets:  # nothing was sent: find the one(s) at fault
                    self._put_readable(packet)

    def _put_readable(self, packet: Packet) -> None:
        try:
            self.link.put(packet.to_expr())
        except LocalProtocolError as exc:
            if exc.code not in _UNREADABLE or not hasattr(packet, "expr"):
                raise
            why = str(exc.args[0])
            text = f"General::{_UNREADABLE[exc.code]}: {why[:1].upper()}{why[1:]}; $Failed is "
            text += "sent in its place."
            substitute = dataclasses.replace(packet, expr=_FAILED)  # type: ignore[type-var]
            message = MessagePacket(Symbol("General"), _UNREADABLE[exc.code])
            self.link.put_many(message.to_expr(), TextPacket(text).to_expr(), substitute.to_expr())

    def put_expr(self, expr: Any) -> None:
        """Write a bare expression (the service link carries expressions, not packets)."""
        with self.lock:
            self.link.put(expr)


class LinkHost:
    """The ``Host`` of the evaluations that come from one link (see the module docstring).

    Args:
        writer: the link's writer.
        result_format: the front end's result format; display packets are written only when it
            reads MIME bundles (a plain WSTP front end gets ``Print``-like text instead).
        ask: sends a question (``InputPacket``...) and returns the front end's answer; ``None``
            for a link on which the kernel cannot ask (the preemptive one).
        service: sends an expression on the service link (``MainLoop.send_service``).
    """

    def __init__(
        self,
        writer: LinkWriter,
        result_format: ResultFormat,
        ask: Callable[[Packet], Any] | None = None,
        service: Callable[[Any], bool] | None = None,
    ) -> None:
        self.writer = writer
        self.result_format = result_format
        self.ask = ask
        self.service = service
        self.temporary: list[str] = []  # ids of the running evaluation's temporary displays

    def print_text(self, text: str) -> None:
        self.writer.put(TextPacket(text + "\n"))

    def message(self, symbol: str, tag: str, text: str) -> None:
        self.writer.put(MessagePacket(Symbol(symbol), tag), TextPacket(text))

    def request_input(self, prompt: str, *, string: bool) -> str | None:
        if self.ask is None:
            return None
        question = InputStringPacket(prompt) if string else InputPacket(prompt)
        return reply_text(self.ask(question))

    def display(self, bundle: dict[str, Any], *, temporary: bool) -> bool:
        if not self.result_format.bundles:
            return False
        display_id = f"display-{next(_display_ids)}"
        if temporary:
            self.temporary.append(display_id)
        self.writer.put(display_data(bundle, display_id, temporary))
        return True

    def clear_output(self, *, wait: bool) -> bool:
        if not self.result_format.bundles:
            return False
        self.writer.put(clear_output(wait))
        return True

    def send_service(self, expr: Any) -> bool:
        """Send ``expr`` on the service link, out of order with this link (asynchronous
        updates: widgets, ``Dynamic``); False when there is none. Not part of ``Host``."""
        return self.service(expr) if self.service is not None else False

    def closing_packets(self) -> list[Packet]:
        """The packets that blank this evaluation's temporary displays (it is ending)."""
        ids, self.temporary = self.temporary, []
        return [clear_display(display_id) for display_id in ids]


def reply_text(reply: Any) -> str | None:
    """The text of a front-end answer: ``EnterTextPacket[s]``, ``TextPacket[s]``,
    ``ReturnTextPacket[s]``, ``ReturnPacket[s]`` or a bare string."""
    match reply:
        case str() as text:
            return text
        case EnterTextPacket(text=text) | TextPacket(text=text) | ReturnTextPacket(text=text):
            return text
        case ReturnPacket(expr=str() as text):
            return text
    return None
