"""Events of the sans-IO core: what ``Connection.next_event()`` returns and ``send()`` takes.

Events are frozen, keyword-only dataclasses named after the unit on the wire. ``Connected`` is a
notification (the handshake finished), ``Expression`` carries one complete expression (usually a
packet such as ``EvaluatePacket[...]``), ``ExpressionDropped`` says that one arrived intact but
broke a receiver limit (the link goes on), ``UrgentMessage`` an out-of-band message and ``Close``
the end of the link. ``NEED_DATA`` is the sentinel for "feed me more bytes".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar, Final

from wstp_jupyter.link._constants import MessageCode


class _NeedData:
    """Type of the ``NEED_DATA`` sentinel."""

    _instance: ClassVar[_NeedData | None] = None

    def __new__(cls) -> _NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"

    def __reduce__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


@dataclass(frozen=True, kw_only=True, slots=True)
class Connected:
    """The handshake completed; expressions and messages may flow.

    Attributes:
        connection_id: the UUID that names this connection (chosen by the connecting side,
            or assigned by the listener when the connector sent none).
        peer_version: the protocol version the peer announced.
    """

    connection_id: uuid.UUID
    peer_version: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Expression:
    """One complete expression; on the wire, one WXF document in an EXPRESSION frame.

    Attributes:
        expr: the expression (natural Python types, ``Symbol`` or ``Expr``), as decoded by
            ``wstp_jupyter.wxf.loads``.
    """

    expr: object


@dataclass(frozen=True, kw_only=True, slots=True)
class ExpressionDropped:
    """An EXPRESSION frame arrived whole, but its WXF document exceeds a receiver limit
    (``wxf.Limits``: nesting depth, a length, the inflated size), so it was dropped.

    The frame's length prefix kept the stream in sync: the link goes on, and only the read
    that would have returned this expression fails (WSTP's ``WSEDEPTH``).

    Attributes:
        code: the WSTP error code (``WSEDEPTH``).
        reason: which limit, as the decoder said it.
        head: the head of the dropped expression when its first bytes name one (``Symbol(
            "EvaluatePacket")``), so a receiver can still answer a request it could not read;
            ``None`` otherwise.
    """

    code: int
    reason: str
    head: object = None


@dataclass(frozen=True, kw_only=True, slots=True)
class UrgentMessage:
    """An out-of-band message (``WSPutMessage``): a code and an integer argument.

    Codes are WSTP's: ``TERMINATE`` 1, ``INTERRUPT`` 2, ``ABORT`` 3, the other standard codes
    up to 12, and 128-255 for users. Both code and argument travel as unsigned 32-bit integers;
    WSTP's standard messages use argument 0.
    """

    code: int
    arg: int = 0

    TERMINATE: ClassVar[int] = MessageCode.TERMINATE
    INTERRUPT: ClassVar[int] = MessageCode.INTERRUPT
    ABORT: ClassVar[int] = MessageCode.ABORT
    FIRST_USER: ClassVar[int] = MessageCode.FIRSTUSER
    LAST_USER: ClassVar[int] = MessageCode.LASTUSER

    @property
    def name(self) -> str:
        """WSTP's name for the code (``"ABORT"``), or ``"USER+n"`` for the user range."""
        if self.code >= MessageCode.FIRSTUSER:
            return f"USER+{self.code - MessageCode.FIRSTUSER}"
        try:
            return MessageCode(self.code).name
        except ValueError:
            return str(self.code)


@dataclass(frozen=True, kw_only=True, slots=True)
class Close:
    """The link ends. Sent by ``close()``; received when the peer closes or the stream ends.

    Attributes:
        code: a WSTP error code: 0 (``WSEOK``) for an orderly close, ``WSEPROTOCOL`` after a
            protocol error, ``WSECONNECT`` after a failed authentication, ``WSEDEAD`` when the
            stream ended without a CLOSE frame.
        reason: human-readable text (at most 1024 UTF-8 bytes on the wire).
    """

    code: int = 0
    reason: str = ""


Event = Connected | Expression | ExpressionDropped | UrgentMessage | Close
