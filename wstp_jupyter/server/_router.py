"""Routing of one kernel link among the clients attached to it.

Requests (``EvaluatePacket``, ``EnterTextPacket``, ``EnterExpressionPacket``) from all attached
clients go through one FIFO and are sent to the kernel one at a time; every packet the kernel
sends while a request runs belongs to the client that sent it. A request ends with its terminal
packet: ``ReturnPacket`` for ``EvaluatePacket``, the next ``InputNamePacket`` for the main-loop
forms. While a request runs, its client's other packets (answers to ``InputPacket``,
``InputStringPacket``, ``MenuPacket``, ``CallPacket``) go straight to the kernel, and so do its
urgent messages (abort, interrupt). A client alone on the link has every urgent message
forwarded, exactly as on a direct link.

Packets that belong to nobody (output of a request whose client left, output between requests)
go to the last requester if it is still attached, else to every attached client, else into a
bounded buffer (:data:`MAX_BUFFERED_PACKETS`; the oldest are dropped first and the drop is
reported) that is delivered to the next client that attaches.

A *passthrough* router (the service link, on which the kernel asks and the front end answers)
forwards client packets at once and sends kernel packets to the client ``prefer()`` names.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Protocol

from wstp_jupyter.link import (
    CallPacket,
    EnterExpressionPacket,
    EnterTextPacket,
    EvaluatePacket,
    Expression,
    InputNamePacket,
    InputPacket,
    InputStringPacket,
    LimitExceeded,
    LinkError,
    MenuPacket,
    Packet,
    ReturnExpressionPacket,
    ReturnPacket,
    TextPacket,
)
from wstp_jupyter.link.aio import AsyncLink
from wstp_jupyter.server._commands import as_packet, failure, reply_packets
from wstp_jupyter.server._logging import TRACE, logger
from wstp_jupyter.wxf import Expr, Symbol

#: Packets kept for a link that has no client; beyond this the oldest are dropped.
MAX_BUFFERED_PACKETS = 10_000
_RESULT_HEADS = (Symbol(ReturnPacket.head), Symbol(ReturnExpressionPacket.head))


def terminal_of(packet: Packet | None) -> type[Packet] | None:
    """The packet that ends the request ``packet``, or ``None`` if it is no request."""
    match packet:
        case EvaluatePacket():
            return ReturnPacket
        case EnterTextPacket() | EnterExpressionPacket():
            return InputNamePacket
        case _:
            return None


class Attachment(Protocol):
    """What a router needs from an attached client connection."""

    name: str

    def deliver(self, packet: object) -> None: ...
    def deliver_message(self, code: int, arg: int) -> None: ...
    def request_finished(self) -> None: ...


class Request:
    """One client request waiting for, or holding, the link."""

    __slots__ = ("client", "packet", "terminal")

    def __init__(self, client: Attachment | None, packet: object,
                 terminal: type[Packet] | None) -> None:
        self.client = client
        self.packet = packet
        self.terminal = terminal


def failure_packets(packet: object, message: str, prompt: str | None) -> list[object]:
    """The packets that answer ``packet`` with a server ``Failure`` in the form it asked for."""
    request = as_packet(packet)
    form: type[Packet] = EvaluatePacket
    if request is not None and terminal_of(request) is not None:
        form = type(request)
    return reply_packets(form, failure(message), prompt)


class Router:
    """Serializes requests on one kernel link and routes every reply to its requester."""

    def __init__(self, link: AsyncLink, label: str, *, passthrough: bool = False,
                 prefer: Callable[[], Attachment | None] | None = None) -> None:
        self.link = link
        self.label = label
        self.passthrough = passthrough
        self.prefer = prefer
        self.clients: list[Attachment] = []
        self.prompt = "In[1]:= "
        self.requests_served = 0
        self._queue: collections.deque[Request] = collections.deque()
        self._current: Request | None = None
        self._awaiting_answer = False
        self._last_owner: Attachment | None = None
        self._buffer: collections.deque[object] = collections.deque()
        self._dropped = 0

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def orphaned(self) -> bool:
        """A request is running whose client left (the next client to attach adopts it)."""
        return self._current is not None and self._current.client is None

    @property
    def idle(self) -> bool:
        """Nothing running, nothing queued."""
        return self._current is None and not self._queue

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def asks(self, client: Attachment) -> bool:
        """Whether the kernel waits for an answer from ``client`` (input, menu, call)."""
        return self._awaiting_answer and self._current is not None and (
            self._current.client is client)

    @property
    def owner(self) -> Attachment | None:
        """The client whose request runs now, else the last requester still attached."""
        if self._current is not None:
            return self._current.client
        return self._last_owner if self._last_owner in self.clients else None

    # -- from clients ------------------------------------------------------------------------

    def submit(self, client: Attachment, packet: object) -> bool:
        """Take one packet from ``client``; returns whether it is a request that will finish.

        An answer to the kernel's question, or any non-request packet of the client whose
        request runs, goes to the kernel at once; everything else waits its turn.
        """
        cur = self._current
        terminal = terminal_of(as_packet(packet))
        if self.passthrough or (cur is not None and cur.client is client and (
                self._awaiting_answer or terminal is None)):
            self._awaiting_answer = False
            self._to_kernel(packet)
            return False
        req = Request(client, packet, terminal)
        self._queue.append(req)
        self._pump()
        return req.terminal is not None

    def urgent(self, client: Attachment, code: int, arg: int) -> bool:
        """Forward an urgent message if ``client`` owns the running request or is alone."""
        owner = self._current.client if self._current is not None else None
        if owner is client or self.clients == [client]:
            try:
                self.link.put_message_nowait(code, arg)
            except LinkError:
                return False
            return True
        logger.debug("%s: dropped urgent message %d from %s (not its request)", self.label, code,
                      client.name)
        return False

    def _to_kernel(self, packet: object) -> None:
        if logger.isEnabledFor(TRACE):
            logger.log(TRACE, "-> %s: %s", self.label, packet)
        try:
            self.link.put_nowait(packet)
        except LinkError:
            pass  # the read loop sees the end of the link and reports the death

    def _pump(self) -> None:
        while self._current is None and self._queue:
            req = self._queue.popleft()
            if req.client is not None and req.client not in self.clients:
                continue
            self._to_kernel(req.packet)
            self.requests_served += 1
            self._last_owner = req.client
            if req.terminal is not None:
                self._current = req

    # -- from the kernel ---------------------------------------------------------------------

    async def run(self) -> str:
        """Read and route the kernel's packets until the link ends; returns why it ended.

        A packet the link dropped for breaking the server's receiver limits (a kernel sends
        none: it checks first) is routed as the same packet with a ``Failure`` in it when it
        carries a result, so the request it ends still ends; other dropped packets are logged.
        """
        try:
            while True:
                try:
                    ev = await self.link.receive()
                except LimitExceeded as exc:
                    logger.warning("%s: %s", self.label, exc)
                    if exc.head in _RESULT_HEADS:
                        self.on_packet(Expr(exc.head, failure(f"dropped: {exc.args[0]}")))
                    continue
                if isinstance(ev, Expression):
                    self.on_packet(ev.expr)
                else:
                    target = self._target()
                    for client in [target] if target is not None else list(self.clients):
                        client.deliver_message(ev.code, ev.arg)
        except LinkError as exc:
            return str(exc)

    def on_packet(self, packet: object) -> None:
        """Route one packet from the kernel (see the module docstring)."""
        if logger.isEnabledFor(TRACE):
            logger.log(TRACE, "<- %s: %s", self.label, packet)
        kind = as_packet(packet)
        question = False
        match kind:
            case InputNamePacket(text=prompt):
                self.prompt = prompt
            case InputPacket() | InputStringPacket() | MenuPacket() | CallPacket():
                question = True
        cur = self._current
        if cur is not None and cur.client is None:
            self._keep(packet)  # its client left: keep the output for whoever comes back
        else:
            target = self._target()
            if target is not None:
                target.deliver(packet)
            elif self.clients:
                for client in list(self.clients):
                    client.deliver(packet)
            else:
                self._keep(packet)
        if question:
            self._awaiting_answer = True
        if cur is not None and cur.terminal is not None and isinstance(kind, cur.terminal):
            self._current = None
            self._awaiting_answer = False
            if cur.client is not None:
                cur.client.request_finished()
            self._pump()

    def _target(self) -> Attachment | None:
        if self.prefer is not None:
            chosen = self.prefer()
            if chosen is not None and chosen in self.clients:
                return chosen
        return self.owner

    def _keep(self, packet: object) -> None:
        if self.clients:
            return  # others are attached: output of a departed client's request is not theirs
        if len(self._buffer) >= MAX_BUFFERED_PACKETS:
            self._buffer.popleft()
            self._dropped += 1
        self._buffer.append(packet)

    # -- attaching ---------------------------------------------------------------------------

    def attach(self, client: Attachment, *, take_buffer: bool = True) -> list[object]:
        """Add ``client``; returns what it must be sent first (buffered output, in order).

        A running request whose client left is adopted by the first client that attaches.
        Without ``take_buffer`` (a kernel handed out by its pool to a new client) output left by
        a previous client is discarded: it is not the new client's.
        """
        first = not self.clients
        self.clients.append(client)
        out: list[object] = []
        if first and not take_buffer and (self._buffer or self._dropped):
            logger.debug("%s: discarded %d packets left by a previous client", self.label,
                         len(self._buffer) + self._dropped)
            self._buffer.clear()
            self._dropped = 0
        if first:
            if self._dropped:
                out.append(TextPacket(
                    f"WSTPServer: {self._dropped} packets of output produced while no client "
                    "was attached were dropped (buffer full)\n").to_expr())
                self._dropped = 0
            out.extend(self._buffer)
            self._buffer.clear()
            if self._current is not None and self._current.client is None:
                self._current.client = client
                self._last_owner = client
        return out

    def detach(self, client: Attachment) -> None:
        """Remove ``client``: its queued requests are dropped, a running one is orphaned."""
        if client not in self.clients:
            return
        self.clients.remove(client)
        self._queue = collections.deque(r for r in self._queue if r.client is not client)
        if self._current is not None and self._current.client is client:
            self._current.client = None
        if self._last_owner is client:
            self._last_owner = None

    def take_queued(self, client: Attachment) -> list[object]:
        """Remove and return ``client``'s requests that have not started (for resubmission)."""
        mine = [r.packet for r in self._queue if r.client is client]
        self._queue = collections.deque(r for r in self._queue if r.client is not client)
        return mine

    def fail_running(self, message: str) -> Attachment | None:
        """Answer the running request with a ``Failure``; returns its client, if any."""
        req, self._current = self._current, None
        if req is None or req.client is None:
            return None
        for packet in failure_packets(req.packet, message, self.prompt):
            req.client.deliver(packet)
        req.client.request_finished()
        return req.client

    def fail_queued(self, message: str) -> None:
        """Answer every request that has not started with a ``Failure``."""
        queued, self._queue = self._queue, collections.deque()
        for req in queued:
            if req.client is not None and req.terminal is not None:
                for packet in failure_packets(req.packet, message, self.prompt):
                    req.client.deliver(packet)
                req.client.request_finished()
