"""The project's own vocabulary on the links: ``WSTPJupyter``` requests and packets.

Everything the kernel process and its front ends say beyond WSTP's own packets is defined here,
once, for both sides (the engine answers, the Jupyter kernel asks):

* **requests**, sent inside ``EvaluatePacket`` (usually on the preemptive link):
  :class:`Complete`, :class:`Inspect`, :class:`IsComplete`, :class:`SetResultFormat`,
  :class:`MIMEBundle`, :class:`OpenParallelLinks`. :func:`parse_request` turns an expression into
  one of them -- the one place their arity and argument types are checked -- so the main loop
  dispatches with ``match`` on the classes; ``to_expr()`` builds the expression a front end sends.
* **display packets**, application packets on the main link (WSTP leaves codes 128-255 to
  applications), written by a running evaluation between its ``TextPacket``s, so they keep
  their order with ``Print`` output: :data:`DisplayDataPacket`, :data:`ClearDisplayPacket`,
  :data:`ClearOutputPacket`. They are sent only to a front end that asked for MIME bundles
  (``SetResultFormat["MIMEBundle"]``); :func:`parse_display` checks their arguments.
* the **result wrapper** ``WSTPJupyter`MIMEBundle[<|mime -> data|>]`` (:func:`bundle_result`,
  :func:`result_bundle`).

Importing this module registers the display packets with the link layer, so ``get_packet()``
returns them as instances of their classes on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from wstp_jupyter.link import Packet, user_packet
from wstp_jupyter.wxf import Expr, Symbol

CONTEXT = "WSTPJupyter`"
MIME_BUNDLE = Symbol(CONTEXT + "MIMEBundle")

# -- display packets (main link, application codes) ----------------------------------------

#: ``WSTPJupyter`DisplayDataPacket[bundle, id, temporary]``: show a rendered bundle now
#: (``PrintTemporary``: ``temporary`` is True; ``WSTPJupyter`Display``: False).
DisplayDataPacket = user_packet(
    128,
    CONTEXT + "DisplayDataPacket",
    "``WSTPJupyter`DisplayDataPacket[bundle, id, temporary]``: show a MIME bundle now.",
)
#: ``WSTPJupyter`ClearDisplayPacket[id]``: blank a temporary display (written before the
#: last packet of the evaluation that made it).
ClearDisplayPacket = user_packet(
    129,
    CONTEXT + "ClearDisplayPacket",
    "``WSTPJupyter`ClearDisplayPacket[id]``: blank the temporary display ``id``.",
)
#: ``WSTPJupyter`ClearOutputPacket[wait]``: clear what the evaluation has shown so far.
ClearOutputPacket = user_packet(
    130,
    CONTEXT + "ClearOutputPacket",
    "``WSTPJupyter`ClearOutputPacket[wait]``: clear the output shown so far (Jupyter's "
    "clear_output).",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DisplayData:
    """A checked :data:`DisplayDataPacket`."""

    bundle: dict[Any, Any]
    display_id: str
    temporary: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearDisplay:
    """A checked :data:`ClearDisplayPacket`."""

    display_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearOutput:
    """A checked :data:`ClearOutputPacket`."""

    wait: bool


Display = DisplayData | ClearDisplay | ClearOutput


def display_data(bundle: dict[str, Any], display_id: str, temporary: bool) -> Packet:
    """The packet that shows ``bundle`` as display ``display_id``."""
    return DisplayDataPacket(args=(bundle, display_id, temporary))  # type: ignore[call-arg]


def clear_display(display_id: str) -> Packet:
    """The packet that blanks the temporary display ``display_id``."""
    return ClearDisplayPacket(args=(display_id,))  # type: ignore[call-arg]


def clear_output(wait: bool) -> Packet:
    """The packet that clears the output shown so far (``wait``: when the next one comes)."""
    return ClearOutputPacket(args=(wait,))  # type: ignore[call-arg]


def parse_display(packet: Packet) -> Display | None:
    """The checked form of a display packet; ``None`` when it is none, or malformed."""
    args = getattr(packet, "args", None)
    match packet, args:
        case DisplayDataPacket(), (dict() as bundle, str() as display_id, bool() as temporary):
            return DisplayData(bundle=bundle, display_id=display_id, temporary=temporary)
        case ClearDisplayPacket(), (str() as display_id,):
            return ClearDisplay(display_id=display_id)
        case ClearOutputPacket(), (bool() as wait,):
            return ClearOutput(wait=wait)
    return None


# -- results ---------------------------------------------------------------------------------


def bundle_result(bundle: dict[str, Any]) -> Expr:
    """``WSTPJupyter`MIMEBundle[bundle]``, the form results take in MIME-bundle mode."""
    return Expr(MIME_BUNDLE, bundle)


def result_bundle(value: Any) -> dict[Any, Any] | None:
    """The association inside ``WSTPJupyter`MIMEBundle[bundle]``, or ``None``."""
    match value:
        case Expr(head_name=name, args=(dict() as bundle,)) if name == MIME_BUNDLE.name:
            return bundle
    return None


# -- requests --------------------------------------------------------------------------------


class BadRequest(ValueError):
    """A ``WSTPJupyter``` request with the wrong number or types of arguments."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """Base of the request forms; ``to_expr()`` is what a front end sends in EvaluatePacket."""

    name: ClassVar[str] = ""

    def _args(self) -> tuple[Any, ...]:
        return ()

    def to_expr(self) -> Expr:
        """The request as an expression, e.g. ``WSTPJupyter`Complete["Pl"]``."""
        return Expr(Symbol(CONTEXT + self.name), *self._args())


@dataclass(frozen=True, slots=True, kw_only=True)
class Complete(Request):
    """``WSTPJupyter`Complete["prefix"]`` -> the names that complete ``prefix``."""

    name: ClassVar[str] = "Complete"
    prefix: str

    def _args(self) -> tuple[Any, ...]:
        return (self.prefix,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspect(Request):
    """``WSTPJupyter`Inspect["name"]`` -> usage, attributes and options, or ``Null``."""

    name: ClassVar[str] = "Inspect"
    symbol: str

    def _args(self) -> tuple[Any, ...]:
        return (self.symbol,)


@dataclass(frozen=True, slots=True, kw_only=True)
class IsComplete(Request):
    """``WSTPJupyter`IsComplete["code"]`` -> ``"complete" | "incomplete" | "invalid"``."""

    name: ClassVar[str] = "IsComplete"
    code: str

    def _args(self) -> tuple[Any, ...]:
        return (self.code,)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetResultFormat(Request):
    """``WSTPJupyter`SetResultFormat["Text" | "MIMEBundle", opts]`` -> the format's name."""

    name: ClassVar[str] = "SetResultFormat"
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def _args(self) -> tuple[Any, ...]:
        return (self.kind, self.options) if self.options else (self.kind,)


@dataclass(frozen=True, slots=True, kw_only=True)
class MIMEBundle(Request):
    """``WSTPJupyter`MIMEBundle[expr, opts]`` -> ``WSTPJupyter`MIMEBundle[<|mime -> data|>]``."""

    name: ClassVar[str] = "MIMEBundle"
    expr: Any
    options: dict[str, Any] = field(default_factory=dict)

    def _args(self) -> tuple[Any, ...]:
        return (self.expr, self.options) if self.options else (self.expr,)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenParallelLinks(Request):
    """``WSTPJupyter`OpenParallelLinks[]``: offer the service and preemptive links (see
    ``_sidelinks``)."""

    name: ClassVar[str] = "OpenParallelLinks"


REQUESTS: dict[str, type[Request]] = {
    cls.name: cls
    for cls in (Complete, Inspect, IsComplete, SetResultFormat, MIMEBundle, OpenParallelLinks)
}
RESULT_KINDS = ("Text", "MIMEBundle")


def parse_request(expr: Any) -> Request | None:
    """The request ``expr`` is, or ``None`` when it is no ``WSTPJupyter``` request.

    Raises:
        BadRequest: the head is a request's, the arguments are not.
    """
    if not isinstance(expr, Expr):
        return None
    name = expr.head_name
    if name is None or not name.startswith(CONTEXT):
        return None
    cls = REQUESTS.get(name[len(CONTEXT) :])
    if cls is None:
        return None
    match cls.name, expr.args:
        case "Complete", (str() as prefix,):
            return Complete(prefix=prefix)
        case "Inspect", (str() as symbol,):
            return Inspect(symbol=symbol)
        case "IsComplete", (str() as code,):
            return IsComplete(code=code)
        case "SetResultFormat", (str() as kind, *rest) if kind in RESULT_KINDS:
            return SetResultFormat(kind=kind, options=rules_to_options(tuple(rest)))
        case "MIMEBundle", (value, *rest):
            return MIMEBundle(expr=value, options=rules_to_options(tuple(rest)))
        case "OpenParallelLinks", ():
            return OpenParallelLinks()
    raise BadRequest(f"bad arguments for {name}: {str(expr)[:200]}")


@dataclass
class ResultFormat:
    """How main-loop results are returned: ``"Text"`` (ReturnTextPacket) or ``"MIMEBundle"``."""

    kind: str = "Text"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def bundles(self) -> bool:
        """The front end reads MIME bundles (and with them the display packets)."""
        return self.kind == "MIMEBundle"


def rules_to_options(args: tuple[Any, ...]) -> dict[str, Any]:
    """Read ``"Key" -> value`` rules (bare, in lists, or an association) into a dict.

    Keys may be strings or symbols (``ImageSize -> 300``); values stay WXF values.
    """
    options: dict[str, Any] = {}
    stack = list(args)
    while stack:
        match stack.pop(0):
            case list() | tuple() as items:
                stack[:0] = list(items)
            case dict() as rules:
                for key, value in rules.items():
                    options[_key(key)] = value
            case Expr(head_name="Rule" | "RuleDelayed", args=(key, value)):
                options[_key(key)] = value
    if "Formats" in options:
        formats = options["Formats"]
        if isinstance(formats, str):
            options["Formats"] = [formats]
        elif not isinstance(formats, list):
            options.pop("Formats")
    return options


def _key(key: Any) -> str:
    return key.short_name if isinstance(key, Symbol) else str(key)
