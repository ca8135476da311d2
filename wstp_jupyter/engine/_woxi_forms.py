"""OutputForm and InputForm text of wire values (``wstp_jupyter.wxf``), for the Woxi engine.

Woxi returns results as text in its own conventions (``N[Pi]`` -> ``3.141592653589793``,
``3*x + x^2``) and its OutputForm is two-dimensional. The engine gets the exact value as WXF and
writes both forms here, one line, ASCII, as the Wolfram kernel's text main loop and Mathics3's
command line do: machine reals with six significant digits in OutputForm (``3.14159``) and all
their digits in InputForm; strings unquoted in OutputForm; contexts ``System``` and
``Global``` left out; operators by precedence (``3 x + x^2``, ``a -> b``, ``f[x_] := x^2``).

How it works: :func:`to_text` walks the tree recursively (results deeper than Python's stack
fall back to the flat InputForm of ``wxf.input_form``). Each operator has the Wolfram Language's
precedence; a child is parenthesised when it binds less tightly than its position requires.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from wstp_jupyter.wxf import Association, BigReal, Expr, NumericArray, Symbol, input_form
from wstp_jupyter.wxf._inputform import real_form, string_form

_ATOM = 1000
_INFIX: dict[str, tuple[str, int]] = {
    "CompoundExpression": ("; ", 10),
    "Set": (" = ", 40),
    "SetDelayed": (" := ", 40),
    "ReplaceAll": (" /. ", 110),
    "ReplaceRepeated": (" //. ", 110),
    "Rule": (" -> ", 120),
    "RuleDelayed": (" :> ", 120),
    "Condition": (" /; ", 130),
    "Alternatives": (" | ", 160),
    "Or": (" || ", 215),
    "And": (" && ", 220),
    "Equal": (" == ", 290),
    "Unequal": (" != ", 290),
    "Less": (" < ", 290),
    "Greater": (" > ", 290),
    "LessEqual": (" <= ", 290),
    "GreaterEqual": (" >= ", 290),
    "SameQ": (" === ", 290),
    "UnsameQ": (" =!= ", 290),
    "StringJoin": (" <> ", 600),
    "Dot": (".", 490),
}
_PLUS, _TIMES, _POWER, _NOT = 310, 400, 590, 230
_NAMED = {"Pi", "E", "I", "Infinity", "ComplexInfinity", "Indeterminate", "Degree"}


def short_name(name: str) -> str:
    """A symbol's name without the ``System``` or ``Global``` context."""
    for ctx in ("System`", "Global`"):
        if name.startswith(ctx) and "`" not in name[len(ctx) :]:
            return name[len(ctx) :]
    return name


def machine_real(x: float, *, output: bool) -> str:
    """A machine real: six significant digits in OutputForm, all in InputForm."""
    if not output or math.isnan(x) or math.isinf(x):
        return real_form(x)
    if x == 0:
        return "0."
    text = f"{x:.6g}"
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += "."
    else:
        mantissa = mantissa.rstrip("0")
    if exponent:
        exp = int(exponent)
        if -5 <= exp < 6:  # %g switched to exponent only below 1e-4: write the digits out
            return f"{x:.{max(0, 5 - exp)}f}".rstrip("0")
        return f"{mantissa}*^{exp}"
    return mantissa


def to_text(value: Any, *, output: bool = True) -> str:
    """OutputForm (``output``) or InputForm text of a wire value."""
    try:
        return _text(value, output)[0]
    except RecursionError:
        return input_form(value)


def full_form(value: Any) -> str:
    """FullForm text of a wire value: every operator as its head (``Power[x, 2]``, ``List[...]``,
    ``Rational[1, 2]``), strings quoted, contexts ``System``` and ``Global``` left out."""
    try:
        return _full(value)
    except RecursionError:
        return input_form(value)


def _full(x: Any) -> str:
    if isinstance(x, Expr):
        return f"{_full(x.head)}[{', '.join(_full(a) for a in x.args)}]"
    if isinstance(x, list | tuple):
        return f"List[{', '.join(_full(a) for a in x)}]"
    if isinstance(x, dict | Association):
        rules = ", ".join(f"Rule[{_full(k)}, {_full(v)}]" for k, v in x.items())
        return f"Association[{rules}]"
    if isinstance(x, Fraction):
        return f"Rational[{x.numerator}, {x.denominator}]"
    if isinstance(x, complex):
        return f"Complex[{_full(x.real)}, {_full(x.imag)}]"
    return _text(x, False)[0]


def _paren(part: tuple[str, int], need: int) -> str:
    text, prec = part
    return f"({text})" if prec < need else text


def _seq(items: Any, output: bool) -> str:
    return ", ".join(_text(x, output)[0] for x in items)


def _text(x: Any, output: bool) -> tuple[str, int]:
    if x is None:
        return "Null", _ATOM
    if x is True or x is False:
        return str(x), _ATOM
    if isinstance(x, int):
        return str(x), (_ATOM if x >= 0 else _TIMES)
    if isinstance(x, float):
        return machine_real(x, output=output), (_ATOM if x >= 0 else _TIMES)
    if isinstance(x, str):
        return (x if output else string_form(x)), _ATOM
    if isinstance(x, Symbol):
        return short_name(x.name), _ATOM
    if isinstance(x, Fraction):
        text = f"{x.numerator}/{x.denominator}"
        return text, _TIMES
    if isinstance(x, complex):
        return _complex(x.real, x.imag, output)
    if isinstance(x, BigReal):
        return _big_real(x, output), _ATOM
    if isinstance(x, list | tuple):
        if all(type(e) is int for e in x):  # the common large result: a fast path
            return "{" + ", ".join(map(str, x)) + "}", _ATOM
        return "{" + _seq(x, output) + "}", _ATOM
    if isinstance(x, dict | Association):
        items = x.items()
        rules = ", ".join(
            f"{_text(k, output)[0]} -> {_paren(_text(v, output), 121)}" for k, v in items
        )
        return f"<|{rules}|>", _ATOM
    if isinstance(x, bytes | bytearray):
        return f"ByteArray[<{len(x)}>]" if output else input_form(bytes(x)), _ATOM
    if isinstance(x, NumericArray):
        return _text(x.tolist() if hasattr(x, "tolist") else input_form(x), output)
    if isinstance(x, Expr):
        return _expr(x, output)
    return input_form(x), _ATOM


def _complex(re_: Any, im: Any, output: bool) -> tuple[str, int]:
    re_text = _text(re_, output)[0]
    im_abs = abs(im)
    exact_one = im_abs == 1 and not isinstance(im_abs, float)
    im_text = "I" if exact_one else f"{_text(im_abs, output)[0]} I"
    if re_ == 0 and not isinstance(re_, float):
        return (im_text if im > 0 else "-" + im_text), _TIMES
    sign = " - " if im < 0 else " + "
    return re_text + sign + im_text, _PLUS


def _big_real(x: BigReal, output: bool) -> str:
    text = x.text
    if not output:
        return text
    digits, _, mark = text.partition("`")
    try:
        precision = int(float(mark.split("*^")[0])) if mark and not mark.startswith("`") else 0
    except ValueError:
        precision = 0
    if precision > 0 and "*^" not in digits:
        from decimal import Context, Decimal

        rounded = Context(prec=precision).plus(Decimal(digits))
        digits = format(rounded, "f")
    return digits if "." in digits else digits + "."


def _expr(x: Expr, output: bool) -> tuple[str, int]:
    head = x.head
    args = list(x.args)
    name = short_name(head.name) if isinstance(head, Symbol) else ""
    if name == "WSTPJupyter`BigReal" and len(args) == 1 and isinstance(args[0], str):
        return _big_real(BigReal(args[0]), output), _ATOM
    if name == "List":
        return "{" + _seq(args, output) + "}", _ATOM
    if name in ("Graphics", "Graphics3D", "Image", "Sound") and output:
        return f"-{name}-", _ATOM
    if name == "Rational" and len(args) == 2:
        return f"{_text(args[0], output)[0]}/{_text(args[1], output)[0]}", _TIMES
    if name == "Complex" and len(args) == 2:
        return _complex(args[0], args[1], output)
    if name == "Plus" and args:
        return _plus(args, output), _PLUS
    if name == "Times" and args:
        return _times(args, output)
    if name == "Power" and len(args) == 2:
        base, exp = args
        if exp == Fraction(1, 2):
            return f"Sqrt[{_text(base, output)[0]}]", _ATOM
        left = _paren(_text(base, output), _POWER + 1)
        return f"{left}^{_paren(_text(exp, output), _POWER)}", _POWER
    if name in _INFIX and len(args) >= 2:
        op, prec = _INFIX[name]
        return op.join(_paren(_text(a, output), prec + 1) for a in args), prec
    if name == "Not" and len(args) == 1:
        return "!" + _paren(_text(args[0], output), _NOT), _NOT
    if name == "Pattern" and len(args) == 2 and isinstance(args[0], Symbol):
        inner = _text(args[1], output)[0]
        if isinstance(args[1], Expr) and short_name(getattr(args[1].head, "name", "")) in (
            "Blank", "BlankSequence", "BlankNullSequence"
        ):
            return short_name(args[0].name) + inner, _ATOM
        return f"{short_name(args[0].name)}:{inner}", 150
    if name in ("Blank", "BlankSequence", "BlankNullSequence") and len(args) <= 1:
        mark = {"Blank": "_", "BlankSequence": "__", "BlankNullSequence": "___"}[name]
        return mark + (_text(args[0], output)[0] if args else ""), _ATOM
    if name == "SeriesData" and len(args) == 6 and output:
        series = _series(args)
        if series is not None:
            return series, _PLUS
    if name == "Association":
        return "<|" + _seq(args, output) + "|>", _ATOM
    if name == "DirectedInfinity" and len(args) == 1 and args[0] in (1, -1):
        return ("Infinity" if args[0] == 1 else "-Infinity"), (_ATOM if args[0] == 1 else _TIMES)
    if output and name in ("HoldForm",) and len(args) == 1:
        return _text(args[0], output)
    if output and name == "Out" and not args:
        return "%", _ATOM
    head_text = _paren(_text(head, output), _ATOM)
    return f"{head_text}[{_seq(args, output)}]", _ATOM


def _series(args: list[Any]) -> str | None:
    """``SeriesData[x, x0, {c...}, nmin, nmax, den]`` as ``c0 + c1 (x - x0) + ... + O[x]^n``."""
    var, x0, coeffs, nmin, nmax, den = args
    if not (isinstance(coeffs, list) and all(isinstance(n, int) for n in (nmin, nmax, den))):
        return None
    base: Any = var if x0 == 0 else Expr(Symbol("Plus"), var, _negate_value(x0))
    terms: list[Any] = []
    for i, c in enumerate(coeffs):
        if c == 0:
            continue
        exp: Any = Fraction(nmin + i, den) if den != 1 else nmin + i
        power: Any = 1 if exp == 0 else base if exp == 1 else Expr(Symbol("Power"), base, exp)
        terms.append(c if power == 1 else power if c == 1 else Expr(Symbol("Times"), c, power))
    order: Any = Fraction(nmax, den) if den != 1 else nmax
    big_o = Expr(Symbol("Power"), Expr(Symbol("O"), var), order) if order != 1 else Expr(
        Symbol("O"), var)
    text = _plus([*terms, big_o], True) if terms else _text(big_o, True)[0]
    return text


def _negate_value(x: Any) -> Any:
    return -x if isinstance(x, int | float | Fraction) else Expr(Symbol("Times"), -1, x)


def _negative(x: Any) -> bool:
    if isinstance(x, int | float | Fraction) and not isinstance(x, bool):
        return x < 0
    if isinstance(x, Expr) and short_name(getattr(x.head, "name", "")) == "Times" and x.args:
        return _negative(x.args[0])
    if isinstance(x, Expr) and short_name(getattr(x.head, "name", "")) == "Rational":
        return bool(x.args) and _negative(x.args[0])
    return False


def _negate(x: Any) -> Any:
    if isinstance(x, int | float | Fraction):
        return -x
    if isinstance(x, Expr) and short_name(getattr(x.head, "name", "")) == "Times":
        first = _negate(x.args[0])
        rest = list(x.args[1:])
        if first == 1 and rest:
            return rest[0] if len(rest) == 1 else Expr(x.head, *rest)
        return Expr(x.head, first, *rest)
    return x


def _plus(args: list[Any], output: bool) -> str:
    out = _paren(_text(args[0], output), _PLUS)
    for term in args[1:]:
        if _negative(term):
            out += " - " + _paren(_text(_negate(term), output), _PLUS + 1)
        else:
            out += " + " + _paren(_text(term, output), _PLUS)
    return out


def _times(args: list[Any], output: bool) -> tuple[str, int]:
    numer: list[Any] = []
    denom: list[Any] = []
    sign = ""
    for i, factor in enumerate(args):
        if i == 0 and factor == -1 and len(args) > 1:
            sign = "-"
            continue
        if isinstance(factor, Fraction) and factor.numerator in (1, -1) and i == 0:
            if factor.numerator == -1:
                sign = "-"
            denom.append(factor.denominator)
            continue
        if (
            isinstance(factor, Expr)
            and short_name(getattr(factor.head, "name", "")) == "Power"
            and len(factor.args) == 2
            and isinstance(factor.args[1], int)
            and factor.args[1] < 0
        ):
            exp = -factor.args[1]
            denom.append(factor.args[0] if exp == 1 else Expr(factor.head, factor.args[0], exp))
            continue
        numer.append(factor)
    joiner = " " if output else "*"
    top = joiner.join(_paren(_text(f, output), _TIMES + 1) for f in numer) or "1"
    if not denom:
        return sign + top, _TIMES
    bottom = joiner.join(_paren(_text(f, output), _TIMES + 1) for f in denom)
    if len(denom) > 1:
        bottom = f"({bottom})"
    if len(numer) > 1:
        top = f"({top})" if output else top
    return f"{sign}{top}/{bottom}", _TIMES
