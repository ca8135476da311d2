"""OutputForm text of a result: what a Wolfram kernel's main loop prints in ``ReturnTextPacket``.

The reference is the text Mathics3's own command line (``mathics``) prints, which is its
OutputForm: ``Format`` rules apply (the user's, and the builtin ones, which is how ``SeriesData``
prints as a series and ``Quantity[10, "Meters"]`` as ``10 meter``), machine reals show six
significant digits and arbitrary-precision reals their precision's digits, strings have no
quotes, graphics are ``-Graphics-``, ``NumberForm``/``TableForm``/``StringForm`` are laid out.

How it works: ``_forms.to_text(..., output=True, evaluation=...)`` prints the core syntax
itself and hands reals and every subexpression that ``Format`` rules decide to Mathics3's
OutputForm renderer (``mathics.format.form.outputform``); see ``_forms`` for why the split.

Three things differ from Mathics3's text, on purpose:

* operators are ASCII (``->``, ``>=``, ``!=``): Mathics3 writes arrows and signs as Unicode
  characters, which no Wolfram kernel prints;
* ``^``, ``/``, ``.`` and ``;;`` are written without spaces around them (``x^2/2``, as Wolfram's
  one-line forms write them), where Mathics3 writes ``x ^ 2 / 2``. For that, :func:`install`
  registers this module's ``Infix`` renderer in Mathics3's table of OutputForm renderers
  (process-wide: ``ToString[..., OutputForm]`` in the session then agrees with the result text),
  and it makes ``ToString[TeXForm[e]]`` and ``ToString[e, TeXForm]`` give the TeX a ``TeXForm``
  result shows (the project's writer, not Mathics3's ``\\text{Sin}(x)``);
* a result wrapped in ``InputForm``, ``FullForm`` or ``TeXForm`` prints as the text of that
  form, written by the project's ASCII printers (``_forms``) and TeX writer (``_texform``);
  ``MathMLForm`` prints Mathics3's MathML inside a ``<math>`` element.

Printing recurses about six Python calls per level of the expression; the evaluating threads
have room for tens of thousands of levels (``_stack``). An expression deeper still is printed
cut at :data:`SHOWN_DEPTH` levels, the parts below written ``<<1>>`` (``Skeleton``, as ``Short``
writes what it leaves out), after a ``General::deepout`` message: its text is never lost
silently (``Out[n]`` keeps the whole expression).
"""

from __future__ import annotations

import logging
from typing import Any

from mathics.builtin.atomic import strings as _mathics_strings
from mathics.core.atoms import Integer, String
from mathics.core.expression import Expression
from mathics.core.symbols import Symbol
from mathics.core.systemsymbols import SymbolOutputForm, SymbolTeXForm, SymbolTraditionalForm
from mathics.format.box import format_element
from mathics.format.form import outputform as _mathics_outputform
from mathics.format.form.outputform import render_output_form
from mathics.format.form.util import (
    PARENTHESIZED_FIRST,
    PARENTHESIZED_REST,
    _WrongFormattedExpression,
    collect_in_pre_post_arguments,
    parenthesize,
)

from wstp_jupyter.engine._forms import full_form, to_text
from wstp_jupyter.engine._texform import tex_form

log = logging.getLogger("wstp_jupyter.engine")

# Infix operators written without spaces around them (as in Wolfram's InputForm).
_TIGHT = frozenset({"^", "/", ".", ";;", "::"})
_ENCODING = "ASCII"
#: Levels shown of an expression too deep to print whole (see the module docstring).
SHOWN_DEPTH = 100
_SKELETON = Expression(Symbol("System`Skeleton"), Integer(1))


def output_form(expr: Any, evaluation: Any) -> str:
    """Return the OutputForm text of ``expr`` (one line unless the form lays out a grid).

    Args:
        expr: a Mathics3 element (after ``$PrePrint``, if the caller applies it).
        evaluation: an ``Evaluation`` over the session's definitions; ``Format`` rules are
            evaluated with it, so it must not be one that another thread is using.

    Returns:
        The text. Should Mathics3's renderer fail on some expression, the ASCII InputForm text
        is returned instead (logged at debug level); an expression too deep to print is cut
        at ``SHOWN_DEPTH`` levels, with a ``General::deepout`` message issued on
        ``evaluation``: a result is never lost to its formatting.
    """
    try:
        return _output_form(expr, evaluation)
    except RecursionError:
        pass  # out of the frames above: there is room again for the message and the short text
    evaluation.message("General", "deepout", Integer(SHOWN_DEPTH))
    return _output_form(shallow(expr, SHOWN_DEPTH), evaluation)


def shallow(expr: Any, depth: int) -> Any:
    """``expr`` with every compound part ``depth`` levels down written ``Skeleton[1]``.

    Recursion is bounded by ``depth``; the width of the expression costs none."""
    if not isinstance(expr, Expression):
        return expr
    if depth <= 0:
        return _SKELETON
    head = expr.head
    return Expression(
        shallow(head, depth - 1) if isinstance(head, Expression) else head,
        *(shallow(element, depth - 1) for element in expr.elements),
    )


def _output_form(expr: Any, evaluation: Any) -> str:
    shorten = evaluation.definitions.shorten_name
    if isinstance(expr, Expression) and len(expr.elements) == 1:
        head, inner = expr.get_head_name(), expr.elements[0]
        if head == "System`InputForm":
            return to_text(inner, shorten)
        if head == "System`FullForm":
            return full_form(inner, shorten)
        if head == "System`TeXForm":
            return tex_form(inner, evaluation)
        if head == "System`MathMLForm":
            return _mathml(inner, evaluation)
    try:
        return to_text(expr, shorten, output=True, ascii_only=False, evaluation=evaluation)
    except RecursionError:
        raise  # InputForm would recurse as deep: output_form shortens the expression instead
    except Exception:
        log.debug("OutputForm rendering failed; using InputForm", exc_info=True)
        return to_text(expr, shorten)


def _mathml(expr: Any, evaluation: Any) -> str:
    boxes = format_element(expr, evaluation, SymbolTraditionalForm)
    inner = "\n".join(" " + line for line in str(boxes.to_mathml()).strip().splitlines())
    return f"<math xmlns='http://www.w3.org/1998/Math/MathML'>\n{inner}\n</math>"


def _infix(expr: Expression, evaluation: Any, **kwargs: Any) -> str:
    """``Infix[{a, b, ...}, op, precedence, grouping]`` as one line; see the module docstring."""
    if not isinstance(expr.head, Symbol):
        raise _WrongFormattedExpression
    kwargs["encoding"] = _ENCODING  # callers pass Mathics3's default (UTF-8) explicitly
    kwargs.setdefault("_render_function", render_output_form)
    operands, ops, precedence, group = collect_in_pre_post_arguments(expr, evaluation, **kwargs)
    if isinstance(ops, str):
        ops = [ops]
    first = operands[0]
    out = [
        parenthesize(
            precedence,
            first,
            str(render_output_form(first, evaluation, **kwargs)),
            group in PARENTHESIZED_FIRST,
        )
    ]
    for index, operand in enumerate(operands[1:]):
        op = str(ops[index % len(ops)])
        if op != " " and op.strip() not in _TIGHT:
            op = f" {op.strip()} "
        elif op != " ":
            op = op.strip()
        text = str(render_output_form(operand, evaluation, **kwargs))
        out.append(op)
        out.append(parenthesize(precedence, operand, text, group in PARENTHESIZED_REST))
    return "".join(out)


def _to_string(original: Any) -> Any:
    """Wrap Mathics3's ``ToString`` evaluator so that ``ToString[e, TeXForm]`` and
    ``ToString[TeXForm[e]]`` give the project's TeX, the TeX a ``TeXForm`` result shows.

    Why at ``ToString``: Mathics3 applies its own ``TeXForm`` format rules (``Divide``,
    ``PrecedenceForm``, ...) before any renderer sees the expression, and the project's writer
    works on the expression itself."""

    def to_string(expr: Any, form: Any, encoding: Any, evaluation: Any) -> Any:
        if form is SymbolTeXForm:
            return String(tex_form(expr, evaluation))
        if form is SymbolOutputForm and expr.has_form("TeXForm", 1):
            return String(tex_form(expr.elements[0], evaluation))
        return original(expr, form, encoding, evaluation)

    return to_string


_installed = False


def install() -> None:
    """Register :func:`_infix` in Mathics3's table of OutputForm renderers, and the project's
    TeX writer as the session's ``TeXForm`` (idempotent): one TeX for ``ToString[TeXForm[e]]``,
    ``ToString[e, TeXForm]`` and a ``TeXForm`` result."""
    global _installed
    if _installed:
        return
    table = _mathics_outputform.EXPR_TO_OUTPUTFORM_TEXT_MAP
    table["System`Infix"] = _infix
    _mathics_strings.eval_ToString = _to_string(_mathics_strings.eval_ToString)
    _installed = True

