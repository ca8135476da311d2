"""Conversion between Mathics3 elements and ``wstp_jupyter.wxf`` values (what links carry).

Outgoing (:func:`to_wire`): integers, machine reals, strings, ``True``/``False``/``Null``, lists,
rationals, machine complex numbers, byte arrays and plain associations become the natural Python
values the WXF codec writes; arbitrary-precision reals become ``BigReal`` with their precision;
everything else becomes ``Symbol`` / ``Expr`` with full symbol names (``System`` dropped, as WXF
writes it). An ``Image`` travels as ``Image[<packed array>]``.

Incoming (:func:`from_wire`): the reverse. A bare symbol name is resolved the way the parser would
resolve it, through ``$Context`` and ``$ContextPath`` (``"x"`` becomes ``Global`x``, ``"Plus"``
``System`Plus``), because WXF writes System symbols without their context.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from mathics.core.atoms import (
    ByteArray,
    Complex,
    Integer,
    MachineReal,
    PrecisionReal,
    Rational,
    String,
)
from mathics.core.expression import Expression
from mathics.core.list import ListExpression
from mathics.core.symbols import Atom, Symbol, SymbolFalse, SymbolNull, SymbolTrue

from wstp_jupyter.engine._forms import _format_precision_real
from wstp_jupyter.wxf import Association, BigReal, Expr, NumericArray
from wstp_jupyter.wxf import Symbol as WSymbol

_RULE = WSymbol("Rule")
_RULE_DELAYED = WSymbol("RuleDelayed")
_SYSTEM_NAMES = {
    "System`True": True,
    "System`False": False,
    "System`Null": None,
}


def to_wire(element: Any) -> Any:
    """Convert a Mathics3 element into a WXF value (see the module docstring)."""
    if isinstance(element, Atom):
        return _atom_to_wire(element)
    if isinstance(element, Expression):
        name = element.get_head_name()
        elements = element.elements
        if name == "System`List":
            return [to_wire(e) for e in elements]
        if name == "System`Association":
            return _association_to_wire(elements)
        return Expr(to_wire(element.head), *(to_wire(e) for e in elements))
    raise TypeError(f"cannot convert {type(element).__name__} to a wire expression")


def _atom_to_wire(atom: Atom) -> Any:
    if isinstance(atom, Integer):
        return int(atom.value)
    if isinstance(atom, MachineReal):
        return float(atom.value)
    if isinstance(atom, String):
        return str(atom.value)
    if isinstance(atom, Symbol):
        name = atom.get_name()
        if name in _SYSTEM_NAMES:
            return _SYSTEM_NAMES[name]
        return WSymbol(name)
    if isinstance(atom, Rational):
        return Fraction(int(atom.value.p), int(atom.value.q))
    if isinstance(atom, PrecisionReal):
        return BigReal(_format_precision_real(atom, True))
    if isinstance(atom, Complex):
        re_part, im_part = _atom_to_wire(atom.real), _atom_to_wire(atom.imag)
        if isinstance(re_part, float) and isinstance(im_part, float):
            return complex(re_part, im_part)
        return Expr(WSymbol("Complex"), re_part, im_part)
    if isinstance(atom, ByteArray):
        return bytes(atom.value)
    cls = type(atom).__name__
    if cls == "Image":
        return Expr(WSymbol("Image"), np.ascontiguousarray(atom.pixels))
    if cls == "NumericArray":
        return NumericArray(np.asarray(atom.value))
    return Expr(WSymbol(atom.get_head_name() or "Missing"), str(atom))


def _association_to_wire(rules: tuple[Any, ...]) -> Any:
    items: list[tuple[Any, Any]] = []
    plain = True
    out_rules: list[Expr] = []
    for rule in rules:
        if not isinstance(rule, Expression) or len(rule.elements) != 2:
            return Expr(WSymbol("Association"), *(to_wire(r) for r in rules))
        delayed = rule.get_head_name() == "System`RuleDelayed"
        key, value = to_wire(rule.elements[0]), to_wire(rule.elements[1])
        plain = plain and not delayed and _hashable(key)
        items.append((key, value))
        out_rules.append(Expr(_RULE_DELAYED if delayed else _RULE, key, value))
    if plain:
        return dict(items)
    return Association(out_rules)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def from_wire(value: Any, definitions: Any) -> Any:
    """Convert a WXF value into a Mathics3 element, resolving bare symbol names via ``definitions``.

    Raises:
        TypeError: ``value`` is not a WXF value.
    """
    if value is True:
        return SymbolTrue
    if value is False:
        return SymbolFalse
    if value is None:
        return SymbolNull
    if isinstance(value, int):
        return Integer(value)
    if isinstance(value, float):
        return MachineReal(value)
    if isinstance(value, str):
        return String(value)
    if isinstance(value, WSymbol):
        return Symbol(_resolve(value.name, definitions))
    if isinstance(value, Expr):
        head = from_wire(value.head, definitions)
        args = [from_wire(a, definitions) for a in value.args]
        if isinstance(head, Symbol) and head.get_name() == "System`List":
            return ListExpression(*args)
        return Expression(head, *args)
    if isinstance(value, list | tuple):
        return ListExpression(*(from_wire(v, definitions) for v in value))
    if isinstance(value, Fraction):
        return Rational(value.numerator, value.denominator)
    if isinstance(value, complex):
        return Complex(MachineReal(value.real), MachineReal(value.imag))
    if isinstance(value, bytes | bytearray):
        return ByteArray(bytearray(value))
    if isinstance(value, dict):
        rule = Symbol("System`Rule")
        return Expression(
            Symbol("System`Association"),
            *(
                Expression(rule, from_wire(k, definitions), from_wire(v, definitions))
                for k, v in value.items()
            ),
        )
    if isinstance(value, Association):
        return Expression(
            Symbol("System`Association"), *(from_wire(r, definitions) for r in value.rules)
        )
    if isinstance(value, BigReal):
        import sympy

        digits = int(value.precision or 16)
        return PrecisionReal(sympy.Float(str(value.to_decimal()), max(digits, 1)))
    if isinstance(value, np.ndarray):
        return from_wire(value.tolist(), definitions)
    if isinstance(value, NumericArray):
        return Expression(
            Symbol("System`NumericArray"),
            from_wire(value.array.tolist(), definitions),
            String(value.type),
        )
    if isinstance(value, np.generic):
        return from_wire(value.item(), definitions)
    raise TypeError(f"cannot convert {type(value).__name__} to a Mathics element")


def _resolve(name: str, definitions: Any) -> str:
    if name.startswith("`"):
        return str(definitions.get_current_context()) + name[1:]
    if "`" in name:
        return name
    full: str = definitions.lookup_name(name)
    return full
