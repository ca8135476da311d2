"""Language-level additions the kernel process installs into its Mathics3 session.

* Inert ``System``` symbols for ``LinkObject`` and every WSTP packet head, so that user input
  such as ``LinkObject[...]`` or ``EvaluatePacket[...]`` resolves to the same symbols the
  kernel's own patterns use (Mathics3 has none of them).
* ``Input`` / ``InputString``, which ask the front end through the evaluation's host (the main
  loop turns that into ``InputPacket`` / ``InputStringPacket``).
* ``PrintTemporary`` and ``WSTPJupyter`Display``, which send a rendered MIME bundle to the front
  end (a display packet on the main link, in order with ``Print``) when it reads MIME bundles,
  plain ``Print`` text otherwise.
* ``WSTPJupyter`ClearOutput``, which asks the front end to clear the running cell's output
  (a display packet too; a front end that reads no MIME bundles is asked nothing).
* The ``Link*`` functions (``_linkfuns``).

Registration follows Mathics3's own mechanism: ``Builtin(expression=False).contribute(defs)``.
"""

from __future__ import annotations

from typing import Any

from mathics.core.atoms import String
from mathics.core.attributes import A_PROTECTED
from mathics.core.builtin import Builtin
from mathics.core.symbols import Symbol, SymbolNull, SymbolTrue

from wstp_jupyter.engine._forms import to_text
from wstp_jupyter.engine._linkfuns import LINK_BUILTINS
from wstp_jupyter.engine._linktable import PACKET_HEADS
from wstp_jupyter.engine._manipulate import manipulate_builtins
from wstp_jupyter.engine._parallel_ops import PARALLEL_BUILTINS
from wstp_jupyter.engine._render import render_bundle


def _inert(name: str, summary: str) -> type[Builtin]:
    doc = f"<dl><dt>'{name}'[...]</dt><dd>{summary}</dd></dl>"
    return type(name, (Builtin,), {"__doc__": doc, "summary_text": summary, "context": "System`"})


def _prompt_text(prompt: Any, evaluation: Any) -> str:
    if isinstance(prompt, String):
        return str(prompt.value)
    return to_text(prompt, evaluation.definitions.shorten_name, output=True, evaluation=evaluation)


def _ask(evaluation: Any, prompt: str, string: bool) -> str | None:
    host = getattr(evaluation, "host", None)
    if host is None:
        return None
    result: str | None = host.request_input(prompt, string=string)
    return result


class Input(Builtin):
    """
    <dl>
      <dt>'Input'[]</dt>
      <dd>reads an expression from the front end and evaluates it.</dd>
      <dt>'Input'[$prompt$]</dt>
      <dd>shows $prompt$ first.</dd>
    </dl>
    """

    context = "System`"
    attributes = A_PROTECTED
    summary_text = "read and evaluate an expression typed in the front end"

    def eval(self, evaluation: Any) -> Any:
        "Input[]"
        return self._read(evaluation, "? ")

    def eval_prompt(self, prompt: Any, evaluation: Any) -> Any:
        "Input[prompt_]"
        return self._read(evaluation, _prompt_text(prompt, evaluation))

    @staticmethod
    def _read(evaluation: Any, prompt: str) -> Any:
        text = _ask(evaluation, prompt, False)
        if text is None:
            return Symbol("System`EndOfFile")
        expr = evaluation.parse(text)
        if expr is None:
            return Symbol("System`$Failed")
        return expr.evaluate(evaluation)


class InputString(Builtin):
    """
    <dl>
      <dt>'InputString'[]</dt>
      <dd>reads a string from the front end.</dd>
      <dt>'InputString'[$prompt$]</dt>
      <dd>shows $prompt$ first.</dd>
    </dl>
    """

    context = "System`"
    attributes = A_PROTECTED
    summary_text = "read a string typed in the front end"

    def eval(self, evaluation: Any) -> Any:
        "InputString[]"
        return self._read(evaluation, "? ")

    def eval_prompt(self, prompt: Any, evaluation: Any) -> Any:
        "InputString[prompt_]"
        return self._read(evaluation, _prompt_text(prompt, evaluation))

    @staticmethod
    def _read(evaluation: Any, prompt: str) -> Any:
        text = _ask(evaluation, prompt, True)
        if text is None:
            return Symbol("System`EndOfFile")
        return String(text)


def _display(expr: Any, evaluation: Any, temporary: bool) -> Any:
    host = getattr(evaluation, "host", None)
    if host is None:
        return SymbolNull
    bundle = render_bundle(expr, evaluation, {})
    if not host.display(bundle, temporary=temporary):
        host.print_text(str(bundle.get("text/plain", "")))
    return SymbolNull


class PrintTemporary(Builtin):
    """
    <dl>
      <dt>'PrintTemporary'[$expr$]</dt>
      <dd>shows $expr$ until the current evaluation ends.</dd>
    </dl>
    """

    context = "System`"
    attributes = A_PROTECTED
    summary_text = "show an expression until the evaluation ends"

    def eval(self, expr: Any, evaluation: Any) -> Any:
        "PrintTemporary[expr_]"
        return _display(expr, evaluation, True)


class Display(Builtin):
    """
    <dl>
      <dt>'WSTPJupyter`Display'[$expr$]</dt>
      <dd>shows $expr$ in the front end, rendered (SVG, PNG, TeX), while evaluation goes on.</dd>
    </dl>
    """

    context = "WSTPJupyter`"
    attributes = A_PROTECTED
    summary_text = "show an expression rendered in the front end"

    def eval(self, expr: Any, evaluation: Any) -> Any:
        "WSTPJupyter`Display[expr_]"
        return _display(expr, evaluation, False)


class ClearOutput(Builtin):
    """
    <dl>
      <dt>'WSTPJupyter`ClearOutput'[]</dt>
      <dd>clears what the current evaluation has shown so far in the front end.</dd>
      <dt>'WSTPJupyter`ClearOutput'[True]</dt>
      <dd>clears it only when the next output arrives, so a loop that redraws does not flicker.</dd>
    </dl>
    """

    context = "WSTPJupyter`"
    attributes = A_PROTECTED
    summary_text = "clear the output shown so far by the current evaluation"

    def eval(self, evaluation: Any) -> Any:
        "WSTPJupyter`ClearOutput[]"
        return _clear_output(evaluation, False)

    def eval_wait(self, wait: Any, evaluation: Any) -> Any:
        "WSTPJupyter`ClearOutput[wait_]"
        return _clear_output(evaluation, wait is SymbolTrue)


def _clear_output(evaluation: Any, wait: bool) -> Any:
    # Null in every case: a plain WSTP front end (text results) has no cell output to clear.
    host = getattr(evaluation, "host", None)
    if host is not None:
        host.clear_output(wait=wait)
    return SymbolNull


def install_builtins(definitions: Any) -> None:
    """Add the kernel's builtins to a session's definitions (idempotent per session)."""
    classes: list[type[Builtin]] = [_inert("LinkObject", "a WSTP link object")]
    classes += [_inert(name, "a WSTP packet head") for name in PACKET_HEADS]
    classes += [Input, InputString, PrintTemporary, Display, ClearOutput]
    classes += LINK_BUILTINS
    classes += manipulate_builtins()
    classes += PARALLEL_BUILTINS
    for cls in classes:
        cls(expression=False).contribute(definitions)
    definitions.clear_cache()


__all__ = ["PACKET_HEADS", "install_builtins"]
