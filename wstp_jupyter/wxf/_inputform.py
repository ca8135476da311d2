"""InputForm-style text for expressions, used by the ``repr`` of the model classes.

The output is valid Wolfram Language input: compound expressions print as ``head[a, b]``, lists as
``{a, b}``, associations as ``<|k -> v, k :> v|>``, strings quoted with backslash escapes, machine
reals with ``*^`` exponents, ``Fraction`` as ``Rational[p, q]`` (never ``p/q``, so the text reads
back as one atom), ``complex`` as ``Complex[re, im]``, ``bytes`` as ``ByteArray["<base64>"]``.
Printing runs on an explicit stack so arbitrarily deep expressions print without recursion.
"""

from __future__ import annotations

import base64
import math
import re
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Any

from wstp_jupyter.wxf._atoms import Association, BigReal, NumericArray
from wstp_jupyter.wxf._model import LIST, Expr, Symbol, set_input_printer

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# What string_form must rewrite: quotes, backslashes and control characters; with ascii_only
# also everything beyond ASCII.
_SPECIAL = re.compile(r'["\\\x00-\x1f\x7f]')
_SPECIAL_OR_NON_ASCII = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')
_NON_ASCII = re.compile(r"[\x7f-\U0010ffff]")


def char_escape(ch: str) -> str:
    """Return the Wolfram Language long escape of one character.

    ``\\:xxxx`` (four hex digits) inside the Basic Multilingual Plane, ``\\|xxxxxx`` (six)
    beyond it; both read back as the character inside strings and symbol names.
    """
    code = ord(ch)
    return f"\\:{code:04x}" if code <= 0xFFFF else f"\\|{code:06x}"


def ascii_escaped(name: str) -> str:
    """Return ``name`` with DEL and every non-ASCII character as its long escape (``\\:03b1``),
    as symbol names are written in ASCII InputForm; the text is unchanged if already ASCII."""
    if name.isascii() and "\x7f" not in name:
        return name
    return _NON_ASCII.sub(lambda m: char_escape(m.group()), name)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or char_escape(ch)


def string_form(s: str, *, ascii_only: bool = False) -> str:
    """Return ``s`` as a Wolfram Language string literal that reads back as ``s``.

    Quotes, backslashes, newline, tab and carriage return get their backslash escapes, other
    control characters (and DEL) ``\\:00xx``. With ``ascii_only`` every non-ASCII character is
    escaped as well (``\\:03b1``, ``\\|01f600``), so the text is pure ASCII; otherwise it is kept.
    """
    pattern = _SPECIAL_OR_NON_ASCII if ascii_only else _SPECIAL
    return '"' + pattern.sub(_escape, s) + '"'


def real_form(x: float) -> str:
    """Return a machine real in WL syntax (``1.``, ``1.5*^-7``, ``DirectedInfinity[1]``)."""
    if math.isnan(x):
        return "Indeterminate"
    if math.isinf(x):
        return "DirectedInfinity[1]" if x > 0 else "DirectedInfinity[-1]"
    text = repr(x)
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += "."
    elif mantissa.endswith(".0"):
        mantissa = mantissa[:-1]
    return f"{mantissa}*^{int(exponent)}" if exponent else mantissa


def decimal_form(d: Decimal) -> str:
    """Return a ``Decimal`` as WL number text with its digits as precision."""
    if d.is_nan():
        return "Indeterminate"
    if d.is_infinite():
        return "DirectedInfinity[-1]" if d < 0 else "DirectedInfinity[1]"
    return BigReal(d).text


class _Lit(str):
    """Text to copy to the output as is (a plain ``str`` on the stack is a WL string value)."""

    __slots__ = ()


def input_form(expr: object) -> str:
    """Return InputForm-style text for any value the codec can encode."""
    out: list[str] = []
    todo: list[Any] = [expr]
    while todo:
        x = todo.pop()
        if x.__class__ is _Lit:
            out.append(x)
        else:
            _expand(x, out, todo)
    return "".join(out)


def _push_seq(todo: list[Any], open_: str, items: list[Any], close: str) -> None:
    # Pushed in reverse so that popping yields them in order.
    todo.append(_Lit(close))
    sep = _Lit(", ")
    for i in range(len(items) - 1, -1, -1):
        todo.append(items[i])
        if i:
            todo.append(sep)
    todo.append(_Lit(open_))


def _push_rules(todo: list[Any], rules: list[tuple[Any, str, Any]]) -> None:
    todo.append(_Lit("|>"))
    sep = _Lit(", ")
    for i in range(len(rules) - 1, -1, -1):
        key, arrow, value = rules[i]
        todo.extend((value, _Lit(arrow), key))
        if i:
            todo.append(sep)
    todo.append(_Lit("<|"))


def _expand(x: Any, out: list[str], todo: list[Any]) -> None:
    if isinstance(x, Symbol):
        out.append(x.name)
    elif isinstance(x, Expr):
        if x.head == LIST:
            _push_seq(todo, "{", list(x.args), "}")
        else:
            _push_seq(todo, "[", list(x.args), "]")
            todo.append(x.head)
    elif isinstance(x, bool) or x is None:
        out.append("Null" if x is None else str(x))
    elif isinstance(x, int):
        out.append(str(int(x)))
    elif isinstance(x, float):
        out.append(real_form(float(x)))
    elif isinstance(x, str):
        out.append(string_form(x))
    elif isinstance(x, list | tuple):
        _push_seq(todo, "{", list(x), "}")
    elif isinstance(x, dict):
        _push_rules(todo, [(k, " -> ", v) for k, v in x.items()])
    elif isinstance(x, Association):
        _push_rules(
            todo,
            [(r.args[0], " -> " if r.head_name == "Rule" else " :> ", r.args[1]) for r in x.rules],
        )
    elif isinstance(x, Fraction):
        out.append(f"Rational[{x.numerator}, {x.denominator}]")
    elif isinstance(x, complex):
        out.append(f"Complex[{real_form(float(x.real))}, {real_form(float(x.imag))}]")
    elif isinstance(x, BigReal):
        out.append(x.text)
    elif isinstance(x, Decimal):
        out.append(decimal_form(x))
    elif isinstance(x, bytes | bytearray | memoryview):
        out.append(f'ByteArray["{base64.b64encode(bytes(x)).decode("ascii")}"]')
    elif isinstance(x, NumericArray):
        _push_seq(todo, "NumericArray[", [x.array.tolist(), x.type], "]")
    elif _numpy_value(x):
        todo.append(x.tolist())  # an array or a numpy scalar: its Python value
    else:
        out.append(repr(x))


def _numpy_value(x: object) -> bool:
    """True for numpy arrays and scalars (only possible once numpy is loaded)."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray | np.generic)


set_input_printer(input_form)
