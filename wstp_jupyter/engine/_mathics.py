"""The Mathics3 backend: one session per process, evaluations that can be aborted and held.

How it works:

* ``MathicsBackend.start()`` loads the builtins and creates one ``MathicsSession`` (≈4 s, once per
  process), then replaces the session's ``Evaluation`` by :class:`EngineEvaluation`, and adds a
  second one (``side``) over the same ``Definitions`` for preemptive requests.
* :class:`EngineEvaluation` sends ``Print`` output and messages to its ``host`` the moment they
  happen (Mathics calls ``output.out`` during the evaluation), formats text in OutputForm
  (``_outputform``), stops a message after its third time in one evaluation with
  ``General::stop``, as the Wolfram kernel does, and turns Mathics' cooperative ``stopped``
  flag into three behaviours: abort (``AbortInterrupt``), hold (wait for the interrupt menu's
  answer) and timeout.
* Abort is delivered by raising ``AbortInterrupt`` asynchronously in the evaluating thread
  (``PyThreadState_SetAsyncExc``), which reaches the next Python bytecode even inside sympy; the
  ``stopped`` flag is the fallback for code that checks it. Both make the evaluation return
  ``$Aborted`` with its definitions intact.
* ``In``/``Out`` bookkeeping is Mathics' own (the last ``$HistoryLength`` lines, at most 100),
  but :func:`_fast_history` replaces the generic rule scans it does for every line (six
  ``SameQ`` scans over 100 rules, about 2 ms per line) by integer comparisons.
* Cells are parsed twice: once whole, to refuse a cell with a syntax error before any of it runs
  (as the Wolfram kernel does), then expression by expression, so that each top-level
  expression is evaluated (and gets its own ``$Line``) before the next one is converted.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import ctypes
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

from mathics.core.element import ensure_context
from mathics.core.evaluation import Evaluation, Output
from mathics.core.expression import Expression
from mathics.core.interrupt import (
    AbortInterrupt,
    BreakInterrupt,
    ContinueInterrupt,
    ReturnInterrupt,
    TimeoutInterrupt,
    WLThrowInterrupt,
)
from mathics.core.symbols import Symbol, SymbolNull
from mathics_scanner.errors import IncompleteSyntaxError
from mathics_scanner.errors import SyntaxError as MathicsSyntaxError
from mathics_scanner.location import ContainerKind

from wstp_jupyter.engine import _mathics_limits
from wstp_jupyter.engine._backend import Backend, Host, LineResult, SyntaxIssue
from wstp_jupyter.engine._forms import to_text
from wstp_jupyter.engine._mathics_limits import (
    define_messages,
    has_text,
    message_name,
    no_stack,
    undefined_message,
)
from wstp_jupyter.engine._outputform import install as install_output_forms
from wstp_jupyter.engine._outputform import output_form

log = logging.getLogger("wstp_jupyter.engine")

SymbolAborted = Symbol("System`$Aborted")
# General::stop: a message is shown this many times in one evaluation, then suppressed.
MESSAGE_REPEATS = 3
_STOP_TEXT = "Further output of `1` will be suppressed during this calculation."
_SYNTAX_WHERE = re.compile(r" \(line \d+ of [^()]*\)\.$")


class _HostOutput(Output):
    """Forwards Mathics' ``Print``/``Message`` objects to the evaluation's host as they come."""

    def __init__(self, evaluation: EngineEvaluation) -> None:
        self.evaluation = evaluation

    def out(self, out: Any) -> None:
        host = self.evaluation.host
        if host is None:
            return
        if getattr(out, "is_message", False):
            text = str(out.text)
            if out.symbol == "Syntax":
                # Mathics appends "(line n of <container>)"; the Wolfram kernel does not.
                text = _SYNTAX_WHERE.sub(".", text)
            host.message(str(out.symbol), str(out.tag), f"{out.symbol}::{out.tag}: {text}")
        else:
            host.print_text(str(out.text))


class EngineEvaluation(Evaluation):
    """An ``Evaluation`` that streams output to a host and can be aborted or held."""

    def __init__(self, definitions: Any) -> None:
        self.abort_requested = False
        self.hold_requested = False
        self.error_abort = False
        self._stopped = False
        self._formatting = 0
        super().__init__(definitions=definitions, catch_interrupt=False)
        self.output = _HostOutput(self)
        self.host: Host | None = None
        self.resume_event = threading.Event()
        # Times each message (symbol::tag, full symbol name) was shown in this evaluation.
        self.message_counts: collections.Counter[tuple[str, str]] = collections.Counter()

    @property
    def stopped(self) -> bool:
        """Mathics' cooperative flag: True makes the next :meth:`check_stopped` act."""
        return self._stopped

    @stopped.setter
    def stopped(self, value: bool) -> None:
        # Mathics clears the flag as each evaluation starts; an abort or hold requested
        # before that moment (a pending one, applied by MathicsBackend._enter) must survive.
        self._stopped = value or self.abort_requested or self.hold_requested

    def message(self, symbol_name: str, tag: str, *msgs: Any) -> Any:
        """Issue a message, unless it has been shown ``MESSAGE_REPEATS`` times already in this
        evaluation; the time that reaches the limit is followed by ``General::stop``
        (``Off[General::stop]`` lifts the limit). Messages that are ``Off`` or quiet are not
        counted, because they were not shown."""
        full = ensure_context(symbol_name)
        key = (full, str(tag))
        stop = ("System`General", "stop")
        if key != stop and self.message_counts[key] >= MESSAGE_REPEATS and self._stop_applies():
            return None
        if has_text(self, full, str(tag)):
            shown = super().message(symbol_name, tag, *msgs)
        else:
            shown = undefined_message(self, full, str(tag), msgs)
        if shown is None or key == stop:
            return shown
        self.message_counts[key] += 1
        if self.message_counts[key] == MESSAGE_REPEATS and self._stop_applies():
            name = message_name(full, key[1])
            super().message("General", "stop", Expression(Symbol("System`HoldForm"), name))
        return shown

    def _stop_applies(self) -> bool:
        return message_name("System`General", "stop") not in set(self.get_quiet_messages())

    def error(self, symbol: Any, tag: Any, *msgs: Any) -> None:
        # Mathics ends a line after some messages ($RecursionLimit::reclim, ...) by raising
        # AbortInterrupt; that is not an abort of the cell, so it is marked.
        self.error_abort = True
        super().error(symbol, tag, *msgs)

    def error_args(self, symbol: Any, given: Any, *needed: Any) -> None:
        self.error_abort = True
        super().error_args(symbol, given, *needed)

    def check_stopped(self) -> None:
        # Mathics calls this at every recursion step; ``stopped`` is False on the fast path.
        if not self.stopped:
            return
        if self.abort_requested:
            raise AbortInterrupt
        if self.hold_requested:
            self.resume_event.wait()
            self.resume_event.clear()
            if self.abort_requested:
                raise AbortInterrupt
            self.hold_requested = False
            self.stopped = False
            return
        raise TimeoutInterrupt

    def format_output(self, expr: Any, format: Any = None) -> Any:
        with self.formatting():
            if format == "text" or (format is None and self.format == "text"):
                return output_form(expr, self)
            return super().format_output(expr, format)

    @contextlib.contextmanager
    def formatting(self) -> Iterator[None]:
        """Within: formatting, which ``$RecursionLimit`` does not limit (Mathics3 applies Format
        rules by evaluation, a level of recursion per level of the expression; the Wolfram
        kernel prints a message argument 1500 levels deep). Python's own limit still holds:
        past it, ``output_form`` shows the expression cut."""
        self._formatting += 1
        try:
            yield
        finally:
            self._formatting -= 1

    def inc_recursion_depth(self) -> None:
        if self._formatting:
            self.check_stopped()
            self.recursion_depth += 1
            return
        super().inc_recursion_depth()


def _async_raise(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in another thread at its next bytecode (``None`` cancels a pending one)."""
    set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    arg = ctypes.py_object(exc) if exc is not None else None
    set_exc(ctypes.c_ulong(thread_id), arg)


class MathicsBackend(Backend):
    """The Mathics3 evaluator behind the kernel's main loop."""

    def __init__(self) -> None:
        self.session: Any = None
        self.main: EngineEvaluation
        self.side: EngineEvaluation
        # Formatting evaluates Format rules; each thread formats with its own Evaluation, so
        # the text of a result never disturbs (nor is stopped by) an evaluation that runs.
        self._formatters = threading.local()
        self._lock = threading.Lock()
        self._running_thread: int | None = None
        # An interrupt or abort that arrives before the main evaluation has started (the
        # request is queued, or the cell is still being parsed) is kept here and applied when
        # it starts, so that the menu's hold holds and the abort aborts.
        self._hold_pending = False
        self._abort_pending = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Load Mathics3 and create the session (slow: seconds)."""
        from mathics.core.load_builtin import import_and_load_builtins
        from mathics.session import MathicsSession

        from wstp_jupyter.engine._definitions import install as install_definitions

        import_and_load_builtins()
        install_output_forms()
        # Definition, Information and ?f print f[x_] := ... for a delayed rule.
        install_definitions()
        self.session = MathicsSession(add_builtin=True, catch_interrupt=False)
        definitions = self.session.definitions
        self.main = EngineEvaluation(definitions)
        self.side = EngineEvaluation(definitions)
        self.session.evaluation = self.main
        _fast_history(definitions)
        # NumberForm is one of Wolfram's $OutputForms (Out[n] holds the number, the prompt says
        # Out[n]//NumberForm=); Mathics3 leaves it out. Its text is unaffected: the OutputForm
        # renderer has its own rule for it.
        number_form = Symbol("System`NumberForm")
        if number_form not in definitions.outputforms:
            definitions.outputforms.append(number_form)
        definitions.set_line_no(0)  # so that $Line is 0, not a bare symbol, before In[1]
        from wstp_jupyter.engine._builtins import install_builtins

        install_builtins(definitions)
        _define_general_stop(definitions)
        _mathics_limits.install(definitions, EngineEvaluation(definitions))

    @property
    def definitions(self) -> Any:
        return self.session.definitions

    def next_line(self) -> int:
        return int(self.definitions.get_line_no()) + 1

    # -- abort and hold ----------------------------------------------------------------
    def abort(self, *, pending: bool = False) -> bool:
        with self._lock:
            thread_id = self._running_thread
            ev = self.main
            self._hold_pending = False
            if thread_id is None:
                self._abort_pending = self._abort_pending or pending
                return False
            ev.abort_requested = True
            ev.stopped = True
            ev.resume_event.set()
            _async_raise(thread_id, AbortInterrupt)
            return True

    def hold(self) -> None:
        with self._lock:
            if self._running_thread is None:
                self._hold_pending = True
                return
            self.main.hold_requested = True
            self.main.stopped = True

    def clear_pending(self) -> None:
        with self._lock:
            self._abort_pending = self._hold_pending = False

    def resume(self) -> None:
        ev = self.main
        with self._lock:
            self._hold_pending = False
            was_held = ev.hold_requested
            if was_held and not ev.abort_requested:
                # The flag first: a check between the two must not find ``stopped`` set with
                # no request behind it (that reads as a timeout).
                ev._stopped = False
            ev.hold_requested = False
            ev.resume_event.set()

    def _enter(self, ev: EngineEvaluation, host: Host) -> None:
        ev.host = host
        self._formatters.host = host  # what this thread formats next belongs to this request
        ev.out = []
        ev.abort_requested = False
        ev.hold_requested = False
        ev.error_abort = False
        ev.resume_event.clear()
        ev.message_counts.clear()  # "during this calculation": each evaluation starts afresh
        if ev is self.main:
            with self._lock:
                self._running_thread = threading.get_ident()
                if self._abort_pending:
                    self._abort_pending = False
                    ev.abort_requested = ev.stopped = True
                elif self._hold_pending:
                    self._hold_pending = False
                    ev.hold_requested = ev.stopped = True

    def _leave(self, ev: EngineEvaluation) -> bool:
        """End the evaluation's running state; True if an abort was requested during it (it
        may have come too late to interrupt anything, but it still ends the cell)."""
        aborted = False
        if ev is self.main:
            while True:
                try:
                    with self._lock:
                        thread_id, self._running_thread = self._running_thread, None
                        if thread_id is not None and ev.abort_requested:
                            _async_raise(thread_id, None)
                        aborted = aborted or ev.abort_requested
                        if ev.hold_requested and not ev.abort_requested:
                            # An interrupt that came as this line ended holds the next one.
                            self._hold_pending = True
                        # The request is over: formatting its result must not stop again.
                        ev.abort_requested = ev.hold_requested = False
                        ev.stopped = False
                    break
                except AbortInterrupt:
                    # An abort raised just before the lock was taken lands here, after the
                    # evaluation; once ``_running_thread`` is None no other one can come.
                    aborted = True
                    continue
        ev.out = []
        return aborted

    # -- parsing -----------------------------------------------------------------------
    def check_syntax(self, text: str, host: Host) -> SyntaxIssue | None:
        from mathics.core.parser.feed import MathicsMultiLineFeeder
        from mathics.core.parser.parser import Parser

        parser = Parser()
        feeder = MathicsMultiLineFeeder(text, "", ContainerKind.STREAM)
        issue: SyntaxIssue | None = None
        while not feeder.empty() and issue is None:
            start_line = feeder.lineno
            try:
                parser.parse(feeder)
            except MathicsSyntaxError as exc:
                incomplete = isinstance(exc, IncompleteSyntaxError)
                offset = sum(len(line) for line in feeder.lines[:start_line])
                pos = len(text) if incomplete else offset + _error_pos(exc, parser)
                issue = SyntaxIssue(position=min(pos, len(text)), incomplete=incomplete)
        if issue is not None:
            ev = self.main
            ev.host = host
            ev.stopped = False
            for message in feeder.messages[:1]:
                ev.message(*message)
            ev.out = []
        return issue

    def run_cell(self, text: str, host: Host) -> Iterator[LineResult]:
        from mathics.core.parser.feed import MathicsMultiLineFeeder

        ev = self.main
        feeder = MathicsMultiLineFeeder(text, "", ContainerKind.STREAM)
        while not feeder.empty():
            ev.host = host
            query = ev.parse_feeder(feeder)
            if query is None:
                continue
            result = self._line(query, host)
            yield result
            if result.aborted:
                return  # an abort ends the whole cell, not just its current line

    def run_line(self, expr: Any, host: Host) -> LineResult:
        return self._line(self.from_wire(expr), host)

    def _line(self, query: Any, host: Host) -> LineResult:
        ev = self.main
        line = self.next_line()
        aborted = requested = False
        form: str | None = None
        try:
            try:
                self._enter(ev, host)  # inside the try, as in evaluate_element
                result = ev.evaluate(query, format="unformatted")
                value = result.result
                line = result.line_no
                form = result.form  # the $OutputForms head that Out[line] is stored without
                # Mathics turns an abort into the result $Aborted with nothing evaluated
                # (``last_eval`` unset); a line that merely evaluates to $Aborted keeps it,
                # and so does a line that a message like $RecursionLimit::reclim ended.
                aborted = (value is SymbolAborted and result.last_eval is None
                           and not ev.error_abort)
            finally:
                requested = self._leave(ev)
        except AbortInterrupt:
            value, aborted = SymbolAborted, not ev.error_abort
        except RecursionError:
            # Deep data (not $RecursionLimit, which is met long before): this line is over,
            # the rest of the cell goes on.
            no_stack(ev)
            value = SymbolAborted
        if requested:  # an abort came, if only as the line ended: the cell ends here
            value, aborted = SymbolAborted, True
        if value is SymbolNull:
            value = None
        if aborted or value is None:
            form = None
        return LineResult(line=line, value=value, aborted=aborted, form=form)

    def evaluate(self, expr: Any, host: Host, *, side: bool = False) -> Any:
        return self.evaluate_element(self.from_wire(expr), host, side=side)

    def evaluate_element(self, element: Any, host: Host, *, side: bool = False) -> Any:
        """Evaluate a Mathics element outside the main loop; ``$Aborted`` on abort."""
        ev = self.side if side else self.main
        ev.stopped = False
        ev.recursion_depth = 0
        ev.iteration_count = 0
        aborted = False
        try:
            try:
                # Inside the try: an abort may be raised in this thread from the moment
                # ``_enter`` marks it as the running one.
                self._enter(ev, host)
                value = element.evaluate(ev)
            finally:
                aborted = self._leave(ev)
            return SymbolAborted if aborted else value
        except (AbortInterrupt, TimeoutInterrupt):
            return SymbolAborted
        except ReturnInterrupt as ret:
            return ret.expr
        except (BreakInterrupt, ContinueInterrupt, WLThrowInterrupt):
            return SymbolNull
        except RecursionError:
            no_stack(ev)
            return SymbolAborted

    # -- conversions and text ----------------------------------------------------------
    def from_wire(self, expr: Any) -> Any:
        from wstp_jupyter.engine._convert import from_wire

        return from_wire(expr, self.definitions)

    def to_wire(self, value: Any) -> Any:
        from wstp_jupyter.engine._convert import to_wire

        return to_wire(value)

    def output_text(self, value: Any) -> str:
        ev = self._formatter()
        with ev.formatting():
            return output_form(value, ev)

    def _formatter(self) -> EngineEvaluation:
        ev: EngineEvaluation | None = getattr(self._formatters, "evaluation", None)
        if ev is None:
            ev = self._formatters.evaluation = EngineEvaluation(self.definitions)
        # A message about the text (General::deepout) goes where the request's output goes.
        ev.host = getattr(self._formatters, "host", None)
        ev.message_counts.clear()
        return ev

    def input_text(self, value: Any) -> str:
        return to_text(value, self.definitions.shorten_name, output=False)

    def mime_bundle(
        self, value: Any, options: dict[str, Any], *, side: bool = False
    ) -> dict[str, Any]:
        from wstp_jupyter.engine._render import render_bundle

        ev = self.side if side else self.main
        ev.stopped = False
        with ev.formatting():
            return render_bundle(value, ev, options)

    # -- helpers -----------------------------------------------------------------------
    def complete(self, prefix: str) -> list[str]:
        from wstp_jupyter.engine._helpers import complete

        return complete(self.definitions, prefix)

    def inspect(self, name: str) -> str | None:
        from wstp_jupyter.engine._helpers import inspect

        return inspect(self.definitions, name)

    def is_complete(self, code: str) -> str:
        from wstp_jupyter.engine._helpers import is_complete

        return is_complete(code)


def _define_general_stop(definitions: Any) -> None:
    """Give ``General::stop`` its text (Mathics3 has no such message)."""
    define_messages(definitions, {("System`General", "stop"): _STOP_TEXT})


_HISTORY = frozenset({"System`In", "System`Out"})


def _history_line(expr: Any) -> int | None:
    """``n`` when ``expr`` is literally ``In[n]`` or ``Out[n]`` (an integer ``n``), else None."""
    try:
        (element,) = expr.elements
        value = element.value
    except (AttributeError, TypeError, ValueError):
        return None
    return value if type(value) is int else None


def _conditional(rule: Any) -> bool:
    # As Mathics' insert_rule decides it.
    return not hasattr(rule, "replace") or rule.replace.has_form("System`Condition", 2)


class _HistoryIndex:
    """How many rules each line ``n`` has among ``In``'s (``Out``'s) down values.

    Kept up to date by :func:`_fast_history`, and rebuilt whenever Mathics changed the rules
    some other way: another definition object, another list, or a change stamp that is not ours.
    """

    def __init__(self) -> None:
        self._state: dict[str, tuple[Any, Any, Any, collections.Counter[int]]] = {}

    def lines(self, name: str, definition: Any) -> collections.Counter[int]:
        values = definition.downvalues
        state = self._state.get(name)
        if (
            state is None
            or state[0] is not definition
            or state[1] is not values
            or state[2] != definition.changed
        ):
            counts = collections.Counter(
                line for rule in values if (line := _history_line(rule.pattern.expr)) is not None
            )
            state = (definition, values, definition.changed, counts)
            self._state[name] = state
        return state[3]

    def stamp(self, name: str, definition: Any) -> None:
        definition_, values, _, counts = self._state[name]
        self._state[name] = (definition_, values, definition.changed, counts)


def _fast_history(definitions: Any) -> None:
    """Make adding and removing ``In[n]``/``Out[n]`` rules cost O(1) for the usual lines.

    Mathics' evaluation adds ``In[n]`` and ``Out[n]`` for every line and unsets the lines that
    fall out of ``$HistoryLength``; its generic code compares every stored rule with ``SameQ``
    (six scans over 100 rules per line). For literal ``In[n]``/``Out[n]`` an index of line
    numbers gives the same decisions, so these two methods of this session's ``Definitions``
    get a fast path with the same outcome: an unconditional rule replaces the unconditional
    rule for the same line, new rules go before equal-precedence ones, and unset removes the
    first rule for that line. Anything else (conditions, patterns, other symbols) goes through
    Mathics unchanged.
    """
    plain_add, plain_unset = definitions.add_rule, definitions.unset
    index = _HistoryIndex()

    def history(name: str, expr: Any) -> tuple[str, Any, int] | None:
        full = definitions.lookup_name(name)
        if full not in _HISTORY or getattr(getattr(expr, "head", None), "name", None) != full:
            return None
        line = _history_line(expr)
        if line is None:
            return None
        return full, definitions.get_user_definition(full), line

    def add_rule(name: str, rule: Any, position: str | None = None) -> bool:
        found = history(name, rule.pattern.expr) if position is None else None
        if found is None or _conditional(rule):
            return bool(plain_add(name, rule, position))
        full, definition, line = found
        lines = index.lines(full, definition)
        values = definition.downvalues
        if lines[line]:
            for at, existing in enumerate(values):
                if _history_line(existing.pattern.expr) == line and not _conditional(existing):
                    del values[at]
                    lines[line] -= 1
                    break
        bisect.insort_left(values, rule, key=lambda x: x.pattern_precedence)
        lines[line] += 1
        definitions.mark_changed(definition)
        index.stamp(full, definition)
        definitions.clear_definitions_cache(name)
        return True

    def unset(name: str, expr: Any) -> bool:
        found = history(name, expr)
        if found is None:
            return bool(plain_unset(name, expr))
        full, definition, line = found
        lines = index.lines(full, definition)
        values = definition.downvalues
        removed = False
        if lines[line]:
            # The oldest lines sit at the end; a line's only rule is found fastest from there.
            order = range(len(values) - 1, -1, -1) if lines[line] == 1 else range(len(values))
            for at in order:
                if _history_line(values[at].pattern.expr) == line:
                    del values[at]
                    lines[line] -= 1
                    removed = True
                    break
        definitions.mark_changed(definition)
        index.stamp(full, definition)
        definitions.clear_definitions_cache(name)
        return removed

    definitions.add_rule = add_rule
    definitions.unset = unset


def _error_pos(exc: BaseException, parser: Any) -> int:
    """Where in the current expression's text the parser gave up."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 1 and isinstance(args[0], int):
        return int(args[0])
    tokeniser = getattr(parser, "tokeniser", None)
    return int(getattr(tokeniser, "pos", 0))
