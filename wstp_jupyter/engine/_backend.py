"""The small interface between the main loop and an evaluator backend.

The main loop (``_mainloop``) speaks packets; a backend evaluates. They meet here:

* the loop calls a :class:`Backend` to parse a cell, evaluate one line through the main loop
  (``$Line``, ``In``/``Out``), evaluate an expression outside it, abort, hold for the interrupt
  menu, convert results to wire expressions and to text, and answer the front-end helpers;
* the backend calls back a :class:`Host` while an evaluation runs, on the evaluating thread, for
  ``Print`` output, messages, ``Input[]`` and display requests.

Mathics3 (``_mathics.MathicsBackend``) is the one implementation today; another evaluator fits
behind the same methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


class Host(Protocol):
    """What an evaluation may ask of the front end; methods are called on the evaluating thread."""

    def print_text(self, text: str) -> None:
        """Deliver ``Print`` output (already formatted, without a trailing newline)."""

    def message(self, symbol: str, tag: str, text: str) -> None:
        """Deliver a message ``symbol::tag`` whose formatted body is ``text``."""

    def request_input(self, prompt: str, *, string: bool) -> str | None:
        """Ask the front end for a line (``Input``/``InputString``); ``None`` if none came."""

    def display(self, bundle: dict[str, Any], *, temporary: bool) -> bool:
        """Show a MIME bundle outside the result (``PrintTemporary``); False if not possible."""

    def clear_output(self, *, wait: bool) -> bool:
        """Clear what the running cell has shown so far (``wait``: when the next output comes);
        False when the front end cannot be asked (it reads no MIME bundles)."""


@dataclass(frozen=True, slots=True)
class SyntaxIssue:
    """A syntax error found in a cell.

    Attributes:
        position: number of characters of the cell before the point where the error was found.
        incomplete: True when the input simply ended too early (``Syntax::sntxi``).
    """

    position: int
    incomplete: bool


@dataclass(frozen=True, slots=True)
class LineResult:
    """The outcome of one line through the main loop.

    Attributes:
        line: the ``$Line`` number the input was evaluated as.
        value: the backend's result object, or ``None`` when the output is ``Null`` (including
            output suppressed with ``;``).
        aborted: the evaluation was aborted (``Abort[]``, an abort message, the interrupt
            menu); the rest of its cell is not evaluated, as in the Wolfram kernel.
        form: the short name of the output form (one of ``$OutputForms``: ``TeXForm``,
            ``InputForm``, ``MatrixForm``, ...) the result was wrapped in, which ``Out[n]`` holds
            without; the output prompt names it (``Out[5]//TeXForm= ``). None when there is none.
    """

    line: int
    value: Any
    aborted: bool = False
    form: str | None = None


class Backend(ABC):
    """An evaluator the main loop can drive. All methods may raise ``SystemExit`` (``Quit[]``)."""

    @abstractmethod
    def next_line(self) -> int:
        """The number the next main-loop input will get (``$Line + 1``)."""

    @abstractmethod
    def check_syntax(self, text: str, host: Host) -> SyntaxIssue | None:
        """Parse a whole cell without evaluating it; report its first syntax error via ``host``."""

    @abstractmethod
    def run_cell(self, text: str, host: Host) -> Iterator[LineResult]:
        """Evaluate each top-level expression of ``text`` in turn, one ``$Line`` each."""

    @abstractmethod
    def run_line(self, expr: Any, host: Host) -> LineResult:
        """Evaluate a wire expression through the main loop (``EnterExpressionPacket``)."""

    @abstractmethod
    def evaluate(self, expr: Any, host: Host, *, side: bool = False) -> Any:
        """Evaluate a wire expression outside the main loop; return the backend result object.

        ``side`` selects the second evaluation context, used for preemptive requests while the
        main one is busy.
        """

    @abstractmethod
    def abort(self, *, pending: bool = False) -> bool:
        """Abort the running main evaluation; True if one was running.

        With ``pending`` and nothing running, the next main evaluation to start is aborted
        instead (the caller knows a request is on its way to it); :meth:`clear_pending` takes
        that back.
        """

    @abstractmethod
    def hold(self) -> None:
        """Ask the running evaluation to pause at its next safe point (interrupt menu); with
        nothing running, the next main evaluation pauses as it starts."""

    @abstractmethod
    def clear_pending(self) -> None:
        """Forget a pending abort or hold: the request it was meant for has finished."""

    @abstractmethod
    def resume(self) -> None:
        """Let a held evaluation continue."""

    @abstractmethod
    def to_wire(self, value: Any) -> Any:
        """Convert a result object to a ``wstp_jupyter.wxf`` value."""

    @abstractmethod
    def output_text(self, value: Any) -> str:
        """OutputForm text of a result (ASCII operators)."""

    @abstractmethod
    def input_text(self, value: Any) -> str:
        """InputForm text of a result (ASCII, parses back to the value)."""

    @abstractmethod
    def mime_bundle(
        self, value: Any, options: dict[str, Any], *, side: bool = False
    ) -> dict[str, Any]:
        """Render a result to MIME data (see ``_render``); ``side`` as for :meth:`evaluate`."""

    @abstractmethod
    def complete(self, prefix: str) -> list[str]:
        """Names that complete ``prefix`` (symbols and contexts)."""

    @abstractmethod
    def inspect(self, name: str) -> str | None:
        """Usage, attributes and options of a symbol, or ``None`` if it is unknown."""

    @abstractmethod
    def is_complete(self, code: str) -> str:
        """``"complete"``, ``"incomplete"`` or ``"invalid"`` for a piece of input."""
