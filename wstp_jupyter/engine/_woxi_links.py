"""The ``Link*`` functions on the Woxi engine: Woxi definitions that ask the engine process.

How it works: the worker (``_woxi_worker``) defines ``LinkCreate``, ``LinkRead``... (see
:func:`definitions`) as calls of ``WSTPJupyter`Private`linkcall``, which serializes
``Hold[LinkRead, args...]`` (the arguments evaluated as any function's, ``Unevaluated`` ones
kept) with ``BinarySerialize``, prints it base64-encoded as marker lines on the worker's output
and reads the answer from the worker's FIFO, as ``Input[]`` does. A printed line must fit one
packet of the output pipe, so a request is cut into chunks: ``<mark>L<count>,<chunk>`` starts
a call, ``<mark>M<chunk>`` carries each further one. Held code that Woxi cannot serialize
(``a; b``, ``x_``, ``#1 &``...) travels as ``inputform[f, "InputForm text"]`` instead, parsed
here (``_wl_parse``).

The engine process (``WoxiBackend._marker`` on the evaluating thread) collects the chunks, runs
the call on the engine-neutral link table (``_linktable``) and answers with base64 WXF that the
worker turns back into an expression with ``BinaryDeserialize`` (so a value read from a link is
evaluated, ``LinkRead[link, Hold]`` keeps it held). A failure is answered as
``WSTPJupyter`Private`linkfail[f, "tag", {args}]``, which the worker turns into the message
``f::tag`` and ``$Failed``. Open links live in the engine process, so they outlive a worker
replaced after a stop. A stop while a call waits (``LinkRead``) ends the engine's wait: the
call is not answered, and the worker is replaced by its standby as for any stop.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Collection
from typing import Any

from wstp_jupyter.engine import _linktable
from wstp_jupyter.engine._linktable import (
    MESSAGES,
    PACKET_HEADS,
    USAGE,
    WITH_PROTOCOL,
    LinkAborted,
    LinkCallError,
)
from wstp_jupyter.engine._wl_parse import ParseError, parse_wire
from wstp_jupyter.wxf import (
    Association,
    BigReal,
    Expr,
    NumericArray,
    Symbol,
    WXFError,
    dumps,
    loads,
)

log = logging.getLogger("wstp_jupyter.engine")

#: Marker kinds: the first chunk of a call (``L<count>,<chunk>``), each further chunk (``M``).
LINK_MARKERS = ("L", "M")
#: Base64 characters per printed chunk: marker, kind and count included, a line stays below
#: 1024 bytes, which Woxi's ``Print`` writes in one piece (one packet of the output pipe).
CHUNK = 900
_P = "WSTPJupyter`Private`"
_HOLD = Symbol("Hold")
_FAILED = Symbol("$Failed")
_LINKFAIL = Symbol(_P + "linkfail")
_BIGREAL = Symbol(_P + "bigreal")
_INPUTFORM = Symbol(_P + "inputform")


def _wl_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def definitions(mark: str, fifo: str) -> str:
    """The worker's Woxi definitions of the Link functions (``mark``: the marker prefix,
    ``fifo``: the path of the FIFO that carries the answers)."""
    q, f = _wl_string(mark), _wl_string(fifo)
    functions = list(USAGE)
    inert = ["LinkObject", *PACKET_HEADS]
    parts = [f"Unprotect[{', '.join(functions + inert)}];"]
    # Inert: f[...] stays as it is, without Woxi's note that a known built-in function is not
    # implemented (Quiet drops it; the rule matches once, not again inside itself).
    parts += [
        f"{name}[a___] /; !TrueQ[{_P}inert] := Block[{{{_P}inert = True}}, Quiet[{name}[a]]];"
        for name in inert
    ]
    for name in functions:
        parts.append(f"{name}[a___] := {_P}linkcall[{name}, Hold[{name}, a]];")
        parts += [f"{name}::{tag} = {_wl_string(text)};" for tag, text in MESSAGES.items()]
    parts += [f'Options[{name}] = {{LinkProtocol -> "TCPIP"}};' for name in WITH_PROTOCOL]
    parts.append(
        f"{_P}linkcall[f_, h_] := Module[{{b = {_P}linkbytes[f, h], s, n, parts}}, "
        f"If[Head[b] =!= ByteArray, "
        f'Message[MessageName[f, "linkx"], "Woxi cannot serialize it"]; $Failed, '
        f"s = BaseEncode[b]; n = StringLength[s]; "
        f"parts = StringPartition[s, {CHUNK}, {CHUNK}]; "
        f"If[Mod[n, {CHUNK}] > 0, parts = Append[parts, StringTake[s, -Mod[n, {CHUNK}]]]]; "
        f'Print[{q} <> "L" <> ToString[Length[parts]] <> "," <> First[parts]]; '
        f'Scan[Print[{q} <> "M" <> #] &, Rest[parts]]; '
        f"BinaryDeserialize[BaseDecode[ReadString[{f}]]]]];"
    )
    # Woxi serializes no arbitrary-precision real: those travel as their InputForm text
    # (``r_Real /; cond`` would match any expression in Woxi 0.3.0; ``r_Real?test`` does not).
    # Held code it cannot serialize (``a; b``, ``x_``, ``#1 &``) travels as the call's
    # InputForm, which the engine parses.
    parts.append(
        f"{_P}linkbytes[f_, h_] := Module[{{b = Quiet[BinarySerialize[h]]}}, "
        "If[Head[b] =!= ByteArray, b = Quiet[BinarySerialize[h /. "
        "r_Real?(Precision[#] =!= MachinePrecision &) :> "
        "WSTPJupyter`BigReal[ToString[r, InputForm]]]]]; "
        f"If[Head[b] =!= ByteArray, b = Quiet[BinarySerialize[{_P}inputform[f, "
        "ToString[h, InputForm]]]]]; b];"
    )
    parts.append(
        f"{_P}linkfail[f_Symbol, t_String, {{a___}}] := (Message[MessageName[f, t], a]; $Failed);"
    )
    parts.append(f"{_P}bigreal[s_String] := ToExpression[s];")
    parts.append(f"Protect[{', '.join(functions + inert)}];")
    return "".join(parts)


class _Request:
    """The chunks of the call being received."""

    def __init__(self, count: int, first: str) -> None:
        self.count = count
        self.chunks = [first]

    @property
    def complete(self) -> bool:
        return len(self.chunks) >= self.count


# One evaluation at a time reads the worker's output (the backend's exchange lock), so one
# request is being received at a time. A new "L" drops what a killed worker left unfinished.
_receiving: _Request | None = None


def on_marker(
    kind: str,
    text: str,
    answer: Callable[[str], object],
    *,
    aborted: Callable[[], bool],
    fix: Callable[[Any], Any],
    system_names: Collection[str] = (),
) -> None:
    """Take one link-call marker line (``kind`` in :data:`LINK_MARKERS`); once the call is
    complete, run it and hand the answer (base64 WXF) to ``answer``, unless ``aborted()``
    ended it. ``fix`` and ``system_names``: see :func:`run`."""
    global _receiving
    request = _receiving
    if kind == "L":
        count, _, first = text.partition(",")
        request = _Request(int(count) if count.isdigit() else 1, first)
    elif request is not None:
        request.chunks.append(text)
    else:
        return  # the rest of a call whose start was lost: nothing waits for it
    if not request.complete:
        _receiving = request
        return
    _receiving = None
    payload = "".join(request.chunks)
    reply = run(payload, aborted=aborted, fix=fix, system_names=system_names)
    if reply is None:
        return
    try:
        answer(reply)
    except OSError:
        # A stop killed the worker while it read the answer; its standby takes over.
        log.debug("the Woxi worker went away while reading a link call's answer")


def run(
    payload: str,
    *,
    aborted: Callable[[], bool],
    fix: Callable[[Any], Any],
    system_names: Collection[str] = (),
) -> str | None:
    """Run one call (``payload``: base64 WXF of ``Hold[f, args...]``); its base64 WXF answer,
    or ``None`` when ``aborted()`` ended it. ``fix`` repairs what Woxi serialized, System
    symbols in ``Global``` included (``WoxiBackend._fix`` with ``link_call``);
    ``system_names`` are the names the parser of InputForm text reads as System's."""
    try:
        request = fix(loads(base64.b64decode(payload, validate=True)))
    except (binascii.Error, ValueError, WXFError):
        log.warning("undecodable link call from the Woxi worker", exc_info=True)
        return _encode(_FAILED)
    if isinstance(request, Expr) and request.head == _INPUTFORM and len(request.args) == 2:
        function, text = request.args
        try:
            request = parse_wire(str(text), system_names)
        except ParseError as exc:
            return _encode(Expr(_LINKFAIL, function, "linkx", [str(exc)]))
    if not (
        isinstance(request, Expr)
        and request.head == _HOLD
        and request.args
        and isinstance(request.args[0], Symbol)
        and request.args[0].name in USAGE
    ):
        log.warning("unexpected link call from the Woxi worker: %.200r", request)
        return _encode(_FAILED)
    function, args = request.args[0], request.args[1:]
    try:
        result = _linktable.call(function.name, args, aborted)
    except LinkCallError as exc:
        result = Expr(_LINKFAIL, function, exc.tag, list(exc.message_args))
    except LinkAborted:
        return None
    except Exception:
        # The worker waits for an answer whatever happens.
        log.exception("%s failed", function.name)
        result = _FAILED
    return _encode(result)


def _encode(value: Any) -> str:
    return base64.b64encode(dumps(for_woxi(value))).decode("ascii")


def for_woxi(value: Any) -> Any:
    """``value`` with what Woxi cannot deserialize replaced: an arbitrary-precision real by
    ``bigreal["text"]`` (which evaluates to the number), a NumericArray by its list."""
    if isinstance(value, BigReal):
        return Expr(_BIGREAL, value.text)
    if isinstance(value, NumericArray):
        return value.array.tolist()
    if isinstance(value, list):
        return [for_woxi(v) for v in value]
    if isinstance(value, Expr):
        return Expr(for_woxi(value.head), *(for_woxi(v) for v in value.args))
    if isinstance(value, dict):
        return {for_woxi(k): for_woxi(v) for k, v in value.items()}
    if isinstance(value, Association):
        return Association([for_woxi(rule) for rule in value.rules])
    return value


__all__ = [
    "CHUNK", "LINK_MARKERS", "definitions", "for_woxi", "on_marker", "run",
]
