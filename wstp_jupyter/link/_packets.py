"""WSTP packets as Python classes.

A packet is an ordinary expression whose head names its kind (``EvaluatePacket[1 + 1]``); on the
wire it is one EXPRESSION frame like any other. Each class here carries WSTP's integer ``code``,
converts to an expression with ``to_expr()`` and back with the ``from_expr`` classmethod, which
checks the shape (number and types of the arguments). ``Packet.from_expr`` on the base class
dispatches on the head. A packet that does not fit its shape is the caller's error
(``LocalProtocolError``) when the expression was built here; the links read packets through
``packet_from_peer``, which reports the same misfit as the peer's (``RemoteProtocolError``).
``ExpressionPacket`` has no WSTP code; it uses ``EXPRESSIONPKT`` (256).

The obsolete packets (``DisplayPacket``, ``DisplayEndPacket``, ``SuspendPacket``,
``ResumePacket``) keep whatever arguments they arrive with, in ``args``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar, dataclass_transform

from wstp_jupyter.link._constants import ErrorCode, PacketCode
from wstp_jupyter.link._errors import LocalProtocolError, RemoteProtocolError
from wstp_jupyter.wxf import Expr, Symbol

P = TypeVar("P", bound="Packet")

# Field kinds used for shape checks: "expr" accepts anything.
_CHECKS: dict[str, tuple[type, ...]] = {
    "expr": (object,),
    "str": (str,),
    "int": (int,),
}


class Packet:
    """Base class of every packet; see the module docstring."""

    code: ClassVar[int] = PacketCode.ILLEGALPKT
    head: ClassVar[str] = ""
    # (field name, kind) in argument order; the trailing ones listed in _optional may be absent.
    _shape: ClassVar[tuple[tuple[str, str], ...]] = ()
    _optional: ClassVar[int] = 0
    _varargs: ClassVar[bool] = False

    _head_symbol: ClassVar[Symbol]  # Symbol(head), built once per class

    def to_expr(self) -> Expr:
        """The packet as an expression, e.g. ``Expr(Symbol("EvaluatePacket"), expr)``."""
        if self._varargs:
            return Expr(self._head_symbol, *getattr(self, "args", ()))
        values = [getattr(self, name) for name, _ in self._shape]
        # Optional trailing arguments left at their default (None) are not written.
        while values and len(values) > len(self._shape) - self._optional and values[-1] is None:
            values.pop()
        return Expr(self._head_symbol, *values)

    @classmethod
    def from_expr(cls: type[P], expr: object) -> P:
        """Build a packet from an expression.

        On ``Packet`` itself the head selects the class; on a subclass the head must match.

        Raises:
            LocalProtocolError: (``WSEUNKNOWNPACKET``) the expression is not this packet, or
                its arguments have the wrong number or types.
        """
        head = packet_head(expr)
        target: type[Packet] = cls
        if cls is Packet:
            found = PACKETS_BY_HEAD.get(head) if head is not None else None
            if found is None:
                raise LocalProtocolError(
                    f"not a packet: {_short(expr)}", ErrorCode.WSEUNKNOWNPACKET
                )
            target = found
        elif head != cls.head:
            raise LocalProtocolError(
                f"expected {cls.head}[...], got {_short(expr)}", ErrorCode.WSEUNKNOWNPACKET
            )
        assert isinstance(expr, Expr)
        args = expr.args
        if target._varargs:
            return target(args=args)  # type: ignore[call-arg,return-value]
        shape = target._shape
        lo, hi = len(shape) - target._optional, len(shape)
        if not lo <= len(args) <= hi:
            want = str(hi) if lo == hi else f"{lo} to {hi}"
            raise LocalProtocolError(
                f"{target.head} takes {want} arguments, got {len(args)}",
                ErrorCode.WSEUNKNOWNPACKET,
            )
        for (name, kind), value in zip(shape, args, strict=False):
            if kind != "expr" and (
                not isinstance(value, _CHECKS[kind]) or (kind == "int" and value.__class__ is bool)
            ):
                raise LocalProtocolError(
                    f"{target.head}: argument {name!r} must be {kind}, got {_short(value)}",
                    ErrorCode.WSEUNKNOWNPACKET,
                )
        return target(*args)  # type: ignore[return-value]


def packet_from_peer(expr: object) -> Packet:
    """``Packet.from_expr`` for an expression the peer sent: a misfit is the peer's error.

    Raises:
        RemoteProtocolError: (``WSEUNKNOWNPACKET``) not a packet, or a packet of the wrong shape.
    """
    try:
        return Packet.from_expr(expr)
    except LocalProtocolError as exc:
        raise RemoteProtocolError(str(exc.args[0]), exc.code) from None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def packet_head(expr: object) -> str | None:
    """The head name of ``expr`` if it is a compound expression with a symbol head."""
    if expr.__class__ is Expr:
        head = expr.head
        if head.__class__ is Symbol:
            return head.name
    return None


def packet_code(expr: object) -> int:
    """WSTP's code for the packet ``expr`` is, or ``ILLEGALPKT`` (0) if it is no packet."""
    head = packet_head(expr)
    cls = PACKETS_BY_HEAD.get(head) if head is not None else None
    return cls.code if cls is not None else PacketCode.ILLEGALPKT


@dataclass_transform(frozen_default=True)
def _packet(
    code: int, head: str, *shape: tuple[str, str], optional: int = 0
) -> Callable[[type[P]], type[P]]:
    """Make a packet class a frozen dataclass with WSTP's ``code``, ``head`` and argument shape.

    ``dataclass_transform`` tells type checkers that the decorated class gets a dataclass
    ``__init__`` from its annotated fields, so ``TextPacket("hi")`` is checked like any call.
    """

    def wrap(cls: type[P]) -> type[P]:
        cls.code = code
        cls.head = head
        cls._shape = shape
        cls._optional = optional
        cls._head_symbol = Symbol(head)
        return dataclass(frozen=True, slots=True)(cls)

    return wrap


@_packet(PacketCode.INPUTPKT, "InputPacket", ("prompt", "str"), optional=1)
class InputPacket(Packet):
    """``InputPacket[prompt]``: the kernel asks for a line of input (``Input[]``)."""

    prompt: str | None = None


@_packet(PacketCode.TEXTPKT, "TextPacket", ("text", "str"))
class TextPacket(Packet):
    """``TextPacket[text]``: text output, e.g. from ``Print``."""

    text: str


@_packet(PacketCode.RETURNPKT, "ReturnPacket", ("expr", "expr"))
class ReturnPacket(Packet):
    """``ReturnPacket[expr]``: the result of an ``EvaluatePacket``."""

    expr: object


@_packet(PacketCode.RETURNTEXTPKT, "ReturnTextPacket", ("text", "str"))
class ReturnTextPacket(Packet):
    """``ReturnTextPacket[text]``: the formatted result of an ``EnterTextPacket``."""

    text: str


@_packet(PacketCode.MESSAGEPKT, "MessagePacket", ("symbol", "expr"), ("tag", "str"))
class MessagePacket(Packet):
    """``MessagePacket[symbol, tag]``: message ``symbol::tag``; its text follows as text."""

    symbol: object
    tag: str


@_packet(PacketCode.MENUPKT, "MenuPacket", ("number", "int"), ("title", "str"), optional=1)
class MenuPacket(Packet):
    """``MenuPacket[number, title]``: a menu request (the interrupt menu is ``"Interrupt> "``)."""

    number: int
    title: str | None = None


@_packet(PacketCode.CALLPKT, "CallPacket", ("function", "expr"), ("arguments", "expr"), optional=1)
class CallPacket(Packet):
    """``CallPacket[function, arguments]`` or ``CallPacket[request]`` (front-end requests)."""

    function: object
    arguments: object = None


@_packet(PacketCode.INPUTNAMEPKT, "InputNamePacket", ("text", "str"))
class InputNamePacket(Packet):
    """``InputNamePacket[text]``: the name of the next input, ``"In[n]:= "``."""

    text: str


@_packet(PacketCode.OUTPUTNAMEPKT, "OutputNamePacket", ("text", "str"))
class OutputNamePacket(Packet):
    """``OutputNamePacket[text]``: the name of the next output, ``"Out[n]= "``."""

    text: str


@_packet(PacketCode.SYNTAXPKT, "SyntaxPacket", ("position", "int"))
class SyntaxPacket(Packet):
    """``SyntaxPacket[position]``: where a syntax error was found in the input."""

    position: int


@_packet(PacketCode.EVALUATEPKT, "EvaluatePacket", ("expr", "expr"))
class EvaluatePacket(Packet):
    """``EvaluatePacket[expr]``: evaluate outside the main loop; one ``ReturnPacket`` answers."""

    expr: object


@_packet(PacketCode.ENTERTEXTPKT, "EnterTextPacket", ("text", "str"))
class EnterTextPacket(Packet):
    """``EnterTextPacket[text]``: parse and evaluate through the main loop."""

    text: str


@_packet(PacketCode.ENTEREXPRPKT, "EnterExpressionPacket", ("expr", "expr"))
class EnterExpressionPacket(Packet):
    """``EnterExpressionPacket[expr]``: evaluate through the main loop."""

    expr: object


@_packet(PacketCode.RETURNEXPRPKT, "ReturnExpressionPacket", ("expr", "expr"))
class ReturnExpressionPacket(Packet):
    """``ReturnExpressionPacket[expr]``: a result of an ``EnterExpressionPacket``."""

    expr: object


@_packet(PacketCode.BEGINDLGPKT, "BeginDialogPacket", ("number", "int"))
class BeginDialogPacket(Packet):
    """``BeginDialogPacket[n]``: dialog subsession ``n`` starts."""

    number: int


@_packet(PacketCode.ENDDLGPKT, "EndDialogPacket", ("number", "int"))
class EndDialogPacket(Packet):
    """``EndDialogPacket[n]``: dialog subsession ``n`` ends."""

    number: int


@_packet(PacketCode.INPUTSTRPKT, "InputStringPacket", ("prompt", "str"), optional=1)
class InputStringPacket(Packet):
    """``InputStringPacket[prompt]``: the kernel asks for a string (``InputString[]``)."""

    prompt: str | None = None


@_packet(PacketCode.EXPRESSIONPKT, "ExpressionPacket", ("expr", "expr"))
class ExpressionPacket(Packet):
    """``ExpressionPacket[expr]``: an expression for the front end (no WSTP code)."""

    expr: object


def _varargs_packet(code: int, head: str, doc: str, module: str = __name__) -> type[Packet]:
    """A packet class that keeps whatever arguments it arrives with, in ``args``."""
    cls: type[Packet] = type(
        head.rpartition("`")[2],
        (Packet,),
        {"__doc__": doc, "__annotations__": {"args": "tuple[object, ...]"}, "args": ()},
    )
    cls.code = code
    cls.head = head
    cls._head_symbol = Symbol(head)
    cls._varargs = True
    cls.__module__ = module
    return dataclass(frozen=True, slots=True)(cls)


def _obsolete(code: int, head: str, doc: str) -> type[Packet]:
    return _varargs_packet(code, head, doc)


DisplayPacket = _obsolete(PacketCode.DISPLAYPKT, "DisplayPacket", "Obsolete PostScript packet.")
DisplayEndPacket = _obsolete(
    PacketCode.DISPLAYENDPKT, "DisplayEndPacket", "Obsolete PostScript packet."
)
SuspendPacket = _obsolete(PacketCode.SUSPENDPKT, "SuspendPacket", "Obsolete packet.")
ResumePacket = _obsolete(
    PacketCode.RESUMEPKT, "ResumePacket", "Sent when ``$ParentLink`` changes (obsolete)."
)

ALL_PACKETS: tuple[type[Packet], ...] = (
    InputPacket, TextPacket, ReturnPacket, ReturnTextPacket, MessagePacket, MenuPacket,
    CallPacket, InputNamePacket, OutputNamePacket, SyntaxPacket, DisplayPacket,
    DisplayEndPacket, EvaluatePacket, EnterTextPacket, EnterExpressionPacket,
    ReturnExpressionPacket, SuspendPacket, ResumePacket, BeginDialogPacket, EndDialogPacket,
    InputStringPacket, ExpressionPacket,
)  # fmt: skip
PACKETS_BY_HEAD: dict[str, type[Packet]] = {cls.head: cls for cls in ALL_PACKETS}
PACKETS_BY_CODE: dict[int, type[Packet]] = {cls.code: cls for cls in ALL_PACKETS}


def user_packet(code: int, head: str, doc: str | None = None) -> type[Packet]:
    """Define a user packet: WSTP reserves codes 128-255 (``FIRSTUSERPKT``..``LASTUSERPKT``) for
    packets an application defines itself.

    On the wire a user packet is the expression ``head[args...]`` like any packet; once defined,
    ``next_packet()`` returns ``code`` for it, ``get_packet()`` returns an instance of the new
    class (its arguments in ``.args``) and ``put_packet(cls(args=(...)))`` sends one. Both ends
    define the same packet. Defining the same ``(code, head)`` again returns the existing class.

    Args:
        code: 128..255.
        head: the head's symbol name, e.g. ``"MyApp`ProgressPacket"`` (a context keeps it apart
            from other applications' names).
        doc: the class docstring.

    Raises:
        ValueError: the code is outside 128..255, or the code or head is already taken by
            another packet.
    """
    if not PacketCode.FIRSTUSERPKT <= code <= PacketCode.LASTUSERPKT:
        raise ValueError(f"user packet codes are 128..255, not {code}")
    name = Symbol(head).name  # validates the name and drops a System` prefix, as on the wire
    existing = PACKETS_BY_HEAD.get(name)
    if existing is not None and existing.code == code:
        return existing
    if existing is not None:
        raise ValueError(f"{name} is already the packet with code {existing.code}")
    taken = PACKETS_BY_CODE.get(code)
    if taken is not None:
        raise ValueError(f"code {code} is already the packet {taken.head}")
    cls = _varargs_packet(code, name, doc or f"``{name}[...]``: user packet {code}.")
    PACKETS_BY_HEAD[name] = cls
    PACKETS_BY_CODE[code] = cls
    return cls
