"""A symbol's definitions as Wolfram writes them: ``f[x_] := x + 1``, not ``f[x_] = x + 1``.

How it works. Mathics3 stores ``f[x_] = rhs`` and ``f[x_] := rhs`` as the same kind of rule
(``=`` evaluates the right side first; nothing records which operator made the rule), so its
``Definition`` and ``Information`` print every rule with ``=``. :func:`install` fixes that for a
session:

* Mathics3's assignment builtins all go through one function, ``eval_assign``; a wrapper notes
  in a thread-local flag whether the running assignment is delayed (``:=``, ``^:=``,
  ``/: ... :=``), and the ``Rule`` objects the assignment code creates meanwhile are marked with
  it (attribute :data:`DELAYED`).
* :func:`definition_lines` lists a symbol's definitions in Mathics3's order (attributes, own,
  down, sub, up, N and format values, defaults, options), each with the operator that made it.
  The kernel's inspection (``?f``, Jupyter's inspect) writes them as text, and they replace
  Mathics3's own list in ``Definition`` and ``Information`` (same expressions, right operator).

Rules made before :func:`install` (none in a kernel process: it runs at start) print with ``=``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mathics.core.attributes import A_READ_PROTECTED, attributes_bitset_to_list
from mathics.core.expression import Expression
from mathics.core.list import ListExpression
from mathics.core.rules import Rule
from mathics.core.symbols import Symbol

#: The attribute a delayed rule carries (True); other rules lack it.
DELAYED = "wstp_delayed"
_DELAYED_ASSIGNMENTS = frozenset({"System`SetDelayed", "System`UpSetDelayed",
                                  "System`TagSetDelayed"})
_state = threading.local()

SET, SET_DELAYED = "System`Set", "System`SetDelayed"
# The forms ``Format[lhs] := rhs`` (no form given) defines, as Mathics3's eval_assign_format.
_DEFAULT_FORMS = frozenset({"System`StandardForm", "System`TraditionalForm", "System`OutputForm",
                            "System`TeXForm", "System`MathMLForm"})
UP_SET, UP_SET_DELAYED = "System`UpSet", "System`UpSetDelayed"


@dataclass(frozen=True, slots=True)
class DefinitionLine:
    """One line of a definition: ``lhs op rhs`` with ``op`` a full symbol name (``Set``,
    ``SetDelayed``, ``UpSet``, ``UpSetDelayed``); ``value`` is True for rules (their sides
    print in InputForm), False for the ``Attributes[f] = {...}`` and ``Options[f] = {...}``
    lines."""

    operator: str
    lhs: Any
    rhs: Any
    value: bool = True

    def expression(self) -> Any:
        """The Mathics3 expression ``lhs op rhs`` (no ``HoldForm``)."""
        return Expression(Symbol(self.operator), self.lhs, self.rhs)


def _marked_rule(*args: Any, **kwargs: Any) -> Rule:
    rule = Rule(*args, **kwargs)
    if getattr(_state, "delayed", False):
        setattr(rule, DELAYED, True)
    return rule


def _wrap_eval_assign(plain: Callable[..., bool]) -> Callable[..., bool]:
    def eval_assign(self: Any, lhs: Any, rhs: Any, evaluation: Any, *args: Any,
                    **kwargs: Any) -> bool:
        outer = getattr(_state, "delayed", False)
        _state.delayed = self.get_name() in _DELAYED_ASSIGNMENTS
        try:
            return plain(self, lhs, rhs, evaluation, *args, **kwargs)
        finally:
            _state.delayed = outer

    eval_assign.wstp_wrapped = True  # type: ignore[attr-defined]
    return eval_assign


def install() -> None:
    """Mark delayed rules from now on and make ``Definition``/``Information`` print them with
    ``:=``. Process-wide (Mathics3's modules), idempotent."""
    import mathics.builtin.assignments.assignment as builtins_module
    import mathics.builtin.atomic.symbols as symbols_module
    import mathics.eval.assignments.assignment as eval_module

    if getattr(builtins_module.eval_assign, "wstp_wrapped", False):
        return
    builtins_module.eval_assign = _wrap_eval_assign(builtins_module.eval_assign)
    eval_module.Rule = _marked_rule
    symbols_module.gather_and_format_definition_rules = _gather_for_mathics


def _rule_line(rule: Any, up: bool = False, lhs: Any = None, rhs: Any = None) -> DefinitionLine:
    delayed = bool(getattr(rule, DELAYED, False))
    operators = (UP_SET, UP_SET_DELAYED) if up else (SET, SET_DELAYED)
    operator = operators[delayed]
    return DefinitionLine(operator, rule.pattern.expr if lhs is None else lhs,
                          rule.replace if rhs is None else rhs)


def definition_lines(definitions: Any, full: str) -> list[DefinitionLine]:
    """The definitions of symbol ``full`` (a full name), in the order Mathics3 prints them.

    ``Attributes[f] = {...}`` first, the value rules unless ``f`` is ``ReadProtected`` (own,
    down, sub, up, N values, then format values by form), default values, and
    ``Options[f] = {...}``. Reads the definitions only: nothing is evaluated.
    """
    symbol = Symbol(full)
    lines: list[DefinitionLine] = []
    try:
        merged = definitions.get_definition(full)
    except KeyError:
        return lines
    attributes = merged.attributes
    if attributes:
        names = ListExpression(*(Symbol(a) for a in attributes_bitset_to_list(attributes)))
        lines.append(DefinitionLine(SET, Expression(Symbol("System`Attributes"), symbol),
                                    names, value=False))
    if not attributes & A_READ_PROTECTED:
        try:
            user = definitions.get_user_definition(full, create=False)
        except KeyError:
            user = None
        if user is not None:
            for kind in ("ownvalues", "downvalues", "subvalues"):
                lines += [_rule_line(rule) for rule in getattr(user, kind)]
            lines += [_rule_line(rule, up=True) for rule in user.upvalues]
            lines += [_rule_line(rule) for rule in user.nvalues]
            lines += _format_lines(user.formatvalues)
    lines += [_rule_line(rule) for rule in merged.defaultvalues]
    if merged.options:
        rules = (Expression(Symbol("System`Rule"), Symbol(name), value)
                 for name, value in sorted(merged.options.items()))
        lines.append(DefinitionLine(SET, Expression(Symbol("System`Options"), symbol),
                                    ListExpression(*rules), value=False))
    return lines


def _format_lines(formatvalues: dict[str, list[Any]]) -> list[DefinitionLine]:
    # ``Format[f[x_]] := ...`` (no form) stores one rule under each of Mathics3's five default
    # forms: it is written once, as it was given; a rule for chosen forms names each form.
    forms_of: dict[int, set[str]] = {}
    for form, rules in formatvalues.items():
        for rule in rules:
            forms_of.setdefault(id(rule), set()).add(form)
    lines, done = [], set()
    for form, rules in sorted(formatvalues.items()):
        for rule in rules:
            if forms_of[id(rule)] == _DEFAULT_FORMS:
                if id(rule) in done:
                    continue
                done.add(id(rule))
                lhs = Expression(Symbol("System`Format"), rule.pattern.expr)
            else:
                lhs = Expression(Symbol("System`Format"), rule.pattern.expr, Symbol(form))
            lines.append(_rule_line(rule, lhs=lhs))
    return lines


def _gather_for_mathics(symbol: Any, evaluation: Any) -> list[Any] | None:
    """Mathics3's ``gather_and_format_definition_rules`` with each rule's own operator: the
    lines of ``Definition[f]`` and ``Information[f]`` (``HoldForm[lhs op rhs]``, the sides of a
    rule in ``InputForm``, as Mathics3 writes them)."""
    name = symbol.get_name()
    if not name:
        evaluation.message("Definition", "sym", symbol, 1)
        return None
    hold, input_form = Symbol("System`HoldForm"), Symbol("System`InputForm")
    held_definition = Expression(hold, Symbol("System`Definition"))
    result = []
    for line in definition_lines(evaluation.definitions, name):
        evaluation.check_stopped()
        shown = line
        if line.value:
            rhs = line.rhs.replace_vars({"System`Definition": held_definition})
            if line.lhs.has_form("System`Format", 1, 2) and rhs.has_form("System`Infix", None):
                rhs = Expression(Expression(hold, rhs.head), *rhs.elements)
            shown = DefinitionLine(line.operator, Expression(input_form, line.lhs),
                                   Expression(input_form, rhs))
        result.append(Expression(hold, shown.expression()))
    return result


__all__ = ["DELAYED", "DefinitionLine", "definition_lines", "install"]
