"""The WSTP link: WSTP's model (packets, urgent messages, link names, link servers) on this
project's own framing, which carries one WXF document per expression (docs/protocol.md).

Layers inside the package, lowest first:

* the sans-IO core (``Connection`` and its events; ``_frames``, ``_state``, ``_packets``,
  ``_tokens``): bytes in, events out, no sockets or threads;
* the blocking adapter (``Link``, ``channel``, ``wait_ready``, ``LinkServer``);
* the asyncio adapter in :mod:`wstp_jupyter.link.aio` (``AsyncLink``, ``AsyncLinkServer``).

Quick start (one thread is enough: the connecting end's first write does not wait for the
listening end, it is sent once the handshake is done)::

    from wstp_jupyter.link import Link, Protocol, EvaluatePacket, ReturnPacket
    from wstp_jupyter.wxf import wl
    server = Link.listen(Protocol.TCPIP)            # server.name == "53127@127.0.0.1"
    client = Link.connect(Protocol.TCPIP, server.name)
    client.put_packet(EvaluatePacket(wl.Plus(1, 1)))
    server.get_packet(timeout=5)                    # EvaluatePacket(expr=Plus[1, 1])
    server.put_packet(ReturnPacket(2))
    client.get_packet(timeout=5)                    # ReturnPacket(expr=2)
"""

from __future__ import annotations

from wstp_jupyter.link._connection import DEFAULT_MAX_FRAME_SIZE, Connection
from wstp_jupyter.link._constants import ErrorCode, MessageCode, PacketCode, TokenType
from wstp_jupyter.link._errors import (
    AuthenticationError,
    LimitExceeded,
    LinkClosed,
    LinkError,
    LinkTimeout,
    LocalProtocolError,
    RemoteProtocolError,
)
from wstp_jupyter.link._events import (
    NEED_DATA,
    Close,
    Connected,
    Event,
    Expression,
    ExpressionDropped,
    UrgentMessage,
)
from wstp_jupyter.link._frames import FrameKind
from wstp_jupyter.link._launch import LaunchError, LaunchTimeout, link_arguments
from wstp_jupyter.link._link import KEY_ENV, Link
from wstp_jupyter.link._links import channel, wait_ready
from wstp_jupyter.link._loopback import LoopbackLink
from wstp_jupyter.link._names import Protocol
from wstp_jupyter.link._packets import (
    ALL_PACKETS,
    BeginDialogPacket,
    CallPacket,
    DisplayEndPacket,
    DisplayPacket,
    EndDialogPacket,
    EnterExpressionPacket,
    EnterTextPacket,
    EvaluatePacket,
    ExpressionPacket,
    InputNamePacket,
    InputPacket,
    InputStringPacket,
    MenuPacket,
    MessagePacket,
    OutputNamePacket,
    Packet,
    ResumePacket,
    ReturnExpressionPacket,
    ReturnPacket,
    ReturnTextPacket,
    SuspendPacket,
    SyntaxPacket,
    TextPacket,
    packet_code,
    packet_from_peer,
    user_packet,
)
from wstp_jupyter.link._server import LinkServer
from wstp_jupyter.link._state import Role, State
from wstp_jupyter.link._transport import is_loopback_host

__all__ = [
    "ALL_PACKETS",
    "DEFAULT_MAX_FRAME_SIZE",
    "KEY_ENV",
    "NEED_DATA",
    "AuthenticationError",
    "BeginDialogPacket",
    "CallPacket",
    "Close",
    "Connected",
    "Connection",
    "DisplayEndPacket",
    "DisplayPacket",
    "EndDialogPacket",
    "EnterExpressionPacket",
    "EnterTextPacket",
    "ErrorCode",
    "EvaluatePacket",
    "Event",
    "Expression",
    "ExpressionDropped",
    "ExpressionPacket",
    "FrameKind",
    "InputNamePacket",
    "InputPacket",
    "InputStringPacket",
    "LaunchError",
    "LaunchTimeout",
    "LimitExceeded",
    "Link",
    "LinkClosed",
    "LinkError",
    "LinkServer",
    "LinkTimeout",
    "LocalProtocolError",
    "LoopbackLink",
    "MenuPacket",
    "MessageCode",
    "MessagePacket",
    "OutputNamePacket",
    "Packet",
    "PacketCode",
    "Protocol",
    "RemoteProtocolError",
    "ResumePacket",
    "ReturnExpressionPacket",
    "ReturnPacket",
    "ReturnTextPacket",
    "Role",
    "State",
    "SuspendPacket",
    "SyntaxPacket",
    "TextPacket",
    "TokenType",
    "UrgentMessage",
    "channel",
    "is_loopback_host",
    "link_arguments",
    "packet_code",
    "packet_from_peer",
    "user_packet",
    "wait_ready",
]
