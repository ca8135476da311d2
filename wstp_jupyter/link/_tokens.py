"""The token-level API of WSTP's C interface, over whole expressions.

On the wire every packet is one WXF document, so tokens exist only at the API: ``TokenWriter``
assembles ``put_function`` / ``put_symbol`` / ``put_integer`` ... calls into one expression that
``end_packet`` hands over, and ``TokenReader`` walks a received expression in WSTP's prefix
order (a function token with its argument count, then the head, then the arguments).

Misuse raises ``LocalProtocolError`` with the code WSTP uses: ``WSEPSEQ`` for a put sequence
that is incomplete or already complete, ``WSEPBTK`` for a value of the wrong Python type,
``WSEGSEQ`` for a get that does not match the next token (the token is then not consumed),
``WSEGETENDPACKET`` for reading past the end of the packet.

Natural Python values map onto tokens the way WXF maps them onto expressions: ``list`` is
``List[...]``, ``dict`` is ``Association[Rule[k, v], ...]``, ``Fraction`` is ``Rational[p, q]``,
``complex`` is ``Complex[re, im]``, ``True``/``False``/``None`` are the symbols ``True``,
``False``, ``Null``, and numpy arrays are nested ``List``s.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from wstp_jupyter.link._constants import ErrorCode, TokenType
from wstp_jupyter.link._errors import LocalProtocolError
from wstp_jupyter.wxf import Expr, Symbol

_PENDING = object()  # a compound head that has not been put yet

T = TokenType


class _Frame:
    __slots__ = ("args", "head", "remaining")

    def __init__(self, head: object, remaining: int) -> None:
        self.head = head
        self.remaining = remaining
        self.args: list[object] = []


class TokenWriter:
    """Builds one expression from C-style put calls; see the module docstring."""

    def __init__(self) -> None:
        self._stack: list[_Frame] = []
        self._done: list[object] = []

    @property
    def active(self) -> bool:
        """True while a put sequence has started and not been ended."""
        return bool(self._stack or self._done)

    def put_function(self, head: str | Symbol | None, argc: int) -> None:
        """Start ``head[...]`` with ``argc`` arguments; with ``head=None`` the next put is
        the (compound) head."""
        if not isinstance(argc, int) or isinstance(argc, bool) or argc < 0:
            raise LocalProtocolError(
                f"argument count must be an int >= 0, not {argc!r}", ErrorCode.WSEPBTK
            )
        if head is None:
            frame = _Frame(_PENDING, argc)
        else:
            frame = _Frame(head if isinstance(head, Symbol) else self._symbol(head), argc)
        self._check_room()
        self._stack.append(frame)
        self._settle()

    def put_symbol(self, name: str | Symbol) -> None:
        """Put a symbol (``"x"``, ``"Global`x"``)."""
        self._add(name if isinstance(name, Symbol) else self._symbol(name))

    def put_string(self, value: str) -> None:
        """Put a string."""
        if not isinstance(value, str):
            raise LocalProtocolError(
                f"put_string needs a str, not {type(value).__name__}", ErrorCode.WSEPBTK
            )
        self._add(value)

    def put_integer(self, value: int) -> None:
        """Put an integer of any size."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise LocalProtocolError(
                f"put_integer needs an int, not {type(value).__name__}", ErrorCode.WSEPBTK
            )
        self._add(value)

    def put_real(self, value: float) -> None:
        """Put a machine real."""
        if not isinstance(value, float | int) or isinstance(value, bool):
            raise LocalProtocolError(
                f"put_real needs a float, not {type(value).__name__}", ErrorCode.WSEPBTK
            )
        self._add(float(value))

    def put_expr(self, expr: object) -> None:
        """Put a whole expression as one unit (``WSPutExpression``-style)."""
        self._add(expr)

    def end_packet(self) -> object:
        """Finish the sequence and return the expression it built.

        Raises:
            LocalProtocolError: (``WSEPSEQ``) nothing was put, or the expression is incomplete.
        """
        if self._stack:
            need = sum(f.remaining + (f.head is _PENDING) for f in self._stack)
            raise LocalProtocolError(
                f"end_packet with an incomplete expression ({need} more part(s) expected)",
                ErrorCode.WSEPSEQ,
            )
        if not self._done:
            raise LocalProtocolError("end_packet with nothing put", ErrorCode.WSEPSEQ)
        expr = self._done.pop()
        return expr

    def reset(self) -> None:
        """Forget a partial sequence."""
        self._stack.clear()
        self._done.clear()

    @staticmethod
    def _symbol(name: object) -> Symbol:
        if not isinstance(name, str) or not name:
            raise LocalProtocolError(
                f"a symbol name must be a non-empty str, not {name!r}", ErrorCode.WSEPBTK
            )
        return Symbol(name)

    def _check_room(self) -> None:
        if not self._stack and self._done:
            raise LocalProtocolError(
                "the expression is already complete; call end_packet() first", ErrorCode.WSEPSEQ
            )

    def _add(self, value: object) -> None:
        self._check_room()
        if not self._stack:
            self._done.append(value)
            return
        top = self._stack[-1]
        if top.head is _PENDING:
            top.head = value
        else:
            top.args.append(value)
            top.remaining -= 1
        self._settle()

    def _settle(self) -> None:
        while self._stack:
            top = self._stack[-1]
            if top.head is _PENDING or top.remaining:
                return
            self._stack.pop()
            self._add(Expr(top.head, *top.args))
            return


# -- reading ----------------------------------------------------------------------------------

_TRUE, _FALSE, _NULL = Symbol("True"), Symbol("False"), Symbol("Null")


def _view(value: object) -> tuple[int, object, tuple[object, ...]]:
    """``(token type, atom or head, arguments)`` for one value."""
    if isinstance(value, bool) or value is None:
        return T.WSTKSYM, (_TRUE if value else _FALSE) if value is not None else _NULL, ()
    if isinstance(value, int):
        return T.WSTKINT, value, ()
    if isinstance(value, float):
        return T.WSTKREAL, value, ()
    if isinstance(value, str):
        return T.WSTKSTR, value, ()
    if isinstance(value, Symbol):
        return T.WSTKSYM, value, ()
    if isinstance(value, Expr):
        return T.WSTKFUNC, value.head, tuple(value.args)
    if isinstance(value, list | tuple):
        return T.WSTKFUNC, Symbol("List"), tuple(value)
    if isinstance(value, Fraction):
        return T.WSTKFUNC, Symbol("Rational"), (value.numerator, value.denominator)
    if isinstance(value, complex):
        return T.WSTKFUNC, Symbol("Complex"), (value.real, value.imag)
    if isinstance(value, Decimal):
        return T.WSTKREAL, float(value), ()
    if isinstance(value, dict):
        rules = tuple(Expr(Symbol("Rule"), k, v) for k, v in value.items())
        return T.WSTKFUNC, Symbol("Association"), rules
    if isinstance(value, bytes | bytearray):
        return T.WSTKFUNC, Symbol("ByteArray"), (list(value),)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays and NumericArray
        return _view(tolist())
    to_expr = getattr(value, "to_expr", None)
    if callable(to_expr):
        return _view(to_expr())
    try:  # BigReal and other numbers that know their float value
        return T.WSTKREAL, float(value), ()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return T.WSTKFUNC, Symbol(type(value).__name__), ()


class TokenReader:
    """Walks one expression token by token; see the module docstring.

    ``skip_head=True`` starts inside a packet, at its first argument (as after
    ``WSNextPacket``).
    """

    def __init__(self, expr: object, *, skip_head: bool = False) -> None:
        self.expr = expr
        self.touched = False
        # Stack of pending values, last one next; a function's parts are pushed in reverse.
        if skip_head:
            kind, _head, args = _view(expr)
            self._todo: list[object] = list(reversed(args)) if kind == T.WSTKFUNC else [expr]
        else:
            self._todo = [expr]
        self._func_head: object = _PENDING

    @property
    def exhausted(self) -> bool:
        """True when every token has been read."""
        return not self._todo

    def get_type(self) -> int:
        """The type of the next token, without consuming it.

        Raises:
            LocalProtocolError: (``WSEGETENDPACKET``) the packet has been read completely.
        """
        if not self._todo:
            raise LocalProtocolError("read past the end of the packet", ErrorCode.WSEGETENDPACKET)
        return _view(self._todo[-1])[0]

    def get_arg_count(self) -> int:
        """Consume a function token; returns its argument count (the head is read next)."""
        _kind, head, args = self._expect(T.WSTKFUNC)
        self._todo.pop()
        self._todo.extend(reversed(args))
        self._todo.append(head)
        self.touched = True
        return len(args)

    def get_function(self) -> tuple[str, int]:
        """Consume a function with a symbol head; returns ``(head name, argc)``."""
        _kind, head, args = self._expect(T.WSTKFUNC)
        if not isinstance(head, Symbol):
            raise LocalProtocolError("the function's head is not a symbol", ErrorCode.WSEGSEQ)
        self.get_arg_count()
        self._todo.pop()
        return head.name, len(args)

    def test_head(self, head: str) -> int:
        """Consume ``head[...]`` and return its argument count.

        Raises:
            LocalProtocolError: (``WSEGSEQ``) the next token is not a function with that head;
                nothing is consumed.
        """
        _kind, got, args = self._expect(T.WSTKFUNC)
        if not (isinstance(got, Symbol) and got == Symbol(head)):
            raise LocalProtocolError(f"expected head {head}, found {got!r}", ErrorCode.WSEGSEQ)
        self.get_arg_count()
        self._todo.pop()
        return len(args)

    def get_string(self) -> str:
        """Consume a string token."""
        value = self._expect(T.WSTKSTR)[1]
        self._consume()
        return value  # type: ignore[return-value]

    def get_symbol(self) -> str:
        """Consume a symbol token; returns its full name."""
        value = self._expect(T.WSTKSYM)[1]
        self._consume()
        return value.name  # type: ignore[attr-defined]

    def get_integer(self) -> int:
        """Consume an integer token."""
        value = self._expect(T.WSTKINT)[1]
        self._consume()
        return value  # type: ignore[return-value]

    def get_real(self) -> float:
        """Consume a real token (an integer token is converted, as WSTP does)."""
        kind, value, _ = self._peek()
        if kind == T.WSTKINT:
            self._consume()
            return float(value)  # type: ignore[arg-type]
        value = self._expect(T.WSTKREAL)[1]
        self._consume()
        return value  # type: ignore[return-value]

    def get_expr(self) -> object:
        """Consume the next whole (sub)expression and return it."""
        if not self._todo:
            self.get_type()
        self.touched = True
        return self._todo.pop()

    def _peek(self) -> tuple[int, object, tuple[object, ...]]:
        self.get_type()
        return _view(self._todo[-1])

    def _expect(self, kind: int) -> tuple[int, object, tuple[object, ...]]:
        got = self._peek()
        if got[0] != kind:
            raise LocalProtocolError(
                f"expected a {TokenType(kind).name} token, found {TokenType(got[0]).name}",
                ErrorCode.WSEGSEQ,
            )
        return got

    def _consume(self) -> None:
        self._todo.pop()
        self.touched = True
