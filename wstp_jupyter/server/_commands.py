"""The ``WSTPServer``` command language: recognising commands, reading their text form, results.

A client sends a command as ``EvaluatePacket[WSTPServer`Cmd[args]]``,
``EnterExpressionPacket[WSTPServer`Cmd[args]]`` or ``EnterTextPacket["WSTPServer`Cmd[args]"]``.
:func:`command_from_packet` recognises all three and returns a :class:`Command` (or ``None`` for
an ordinary packet, which goes to the kernel). The text form is read by a deliberately small
parser for literal arguments only -- strings, integers, ``True``/``False``/``None``/``Null`` and
rules ``"Key" -> value`` -- because the server never evaluates code: anything else is a clear
syntax error, returned as a ``Failure``.

Results go back in the packet the request form calls for (:func:`reply_packets`): a
``ReturnPacket`` for ``EvaluatePacket``; ``ReturnExpressionPacket`` or ``ReturnTextPacket`` (the
result in InputForm) followed by the attached kernel's current ``InputNamePacket`` for the main
loop forms, without advancing the kernel's ``$Line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wstp_jupyter.link import (
    EnterExpressionPacket,
    EnterTextPacket,
    EvaluatePacket,
    InputNamePacket,
    LocalProtocolError,
    Packet,
    ReturnExpressionPacket,
    ReturnPacket,
    ReturnTextPacket,
)
from wstp_jupyter.server._errors import ServerCommandError
from wstp_jupyter.wxf import Expr, Symbol

CONTEXT = "WSTPServer`"
#: Command names the server answers (``ConnectPool`` is this project's addition).
COMMANDS = frozenset({
    "StartKernel", "CloseKernel", "ConnectKernel", "DisconnectKernel", "SetKeepAlive",
    "SetAllowSilentKernelReplacement", "GetKernelID", "GetPoolName", "GetServerInformation",
    "SetReserveKernel", "ConnectPool",
})

#: The request forms a command may arrive in (and be answered in).
EVALUATE: type[Packet] = EvaluatePacket
ENTER_TEXT: type[Packet] = EnterTextPacket
ENTER_EXPRESSION: type[Packet] = EnterExpressionPacket


@dataclass(frozen=True)
class Command:
    """A parsed command: its short name, positional arguments and ``"Key" -> value`` options.

    ``form`` is the packet class it arrived in (:data:`EVALUATE`, :data:`ENTER_TEXT` or
    :data:`ENTER_EXPRESSION`); ``error`` is set instead of a name when the text did not parse.
    """

    name: str
    args: tuple[object, ...] = ()
    options: dict[str, object] = field(default_factory=dict)
    form: type[Packet] = EVALUATE
    error: str | None = None


def as_packet(expr: object) -> Packet | None:
    """``expr`` as one of the link's ``Packet`` classes, or ``None`` if it is no packet (or a
    packet of the wrong shape, which is forwarded as it is and never taken for a request)."""
    try:
        return Packet.from_expr(expr)
    except LocalProtocolError:
        return None


def _rule_parts(value: object) -> tuple[str, object] | None:
    if isinstance(value, Expr) and value.head_name in ("Rule", "RuleDelayed") and len(value) == 2:
        key = value.args[0]
        name = key if isinstance(key, str) else key.name if isinstance(key, Symbol) else None
        if name is not None:
            return name.rpartition("`")[2], value.args[1]
    return None


def _from_expr(expr: object, form: type[Packet]) -> Command | None:
    name = expr.head_name if isinstance(expr, Expr) else None
    if name is None or not name.startswith(CONTEXT):
        if isinstance(expr, Symbol) and expr.name.startswith(CONTEXT):
            name = expr.name  # a bare symbol: WSTPServer`GetKernelID without brackets
            expr = Expr(expr)
        else:
            return None
    assert isinstance(expr, Expr)
    short = name[len(CONTEXT):]
    args: list[object] = []
    options: dict[str, object] = {}
    for arg in expr.args:
        rule = _rule_parts(arg)
        if rule is not None:
            options[rule[0]] = rule[1]
        elif isinstance(arg, dict):
            options.update({str(k): v for k, v in arg.items()})
        else:
            args.append(arg)
    if short not in COMMANDS:
        return Command(short, form=form, error=f"unknown command {name}")
    return Command(short, tuple(args), options, form)


def command_from_packet(packet: object) -> Command | None:
    """Recognise a server command in a client's packet.

    Returns:
        ``None`` for every packet that is not a command (it goes to the kernel), otherwise the
        :class:`Command`, whose ``error`` is set when it could not be read.
    """
    match as_packet(packet):
        case EvaluatePacket(expr=body) | EnterExpressionPacket(expr=body) as request:
            return _from_expr(body, type(request))
        case EnterTextPacket(text=text) if text.lstrip().startswith(CONTEXT):
            try:
                return _from_expr(parse_command_text(text), ENTER_TEXT)
            except ServerCommandError as exc:
                return Command("", form=ENTER_TEXT, error=str(exc))
        case _:
            return None


# -- the text form -------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+)|(?P<arrow>->|:>)'
    r"|(?P<sym>[A-Za-z$][A-Za-z0-9$]*(?:`[A-Za-z$][A-Za-z0-9$]*)*)|(?P<punct>[\[\],;]))"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_LITERALS: dict[str, object] = {"True": True, "False": False, "None": Symbol("None"),
                                "Null": None}


def parse_command_text(text: str) -> object:
    """Read ``WSTPServer`Cmd[arg, ...]`` with literal arguments into an expression.

    Raises:
        ServerCommandError: anything outside the small literal grammar.
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.strip().rstrip(";")
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            raise ServerCommandError(f"cannot read the command near {stripped[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(stripped) and stripped[pos].isspace():
            pos += 1
    expr, rest = _parse_call(tokens)
    if rest:
        raise ServerCommandError(f"unexpected {rest[0][1]!r} after the command")
    return expr


def _parse_call(tokens: list[tuple[str, str]]) -> tuple[object, list[tuple[str, str]]]:
    if not tokens or tokens[0][0] != "sym" or not tokens[0][1].startswith(CONTEXT):
        raise ServerCommandError("a command must start with WSTPServer`Name")
    head = Symbol(tokens[0][1])
    rest = tokens[1:]
    if not rest:
        return Expr(head), rest
    if rest[0] != ("punct", "["):
        raise ServerCommandError("expected '[' after the command name")
    rest = rest[1:]
    args: list[object] = []
    while rest and rest[0] != ("punct", "]"):
        value, rest = _parse_value(rest)
        if rest and rest[0][0] == "arrow":
            rhs, rest = _parse_value(rest[1:])
            value = Expr(Symbol("Rule"), value, rhs)
        args.append(value)
        if rest and rest[0] == ("punct", ","):
            rest = rest[1:]
        elif not rest or rest[0] != ("punct", "]"):
            raise ServerCommandError("expected ',' or ']' in the arguments")
    if not rest:
        raise ServerCommandError("missing ']'")
    return Expr(head, *args), rest[1:]


def _parse_value(tokens: list[tuple[str, str]]) -> tuple[object, list[tuple[str, str]]]:
    if not tokens:
        raise ServerCommandError("missing argument")
    kind, text = tokens[0]
    if kind == "str":
        body = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
        return body, tokens[1:]
    if kind == "num":
        return int(text), tokens[1:]
    if kind == "sym" and text in _LITERALS:
        return _LITERALS[text], tokens[1:]
    raise ServerCommandError(
        f"unsupported argument {text!r}: arguments are strings, integers, True, False, None "
        "or \"Key\" -> value")


# -- results -------------------------------------------------------------------------------


def failure(message: str, **details: object) -> Expr:
    """``Failure["WSTPServer", <|"Message" -> message, ...|>]``."""
    return Expr(Symbol("Failure"), "WSTPServer", {"Message": message, **details})


def input_form(value: object) -> str:
    """InputForm text of a command result (strings, numbers, lists, associations, Failure)."""
    if value is None:
        return "Null"
    if value is True or value is False:
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "{" + ", ".join(input_form(v) for v in value) + "}"
    if isinstance(value, dict):
        rules = (f"{input_form(k)} -> {input_form(v)}" for k, v in value.items())
        return "<|" + ", ".join(rules) + "|>"
    if isinstance(value, Symbol):
        return value.name
    if isinstance(value, Expr):
        return f"{input_form(value.head)}[{', '.join(input_form(a) for a in value.args)}]"
    return str(value)


def reply_packets(form: type[Packet], result: object, prompt: str | None) -> list[object]:
    """The packets (as expressions) that answer a command that arrived in ``form``.

    Args:
        form: the request's packet class.
        result: the command's result expression.
        prompt: the attached kernel's current input name (``"In[n]:= "``); the main-loop forms
            end with ``InputNamePacket[prompt]`` as a kernel's main loop would.
    """
    if form is EvaluatePacket:
        return [ReturnPacket(result).to_expr()]
    body: Packet = (ReturnTextPacket(input_form(result)) if form is EnterTextPacket
                    else ReturnExpressionPacket(result))
    return [body.to_expr(), InputNamePacket(prompt if prompt is not None else "In[1]:= ").to_expr()]
