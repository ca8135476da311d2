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
from typing import TYPE_CHECKING

from wstp_jupyter.server._commands import Command, head_name
from wstp_jupyter.server._errors import ServerCommandError
from wstp_jupyter.server._logging import logger
from wstp_jupyter.server._router import Attachment, Router
from wstp_jupyter.server._wire import Channel, ChannelClosed
from wstp_jupyter.wxf import Expr, Symbol

if TYPE_CHECKING:
    from wstp_jupyter.server._connection import ClientConnection
    from wstp_jupyter.server._kernel import ManagedKernel
    from wstp_jupyter.server._server import WSTPServer


def _address(name: object) -> tuple[str, int]:
    port, _, host = str(name).partition("@")
    return host or "127.0.0.1", int(port)


async def open_parallel(main: Channel, key: bytes) -> tuple[Channel, Channel] | None:
    """Run the front end's side of the exchange on an idle kernel's main link.

    Returns:
        ``(service, preemptive)``, or ``None`` when the kernel does not offer them.

    Raises:
        ChannelClosed: a link failed.
    """
    main.send(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPJupyter`OpenParallelLinks"))))
    while True:
        ev = await main.recv()
        packet = getattr(ev, "expr", None)
        name = head_name(packet)
        if name == "ReturnPacket":
            return None
        if name == "CallPacket":
            break
    assert isinstance(packet, Expr)
    call = packet.args[0] if packet.args else None
    if not (head_name(call) == "FrontEnd`OpenParallelLinksPacket" and isinstance(call, Expr)
            and call.args and isinstance(call.args[0], list) and len(call.args[0]) >= 2):
        raise ChannelClosed(f"unexpected CallPacket from the kernel: {packet}")
    names = call.args[0]
    try:
        addresses = [_address(names[0]), _address(names[1])]
    except ValueError:
        raise ChannelClosed(f"bad parallel link names {names}") from None
    # The kernel may finish its side of the handshakes only after our answer, so the
    # handshakes run while the answer goes out.
    service_task = asyncio.create_task(Channel.connect(*addresses[0], key=key))
    await asyncio.sleep(0)  # service first, as the exchange prescribes
    preemptive_task = asyncio.create_task(Channel.connect(*addresses[1], key=key))
    main.send(Expr(Symbol("ReturnPacket"), None))
    results = await asyncio.gather(service_task, preemptive_task, return_exceptions=True)
    if any(isinstance(r, BaseException) for r in results):
        for r in results:
            if isinstance(r, Channel):
                r.close()
        raise ChannelClosed(f"parallel links failed: {results}")
    service, preemptive = results[0], results[1]
    assert isinstance(service, Channel) and isinstance(preemptive, Channel)
    service.max_unsent = preemptive.max_unsent = None
    while True:
        ev = await main.recv()
        packet = getattr(ev, "expr", None)
        if head_name(packet) == "ReturnPacket":
            break
    if isinstance(packet, Expr) and packet.args and packet.args[0] == Symbol("$Failed"):
        service.close()
        preemptive.close()
        return None
    return service, preemptive


def make_routers(kernel: ManagedKernel, service: Channel,
                 preemptive: Channel) -> tuple[Router, Router]:
    """Routers for a kernel's service and preemptive links."""

    def service_target() -> Attachment | None:
        main = kernel.main
        owner = main.owner if main is not None else None
        session = getattr(owner, "session", None)
        if session is None or kernel.service is None:
            return None
        return next((c for c in kernel.service.clients
                     if getattr(c, "session", None) == session), None)

    label = f"kernel {kernel.id[:8]}"
    return (Router(service, f"{label} service", passthrough=True, prefer=service_target),
            Router(preemptive, f"{label} preemptive"))


async def connect_parallel(server: WSTPServer, conn: ClientConnection, kernel: ManagedKernel,
                           link: str, cmd: Command) -> tuple[object, list[object]]:
    """``ConnectKernel[id, "Link" -> "Preemptive" | "Service"]``: bridge a parallel link.

    Raises:
        ServerCommandError: the kernel offers no such link, or this link already plays a role.
    """
    router = kernel.preemptive if link == "Preemptive" else kernel.service
    if router is None:
        raise ServerCommandError(
            f"WSTPServer`ConnectKernel: kernel {kernel.id} offers no {link.lower()} link")
    if conn.kernel is not None:
        raise ServerCommandError(
            "WSTPServer`ConnectKernel: a parallel link must be a new connection")
    session = cmd.options.get("Session")
    if session is not None and not isinstance(session, str):
        raise ServerCommandError("WSTPServer`ConnectKernel: option Session must be a string")
    conn.session = session
    conn.role = link
    conn.kernel = kernel
    logger.debug("%s bridged to the %s link of kernel %s", conn.name, link, kernel.id)
    return kernel.id, router.attach(conn)
