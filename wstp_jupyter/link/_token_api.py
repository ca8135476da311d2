"""The token-level half of ``Link``'s API, for people coming from WSTP's C API.

``WSPutFunction``/``WSPutString``/.../``WSEndPacket`` build one expression token by token and
send it whole; ``WSNextPacket``/``WSGetType``/``WSGetString``/... walk a received packet token by
token. Both sides work on whole expressions underneath (``TokenWriter``, ``TokenReader`` in
``_tokens``), so the two APIs mix freely: ``get()`` after ``next_packet()`` still returns the
packet whole. Misuse (reading past the end, a put sequence left open) raises the WSTP error
codes ``WSEGSEQ`` / ``WSEPSEQ``. A packet opened for token reading (by ``next_packet()`` or the
first token getter) stays the current one until ``new_packet()`` or ``next_packet()`` discards
its rest: reading past its end raises ``WSEGETENDPACKET`` and leaves the next packet on the link.
``get()`` returns a packet that was only opened whole, moves past one read to its end, and
raises ``WSEGSEQ`` on one that is partly read (consuming nothing).

``TokenAPI`` is a mixin: the class using it provides the expression-level ``get`` and ``_put``
and the two token cursors.
"""

from __future__ import annotations

from wstp_jupyter.link._constants import ErrorCode, PacketCode
from wstp_jupyter.link._errors import LocalProtocolError
from wstp_jupyter.link._packets import Packet, packet_code, packet_from_peer
from wstp_jupyter.link._tokens import TokenReader, TokenWriter


class TokenAPI:
    """Token-level reading and writing on top of a link's expression-level ``get``/``_put``."""

    _writer: TokenWriter
    _current: TokenReader | None

    def get(self, timeout: float | None = None) -> object:
        raise NotImplementedError

    def _put(self, expr: object) -> None:
        raise NotImplementedError

    def put_function(self, head: str | None, argc: int) -> None:
        """Begin ``head[...]`` with ``argc`` arguments (``WSPutFunction``); ``None``: the next
        put is a compound head."""
        self._writer.put_function(head, argc)

    def put_symbol(self, name: str) -> None:
        """Put a symbol (``WSPutSymbol``)."""
        self._writer.put_symbol(name)

    def put_string(self, value: str) -> None:
        """Put a string (``WSPutString``)."""
        self._writer.put_string(value)

    def put_integer(self, value: int) -> None:
        """Put an integer (``WSPutInteger64``; any size)."""
        self._writer.put_integer(value)

    def put_real(self, value: float) -> None:
        """Put a machine real (``WSPutReal64``)."""
        self._writer.put_real(value)

    def put_expr(self, expr: object) -> None:
        """Put a whole expression inside a token sequence."""
        self._writer.put_expr(expr)

    def end_packet(self) -> None:
        """Send the expression built by the put calls (``WSEndPacket``).

        Raises:
            LocalProtocolError: (``WSEPSEQ``) the expression is incomplete or empty.
        """
        expr = self._writer.end_packet()
        self._put(expr)

    def next_packet(self, timeout: float | None = None) -> int:
        """Move to the next packet and return its code (``WSNextPacket``).

        Any unread rest of the current packet is discarded. The token getters then read the
        packet's contents; ``get()`` / ``get_packet()`` still return it whole. An expression
        that is not a packet gives ``ILLEGALPKT`` (0) and is read as it is.
        """
        self._current = None
        expr = self.get(timeout)
        code = packet_code(expr)
        self._current = TokenReader(expr, skip_head=code != PacketCode.ILLEGALPKT)
        return code

    def new_packet(self) -> None:
        """Discard the rest of the current packet (``WSNewPacket``)."""
        self._current = None

    def _token_reader(self, timeout: float | None = None) -> TokenReader:
        if self._current is None:
            expr = self.get(timeout)
            self._current = TokenReader(expr)
        return self._current

    # -- handing the current packet to the expression-level API --------------------------------

    def _take_current(self) -> bool:
        """Whether ``get()`` returns the current packet whole (it was opened, not read).

        A packet read to its end is dropped, so ``get()`` moves on to the next one.

        Raises:
            LocalProtocolError: (``WSEGSEQ``) the current packet is partly read.
        """
        cur = self._current
        if cur is None:
            return False
        if cur.touched and not cur.exhausted:
            raise LocalProtocolError(
                "the current packet is partly read with the token API; finish it or call "
                "new_packet()",
                ErrorCode.WSEGSEQ,
            )
        if cur.touched:
            self._current = None
            return False
        return True

    def _current_expr(self) -> object:
        assert self._current is not None
        expr, self._current = self._current.expr, None
        return expr

    def _current_packet(self) -> Packet:
        assert self._current is not None
        packet = packet_from_peer(self._current.expr)  # a non-packet stays current
        self._current = None
        return packet

    def get_type(self) -> int:
        """The type of the next token (``WSGetType``), a ``TokenType`` value."""
        return self._token_reader().get_type()

    def get_next(self) -> int:
        """Go to the next token and return its type (``WSGetNext``)."""
        return self._token_reader().get_type()

    def get_arg_count(self) -> int:
        """Read a function token's argument count (``WSGetArgCount``); the head comes next."""
        return self._token_reader().get_arg_count()

    def get_function(self) -> tuple[str, int]:
        """Read ``head[...]`` with a symbol head: ``(head, argc)`` (``WSGetFunction``)."""
        return self._token_reader().get_function()

    def test_head(self, head: str) -> int:
        """Read ``head[...]`` and return argc; ``WSEGSEQ`` if the head differs (``WSTestHead``)."""
        return self._token_reader().test_head(head)

    def get_string(self) -> str:
        """Read a string token (``WSGetString``)."""
        return self._token_reader().get_string()

    def get_symbol(self) -> str:
        """Read a symbol token; returns its name (``WSGetSymbol``)."""
        return self._token_reader().get_symbol()

    def get_integer(self) -> int:
        """Read an integer token (``WSGetInteger64``)."""
        return self._token_reader().get_integer()

    def get_real(self) -> float:
        """Read a real token; an integer is converted (``WSGetReal64``)."""
        return self._token_reader().get_real()

    def get_expr(self) -> object:
        """Read the next whole subexpression in a token walk."""
        return self._token_reader().get_expr()


__all__ = ["TokenAPI"]
