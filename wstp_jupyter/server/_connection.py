"""One client link to the server (server side): its own task, commands, forwarding.

Each accepted link runs :meth:`ClientConnection.run` in a task of its own, so a slow or hostile
client only ever delays itself: every write to it is ``AsyncLink.put_nowait``, bounded by
:data:`MAX_UNSENT_BYTES` (a client that stops reading loses its link), and every wait (a kernel
starting, its own earlier requests finishing) happens in its own task. Packets and urgent
messages are read in wire order (``AsyncLink.receive``), so an abort sent right after a request
is forwarded after that request.

Packets are read in order. A ``WSTPServer``` command is answered by the server -- after the
client's own earlier requests have finished, so replies keep the order of requests. Any other
packet goes to the attached kernel's router; a client without a kernel is attached to one of the
default pool on its first such packet (or at once with ``EnableAutomaticKernelConnection``).
Urgent messages go to the router of the link role this connection plays (main, preemptive or
service). What the connection is bridged to is the business of :class:`~._sessions.Sessions`.

A request that breaks the server's receiver limits (nested deeper than the link reads) is
dropped by the link, which goes on; the server answers it in its turn, like a command, with a
``Failure`` that says why, so the client neither hangs nor loses its connection.
"""

from __future__ import annotations

import asyncio

from wstp_jupyter.link import (
    EnterExpressionPacket,
    EnterTextPacket,
    EvaluatePacket,
    LimitExceeded,
    LinkError,
    Packet,
    UrgentMessage,
)
from wstp_jupyter.link.aio import AsyncLink
from wstp_jupyter.server._commands import command_from_packet, failure, reply_packets
from wstp_jupyter.server._dispatch import execute
from wstp_jupyter.server._errors import ServerCommandError
from wstp_jupyter.server._kernel import ManagedKernel
from wstp_jupyter.server._logging import logger
from wstp_jupyter.server._router import Router, failure_packets
from wstp_jupyter.server._sessions import MAIN, PREEMPTIVE, SERVICE, Sessions
from wstp_jupyter.wxf import Symbol

#: Requests one client may have waiting for its kernel; beyond it requests are refused.
MAX_PENDING_REQUESTS = 10_000
#: Unsent bytes a client may leave queued before it is disconnected as too slow.
MAX_UNSENT_BYTES = 64 << 20
_REQUEST_FORMS: dict[object, type[Packet]] = {
    Symbol(form.head): form for form in (EvaluatePacket, EnterTextPacket, EnterExpressionPacket)
}


class ClientConnection:
    """The server's side of one client link (a :class:`~._sessions.Client`)."""

    def __init__(self, sessions: Sessions, link: AsyncLink, name: str) -> None:
        self.sessions = sessions
        self.link = link
        self.name = name
        # Written by Sessions only (see _sessions.Client).
        self.role = MAIN
        self.session: str | None = None
        self.kernel: ManagedKernel | None = None
        self.kernel_lost: str | None = None
        self.replacement_pool: str | None = None
        self.preferences: dict[str, bool] = {}
        self.pending = 0
        self._attaching = asyncio.Lock()
        self._idle = asyncio.Event()
        self._idle.set()
        self.closed = False

    def __repr__(self) -> str:
        return f"<{self.name} {self.role}>"

    # -- Attachment protocol (called by routers) ---------------------------------------------

    def deliver(self, packet: object) -> None:
        if self.closed:
            return
        try:
            self.link.put_nowait(packet)
        except LinkError as exc:
            logger.debug("%s: dropping the link: %s", self.name, exc)
            self.closed = True
            self.link.close()

    def deliver_message(self, code: int, arg: int) -> None:
        if not self.closed:
            try:
                self.link.put_message_nowait(code, arg)
            except LinkError:
                self.closed = True

    def request_finished(self) -> None:
        self.pending = max(0, self.pending - 1)
        if self.pending == 0:
            self._idle.set()

    # -- the task ----------------------------------------------------------------------------

    @property
    def router(self) -> Router | None:
        k = self.kernel
        if k is None or not k.alive:
            return None
        return {MAIN: k.main, PREEMPTIVE: k.preemptive, SERVICE: k.service}[self.role]

    async def run(self) -> None:
        """Serve the link until it ends; then release the kernel by the keep-alive rules."""
        try:
            if self.sessions.config.enable_automatic_kernel_connection:
                try:
                    self.send_all(await self.sessions.attach_pool(self, None))
                except ServerCommandError as exc:
                    logger.error("%s: automatic kernel connection failed: %s", self.name, exc)
            while not self.closed:
                try:
                    ev = await self.link.receive()
                except LimitExceeded as exc:  # that packet is lost, the link goes on
                    await self.on_dropped(exc)
                    continue
                if isinstance(ev, UrgentMessage):
                    router = self.router
                    if router is not None:
                        router.urgent(self, ev.code, ev.arg)
                else:
                    await self.on_packet(ev.expr)
        except LinkError as exc:
            logger.debug("%s: link closed: %s", self.name, exc)
        finally:
            self.closed = True
            self.link.close()
            self.sessions.disconnect(self)

    def send_all(self, packets: list[object]) -> None:
        for packet in packets:
            self.deliver(packet)

    async def on_packet(self, packet: object) -> None:
        """Answer a command, or forward the packet to the bridged kernel (see module doc)."""
        cmd = command_from_packet(packet)
        router = self.router
        if cmd is not None:
            # Keep replies in request order -- unless the kernel is waiting for this client's
            # answer, which then cannot come before the command is answered.
            if router is None or not router.asks(self):
                await self._idle.wait()
            if cmd.error is not None:
                result: object = failure(cmd.error)
                after: list[object] = []
            else:
                try:
                    result, after = await execute(self.sessions, self, cmd)
                except ServerCommandError as exc:
                    result, after = failure(str(exc)), []
            prompt = self.kernel.prompt if self.kernel is not None else None
            self.send_all([*reply_packets(cmd.form, result, prompt), *after])
            return
        if self.pending >= MAX_PENDING_REQUESTS:
            self.send_all(failure_packets(
                packet, f"too many requests waiting ({MAX_PENDING_REQUESTS}); the request was "
                "not sent", None))
            return
        async with self._attaching:  # the reader and a resubmission must not both attach
            router = await self._router_for(packet)
        if router is not None and router.submit(self, packet):
            self.pending += 1
            self._idle.clear()

    async def on_dropped(self, exc: LimitExceeded) -> None:
        """Answer a request the link dropped (see the module docstring); anything else that
        was dropped is only logged, since nobody waits for an answer to it."""
        logger.warning("%s: %s", self.name, exc)
        form = _REQUEST_FORMS.get(exc.head)
        if form is None:
            return
        router = self.router
        if router is None or not router.asks(self):
            await self._idle.wait()  # after the client's earlier requests, as a command
        prompt = self.kernel.prompt if self.kernel is not None else None
        reason = f"the server could not read the request: {exc.args[0]}"
        self.send_all(reply_packets(form, failure(reason), prompt))

    async def _router_for(self, packet: object) -> Router | None:
        router = self.router
        if router is None:
            if self.kernel_lost is not None:
                message, self.kernel_lost = self.kernel_lost, None
                self.send_all(failure_packets(packet, message, None))
                return None
            if self.role != MAIN:
                self.send_all(failure_packets(
                    packet, f"no kernel is bridged to this {self.role.lower()} link", None))
                return None
            try:
                self.send_all(await self.sessions.attach_pool(self, self.replacement_pool))
            except ServerCommandError as exc:
                self.send_all(failure_packets(packet, str(exc), None))
                return None
            router = self.router
        return router

    def close(self) -> None:
        """Close the link (the server is shutting down); ``run`` then ends."""
        self.closed = True
        self.link.close()

    def forget_requests(self) -> None:
        """The kernel went away: nothing of this client is pending any more."""
        self.pending = 0
        self._idle.set()
