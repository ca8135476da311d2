"""The sans-IO protocol core: bytes in, events out, events to bytes.

``Connection`` implements docs/protocol.md without doing any I/O (the h11 model)::

    conn = Connection(Role.CONNECTOR, key=b"secret")
    sock.sendall(conn.data_to_send())          # our HELLO
    conn.receive_data(sock.recv(65536))        # b"" means end of stream
    while (event := conn.next_event()) is not NEED_DATA:
        ...                                     # Connected, Expression, UrgentMessage, Close
        sock.sendall(conn.data_to_send())      # handshake replies, CLOSE after an error
    sock.sendall(conn.send(Expression(expr=...)))

Bytes the protocol itself must emit (HELLO, AUTH, WELCOME, and the CLOSE frame that tells a peer
why it is being dropped) accumulate in ``data_to_send()``; bytes for the caller's own events are
returned by ``send()``. Frame legality comes from the tables in ``_state``; WXF payloads are
decoded with the receiver's ``wxf.Limits``. Every inbound failure becomes ``RemoteProtocolError``
(or ``AuthenticationError``) at one place, ``next_event``; after one, the connection is dead.
One is not a failure of the connection: a document that arrived whole but breaks a ``wxf.Limits``
limit is dropped and reported as an ``ExpressionDropped`` event, because the frame's length kept
the stream in sync (docs/protocol.md, "Receiver limits").

What is sent is checked against the peer's limits as far as this side can know them, the
defaults (or this side's own limits where they are higher: both ends raised alike): ``send``
refuses (``LocalProtocolError``, nothing sent) an expression nested deeper than ``send_max_depth``
(``WSEDEPTH``) or a frame larger than ``send_max_frame_size`` (``WSEPBIG``), where the peer would
drop it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Callable, Sequence

from wstp_jupyter import wxf
from wstp_jupyter.link import _frames as F
from wstp_jupyter.link._constants import ErrorCode, is_valid_message_code
from wstp_jupyter.link._errors import (
    AuthenticationError,
    LinkError,
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
    _NeedData,
)
from wstp_jupyter.link._state import HANDSHAKE_STATES, INBOUND, OUTBOUND, Role, State

DEFAULT_MAX_FRAME_SIZE = 1 << 30  # 1 GiB; the wire allows up to 4 GiB - 1
DEFAULT_MAX_DEPTH = wxf.Limits().max_depth  # 1024
_NIL_UUID = bytes(16)
_CONNECTOR_LABEL = b"wstp-jupyter/1 connector proof"
_LISTENER_LABEL = b"wstp-jupyter/1 listener proof"
_FLAG_KEYED = 0x01
_EXPRESSION = int(F.FrameKind.EXPRESSION)


def normalize_key(key: bytes | str | None) -> bytes:
    """The HMAC key as bytes (``str`` keys are UTF-8 encoded; no key is the empty key)."""
    if key is None:
        return b""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, bytes | bytearray | memoryview):
        return bytes(key)
    raise TypeError(f"key must be bytes, str or None, not {type(key).__name__}")


class Connection:
    """One end of a link, as a pure state machine.

    Args:
        role: ``Role.CONNECTOR`` for the side that connected, ``Role.LISTENER`` for the side
            that accepted.
        key: the shared secret for the HMAC challenge-response; ``None`` means the empty key,
            which only a peer without a key matches.
        connection_id: connector only: the id to present (a link-server client that
            reconnects presents its old id); ``None`` lets the listener assign one.
        max_frame_size: the largest payload accepted from the peer.
        limits: WXF receiver limits applied to every expression (``wxf.Limits``).
        nonce: 32 bytes of challenge; random unless given (tests pass one for golden bytes).
    """

    def __init__(
        self,
        role: Role,
        *,
        key: bytes | str | None = None,
        connection_id: uuid.UUID | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        limits: wxf.Limits | None = None,
        nonce: bytes | None = None,
    ) -> None:
        if not 0 < max_frame_size <= F.MAX_PAYLOAD:
            raise ValueError(f"max_frame_size must be in 1..{F.MAX_PAYLOAD}")
        if nonce is not None and len(nonce) != 32:
            raise ValueError("nonce must be 32 bytes")
        if connection_id is not None and role is not Role.CONNECTOR:
            raise ValueError("only the connecting side proposes a connection id")
        self.role = role
        self._reader = F.FrameReader(self._admit)
        self.state = State.AWAIT_HELLO
        self.connection_id: uuid.UUID | None = None
        self.max_frame_size = max_frame_size
        self._key = normalize_key(key)
        self._limits = limits
        #: What the peer is assumed to accept (see the module docstring).
        self.send_max_depth = max(DEFAULT_MAX_DEPTH, limits.max_depth if limits else 0)
        self.send_max_frame_size = max(DEFAULT_MAX_FRAME_SIZE, max_frame_size)
        self._requested_id = connection_id.bytes if connection_id is not None else _NIL_UUID
        self._hello_out = F.HELLO.pack(
            F.MAGIC,
            F.VERSION,
            0 if role is Role.CONNECTOR else 1,
            _FLAG_KEYED if self._key else 0,
            nonce if nonce is not None else os.urandom(32),
            self._requested_id,
        )
        self._hello_in = b""
        self._peer_keyed = False
        self._peer_version = 0
        self._out = bytearray(F.frame(F.FrameKind.HELLO, self._hello_out))
        # The link calls these once per read, so they are the reader's own bound methods rather
        # than forwarding methods.
        #: ``get_buffer() -> memoryview``: a writable buffer for ``recv_into``; report how many
        #: bytes were received with ``buffer_updated(nbytes)``.
        self.get_buffer: Callable[[], memoryview] = self._reader.get_buffer
        self.buffer_updated: Callable[[int], None] = self._reader.buffer_updated
        self._final: Close | None = None
        self._error: LinkError | None = None

    # -- input ------------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes from the peer; ``b""`` means the stream ended."""
        self._reader.feed(data)

    @property
    def state(self) -> State:
        """Where the connection is in docs/protocol.md's state machine."""
        return self._state

    @state.setter
    def state(self, value: State) -> None:
        self._state = value
        # Expression frames of a legal size need no admission check while established.
        reader = self._reader
        if value is State.ESTABLISHED:
            reader.fast_kind, reader.fast_min, reader.fast_max = _EXPRESSION, 3, self.max_frame_size
        else:
            reader.fast_kind, reader.fast_max = -1, -1

    def next_event(self) -> Event | _NeedData:
        """The next event, or ``NEED_DATA``.

        Raises:
            RemoteProtocolError: the peer broke the protocol; a CLOSE frame explaining why is
                queued in ``data_to_send()`` and the connection is dead.
            AuthenticationError: the keys did not match (raised on both sides).
        """
        if self._error is not None:
            raise self._error
        if self._final is not None:
            return self._final
        try:
            while True:
                got = self._reader.next_frame()
                if got is None:
                    if self._reader.eof:
                        return self._finish(
                            Close(code=ErrorCode.WSEDEAD, reason="the peer ended the stream")
                        )
                    return NEED_DATA
                if got[0] == _EXPRESSION:  # the reader only returns those once legal
                    return self._decode(got[1])
                event = self._handle(*got)
                if event is not None:
                    return event
        except AuthenticationError as exc:
            self._fail(exc, ErrorCode.WSECONNECT)
            raise
        except LinkError as exc:
            self._fail(exc, exc.code)
            raise
        except Exception as exc:  # a hostile payload must never escape as a crash
            err = RemoteProtocolError(f"malformed frame: {type(exc).__name__}: {exc}")
            self._fail(err, err.code)
            raise err from exc

    def _fail(self, exc: LinkError, code: int) -> None:
        if self.state not in (State.CLOSED, State.ERROR):
            self._out += F.frame(
                F.FrameKind.CLOSE, F.close_payload(code, exc.args[0] if exc.args else str(exc))
            )
        self.state = State.ERROR
        self._error = exc

    def _finish(self, close: Close) -> Close:
        self.state = State.CLOSED
        self._final = close
        return close

    def _admit(self, kind: int, length: int) -> None:
        if kind == _EXPRESSION and self.state is State.ESTABLISHED and length >= 3:
            if length > self.max_frame_size:
                raise RemoteProtocolError(
                    f"expression frame of {length} bytes exceeds the limit of "
                    f"{self.max_frame_size} bytes",
                    ErrorCode.WSEPBIG,
                )
            return  # the hot path: skip the table lookups below
        try:
            fkind = F.FrameKind(kind)
        except ValueError:
            raise RemoteProtocolError(f"unknown frame kind {kind:#04x}") from None
        if (self.role, self.state, fkind) not in INBOUND:
            raise RemoteProtocolError(
                f"{fkind.name} frame not allowed for the {self.role.value} "
                f"in state {self.state.value}"
            )
        fixed = F.FIXED_SIZES.get(fkind)
        if fixed is not None and length != fixed:
            raise RemoteProtocolError(f"{fkind.name} frame must be {fixed} bytes, not {length}")
        if fkind is F.FrameKind.CLOSE and not (
            F.CLOSE_HEAD.size <= length <= F.CLOSE_HEAD.size + F.MAX_CLOSE_TEXT
        ):
            raise RemoteProtocolError(f"CLOSE frame of {length} bytes")
        if fkind is F.FrameKind.EXPRESSION:
            if length > self.max_frame_size:
                raise RemoteProtocolError(
                    f"expression frame of {length} bytes exceeds the limit of "
                    f"{self.max_frame_size} bytes",
                    ErrorCode.WSEPBIG,
                )
            if length < 3:
                raise RemoteProtocolError(f"expression frame of {length} bytes is too short")

    def _handle(self, kind: int, payload: F.Payload) -> Event | None:
        if kind == _EXPRESSION:  # _admit already checked it is legal now
            return self._decode(payload)
        new_state = INBOUND[(self.role, self.state, F.FrameKind(kind))]
        if kind == F.FrameKind.MESSAGE:
            code, arg = F.MESSAGE.unpack(payload)
            if not is_valid_message_code(code):
                raise RemoteProtocolError(f"urgent message code {code} is not a WSTP code")
            return UrgentMessage(code=code, arg=arg)
        if kind == F.FrameKind.CLOSE:
            (code,) = F.CLOSE_HEAD.unpack_from(payload)
            text = bytes(payload[F.CLOSE_HEAD.size :]).decode("utf-8", "replace")
            in_handshake = self.state in HANDSHAKE_STATES
            close = self._finish(Close(code=code, reason=text))
            if in_handshake and code == ErrorCode.WSECONNECT:
                self._error = AuthenticationError(f"the peer rejected the handshake: {text}")
                raise self._error
            return close
        if kind == F.FrameKind.HELLO:
            self._on_hello(bytes(payload))
        elif kind == F.FrameKind.AUTH:
            self.state = new_state
            return self._on_auth(bytes(payload))
        elif kind == F.FrameKind.WELCOME:
            self.state = new_state
            return self._on_welcome(bytes(payload))
        self.state = new_state
        return None

    # -- handshake --------------------------------------------------------------------------

    def _on_hello(self, payload: bytes) -> None:
        magic, version, role, flags, _nonce, requested = F.HELLO.unpack(payload)
        if magic != F.MAGIC:
            raise RemoteProtocolError(f"not a wstp-jupyter peer (magic {magic!r})")
        if version != F.VERSION:
            raise RemoteProtocolError(
                f"unsupported protocol version {version} (this side speaks {F.VERSION})"
            )
        expected = 1 if self.role is Role.CONNECTOR else 0
        if role != expected:
            raise RemoteProtocolError("both ends of the link claim the same role")
        if flags & ~_FLAG_KEYED:
            raise RemoteProtocolError(f"unknown HELLO flags {flags:#x}")
        self._hello_in = payload
        self._peer_keyed = bool(flags & _FLAG_KEYED)
        self._peer_version = version
        if self.role is Role.CONNECTOR:
            self._out += F.frame(F.FrameKind.AUTH, self._proof(_CONNECTOR_LABEL, b""))
        else:
            self._requested_id = requested

    def _transcript(self) -> bytes:
        if self.role is Role.CONNECTOR:
            return self._hello_out + self._hello_in
        return self._hello_in + self._hello_out

    def _proof(self, label: bytes, extra: bytes) -> bytes:
        return hmac.new(self._key, label + self._transcript() + extra, hashlib.sha256).digest()

    def _auth_failure(self) -> AuthenticationError:
        me = self.role.value
        peer = "listener" if self.role is Role.CONNECTOR else "connector"
        if self._peer_keyed and not self._key:
            why = f"the {peer} uses a key but the {me} has none"
        elif self._key and not self._peer_keyed:
            why = f"the {me} uses a key but the {peer} has none"
        else:
            why = "the keys differ"
        return AuthenticationError(f"authentication failed: {why}")

    def _on_auth(self, proof: bytes) -> Connected:
        if not hmac.compare_digest(proof, self._proof(_CONNECTOR_LABEL, b"")):
            raise self._auth_failure()
        cid = self._requested_id if self._requested_id != _NIL_UUID else uuid.uuid4().bytes
        self.connection_id = uuid.UUID(bytes=cid)
        self._out += F.frame(
            F.FrameKind.WELCOME, F.WELCOME.pack(self._proof(_LISTENER_LABEL, cid), cid)
        )
        return Connected(connection_id=self.connection_id, peer_version=self._peer_version)

    def _on_welcome(self, payload: bytes) -> Connected:
        proof, cid = F.WELCOME.unpack(payload)
        if not hmac.compare_digest(proof, self._proof(_LISTENER_LABEL, cid)):
            raise self._auth_failure()
        if cid == _NIL_UUID or (self._requested_id not in (_NIL_UUID, cid)):
            raise RemoteProtocolError("the listener assigned an invalid connection id")
        self.connection_id = uuid.UUID(bytes=cid)
        return Connected(connection_id=self.connection_id, peer_version=self._peer_version)

    def _decode(self, payload: F.Payload) -> Expression | ExpressionDropped:
        try:
            return Expression(expr=wxf.loads(payload, limits=self._limits))
        except wxf.WXFLimitError as exc:
            # Well framed, merely too big or too deep for us: drop this one, keep the link.
            return ExpressionDropped(
                code=ErrorCode.WSEDEPTH,
                reason=f"expression exceeds a receiver limit: {exc}",
                head=wxf.peek_head(payload),
            )
        except wxf.WXFError as exc:
            raise RemoteProtocolError(f"undecodable WXF expression: {exc}") from exc

    # -- output -----------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Protocol bytes waiting to go out (handshake frames, an error CLOSE); then empty."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def send(self, event: Event) -> bytes:
        """The bytes for one outgoing event (see ``send_parts`` for a copy-free form)."""
        return b"".join(self.send_parts(event))

    def send_parts(self, event: Event) -> list[F.Payload]:
        """The bytes for one outgoing event as a list of buffers (for ``sendmsg``).

        Raises:
            LocalProtocolError: the event is not legal in the current state, the expression
                cannot be encoded, or a message code is outside WSTP's ranges.
        """
        name = type(event).__name__
        if name not in OUTBOUND[self.state]:
            raise LocalProtocolError(
                f"cannot send {name} as the {self.role.value} in state {self.state.value}",
                ErrorCode.WSECLOSED if self.state in (State.CLOSED, State.ERROR) else None,
            )
        if isinstance(event, Expression):
            return self.wxf_parts(encode(event.expr, self.send_max_depth))
        if isinstance(event, UrgentMessage):
            check_message(event)
            return [F.frame(F.FrameKind.MESSAGE, F.MESSAGE.pack(event.code, event.arg))]
        if isinstance(event, Close):
            self.state = State.CLOSED
            if self._final is None:
                self._final = Close(code=ErrorCode.WSECLOSED, reason="closed by this side")
            return [F.frame(F.FrameKind.CLOSE, F.close_payload(event.code, event.reason))]
        raise LocalProtocolError(f"cannot send {name}")

    def wxf_parts(self, document: bytes | Sequence[F.Payload]) -> list[F.Payload]:
        """Frame an already-encoded WXF document, given whole or as chunks (for example
        ``wxf.dump_chunks`` output, whose array data are zero-copy views).

        Raises:
            LocalProtocolError: not in the established state, not a WXF document, or larger
                than ``send_max_frame_size`` (``WSEPBIG``: the peer would refuse the frame).
        """
        if self._state is State.ESTABLISHED and document.__class__ is list and len(document) == 1:
            # The hot path: a small document encoded as one chunk.
            doc = document[0]
            if (
                doc.__class__ is not memoryview
                and doc[:2] == b"8:"
                and len(doc) <= self.send_max_frame_size
            ):
                return [F.HEADER.pack(_EXPRESSION, 0, 0, len(doc)) + doc]
        if "Expression" not in OUTBOUND[self.state]:
            raise LocalProtocolError(
                f"cannot send an expression as the {self.role.value} in state {self.state.value}",
                ErrorCode.WSECLOSED if self.state in (State.CLOSED, State.ERROR) else None,
            )
        if not isinstance(document, bytes) and not any(type(c) is memoryview for c in document):
            # Small documents come as a few bytes chunks: one join makes the frame a single
            # buffer, so it leaves in one send() without a size scan.
            document = b"".join(document)
        if isinstance(document, bytes):
            if len(document) > self.send_max_frame_size:
                raise self._too_big(len(document))
            if not (document[:2] == b"8:" or document[:3] == b"8C:"):
                raise LocalProtocolError("payload is not a WXF document", ErrorCode.WSEPDATABAD)
            return [F.header(F.FrameKind.EXPRESSION, len(document)) + document]
        chunks: Sequence[F.Payload] = document
        size = sum(memoryview(c).nbytes for c in chunks)
        if size > self.send_max_frame_size:
            raise self._too_big(size)
        first = bytes(chunks[0][:3]) if chunks else b""
        if not (first[:2] == b"8:" or first == b"8C:"):
            raise LocalProtocolError("payload is not a WXF document", ErrorCode.WSEPDATABAD)
        return [F.header(F.FrameKind.EXPRESSION, size), *chunks]

    def _too_big(self, size: int) -> LocalProtocolError:
        return LocalProtocolError(
            f"expression of {size} bytes exceeds the frame limit of "
            f"{self.send_max_frame_size} bytes (the peer would refuse it)",
            ErrorCode.WSEPBIG,
        )


def check_message(message: UrgentMessage) -> None:
    """Refuse an urgent message WSTP cannot carry.

    Raises:
        LocalProtocolError: (``WSEBADPARAM``) the code is outside 1-12 and 128-255, or the
            argument is not an unsigned 32-bit integer.
    """
    if not is_valid_message_code(message.code):
        raise LocalProtocolError(
            f"urgent message code {message.code} is outside 1-12 and 128-255",
            ErrorCode.WSEBADPARAM,
        )
    if not 0 <= message.arg <= 0xFFFFFFFF:
        raise LocalProtocolError(
            f"urgent message argument {message.arg} is not an unsigned 32-bit integer",
            ErrorCode.WSEBADPARAM,
        )


def encode(expr: object, max_depth: int = DEFAULT_MAX_DEPTH) -> list[F.Payload]:
    """``wxf.dump_chunks`` with encoding failures turned into ``LocalProtocolError``.

    Args:
        expr: the expression.
        max_depth: the receiver's nesting limit (``wxf.Limits.max_depth``, 1024 by default).

    Raises:
        LocalProtocolError: ``WSEDEPTH`` when ``expr`` nests deeper than ``max_depth`` (a peer
            would drop it), ``WSEPDATABAD`` when it has no WXF form. Nothing is sent.
    """
    try:
        return wxf.dump_chunks(expr, max_depth=max_depth)
    except wxf.WXFDepthError as exc:
        raise LocalProtocolError(
            f"cannot send an expression nested deeper than {max_depth} levels (the receiver's "
            "limit)",
            ErrorCode.WSEDEPTH,
        ) from exc
    except wxf.WXFError as exc:
        raise LocalProtocolError(
            f"cannot encode {type(expr).__name__}: {exc}", ErrorCode.WSEPDATABAD
        ) from exc
