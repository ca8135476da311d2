"""Distributing the master's definitions to subkernels (``DistributeDefinitions``).

Which symbols: those of the *distributed contexts* (``Global``` and the current ``$Context``)
that occur in the expressions a parallel call sends, followed through their own definitions (a
function whose body calls another, a value used by a rule), as Wolfram's automatic distribution
does. ``DistributeDefinitions[s, ...]`` names symbols explicitly (their dependencies follow too).

What is sent for a symbol: ``Unprotect``, ``ClearAll``, one ``SetDelayed`` per own, down and sub
value, one ``TagSetDelayed`` per up value, then its options and attributes. The code is built as
an unevaluated expression from the master's rules (nothing is re-parsed), so patterns,
conditions and held bodies arrive as they are.

Each subkernel remembers the definition stamp it last received per symbol (Mathics bumps a
definition's ``changed`` counter on every change), so a symbol travels again only after it
changed; a symbol cleared in the master is cleared there too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mathics.core.attributes import attributes_bitset_to_list
from mathics.core.expression import Expression
from mathics.core.list import ListExpression
from mathics.core.symbols import Symbol

from wstp_jupyter.engine._subkernels import Subkernel

_BASE_CONTEXTS = ("Global`",)
_VALUE_KINDS = ("ownvalues", "downvalues", "subvalues")


def _sym(name: str) -> Symbol:
    return Symbol(f"System`{name}")


def distributed_contexts(definitions: Any) -> tuple[str, ...]:
    """The contexts whose symbols travel: ``Global``` and the current ``$Context``."""
    current = str(definitions.get_current_context())
    return _BASE_CONTEXTS if current in _BASE_CONTEXTS else (*_BASE_CONTEXTS, current)


def symbols_in(expr: Any, contexts: tuple[str, ...], into: set[str]) -> None:
    """Add to ``into`` the names of the symbols of ``contexts`` that occur in ``expr``."""
    stack = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, Symbol):
            name = item.get_name()
            if name.startswith(contexts):
                into.add(name)
        elif isinstance(item, Expression):
            stack.append(item.head)
            stack.extend(item.elements)


def _rules(definition: Any) -> Iterable[tuple[str, Any]]:
    for kind in (*_VALUE_KINDS, "upvalues"):
        for rule in getattr(definition, kind):
            yield kind, rule


def needed_symbols(exprs: Iterable[Any], definitions: Any,
                   names: Iterable[str] = ()) -> list[str]:
    """The symbols ``exprs`` (and ``names``) need, with everything their definitions use.

    Returns:
        Names in a stable order (dependencies discovered later come later).
    """
    contexts = distributed_contexts(definitions)
    found: set[str] = set(names)
    for expr in exprs:
        symbols_in(expr, contexts, found)
    order: list[str] = []
    seen: set[str] = set()
    todo = sorted(found)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        order.append(name)
        definition = definitions.user.get(name)
        if definition is None:
            continue
        more: set[str] = set()
        for _, rule in _rules(definition):
            symbols_in(rule.pattern.expr, contexts, more)
            symbols_in(rule.replace, contexts, more)
        todo.extend(sorted(more - seen))
    return order


def _stamp(definitions: Any, name: str) -> int:
    definition = definitions.user.get(name)
    return -1 if definition is None else int(definition.changed)


def _has_content(definition: Any) -> bool:
    return bool(definition.attributes or definition.options
                or any(getattr(definition, k) for k in (*_VALUE_KINDS, "upvalues")))


def has_definition(definitions: Any, name: str) -> bool:
    """Whether ``name`` has values, options or attributes of its own in the master."""
    definition = definitions.user.get(name)
    return definition is not None and _has_content(definition)


def definition_code(definitions: Any, name: str) -> list[Any]:
    """The statements that recreate ``name``'s definition in another kernel."""
    symbol = Symbol(name)
    code: list[Any] = [Expression(_sym("Unprotect"), symbol), Expression(_sym("ClearAll"), symbol)]
    definition = definitions.user.get(name)
    if definition is None or not _has_content(definition):
        return code
    for kind, rule in _rules(definition):
        lhs, rhs = rule.pattern.expr, rule.replace
        if kind == "upvalues":
            code.append(Expression(_sym("TagSetDelayed"), symbol, lhs, rhs))
        else:
            code.append(Expression(_sym("SetDelayed"), lhs, rhs))
    if definition.options:
        rules = [Expression(_sym("Rule"), Symbol(k), v) for k, v in definition.options.items()]
        code.append(Expression(_sym("Set"), Expression(_sym("Options"), symbol),
                               ListExpression(*rules)))
    attributes = [Symbol(a) for a in attributes_bitset_to_list(definition.attributes)]
    if attributes:
        code.append(Expression(_sym("SetAttributes"), symbol, ListExpression(*attributes)))
    return code


def definitions_for(kernel: Subkernel, definitions: Any, names: Iterable[str]) -> list[Any]:
    """Statements for the symbols among ``names`` whose definition ``kernel`` lacks or has in
    an older version; marks them as sent."""
    code: list[Any] = []
    for name in names:
        stamp = _stamp(definitions, name)
        if kernel.distributed.get(name) == stamp:
            continue
        if stamp == -1 and name not in kernel.distributed:
            continue  # never defined anywhere: nothing to send
        definition = definitions.user.get(name)
        if definition is not None and not _has_content(definition) and (
                name not in kernel.distributed):
            kernel.distributed[name] = stamp
            continue
        code.extend(definition_code(definitions, name))
        kernel.distributed[name] = stamp
    return code



__all__ = ["definition_code", "definitions_for", "distributed_contexts", "has_definition",
           "needed_symbols", "symbols_in"]
