"""Packets in, Jupyter events out: the translation of one cell's main-link traffic.

This is the only place where WSTP packets become Jupyter messages, and it does no I/O: the kernel
feeds every packet read from the main link (the link's ``Packet`` classes, shapes already checked
when they were read) to :meth:`CellTranslator.feed`, which dispatches with ``match`` and returns
the events to publish (:class:`Stream`, :class:`Result`, :class:`DisplayData`,
:class:`UpdateDisplayData`, :class:`ClearOutput`, :class:`InputRequest`, :class:`Menu`,
:class:`CellDone`). The rules are WSTP's main-loop rules (wstp.md section 1.1):

* ``TextPacket`` is ``Print`` output (stdout) -- unless it follows a ``MessagePacket``, in which
  case it carries that message's text (stderr, written ``Sym::tag: text``).
* ``OutputNamePacket["Out[n]= "]`` (``"Out[n]//TeXForm= "`` for a result in one of
  ``$OutputForms``) announces the next result's number; the result itself is a
  ``ReturnExpressionPacket`` (normally ``WSTPJupyter`MIMEBundle[<|mime -> data|>]``) or a
  ``ReturnTextPacket``. A cell may produce several results; each is its own ``execute_result``.
* The project's display packets (``engine._requests``) travel between them, in order:
  ``DisplayDataPacket`` is a ``display_data``, ``ClearDisplayPacket`` blanks a temporary display
  (``update_display_data``), ``ClearOutputPacket`` is ``clear_output``.
* ``SyntaxPacket`` and a result the engine marks as aborted (``"aborted" -> True`` in its bundle's
  ``"metadata"``) make the cell fail; messages alone never do, and neither does a ``$Aborted``
  that is a value (``TimeConstrained[Pause[3], 0.5]`` returns one).
* ``InputNamePacket["In[n]:= "]`` ends the cell and says what the next execution count is.
* A wstpserver whose kernel ended answers in its place with
  ``Failure["WSTPServer", <|"Message" -> "the kernel ID died (REASON)"|>]``: that is
  :class:`KernelLost`, not a result.

Payloads are the wxf model's values (``Expr``, ``Symbol``, natural Python atoms).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from wstp_jupyter.engine._requests import ClearDisplay as ClearDisplayRequest
from wstp_jupyter.engine._requests import ClearOutput as ClearOutputRequest
from wstp_jupyter.engine._requests import DisplayData as DisplayDataRequest
from wstp_jupyter.engine._requests import parse_display, result_bundle
from wstp_jupyter.link import (
    ExpressionPacket,
    InputNamePacket,
    InputPacket,
    InputStringPacket,
    MenuPacket,
    MessagePacket,
    OutputNamePacket,
    Packet,
    ReturnExpressionPacket,
    ReturnPacket,
    ReturnTextPacket,
    SyntaxPacket,
    TextPacket,
)
from wstp_jupyter.wxf import Expr, Symbol, input_form

# Jupyter MIME types, and the one the engine adds for round-trippable input text.
PLAIN = "text/plain"
PNG = "image/png"
INPUTFORM = "application/vnd.wolfram.inputform"

_IN_NAME = re.compile(r"In\[(\d+)\]")
_OUT_NAME = re.compile(r"Out\[(\d+)\]")
#: The key of a result bundle's ``"metadata"`` by which the engine marks an aborted evaluation
#: (``engine._mainloop``); it never reaches a Jupyter message.
ABORTED_FLAG = "aborted"
# What a wstpserver says in place of a kernel that ended (server/_sessions.py, kernel_exited).
_SERVER_FAILURE = re.compile(
    r'^Failure\["WSTPServer", <\|"Message" -> "the kernel (\S+) died \((.*)\)"(?:, .*)?\|>\]$',
    re.DOTALL,
)
_SERVER_DEATH = re.compile(r"^the kernel (\S+) died \((.*)\)$", re.DOTALL)


@dataclass(frozen=True, kw_only=True)
class Stream:
    """Text for a Jupyter ``stream`` message (``name`` is ``"stdout"`` or ``"stderr"``)."""

    name: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Result:
    """An ``execute_result``: MIME ``data`` (JSON-ready) numbered ``execution_count``."""

    execution_count: int
    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DisplayData:
    """A ``display_data`` (``PrintTemporary``, ``WSTPJupyter`Display``) with its display id."""

    data: dict[str, Any]
    metadata: dict[str, Any]
    display_id: str


@dataclass(frozen=True, kw_only=True)
class UpdateDisplayData:
    """An ``update_display_data``: a temporary display blanked as its evaluation ends."""

    data: dict[str, Any]
    display_id: str


@dataclass(frozen=True, kw_only=True)
class ClearOutput:
    """A ``clear_output`` (``wait``: when the next output arrives)."""

    wait: bool


@dataclass(frozen=True, kw_only=True)
class InputRequest:
    """The kernel asks for a line (``Input[]``: parsed as an expression; ``InputString[]``)."""

    prompt: str
    as_string: bool


@dataclass(frozen=True, kw_only=True)
class Menu:
    """A ``MenuPacket`` (the interrupt menu, titled ``"Interrupt> "``)."""

    number: int
    title: str


@dataclass(frozen=True, kw_only=True)
class KernelLost:
    """The wstpserver answered for its kernel, which ended (``reason``: ``"exited with status
    0"``, ``"killed by signal 9"``...); the request was not evaluated, or not to its end."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CellDone:
    """The kernel is ready for the next input; ``next_count`` is its ``In[n]`` number."""

    next_count: int


Output = Stream | DisplayData | UpdateDisplayData | ClearOutput
Event = Output | Result | InputRequest | Menu | CellDone | KernelLost


def prompt_number(text: str, pattern: re.Pattern[str] = _IN_NAME) -> int | None:
    """The ``n`` of ``"In[n]:= "`` (or of ``"Out[n]= "`` with ``_OUT_NAME``)."""
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def bundle_to_jupyter(bundle: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split the association of a ``MIMEBundle`` into Jupyter ``(data, metadata)``.

    PNG bytes become base64 text. The engine's ``"metadata"`` key (not a MIME type; e.g. the
    logical size of a HiDPI PNG) becomes the message metadata. Unknown value types are converted
    with ``str`` rather than dropped, and ``text/plain`` is always present, because every front
    end (console, papermill) relies on it.
    """
    data: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    items = bundle.items() if hasattr(bundle, "items") else ()
    for key, value in items:
        mime = str(key)
        if mime == "metadata":
            if hasattr(value, "items"):
                metadata = {str(k): _json_ready(v) for k, v in value.items()}
        elif isinstance(value, bytes | bytearray | memoryview):
            data[mime] = base64.b64encode(bytes(value)).decode("ascii")
        elif isinstance(value, str):
            data[mime] = value
        else:
            data[mime] = str(value)
    if PLAIN not in data:
        data[PLAIN] = data.get(INPUTFORM, "")
    if data.get(INPUTFORM) == data[PLAIN]:
        # Same text twice would double what a large result costs to ship and store.
        del data[INPUTFORM]
    return data, metadata


def _json_ready(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if hasattr(value, "items"):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return input_form(value)


def result_data(expr: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Jupyter ``(data, metadata)`` for the payload of a ``ReturnExpressionPacket``."""
    bundle = result_bundle(expr)
    if bundle is not None:
        return bundle_to_jupyter(bundle)
    return {PLAIN: input_form(expr)}, {}


_SUBKERNEL_MARK = re.compile(r"^\(kernel \d+\) ")


def message_text(symbol: str, tag: str, text: str) -> str:
    """Message text as users know it: ``Power::infy: Infinite expression 1/0 encountered.``

    ``Sym::tag: `` is prefixed unless the text names the message already at the start of one of
    its lines: a two-dimensional message (Woxi writes ``1/0`` as a fraction, on three lines, the
    name on the middle one) keeps its layout, leading spaces included.
    """
    lines = text.rstrip().split("\n")
    while lines and not lines[0].strip():
        del lines[0]
    short = symbol.rsplit("`", 1)[-1]
    name = f"{short}::{tag}" if tag else short
    # A parallel subkernel's message arrives marked "(kernel n) Sym::tag: ...".
    if not symbol or any(
        _SUBKERNEL_MARK.sub("", line.lstrip()).startswith(name) for line in lines
    ):
        return "\n".join(lines) + "\n"
    return f"{name}: {text.strip()}\n"


def server_kernel_end(payload: Any) -> str | None:
    """Why a wstpserver's kernel ended, when ``payload`` (a result's text or expression) is the
    server's ``Failure`` for it; else ``None``."""
    if isinstance(payload, str):
        match = _SERVER_FAILURE.match(payload)
        return match.group(2) if match else None
    match payload:
        case Expr(head_name="Failure", args=("WSTPServer", dict() as details)):
            message = details.get("Message")
            found = _SERVER_DEATH.match(message) if isinstance(message, str) else None
            return found.group(2) if found else None
    return None


def _symbol_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Symbol):
        return value.name
    return input_form(value)


class CellTranslator:
    """Translate the packets of one ``EnterTextPacket`` evaluation into Jupyter events.

    After :class:`CellDone`, :attr:`error` is ``None`` for a successful cell or
    ``(ename, evalue)`` for a failed one (syntax error or abort), and :attr:`messages` lists the
    ``Sym::tag`` names of the messages issued (they are reported on stderr, not as failures).
    """

    def __init__(self, current_count: int) -> None:
        self.current_count = current_count
        self.error: tuple[str, str] | None = None
        self.messages: list[str] = []
        self.results = 0
        self.done = False
        self._pending_message: tuple[str, str] | None = None
        self._out_count: int | None = None
        self._syntax_text: str | None = None

    def feed(self, packet: Packet) -> list[Event]:
        """Consume one packet and return the events it produces (possibly none)."""
        events: list[Event] = []
        if self._syntax_text is not None and not isinstance(packet, SyntaxPacket | TextPacket):
            # A Syntax message not followed by SyntaxPacket came from the evaluation itself
            # (ToExpression...): it is an ordinary message after all.
            events.append(Stream(name="stderr", text=self._syntax_text + "\n"))
            self._syntax_text = None
        match packet:
            case TextPacket(text=text):
                events += self._text(text)
            case MessagePacket(symbol=symbol, tag=tag):
                name = _symbol_text(symbol)
                self._pending_message = (name, tag)
                self.messages.append(f"{name.rsplit('`', 1)[-1]}::{tag}")
            case OutputNamePacket(text=text):
                self._out_count = prompt_number(text, _OUT_NAME)
            # A ReturnPacket or ExpressionPacket on the main link during a cell is still a result.
            case ReturnExpressionPacket(expr=expr) | ReturnPacket(expr=expr) | ExpressionPacket(
                expr=expr
            ):
                lost = server_kernel_end(expr)
                events += [KernelLost(reason=lost)] if lost else self._result(*result_data(expr))
            case ReturnTextPacket(text=text):
                lost = server_kernel_end(text)
                events += [KernelLost(reason=lost)] if lost else self._result({PLAIN: text})
            case SyntaxPacket(position=position):
                text = self._syntax_text or f"syntax error at position {position}"
                self._syntax_text = None
                self.error = ("SyntaxError", text)
            case InputNamePacket(text=text):
                number = prompt_number(text)
                self.done = True
                next_count = number if number is not None else self.current_count + 1
                events.append(CellDone(next_count=next_count))
            case InputPacket(prompt=prompt):
                events.append(InputRequest(prompt=prompt or "", as_string=False))
            case InputStringPacket(prompt=prompt):
                events.append(InputRequest(prompt=prompt or "", as_string=True))
            case MenuPacket(number=number, title=title):
                events.append(Menu(number=number, title=title or ""))
            case _:
                # Display packets, or unknown and obsolete ones (DisplayPacket, ResumePacket...),
                # which carry nothing a notebook can show: dropping them keeps the cell alive.
                events += display_events(packet)
        return events

    def flush(self) -> list[Event]:
        """Events still held back when the evaluation ends without a prompt (an
        ``EvaluatePacket`` ends with its ``ReturnPacket``): a Syntax message with no
        ``SyntaxPacket`` after it, which is then an ordinary message."""
        text, self._syntax_text = self._syntax_text, None
        return [Stream(name="stderr", text=text + "\n")] if text is not None else []

    def _text(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._syntax_text is not None:
            events.append(Stream(name="stderr", text=self._syntax_text + "\n"))
            self._syntax_text = None
        if self._pending_message is not None:
            symbol, tag = self._pending_message
            self._pending_message = None
            line = message_text(symbol, tag, text)
            if symbol.rsplit("`", 1)[-1] == "Syntax":
                # Held back: if a SyntaxPacket follows, the text becomes the cell's error
                # instead of being shown twice.
                self._syntax_text = line.strip()
                return events
            return [*events, Stream(name="stderr", text=line)]
        return [*events, Stream(name="stdout", text=text)] if text else events

    def _result(self, data: dict[str, Any], metadata: dict[str, Any] | None = None) -> list[Event]:
        count = self._out_count if self._out_count is not None else self.current_count
        self._out_count = None
        metadata = dict(metadata or {})
        if metadata.pop(ABORTED_FLAG, False) is True:
            self.error = ("Aborted", "$Aborted: the evaluation was aborted")
            return []
        self.results += 1
        return [Result(execution_count=count, data=data, metadata=metadata)]


def display_events(packet: Packet) -> list[Event]:
    """The Jupyter events of one of the project's display packets (none for other packets)."""
    match parse_display(packet):
        case DisplayDataRequest(bundle=bundle, display_id=display_id):
            data, metadata = bundle_to_jupyter(bundle)
            return [DisplayData(data=data, metadata=metadata, display_id=display_id)]
        case ClearDisplayRequest(display_id=display_id):
            # Jupyter cannot delete an output; an empty update makes it disappear.
            return [UpdateDisplayData(data={PLAIN: ""}, display_id=display_id)]
        case ClearOutputRequest(wait=wait):
            return [ClearOutput(wait=wait)]
    return []
