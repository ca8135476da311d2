"""Requests run outside the main loop: ``store_history=False``, ``silent``, ``user_expressions``.

Such a request must not use an ``In[n]``, so it cannot be an ``EnterTextPacket``: it becomes
``EvaluatePacket``s, one per input of the cell, so that every input shows its own result as in a
stored cell. This module holds what the kernel sends for them and how it reads the answers:

* :func:`split_inputs` cuts a cell into its inputs by the main loop's rule: a line ends an input
  when the text so far is a complete expression (``_syntax.is_complete``), so ``f[x_] :=`` on one
  line and ``x + 1`` on the next are one input, ``a = 1`` and ``b = 2`` on two lines are two.
* ``SyntaxQ`` (asked on the preemptive link) says whether an input is valid syntax, without
  evaluating it; for one that is not, :func:`parses` gets the parser's ``Syntax::`` message on
  the main link, and the request fails with it (``SyntaxError``) as a stored cell fails.
* :func:`guarded` evaluates an input under ``CheckAbort``: an abort inside it (``Abort[]``)
  returns a string no evaluation can produce by chance (:func:`abort_mark`), so the kernel tells
  an aborted input from one that merely returns ``$Aborted`` (``TimeConstrained`` does). An
  abort sent by the front end (interrupt) is known to the kernel that sent it.

:class:`UnstoredRequests` runs them: a mixin of the kernel, over its main-link conversation.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from wstp_jupyter.engine._requests import MIMEBundle
from wstp_jupyter.kernel import _syntax
from wstp_jupyter.kernel._connection import KernelConnection
from wstp_jupyter.kernel._errors import KernelError
from wstp_jupyter.kernel._mapping import CellTranslator, Output, Result, Stream, result_data
from wstp_jupyter.link import EvaluatePacket, Packet
from wstp_jupyter.wxf import Expr, Symbol

PLAIN = "text/plain"
PREEMPTIVE_TIMEOUT = 5.0
INPUTFORM = "application/vnd.wolfram.inputform"
_ABORTED = Symbol("$Aborted")
_NULL_TEXTS = ("Null", "")
# The line of a message's text that names it (the middle one of a two-dimensional message).
_MESSAGE_NAME = re.compile(r"^[ \t]*([\w`$]+::\w+):[ \t]*(.*)$", re.MULTILINE)

# Nested comments go from the inside out.
_COMMENT = re.compile(r"\(\*(?:(?!\(\*|\*\)).)*\*\)", re.DOTALL)


def _has_code(text: str) -> bool:
    """Whether ``text`` holds more than white space and comments."""
    previous = None
    while previous != text:
        previous, text = text, _COMMENT.sub(" ", text)
    return bool(text.strip())


def split_inputs(code: str) -> list[str]:
    """The inputs of a cell, in order; lines of white space and comments alone are dropped.

    What is left incomplete at the end (``f[x``) is an input too: the kernel's parser then
    reports it, as the main loop does.
    """
    inputs: list[str] = []
    pending: list[str] = []
    for line in code.split("\n"):
        pending.append(line)
        text = "\n".join(pending)
        if _syntax.is_complete(text)[0] != "incomplete":
            if _has_code(text):
                inputs.append(text)
            pending = []
    text = "\n".join(pending)
    if pending and _has_code(text):
        inputs.append(text)
    return inputs


def abort_mark() -> str:
    """A fresh string that stands for "this input was aborted" (see the module docstring)."""
    return f"WSTPJupyter-aborted-{uuid.uuid4().hex}"


def parses(text: str) -> Expr:
    """``If[SyntaxQ[text], True, ToExpression[text, InputForm, HoldComplete]; False]``:
    ``True`` when ``text`` is valid syntax, else ``False`` after the parser's ``Syntax``
    message, which says why. Nothing of ``text`` is evaluated. (``SyntaxQ`` decides, because
    Mathics3's ``ToExpression[text, form, HoldComplete]`` evaluates before it holds.)"""
    said = Expr(Symbol("CompoundExpression"),
                Expr(Symbol("ToExpression"), text, Symbol("InputForm"), Symbol("HoldComplete")),
                Symbol("False"))
    return Expr(Symbol("If"), Expr(Symbol("SyntaxQ"), text), Symbol("True"), said)


def guarded(text: str, mark: str, *, value: bool = True) -> Expr:
    """``CheckAbort[ToExpression[text], mark]``; with ``value=False`` the input's value is
    replaced by ``Null`` (a silent request shows nothing, so nothing needs to be sent back)."""
    body: Expr = Expr(Symbol("ToExpression"), text)
    if not value:
        body = Expr(Symbol("CompoundExpression"), body, Symbol("Null"))
    return Expr(Symbol("CheckAbort"), body, mark)


class UnstoredRequests:
    """The kernel's requests outside the main loop: unstored and silent cells, user
    expressions (a mixin of :class:`~wstp_jupyter.kernel._kernel.WolframKernel`, whose
    conversation on the main link it uses)."""

    _next_in: int
    _aborts_sent: int
    _last_plain: str | None

    async def _converse(
        self, connection: KernelConnection, request: Packet, translator: CellTranslator, *,
        parent: Any, ident: Any, allow_stdin: bool, publish: bool = True,
        side: list[Stream] | None = None,
    ) -> Any:
        raise NotImplementedError  # the kernel's: send a request, handle what comes back

    async def _evaluate_main(self, connection: KernelConnection, expr: Any,
                             side: list[Stream] | None = None) -> Any:
        raise NotImplementedError  # the kernel's: one EvaluatePacket, side output collected

    async def _await_prompt(self, connection: KernelConnection, parent: Any,
                            silent: bool) -> None:
        raise NotImplementedError  # the kernel's: wait for the kernel's InputNamePacket

    def _error_reply(self, parent: Any, ename: str, evalue: str, *,
                     publish: bool = True) -> dict[str, Any]:
        raise NotImplementedError  # the kernel's: an error reply (and its error message)

    def _publish_output(self, parent: Any, event: Output | Result) -> None:
        raise NotImplementedError  # the kernel's: publish one output of a cell

    async def _run_unstored(
        self, connection: KernelConnection, code: str, parent: Any, ident: Any,
        allow_stdin: bool, *, publish: bool,
    ) -> dict[str, Any]:
        """A cell with ``store_history=False`` or ``silent``: its inputs evaluated one by one
        outside the main loop (see the module docstring: no ``$Line``, no ``In``/``Out``), each
        result shown as a stored cell's would be (nothing when silent). A syntax error or an
        abort fails the request and ends it, as it ends a stored cell.

        ``$Aborted`` as the whole outcome is an interrupt that came before the request was
        sent (``_converse``), or, for a silent input whose value is dropped, an abort."""
        count = self._next_in - 1
        self._last_plain = None
        for text in split_inputs(code):
            side: list[Stream] = []
            # Asked beside the main link, so that an interrupt always meets the evaluation
            # itself; only an input found invalid goes to the main link, for the message.
            valid = await _syntax_q(connection, text)
            if valid is not True:
                valid = await self._evaluate_main(connection, parses(text), side)
            if valid is not True:
                if valid is False:  # the Syntax message says why
                    said = [s.text.strip() for s in side if s.name == "stderr" and s.text.strip()]
                    why = said[0] if said else f"invalid input: {text.strip()[:200]}"
                    return self._error_reply(parent, "SyntaxError", why, publish=publish)
                return self._error_reply(parent, "Aborted", "$Aborted: the evaluation was aborted",
                                         publish=publish)
            mark = abort_mark()
            body = guarded(text, mark, value=publish)
            request = MIMEBundle(expr=body).to_expr() if publish else body
            aborts = self._aborts_sent
            outcome = await self._converse(
                connection, EvaluatePacket(request), CellTranslator(count), parent=parent,
                ident=ident, allow_stdin=allow_stdin, publish=publish,
            )
            if isinstance(outcome, tuple):
                return self._error_reply(parent, outcome[0], outcome[1], publish=publish)
            data, metadata = result_data(outcome)
            if outcome == _ABORTED or self._was_aborted(data, mark, aborts):
                return self._error_reply(parent, "Aborted", "$Aborted: the evaluation was aborted",
                                         publish=publish)
            if publish and data.get(PLAIN, "") not in _NULL_TEXTS:
                self._publish_output(parent, Result(execution_count=count, data=data,
                                                    metadata=metadata))
        return {"status": "ok", "payload": []}

    def _was_aborted(self, data: dict[str, Any], mark: str, aborts_before: int) -> bool:
        """Whether the input guarded with ``mark`` (:func:`guarded`) was aborted: it returned
        ``mark`` (an abort inside it), or ``$Aborted`` while the front end sent an abort (an
        interrupt); a ``$Aborted`` returned otherwise is the input's value."""
        text = data.get(INPUTFORM, data.get(PLAIN))
        if text in (mark, f'"{mark}"') or data.get(PLAIN) == mark:
            return True
        return text == "$Aborted" and self._aborts_sent != aborts_before

    async def _user_expressions(
        self, connection: KernelConnection, expressions: dict[str, str] | None
    ) -> dict[str, Any]:
        """Evaluate each user expression (outside the main loop); per the messaging spec each
        answer is ``{"status": "ok", "data", "metadata"}`` or, for one that fails, the error
        content ``{"status": "error", "ename", "evalue", "traceback"}``.

        An expression fails as under ``Check``: when it is not valid syntax, when its
        evaluation issues a message (``1/0``: ``ename`` is the first message's ``Power::infy``,
        the traceback lists them all), or when it is aborted. A ``$Failed`` or a ``$Aborted``
        it merely returns (``TimeConstrained``) is a value like any other.
        """
        results: dict[str, Any] = {}
        if expressions:  # after an empty cell or `?name` nothing has waited for the prompt yet
            await self._await_prompt(connection, None, True)
        for key, text in (expressions or {}).items():
            side: list[Stream] = []
            mark = abort_mark()
            aborts = self._aborts_sent
            value = await self._evaluate_main(
                connection, MIMEBundle(expr=guarded(text, mark)).to_expr(), side
            )
            data, metadata = result_data(value)
            messages = [s.text.strip() for s in side if s.name == "stderr" and s.text.strip()]
            if value is None or value == _ABORTED or self._was_aborted(data, mark, aborts):
                results[key] = _expression_error("Aborted", "$Aborted", messages)
            elif messages:
                named = _MESSAGE_NAME.search(messages[0])
                ename, evalue = (named.group(1), named.group(2)) if named else (
                    "Message", messages[0])
                results[key] = _expression_error(ename, evalue, messages)
            else:
                results[key] = {"status": "ok", "data": data, "metadata": metadata}
        return results


async def _syntax_q(connection: KernelConnection, text: str) -> bool | None:
    """``SyntaxQ[text]`` on the preemptive link; ``None`` when it cannot say (no answer in
    time, a kernel that is gone: the main link then finds out)."""
    try:
        answer = await asyncio.to_thread(
            connection.evaluate, Expr(Symbol("SyntaxQ"), text), timeout=PREEMPTIVE_TIMEOUT
        )
    except (KernelError, TimeoutError):
        return None
    return answer if isinstance(answer, bool) else None


def _expression_error(ename: str, evalue: str, lines: list[str]) -> dict[str, Any]:
    return {"status": "error", "ename": ename, "evalue": evalue,
            "traceback": lines or [f"{ename}: {evalue}"]}
