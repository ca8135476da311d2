"""Wolfram Language text (InputForm) to wire values, with Mathics3's parser and no session.

Used where an evaluator can write an expression only as text: Woxi's ``BinarySerialize`` fails
on some held code (``a; b``, ``f[x_] := ...``, ``#1 + 1 &``, ``a[[1]]``, ``a /@ b``), but its
InputForm is right. The parser (``mathics.core.parser``) builds a syntax tree without loading
any definitions; it is imported on first use (about a second: Mathics3 pulls in sympy).

Symbols are resolved as a kernel whose ``$ContextPath`` is ``{"System`", "Global`"}`` would:
a name with a context keeps it, a bare name is System's when ``system_names`` has it (or it
begins with ``$``), ``Global``` otherwise.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from wstp_jupyter.wxf import BigReal, Expr, Symbol

_LIST = Symbol("List")


class ParseError(ValueError):
    """The text is not one complete expression."""


def parse_wire(text: str, system_names: Collection[str] = ()) -> Any:
    """The wire value of the expression ``text`` (nothing is evaluated).

    Raises:
        ParseError: ``text`` does not parse.
    """
    from mathics.core.parser.feed import SingleLineFeeder
    from mathics.core.parser.parser import Parser
    from mathics_scanner.errors import SyntaxError as ScanError

    try:
        tree = Parser().parse(SingleLineFeeder(text, None))
    except (ScanError, ValueError) as exc:
        raise ParseError(f"cannot parse {text[:200]!r}: {exc}") from None
    if tree is None:
        raise ParseError(f"no expression in {text[:200]!r}")
    return _wire(tree, system_names)


def _wire(node: Any, names: Collection[str]) -> Any:
    from mathics.core.parser import ast

    if isinstance(node, ast.Number):
        return _number(node)
    if isinstance(node, ast.String | ast.Filename):
        return str(node.value)
    if isinstance(node, ast.Symbol):
        return _symbol(str(node.value), node.context == "System", names)
    head = _wire(node.head, names)
    args = [_wire(child, names) for child in node.children]
    return args if head == _LIST else Expr(head, *args)


def _symbol(name: str, system: bool, names: Collection[str]) -> Symbol:
    if "`" in name:
        return Symbol("Global" + name if name.startswith("`") else name)
    if system or name.startswith("$") or name in names:
        return Symbol(name)
    return Symbol("Global`" + name)


def _number(node: Any) -> Any:
    digits, sign, base, suffix, exp = node.value, node.sign, node.base, node.suffix, node.exp
    if base != 10:
        if "." in digits or suffix is not None:
            raise ParseError(f"unsupported number {node!r}")
        return sign * int(digits, base) * 10**exp if exp >= 0 else _exact(node)
    if "." not in digits and suffix is None:
        value = sign * int(digits)
        return value * 10**exp if exp >= 0 else _exact(node)
    if not suffix:  # machine precision: 1.5, 1.5`
        return sign * float(f"{digits}e{exp}")
    text = ("-" if sign < 0 else "") + f"{digits}`{suffix}" + (f"*^{exp}" if exp else "")
    return BigReal(text)


def _exact(node: Any) -> Any:
    from fractions import Fraction

    return node.sign * Fraction(int(node.value, node.base)) * Fraction(10) ** node.exp


__all__ = ["ParseError", "parse_wire"]
