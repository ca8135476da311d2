"""Opening the service and preemptive links, kernel side and front-end side.

The exchange (documented in docs/engine.md), modelled on what Wolfram's kernel does:

1. front end -> kernel, main link: ``EvaluatePacket[WSTPJupyter`OpenParallelLinks[]]``;
2. the kernel creates two listening links (same protocol and key as its main link) and sends
   ``CallPacket[FrontEnd`OpenParallelLinksPacket[{serviceName, preemptiveName, protocol}]]``;
3. the front end connects both (service first) and answers ``ReturnPacket[Null]``;
4. the kernel activates both and answers the original request with
   ``ReturnPacket[{serviceName, preemptiveName}]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wstp_jupyter.link import Link, Protocol
from wstp_jupyter.wxf import Expr, Symbol

if TYPE_CHECKING:
    from wstp_jupyter.engine._mainloop import MainLoop

ACTIVATE_TIMEOUT = 20.0


class KernelParallelLinks:
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
        request = Expr(
            Symbol("CallPacket"),
            Expr(
                Symbol("FrontEnd`OpenParallelLinksPacket"),
                [service.name, preemptive.name, self.protocol.value],
            ),
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
            return Symbol("$Failed")
        reply = loop.wait_reply(timeout=ACTIVATE_TIMEOUT)
        if reply is None:
            service.close()
            preemptive.close()
            return Symbol("$Failed")
        loop.attach_parallel(service, preemptive)
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
    from wstp_jupyter.engine._errors import EngineError

    link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPJupyter`OpenParallelLinks"))))
    while True:
        expr = link.get(timeout=timeout)
        if isinstance(expr, Expr) and expr.head == Symbol("CallPacket"):
            break
        if isinstance(expr, Expr) and expr.head == Symbol("ReturnPacket"):
            raise EngineError(f"the kernel refused to open parallel links: {expr!r}")
    call = expr.args[0] if expr.args else None
    if not (
        isinstance(call, Expr)
        and call.head == Symbol("FrontEnd`OpenParallelLinksPacket")
        and call.args
        and isinstance(call.args[0], list)
        and len(call.args[0]) >= 2
    ):
        raise EngineError(f"unexpected CallPacket from the kernel: {expr!r}")
    names = call.args[0]
    protocol = names[2] if len(names) > 2 and isinstance(names[2], str) else link.protocol
    service = Link.connect(protocol, str(names[0]), key=key)
    preemptive = Link.connect(protocol, str(names[1]), key=key)
    service.activate(timeout=timeout)
    preemptive.activate(timeout=timeout)
    link.put(Expr(Symbol("ReturnPacket"), None))
    while True:
        expr = link.get(timeout=timeout)
        if isinstance(expr, Expr) and expr.head == Symbol("ReturnPacket"):
            break
    if expr.args and expr.args[0] == Symbol("$Failed"):
        service.close()
        preemptive.close()
        raise EngineError("the kernel could not activate its parallel links")
    return service, preemptive
