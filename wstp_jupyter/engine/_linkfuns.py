"""``LinkCreate``, ``LinkConnect``, ``LinkWrite``, ``LinkRead``... as Mathics3 builtins.

A thin adapter over the engine-neutral link table (``_linktable``, which documents names,
protocols and every operation): each builtin takes its arguments as written, converts them to
wire values with ``_convert.to_wire``, runs ``_linktable.call`` and converts the result back with
``from_wire``, so two kernel processes exchange exact values (big integers, held code) as WXF.
A failure becomes the message ``Function::tag`` and ``$Failed``. The call runs on a helper thread
that a stop reaches between two of its short waits (see :func:`_off_thread`).
"""

from __future__ import annotations

import threading
from typing import Any

from mathics.core.attributes import A_PROTECTED
from mathics.core.builtin import Builtin
from mathics.core.interrupt import AbortInterrupt
from mathics.core.symbols import Symbol

from wstp_jupyter.engine import _linktable
from wstp_jupyter.engine._convert import from_wire, to_wire
from wstp_jupyter.engine._linktable import LinkAborted, LinkCallError

SymbolFailed = Symbol("System`$Failed")


class _LinkBuiltin(Builtin):
    """One Link function: ``Name[args___]`` runs ``_linktable.call("Name", args)``."""

    context = "System`"
    attributes = A_PROTECTED
    messages = dict(_linktable.MESSAGES)

    def run(self, args: Any, evaluation: Any) -> Any:
        name = self.get_name(short=True)
        try:
            wire = [to_wire(a) for a in args.get_sequence()]
        except TypeError as exc:
            return self._fail(evaluation, LinkCallError("linkx", str(exc)))

        try:
            result = _off_thread(name, wire, evaluation)
        except LinkCallError as exc:
            return self._fail(evaluation, exc)
        except LinkAborted:
            raise AbortInterrupt from None
        return from_wire(result, evaluation.definitions)

    def _fail(self, evaluation: Any, exc: LinkCallError) -> Any:
        args = [from_wire(a, evaluation.definitions) for a in exc.message_args]
        evaluation.message(self.get_name(), exc.tag, *args)
        return SymbolFailed


def _off_thread(name: str, args: list[Any], evaluation: Any) -> Any:
    """``_linktable.call`` on a helper thread, the evaluation thread only waiting for it.

    A stop reaches a Mathics3 evaluation as an exception raised asynchronously in its thread
    (``_mathics``), at any bytecode: inside the link's own code it could leave a lock held or a
    frame half written. Here it lands in the wait; the helper sees the stop through its
    ``aborted()`` within one slice and returns without reading anything more.
    """
    stop = threading.Event()
    done = threading.Event()
    outcome: list[Any] = []

    def aborted() -> bool:
        return stop.is_set() or bool(getattr(evaluation, "abort_requested", False))

    def work() -> None:
        try:
            outcome.append((True, _linktable.call(name, args, aborted)))
        except BaseException as exc:
            outcome.append((False, exc))
        finally:
            done.set()

    helper = threading.Thread(target=work, name=f"engine-{name}", daemon=True)
    try:
        helper.start()
        while not done.wait(_linktable.SLICE):
            pass
    finally:
        # Whatever ended the wait, the helper must not go on reading: the evaluation's own
        # abort flag is cleared when the next evaluation starts.
        stop.set()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


class LinkProtocol(Builtin):
    """<dl><dt>'LinkProtocol'</dt><dd>is an option giving the link protocol.</dd></dl>"""

    context = "System`"
    summary_text = "option: the protocol of a link"


class LinkCreate(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkCreate'[]</dt><dd>creates a listening link on a free port.</dd>
      <dt>'LinkCreate'["$name$"]</dt><dd>creates a listening link named $name$ ("8000").</dd>
    </dl>
    """

    options = {"LinkProtocol": '"TCPIP"'}
    summary_text = "create a link for another program to connect to"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkCreate[args___]"
        return self.run(args, evaluation)


class LinkConnect(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkConnect'["$name$"]</dt><dd>connects to the link named $name$.</dd>
    </dl>
    """

    options = {"LinkProtocol": '"TCPIP"'}
    summary_text = "connect to a link created by another program"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkConnect[args___]"
        return self.run(args, evaluation)


class LinkLaunch(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkLaunch'["$prog$"]</dt><dd>starts $prog$ and connects a link to it.</dd>
    </dl>
    """

    options = {"LinkProtocol": '"TCPIP"'}
    summary_text = "start a program and open a link to it"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkLaunch[args___]"
        return self.run(args, evaluation)


class LinkClose(_LinkBuiltin):
    """<dl><dt>'LinkClose'[$link$]</dt><dd>closes the link.</dd></dl>"""

    summary_text = "close a link"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkClose[args___]"
        return self.run(args, evaluation)


class LinkActivate(_LinkBuiltin):
    """<dl><dt>'LinkActivate'[$link$]</dt><dd>waits for the other side to connect.</dd></dl>"""

    summary_text = "wait until a link is connected"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkActivate[args___]"
        return self.run(args, evaluation)


class LinkWrite(_LinkBuiltin):
    """<dl><dt>'LinkWrite'[$link$, $expr$]</dt><dd>writes $expr$ to the link.</dd></dl>"""

    summary_text = "write an expression to a link"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkWrite[args___]"
        return self.run(args, evaluation)


class LinkRead(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkRead'[$link$]</dt><dd>reads one expression from the link and evaluates it.</dd>
      <dt>'LinkRead'[$link$, $h$]</dt>
      <dd>wraps $h$ around it first ('Hold' keeps it unevaluated).</dd>
    </dl>
    """

    summary_text = "read an expression from a link"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkRead[args___]"
        return self.run(args, evaluation)


class LinkReadyQ(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkReadyQ'[$link$]</dt><dd>tests whether an expression is ready to be read.</dd>
      <dt>'LinkReadyQ'[$link$, $t$]</dt><dd>waits up to $t$ seconds for one.</dd>
      <dt>'LinkReadyQ'[{$link1$, ...}, $t$]</dt><dd>waits until any is ready; gives a list of
      'True'/'False'.</dd>
    </dl>
    """

    summary_text = "test whether a link has an expression to read"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkReadyQ[args___]"
        return self.run(args, evaluation)


class LinkInterrupt(_LinkBuiltin):
    """
    <dl>
      <dt>'LinkInterrupt'[$link$]</dt><dd>sends an interrupt to the program on the link.</dd>
      <dt>'LinkInterrupt'[$link$, $code$]</dt><dd>sends urgent message $code$ (3 aborts).</dd>
    </dl>
    """

    summary_text = "send an interrupt to the other side of a link"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "LinkInterrupt[args___]"
        return self.run(args, evaluation)


class Links(_LinkBuiltin):
    """<dl><dt>'Links'[]</dt><dd>gives the list of open links.</dd></dl>"""

    summary_text = "list the open links"

    def eval(self, args: Any, evaluation: Any) -> Any:
        "Links[args___]"
        return self.run(args, evaluation)


LINK_BUILTINS: list[type[Builtin]] = [
    LinkProtocol,
    LinkCreate,
    LinkConnect,
    LinkLaunch,
    LinkClose,
    LinkActivate,
    LinkWrite,
    LinkRead,
    LinkReadyQ,
    LinkInterrupt,
    Links,
]
