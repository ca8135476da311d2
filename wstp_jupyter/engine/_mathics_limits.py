"""Mathics3's recursion settings made the Wolfram Language's, and the engine's depth messages.

* ``$RecursionLimit`` is 1024 when a session starts, as in the Wolfram Language (Mathics3 has
  200), and may be set from 20 up to :data:`MAX_RECURSION_LIMIT` (Mathics3 allows 512). Mathics3
  sizes Python's recursion limit for it (200 + 30 Python calls a level: 30920 for 1024); the
  evaluating threads have room for it (``_stack``), and it never goes below the engine's own
  ``_stack.RECURSION_LIMIT``, which printing deep data (``Nest[f, x, 5000]``) needs whatever
  ``$RecursionLimit`` says.
* Messages the engine adds to the session, in the Wolfram Language's style:
  ``General::nostack`` (a computation nested deeper than the evaluator has room for; it is
  aborted and the rest of the cell goes on) and ``General::deepout`` (output too deep to print
  whole, shown cut; see ``_outputform``).
* A message with no text anywhere prints ``sym::tag: -- Message text not found --``, followed by
  its arguments in parentheses, as the Wolfram kernel prints it (Mathics3 writes ``Message
  sym::tag not found.``): :func:`undefined_message`, used by the engine's ``Evaluation``.
"""

from __future__ import annotations

import sys
from typing import Any

from mathics.core.atoms import Integer, String
from mathics.core.expression import Expression
from mathics.core.rules import Rule
from mathics.core.symbols import Symbol

from wstp_jupyter.engine import _stack

#: Wolfram's default ``$RecursionLimit``.
RECURSION_LIMIT = 1024
#: The largest ``$RecursionLimit`` a session accepts; 200 + 30 * this Python calls fit in the
#: evaluating threads' stacks (``_stack.MAX_RECURSION_LIMIT``).
MAX_RECURSION_LIMIT = 4096
NOT_FOUND = "-- Message text not found --"

MESSAGES = {
    ("System`General", "nostack"): (
        "The computation nested deeper than the evaluator has room for (`1` Python calls) "
        "and was aborted."
    ),
    ("System`General", "deepout"): (
        "The output is nested too deeply to print in full; it is shown to depth `1`, the "
        "parts below written <<1>>."
    ),
    ("System`$RecursionLimit", "limset"): (
        "Cannot set $RecursionLimit to `1`; value must be an integer between 20 and "
        f"{MAX_RECURSION_LIMIT}."
    ),
}


def python_depth(limit: int) -> int:
    """The Python recursion Mathics3 reckons a ``$RecursionLimit`` of ``limit`` needs."""
    return 200 + 30 * limit


def install(definitions: Any, evaluation: Any) -> None:
    """Apply the settings of the module docstring to a session (after its builtins loaded)."""
    import mathics.builtin.evaluation as builtin_evaluation
    import mathics.core.evaluation as core_evaluation
    from mathics.eval.assignments import assignment

    # Mathics3 reads the maximum from module globals (bound by name in each module).
    maximum = max(MAX_RECURSION_LIMIT, core_evaluation.MAX_RECURSION_DEPTH)
    for module in (core_evaluation, builtin_evaluation, assignment):
        module.MAX_RECURSION_DEPTH = maximum
    assignment.set_python_recursion_limit = _set_python_limit
    define_messages(definitions, MESSAGES)
    setting = Expression(
        Symbol("System`Set"), Symbol("System`$RecursionLimit"), Integer(RECURSION_LIMIT)
    )
    setting.evaluate(evaluation)


def message_name(symbol: str, tag: str) -> Expression:
    """``MessageName[symbol, "tag"]`` (``symbol`` a full name: ``System`General``)."""
    return Expression(Symbol("System`MessageName"), Symbol(symbol), String(tag))


def define_messages(definitions: Any, texts: dict[tuple[str, str], str]) -> None:
    """Give each ``(symbol, tag)`` of ``texts`` its message text in the session."""
    for (symbol, tag), text in texts.items():
        definitions.add_message(symbol, Rule(message_name(symbol, tag), String(text)))


def _set_python_limit(limit: int) -> None:
    """Mathics3's ``set_python_recursion_limit`` for ``$RecursionLimit = limit``."""
    _stack.set_limit(python_depth(limit))


def undefined_template(count: int) -> str:
    """The text of a message that has none, for ``count`` arguments (a ``StringForm``
    template: ``-- Message text not found -- (`1`) (`2`)``)."""
    return NOT_FOUND + "".join(f" (`{i}`)" for i in range(1, count + 1))


def has_text(evaluation: Any, symbol: str, tag: str) -> bool:
    """Whether ``symbol::tag`` or ``General::tag`` has a text (where Mathics3 looks for one)."""
    for owner in (symbol, "System`General"):
        pattern = message_name(owner, tag)
        try:
            evaluation.definitions.get_value(owner, "System`Messages", pattern, evaluation)
        except ValueError:
            continue
        return True
    return False


def undefined_message(evaluation: Any, symbol: str, tag: str, msgs: tuple[Any, ...]) -> Any:
    """Issue ``symbol::tag``, which has no text, as the Wolfram kernel shows it; otherwise as
    Mathics3's ``Evaluation.message`` does (quiet and ``Off`` respected, the same output)."""
    from mathics.core.convert.python import from_python
    from mathics.core.evaluation import Message

    pattern = message_name(symbol, tag)
    if evaluation.quiet_all or pattern in set(evaluation.get_quiet_messages()):
        return None
    template = String(undefined_template(len(msgs)))
    form = Expression(Symbol("System`StringForm"), template, *map(from_python, msgs))
    text = evaluation.format_output(form, "text")
    message = Message(evaluation.definitions.shorten_name(symbol), tag, str(text))
    evaluation.out.append(message)
    evaluation.output.out(message)
    return message


def no_stack(evaluation: Any) -> None:
    """Report a computation that ran out of Python recursion (``General::nostack``)."""
    evaluation.recursion_depth = 0
    evaluation.message("General", "nostack", Integer(sys.getrecursionlimit()))
