"""The ``WSTPJupyter``` request forms a front end sends inside ``EvaluatePacket``.

``handle_request`` recognises a request by its head and answers it; anything else returns
``NOT_A_REQUEST`` and is evaluated normally. Complete / Inspect / IsComplete / SetResultFormat
read only the definitions and the parser, so they are safe on the loop thread while the main
evaluation runs; ``MIMEBundle`` evaluates its argument (on the side evaluation when preemptive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from wstp_jupyter.engine._backend import Backend, Host
from wstp_jupyter.wxf import Expr, Symbol

CONTEXT = "WSTPJupyter`"
NOT_A_REQUEST: Final = object()

_FAILED = Symbol("$Failed")


@dataclass
class ResultFormat:
    """How main-loop results are returned: ``"Text"`` (ReturnTextPacket) or ``"MIMEBundle"``."""

    kind: str = "Text"
    options: dict[str, Any] = field(default_factory=dict)


def request_name(expr: Any) -> str | None:
    """The short name of a ``WSTPJupyter``` request head, or ``None``."""
    if isinstance(expr, Expr) and isinstance(expr.head, Symbol):
        name = expr.head.name
        if name.startswith(CONTEXT) and "`" not in name[len(CONTEXT) :]:
            return name[len(CONTEXT) :]
    return None


def rules_to_options(args: tuple[Any, ...]) -> dict[str, Any]:
    """Read ``"Key" -> value`` rules (bare, in lists, or an association) into a dict.

    Keys may be strings or symbols (``ImageSize -> 300``); values stay WXF values.
    """
    options: dict[str, Any] = {}
    stack = list(args)
    while stack:
        item = stack.pop(0)
        if isinstance(item, list | tuple):
            stack[:0] = list(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                options[key.short_name if isinstance(key, Symbol) else str(key)] = value
        elif (
            isinstance(item, Expr)
            and isinstance(item.head, Symbol)
            and item.head.name in ("Rule", "RuleDelayed")
            and len(item.args) == 2
        ):
            key, value = item.args
            options[key.short_name if isinstance(key, Symbol) else str(key)] = value
    if "Formats" in options:
        formats = options["Formats"]
        if isinstance(formats, str):
            options["Formats"] = [formats]
        elif not isinstance(formats, list):
            options.pop("Formats")
    return options


def handle_request(
    expr: Any, backend: Backend, host: Host, fmt: ResultFormat, *, side: bool
) -> Any:
    """Answer a request; return the wire value for ``ReturnPacket``, or ``NOT_A_REQUEST``."""
    name = request_name(expr)
    if name is None:
        return NOT_A_REQUEST
    args = tuple(expr.args)
    if name == "Complete" and len(args) == 1 and isinstance(args[0], str):
        return backend.complete(args[0])
    if name == "Inspect" and len(args) == 1 and isinstance(args[0], str):
        return backend.inspect(args[0])
    if name == "IsComplete" and len(args) == 1 and isinstance(args[0], str):
        return backend.is_complete(args[0])
    if name == "SetResultFormat" and args and args[0] in ("Text", "MIMEBundle"):
        fmt.kind = str(args[0])
        fmt.options = rules_to_options(args[1:]) if fmt.kind == "MIMEBundle" else {}
        return fmt.kind
    if name == "MIMEBundle" and args:
        value = backend.evaluate(args[0], host, side=side)
        bundle = backend.mime_bundle(value, rules_to_options(args[1:]), side=side)
        return Expr(Symbol(CONTEXT + "MIMEBundle"), bundle)
    if name in ("Complete", "Inspect", "IsComplete", "SetResultFormat", "MIMEBundle"):
        return _FAILED
    return NOT_A_REQUEST
