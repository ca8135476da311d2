"""The link package's errors: one root, a local/remote split, each carrying a WSTP error code.

``LocalProtocolError`` means *this* side asked for something illegal (wrong call order, an
incomplete expression handed to ``end_packet``, reading an integer where a string is). A
``RemoteProtocolError`` means the *peer* sent something illegal; the link that saw it is closed.
The split follows python-hyper's h11: errors are converted once, at the inbound boundary.
"""

from __future__ import annotations

from wstp_jupyter._errors import WSTPJupyterError
from wstp_jupyter.link._constants import ErrorCode


class LinkError(WSTPJupyterError):
    """Root of every error the link package raises on purpose.

    Attributes:
        code: the WSTP error code (``ErrorCode``) that best describes the failure.
    """

    default_code: ErrorCode = ErrorCode.WSEUNKNOWN

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code: int = int(self.default_code if code is None else code)

    def __str__(self) -> str:
        text = super().__str__()
        try:
            name = ErrorCode(self.code).name
        except ValueError:
            name = str(self.code)
        return f"{text} [{name}]"


class LocalProtocolError(LinkError):
    """This side used the link illegally; nothing was sent and the link is still usable."""

    default_code = ErrorCode.WSEPSEQ


class RemoteProtocolError(LinkError):
    """The peer broke the protocol (bad frame, limit exceeded, undecodable WXF)."""

    default_code = ErrorCode.WSEPROTOCOL


class LimitExceeded(RemoteProtocolError):
    """The peer sent an expression that exceeds this side's receiver limits (``wxf.Limits``).

    It was dropped whole; the read that would have returned it raises this error instead, and
    the link stays usable (the next read returns the next expression).

    Attributes:
        head: the dropped expression's head when its first bytes named one
            (``Symbol("EvaluatePacket")``), else ``None``.
    """

    default_code = ErrorCode.WSEDEPTH

    def __init__(self, message: str, code: int | None = None, *, head: object = None) -> None:
        super().__init__(message, code)
        self.head = head


class LinkClosed(LinkError):
    """The link is closed: the peer went away, or this side closed it."""

    default_code = ErrorCode.WSECLOSED


class AuthenticationError(LinkError):
    """The handshake's key check failed, or a listener would be reachable without a key."""

    default_code = ErrorCode.WSECONNECT


class LinkTimeout(LinkError, TimeoutError):
    """A blocking call ran out of time; the link itself is unharmed."""

    default_code = ErrorCode.WSENODATA
