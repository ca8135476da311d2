"""Opening the side links (service and preemptive), kernel side and front-end side.

The exchange (documented in docs/engine.md), modelled on what Wolfram's kernel does:

1. front end -> kernel, main link: ``EvaluatePacket[WSTPJupyter`OpenParallelLinks[]]``;
2. the kernel creates two listening links (same protocol and key as its main link) and sends
   ``CallPacket[FrontEnd`OpenParallelLinksPacket[{serviceName, preemptiveName, protocol}]]``;
3. the front end connects both (service first) and answers ``ReturnPacket[Null]``;
4. the kernel activates both and answers the original request with
   ``ReturnPacket[{serviceName, preemptiveName}]``.

(WSTP calls them "parallel" links because they run beside the main link; they have nothing to do
with parallel computing.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wstp_jupyter.engine._errors import EngineError
from wstp_jupyter.engine._requests import OpenParallelLinks
from wstp_jupyter.link import (
    CallPacket,
    EvaluatePacket,
    Link,
    Packet,
    Protocol,
    RemoteProtocolError,
    ReturnPacket,
    packet_from_peer,
)
from wstp_jupyter.wxf import Expr, Symbol

if TYPE_CHECKING:
    from wstp_jupyter.engine._mainloop import MainLoop

ACTIVATE_TIMEOUT = 20.0
OPEN_PACKET = Symbol("FrontEnd`OpenParallelLinksPacket")
_FAILED = Symbol("$Failed")


class KernelSideLinks:
    """Kernel side of the exchange; called by the main loop's worker."""

    def __init__(self, protocol: Protocol, key: str | None, host: str = "127.0.0.1") -> None:
        self.protocol = protocol
        self.key = key
        self.host = host
        self.names: list[str] | None = None

    def __call__(self, loop: MainLoop) -> Any:
        if self.names is not None:
            return list(self.names)
        where = f"0@{self.host}" if self.protocol is Protocol.TCPIP else None
        service = Link.listen(self.protocol, where, key=self.key)
        preemptive = Link.listen(self.protocol, where, key=self.key)
        request = CallPacket(
            Expr(OPEN_PACKET, [service.name, preemptive.name, self.protocol.value])
        )
        # The front end connects before it answers, so activate first, then read the answer.
        loop.expect_reply()
        loop.main.put(request)
        try:
            service.activate(timeout=ACTIVATE_TIMEOUT)
            preemptive.activate(timeout=ACTIVATE_TIMEOUT)
        except Exception:
            loop.waiting_reply.clear()
            service.close()
            preemptive.close()
            return _FAILED
        reply = loop.wait_reply(timeout=ACTIVATE_TIMEOUT)
        if reply is None:
            service.close()
            preemptive.close()
            return _FAILED
        loop.attach_side_links(service, preemptive)
        self.names = [service.name, preemptive.name]
        return list(self.names)


def open_parallel_links(
    link: Link, *, key: str | bytes | None = None, timeout: float = 30.0
) -> tuple[Link, Link]:
    """Front-end side: ask the kernel behind ``link`` for its service and preemptive links.

    Args:
        link: the main link, idle (no evaluation running, the first InputNamePacket read).
        key: the key the kernel uses for its links (the main link's key).
        timeout: seconds to wait for each step.

    Returns:
        ``(service, preemptive)``, both active.

    Raises:
        EngineError: the kernel answered something else.
        LinkError: a link could not be opened.
    """
    link.put_packet(EvaluatePacket(OpenParallelLinks().to_expr()))
    names: Any = None
    while names is None:
        match _next(link, timeout):
            case CallPacket(function=Expr(head=head, args=([_, _, *_] as found,))) if (
                head == OPEN_PACKET
            ):
                names = found
            case CallPacket() as call:
                raise EngineError(f"unexpected CallPacket from the kernel: {call!r}")
            case ReturnPacket() as answer:
                raise EngineError(f"the kernel refused to open parallel links: {answer!r}")
    protocol = names[2] if len(names) > 2 and isinstance(names[2], str) else link.protocol
    service = Link.connect(protocol, str(names[0]), key=key)
    preemptive = Link.connect(protocol, str(names[1]), key=key)
    service.activate(timeout=timeout)
    preemptive.activate(timeout=timeout)
    link.put_packet(ReturnPacket(None))
    while not isinstance(done := _next(link, timeout), ReturnPacket):
        pass
    if done.expr == _FAILED:
        service.close()
        preemptive.close()
        raise EngineError("the kernel could not activate its parallel links")
    return service, preemptive


def _next(link: Link, timeout: float) -> Packet | Any:
    """The next packet on ``link`` (a non-packet expression is returned as it is)."""
    expr = link.get(timeout=timeout)
    try:
        return packet_from_peer(expr)
    except RemoteProtocolError:
        return expr
