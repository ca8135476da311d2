"""``Manipulate``, ``Animate``, ``ListAnimate`` and ``Dynamic`` as data a front end can drive.

Mathics3 has none of these functions. The kernel process gives them Wolfram's evaluation
attributes (``Manipulate`` and ``Animate`` hold all their arguments, ``Dynamic`` its first) and
leaves them inert; when such an expression is a cell's result, :func:`interactive_bundle` renders
it as the MIME bundle of its *initial state* (the body evaluated with the controls' initial
values: text, TeX, SVG, PNG as for any result, so a front end without widgets still shows
something) plus one more entry, ``application/vnd.wstp-jupyter.interactive+json``: a JSON
description of the controls and the held body, from which the Jupyter kernel builds widgets.

The description (``SPEC_MIME``)::

    {"kind": "Manipulate" | "Animate" | "ListAnimate" | "Dynamic",
     "body": <base64 WXF of the held body>,
     "controls": [{"var": "Global`a", "label": "a",
                   "type": "Slider" | "SetterBar" | "PopupMenu" | "Checkbox" | "InputField"
                           | "Animator",
                   "min": 1, "max": 5, "step": null, "integer": false,   # sliders, animators
                   "init": 1,            # a number; a choice's index; InputField: its text
                   "choices": ["1", "2"], "values": [<base64 WXF>, ...]}]}  # choice controls

A front end evaluates ``ReleaseHold[Hold[body] /. {var -> value, ...}]`` to show a new state
(the values put into the body as ``With`` would, but about twice as fast in Mathics3 for a
``Plot`` body; ``WSTPJupyter`
MIMEBundle`` of it, as a request on the main link), so the body sees the session's current
definitions and nothing has to be stored in the kernel process. ``ListAnimate[{e1, e2, ...}]``
becomes ``Part[{e1, e2, ...}, frame]`` driven by an animator over ``1 .. n``.

Control specifications follow Wolfram's ``Manipulate``: ``{u, min, max}``, ``{u, min, max,
step}`` (integer steps and bounds give an integer slider), ``{{u, init}, ...}``, ``{{u, init,
label}, ...}``, ``{u, {v1, v2, ...}}`` (a setter bar for up to five choices, a popup menu for
more; ``v -> label`` items are labelled), ``{u, {True, False}}`` (a checkbox), ``{u}`` or
``{{u, init}}`` (an input field), and ``ControlType -> Slider | SetterBar | PopupMenu |
Checkbox | InputField`` inside a specification or as an option of the whole ``Manipulate``.
A specification that fits none of these issues ``Manipulate::vsform`` and the expression stays
as it is (shown as text).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wstp_jupyter.wxf import Expr, Symbol, dumps, loads

log = logging.getLogger("wstp_jupyter.engine")

SPEC_MIME = "application/vnd.wstp-jupyter.interactive+json"
INTERACTIVE_HEADS = frozenset(
    {"System`Manipulate", "System`Animate", "System`ListAnimate", "System`Dynamic"}
)
CONTROL_TYPES = ("Slider", "SetterBar", "PopupMenu", "Checkbox", "InputField")
SETTER_BAR_MAX = 5  # more choices than this get a popup menu, as in Wolfram's Manipulate
ANIMATION_FRAMES = 24  # frames of an Animate over a continuous range
FRAME_VAR = "WSTPJupyter`Private`frame"


class SpecError(ValueError):
    """A control specification of the wrong form (``arg`` is the offending expression)."""

    def __init__(self, arg: Any) -> None:
        super().__init__(f"not a control specification: {arg!r}")
        self.arg = arg


@dataclass
class Evaluator:
    """What parsing needs from the kernel: evaluate a wire expression, and its display text."""

    evaluate: Callable[[Any], Any]
    text: Callable[[Any], str]


def encode(value: Any) -> str:
    """Base64 WXF of a wire value (how held expressions travel inside JSON)."""
    return base64.b64encode(dumps(value)).decode("ascii")


def decode(text: str) -> Any:
    """The wire value of :func:`encode`'s text."""
    return loads(base64.b64decode(text))


def _head(value: Any) -> str | None:
    if isinstance(value, Expr) and isinstance(value.head, Symbol):
        return str(value.head.name).removeprefix("System`")
    return None


def _is_rule(value: Any) -> bool:
    return _head(value) in ("Rule", "RuleDelayed") and len(value.args) == 2


def _rule_key(value: Any) -> str:
    key = value.args[0]
    # ``ControlType`` may be read as ``Global`ControlType`` (Mathics3 has no such symbol).
    return _short(str(key.name)) if isinstance(key, Symbol) else str(key)


def _short(name: str) -> str:
    return name.rsplit("`", 1)[-1]


def _number(value: Any, ev: Evaluator) -> int | float:
    """An exact integer stays an int; anything else numeric becomes a float."""
    if isinstance(value, bool):
        raise SpecError(value)
    if isinstance(value, int | float):
        return value
    result = ev.evaluate(value)
    if isinstance(result, int | float) and not isinstance(result, bool):
        return result
    numeric = ev.evaluate(Expr(Symbol("N"), result))
    if isinstance(numeric, int | float) and not isinstance(numeric, bool):
        return float(numeric)
    raise SpecError(value)


def parse_control(spec: Any, ev: Evaluator, control_type: str | None = None) -> dict[str, Any]:
    """One control's description (see the module docstring); raises :class:`SpecError`."""
    if not isinstance(spec, list) or not spec:
        raise SpecError(spec)
    items = list(spec)
    while items and _is_rule(items[-1]):
        rule = items.pop()
        if _rule_key(rule) == "ControlType":
            kind = rule.args[1]
            if not isinstance(kind, Symbol) or _short(kind.name) not in CONTROL_TYPES:
                raise SpecError(spec)
            control_type = _short(kind.name)
    first, rest = items[0], items[1:]
    init: Any = None
    label: str | None = None
    if isinstance(first, list):
        if not first or not isinstance(first[0], Symbol) or len(first) > 3:
            raise SpecError(spec)
        var = first[0]
        init = first[1] if len(first) > 1 else None
        if len(first) > 2:
            label = first[2] if isinstance(first[2], str) else ev.text(first[2])
    elif isinstance(first, Symbol):
        var = first
    else:
        raise SpecError(spec)
    control: dict[str, Any] = {"var": str(var.name), "label": label or _short(var.name)}
    if len(rest) == 1:
        choices = rest[0] if isinstance(rest[0], list) else ev.evaluate(rest[0])
        if not isinstance(choices, list) or not choices:
            raise SpecError(spec)
        return _choice_control(control, choices, init, ev, control_type)
    if len(rest) in (2, 3):
        return _range_control(control, rest, init, ev, control_type, spec)
    if not rest:
        control["type"] = "InputField"
        control["init"] = "" if init is None else ev.text(ev.evaluate(init))
        return control
    raise SpecError(spec)


def _choice_control(
    control: dict[str, Any], choices: list[Any], init: Any, ev: Evaluator, control_type: str | None
) -> dict[str, Any]:
    values, labels = [], []
    for item in choices:
        if _is_rule(item):
            values.append(item.args[0])
            label = item.args[1]
            labels.append(label if isinstance(label, str) else ev.text(label))
        else:
            values.append(item)
            labels.append(ev.text(item))
    index = 0
    if init is not None:
        wanted = ev.evaluate(init)
        index = next((i for i, v in enumerate(values) if v == wanted), 0)
    booleans = sorted(values, key=repr) == [False, True]
    kind = control_type or (
        "Checkbox" if booleans else "SetterBar" if len(values) <= SETTER_BAR_MAX else "PopupMenu"
    )
    if kind == "Slider":
        kind = "PopupMenu" if len(values) > SETTER_BAR_MAX else "SetterBar"
    if kind == "Checkbox" and not booleans:
        kind = "SetterBar"
    if kind == "InputField":
        control.update(type="InputField", init=ev.text(values[index]))
        return control
    control.update(type=kind, init=index, choices=labels, values=[encode(v) for v in values])
    return control


def _range_control(  # noqa: PLR0917 -- the parts of one specification
    control: dict[str, Any],
    rest: list[Any],
    init: Any,
    ev: Evaluator,
    control_type: str | None,
    spec: Any,
) -> dict[str, Any]:
    low, high = _number(rest[0], ev), _number(rest[1], ev)
    step = _number(rest[2], ev) if len(rest) == 3 else None
    if step is not None and step <= 0:
        raise SpecError(spec)
    integer = all(isinstance(v, int) for v in (low, high, step))
    start = low if init is None else _number(init, ev)
    if control_type == "InputField":
        control.update(type="InputField", init=ev.text(start))
        return control
    if control_type in ("SetterBar", "PopupMenu") and step is not None:
        count = round((high - low) / step) + 1
        values = [low + i * step for i in range(max(count, 1))]
        return _choice_control(control, values, start, ev, control_type)
    if control_type not in (None, "Slider"):
        raise SpecError(spec)
    control.update(type="Slider", min=low, max=high, step=step, integer=integer, init=start)
    return control


def parse(expr: Any, ev: Evaluator) -> dict[str, Any]:
    """The description of an interactive expression (wire form); raises :class:`SpecError`."""
    kind = _head(expr)
    args = list(expr.args)
    if kind == "Dynamic":
        if not args:
            raise SpecError(expr)
        return {"kind": "Dynamic", "body": encode(args[0]), "controls": []}
    if kind == "ListAnimate":
        frames = args[0] if args else None
        if not isinstance(frames, list) or not frames:
            raise SpecError(expr)
        body = Expr(Symbol("Part"), frames, Symbol(FRAME_VAR))
        control = {"var": FRAME_VAR, "label": "frame", "type": "Animator", "min": 1,
                   "max": len(frames), "step": 1, "integer": True, "init": 1}
        return {"kind": kind, "body": encode(body), "controls": [control]}
    control_type: str | None = None
    while len(args) > 1 and _is_rule(args[-1]):
        rule = args.pop()
        if _rule_key(rule) == "ControlType" and isinstance(rule.args[1], Symbol):
            control_type = _short(rule.args[1].name)
    if len(args) < 2 or kind not in ("Manipulate", "Animate"):
        raise SpecError(expr)
    controls = [parse_control(spec, ev, control_type) for spec in args[1:]]
    if kind == "Animate":
        for control in controls:
            if control["type"] == "Slider":
                control["type"] = "Animator"
    return {"kind": kind, "body": encode(args[0]), "controls": controls}


def initial_values(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(var, wire value)`` pairs of the controls' initial state (an exact initial number
    stays exact, as in Wolfram's Manipulate: ``{x, 0, 1}`` starts at ``0``, not ``0.``)."""
    pairs = []
    for control in spec["controls"]:
        init = control["init"]
        exact = isinstance(init, int) and control["type"] in ("Slider", "Animator")
        pairs.append((control["var"], init if exact else control_value(control, init)))
    return pairs


def control_value(control: dict[str, Any], value: Any) -> Any:
    """The wire value of a control's front-end value (a number, a choice index, a text)."""
    if "values" in control:
        index = int(value)
        if not 0 <= index < len(control["values"]):
            raise ValueError(f"choice {index} out of range for {control['label']}")
        return decode(control["values"][index])
    if control["type"] == "InputField":
        text = str(value)
        return Expr(Symbol("ToExpression"), text) if text.strip() else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{control['label']} needs a number, not {value!r}")
    return int(value) if control.get("integer") else float(value)


def with_values(body: Any, values: list[tuple[str, Any]]) -> Any:
    """``ReleaseHold[Hold[body] /. {var -> value, ...}]`` (the body alone when there are no
    controls): the values are put into the body before it evaluates, as ``With`` does."""
    if not values:
        return body
    rules = [Expr(Symbol("Rule"), Symbol(var), value) for var, value in values]
    held = Expr(Symbol("ReplaceAll"), Expr(Symbol("Hold"), body), rules)
    return Expr(Symbol("ReleaseHold"), held)


def interactive_bundle(
    value: Any,
    evaluation: Any,
    options: dict[str, Any],
    render: Callable[[Any, Any, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any] | None:
    """The bundle of an interactive expression (a Mathics element): its initial state rendered
    by ``render`` plus ``SPEC_MIME``; ``None`` (after ``Manipulate::vsform``) if it is
    malformed, so the caller renders it as an ordinary expression."""
    from wstp_jupyter.engine._convert import from_wire, to_wire
    from wstp_jupyter.engine._forms import to_text

    definitions = evaluation.definitions

    def evaluate(wire: Any) -> Any:
        return to_wire(from_wire(wire, definitions).evaluate(evaluation))

    def text(wire: Any) -> str:
        return to_text(from_wire(wire, definitions), definitions.shorten_name, output=True)

    wire = to_wire(value)
    try:
        spec = parse(wire, Evaluator(evaluate, text))
    except SpecError as exc:
        _vsform(value, exc.arg, evaluation)
        return None
    body = decode(spec["body"])
    state = from_wire(with_values(body, initial_values(spec)), definitions).evaluate(evaluation)
    bundle = render(state, evaluation, options)
    bundle[SPEC_MIME] = json.dumps(spec, separators=(",", ":"))
    return bundle


def _vsform(value: Any, arg: Any, evaluation: Any) -> None:
    from wstp_jupyter.engine._convert import from_wire

    head = value.get_head_name().removeprefix("System`")
    try:
        evaluation.message(head, "vsform", from_wire(arg, evaluation.definitions))
    except Exception:  # the message is a courtesy; the expression is still shown as text
        log.debug("could not issue %s::vsform", head, exc_info=True)


_VSFORM = ("Manipulate argument `1` does not have the correct form for a variable "
           "specification.")


def manipulate_builtins() -> list[type[Any]]:
    """Inert heads with Wolfram's attributes, registered by ``_builtins.install_builtins``.

    Mathics3 is imported here, not at the top: the Jupyter kernel imports this module for the
    pure functions above and must not pay for loading Mathics3.
    """
    from mathics.core.attributes import A_HOLD_ALL, A_HOLD_FIRST, A_PROTECTED
    from mathics.core.builtin import Builtin

    def inert(name: str, summary: str, attributes: int) -> type[Any]:
        doc = f"<dl><dt>'{name}'[...]</dt><dd>{summary}</dd></dl>"
        namespace = {"__doc__": doc, "summary_text": summary, "context": "System`",
                     "attributes": attributes | A_PROTECTED, "messages": {"vsform": _VSFORM}}
        return type(name, (Builtin,), namespace)

    return [
        inert("Manipulate", "an interactive view of an expression with controls", A_HOLD_ALL),
        inert("Animate", "an animation of an expression over a range", A_HOLD_ALL),
        inert("ListAnimate", "an animation of the elements of a list", 0),
        inert("Dynamic", "an expression shown with its current value", A_HOLD_FIRST),
    ]
