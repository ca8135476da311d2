"""asyncio twins of the link API.

``await connect(protocol, name, key=...)`` and ``await listen(...)`` / ``await
link.activate()`` give an ``AsyncLink`` with the blocking ``Link``'s vocabulary (``await
link.put(expr)``, ``await link.get()``, ``put_packet`` / ``get_packet``, ``put_message``,
``get_message``, ``set_message_handler``, ``close``), plus what a relay needs: ``await
link.receive()`` (expressions and urgent messages in wire order) and ``put_nowait`` /
``put_message_nowait`` bounded by ``max_unsent``. ``await start_server(port, interface,
key=...)`` gives an ``AsyncLinkServer``: ``async for link in server`` or a callback.
``await channel(protocol)`` gives a connected pair.
"""

from __future__ import annotations

from wstp_jupyter.link._aio import AsyncLink, channel, connect, listen
from wstp_jupyter.link._aio_server import AsyncLinkServer, start_server

open_connection = connect

__all__ = [
    "AsyncLink",
    "AsyncLinkServer",
    "channel",
    "connect",
    "listen",
    "open_connection",
    "start_server",
]
