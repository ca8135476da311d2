"""The preemptive and service links of server kernels.

A kernel process offers its extra links by listening on its own loopback ports, which a client
on another machine cannot reach. So the server is the front end of that exchange: while a kernel
warms up, the server sends ``EvaluatePacket[WSTPJupyter`OpenParallelLinks[]]``, receives
``CallPacket[FrontEnd`OpenParallelLinksPacket[{service, preemptive, protocol}]]``, connects both
(service first, with the kernel's key), answers ``ReturnPacket[Null]`` and reads the final
``ReturnPacket``. A kernel that answers the request with a plain ``ReturnPacket`` (a kernel
without the ``WSTPJupyter``` functions) simply has no extra links.

Clients reach them through the server: a second and third connection send
``WSTPServer`ConnectKernel[id, "Link" -> "Preemptive" | "Service", "Session" -> token]``. The
preemptive link gets its own request queue (so completion works while the main link is busy);
service requests from the kernel go to the service connection whose ``Session`` matches the
client whose main-link request is running.
"""

from __future__ import annotations

import asyncio

from wstp_jupyter.link import (
    CallPacket,
    EvaluatePacket,
    Expression,
    LinkError,
    Protocol,
    RemoteProtocolError,
    ReturnPacket,
)
from wstp_jupyter.link.aio import AsyncLink, connect
from wstp_jupyter.server._commands import as_packet
from wstp_jupyter.wxf import Expr, Symbol

OPEN_PARALLEL_LINKS = EvaluatePacket(Expr(Symbol("WSTPJupyter`OpenParallelLinks")))


async def _next_packet(main: AsyncLink) -> CallPacket | ReturnPacket | None:
    """The next ``CallPacket`` or ``ReturnPacket`` (``None`` for other packets)."""
    event = await main.receive()
    packet = as_packet(event.expr) if isinstance(event, Expression) else None
    return packet if isinstance(packet, CallPacket | ReturnPacket) else None


async def open_parallel(main: AsyncLink, key: bytes) -> tuple[AsyncLink, AsyncLink] | None:
    """Run the front end's side of the exchange on an idle kernel's main link.

    Returns:
        ``(service, preemptive)``, or ``None`` when the kernel does not offer them.

    Raises:
        LinkError: a link failed, or the kernel's offer was malformed.
    """
    await main.put_packet(OPEN_PARALLEL_LINKS)
    while (packet := await _next_packet(main)) is None:
        pass
    if isinstance(packet, ReturnPacket):
        return None
    call = packet.function
    if not (isinstance(call, Expr) and call.head_name == "FrontEnd`OpenParallelLinksPacket"
            and call.args and isinstance(call.args[0], list) and len(call.args[0]) >= 2):
        raise RemoteProtocolError(f"unexpected CallPacket from the kernel: {packet}")
    names = [str(name) for name in call.args[0][:2]]
    # The kernel may finish its side of the handshakes only after our answer, so the
    # handshakes run while the answer goes out; service first, as the exchange prescribes.
    service_task = asyncio.create_task(connect(Protocol.TCPIP, names[0], key=key))
    await asyncio.sleep(0)
    preemptive_task = asyncio.create_task(connect(Protocol.TCPIP, names[1], key=key))
    await main.put_packet(ReturnPacket(None))
    results = await asyncio.gather(service_task, preemptive_task, return_exceptions=True)
    links = [r for r in results if isinstance(r, AsyncLink)]
    if len(links) != 2:
        for link in links:
            link.close()
        raise LinkError(f"parallel links failed: {results}")
    service, preemptive = links
    while not isinstance(packet := await _next_packet(main), ReturnPacket):
        pass
    if packet.expr == Symbol("$Failed"):
        service.close()
        preemptive.close()
        return None
    return service, preemptive
