"""The Woxi backend: the main loop's ``Backend`` over Woxi, a Rust interpreter of the language.

How it works:

* Main-loop evaluations run in a separate **worker process** (``_woxi_worker``, driven through
  ``_woxi_process.WorkerProcess``), because Woxi cannot be interrupted: stopping an evaluation
  means killing that process. Before each input the worker forks a standby copy of the session,
  which takes over when the evaluating process is killed, so **an abort keeps every definition
  made before the aborted input**; only what that input itself changed is lost (the cell says
  so with a ``WSTPJupyter::woxiabort`` message). If no copy is there to take over (the worker
  crashed between inputs), a fresh worker starts and the cell says that definitions were lost.
  An abort while ``Input[]`` waits for the front end's answer kills nothing: the worker then
  computes nothing, and is answered "abort" (its ``Input`` calls ``Abort[]``), so the session
  keeps everything, as Mathics3's does.
* ``Print`` output and messages stream while the input runs: the worker's stdout and stderr are
  one packet-mode pipe, read here and turned into ``print_text``/``message`` calls, in order
  (:class:`OutputReader`). Messages are Woxi's text, which it lays out in two dimensions.
* The interrupt menu pauses the worker (``SIGSTOP``) and continues it (``SIGCONT``).
* Results come back as WXF (``BinarySerialize`` in Woxi), are decoded with ``wstp_jupyter.wxf``
  and written as OutputForm/InputForm text by ``_woxi_forms``; graphics come as Woxi's SVG.
* Requests that must be answered while the worker is busy (preemptive evaluations, completion,
  inspection, ``is_complete``) use a second Woxi session on a thread of this process (Woxi's
  state is per thread): it knows the built-in functions, not the user's definitions.
"""

from __future__ import annotations

import logging
import selectors
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from wstp_jupyter.engine._backend import Backend, Host, LineResult, SyntaxIssue
from wstp_jupyter.engine._woxi_forms import full_form, to_text
from wstp_jupyter.engine._woxi_links import LINK_MARKERS
from wstp_jupyter.engine._woxi_links import on_marker as on_link_marker
from wstp_jupyter.engine._woxi_output import NullHost, OutputReader
from wstp_jupyter.engine._woxi_process import WorkerProcess, become_subreaper
from wstp_jupyter.engine._woxi_side import SideSession
from wstp_jupyter.engine._woxi_syntax import ends_with_operator, open_construct
from wstp_jupyter.engine._woxi_worker import CRASH_STATUS
from wstp_jupyter.wxf import Association, BigReal, Expr, Limits, Symbol, input_form, loads

log = logging.getLogger("wstp_jupyter.engine")

ABORT_TEXT = (
    "Woxi cannot be interrupted: the evaluation was stopped by replacing its process with a "
    "copy of the session taken just before this input; definitions made earlier are kept, "
    "changes made by this input are lost."
)
CRASH_TEXT = (
    "The Woxi evaluator process failed (exit status {status}); the session goes on as it was "
    "just before this input."
)
RESTART_TEXT = (
    "The Woxi evaluator process ended and a fresh one was started: all definitions were lost."
)
# System symbols Woxi serializes in Global` (it writes every $-symbol it has no entry for there).
_SYSTEM_DOLLAR = frozenset({
    "$Aborted", "$Failed", "$Canceled", "$TimedOut", "$Line", "$Context", "$ContextPath",
    "$Version", "$VersionNumber", "$MachinePrecision", "$RecursionLimit", "$IterationLimit",
    "$HistoryLength", "$Assumptions", "$MaxMachineNumber", "$MinMachineNumber",
})
_OPAQUE = ("Graphics", "Graphics3D", "Image", "Sound")
_WORKER_LIMITS = Limits(max_depth=1 << 30)


@dataclass(frozen=True, slots=True)
class WoxiValue:
    """A result: its wire value when Woxi could serialize it, else its InputForm text."""

    wire: Any
    inputform: str | None = None
    svg: str | None = None
    opaque: str | None = None  # Graphics, Image, ...: Woxi shows them as -Graphics-
    form: str | None = None  # the output form the wire value is wrapped in (a main-loop line)
    formtext: str | None = None  # that form's text (or a Definition's), when Woxi wrote it


class WoxiBackend(Backend):
    """Woxi behind the kernel's main loop (see the module docstring)."""

    def __init__(self) -> None:
        self.worker: WorkerProcess | None = None
        self.side: SideSession | None = None
        self._line = 0
        self._lock = threading.Lock()
        self._exchange = threading.Lock()  # one request at a time on the worker's socket
        self._running = False
        self._standby = False
        self._abort = False
        self._abort_pending = False
        self._hold_pending = False
        self._held = False
        self._quit = False
        self._quit_status = 0
        self._input_thread: int | None = None
        self._input_aborted = False  # an abort ended the wait for an Input[] answer
        self._chunks: list[str] | None = None
        self.names: list[str] = []
        self.system_names: frozenset[str] = frozenset()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker process and the side session (about 0.1 s)."""
        become_subreaper()
        self.worker = WorkerProcess()
        self.side = SideSession()
        text = self.side.call(lambda w: w.interpret('Names["System`*"]'))
        self.names = sorted(n.strip() for n in text.strip("{}").split(",") if n.strip())
        self.system_names = frozenset(self.names)
        # The decoder's first large list imports what it needs (~0.4 s): pay that now.
        from wstp_jupyter.wxf import dumps

        loads(dumps([1, 300, 70000, 2**40, 1.5, "s", Symbol("x")] * 64))

    def next_line(self) -> int:
        return self._line + 1

    # -- abort and hold ----------------------------------------------------------------
    def abort(self, *, pending: bool = False) -> bool:
        with self._lock:
            self._hold_pending = False
            if not self._running:
                self._abort_pending = self._abort_pending or pending
                return False
            if self._input_thread is not None:
                # The worker waits for the front end's answer to Input[] (it computes nothing):
                # end that wait, and the evaluating thread answers the worker "abort", so Input
                # calls Abort[] and the session keeps everything, as under Mathics3. Once only:
                # a second abort finds no input thread and replaces the worker.
                _async_raise(self._input_thread, _InputAborted)
                self._input_thread = None
                self._input_aborted = True
                return True
            self._abort = True
            if self._standby and self.worker is not None:
                self._kill()
            return True

    def _kill(self) -> None:
        assert self.worker is not None
        self._standby = False
        self.worker.kill()
        self._held = False

    def hold(self) -> None:
        with self._lock:
            if not self._running or self.worker is None:
                self._hold_pending = True
                return
            self.worker.signal(signal.SIGSTOP)
            self._held = True

    def clear_pending(self) -> None:
        with self._lock:
            self._abort_pending = self._hold_pending = False

    def resume(self) -> None:
        with self._lock:
            self._hold_pending = False
            if self._held and self.worker is not None:
                self.worker.signal(signal.SIGCONT)
            self._held = False

    # -- talking to the worker ---------------------------------------------------------
    def _request(self, message: dict[str, Any], host: Host | None) -> dict[str, Any]:
        """Send a request and serve its output until the reply (or the promoted standby)."""
        with self._exchange:
            return self._exchange_locked(message, host)

    def _try_request(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """:meth:`_request` if the worker is free right now (from the loop thread), else None."""
        if not self._exchange.acquire(blocking=False):
            return None
        try:
            return self._exchange_locked(message, None)
        finally:
            self._exchange.release()

    def _exchange_locked(self, message: dict[str, Any], host: Host | None) -> dict[str, Any]:
        worker = self._worker()
        evaluating = message.get("op") in ("line", "eval")
        with self._lock:
            if evaluating:
                self._running, self._standby, self._abort = True, False, False
                start_aborted = self._abort_pending
                self._abort_pending = False
                if start_aborted:
                    self._running = False
                    return {"aborted": True}
                if self._hold_pending:
                    self._hold_pending = False
                    hold_now = True
                else:
                    hold_now = False
        reader = OutputReader(
            host or NullHost(), worker.mark, lambda m: self._marker(m, host)
        )
        try:
            worker.send(message)
            if evaluating and hold_now:
                self.hold()
            return self._serve(worker, reader)
        finally:
            with self._lock:
                self._running = self._standby = False
                self._held = False

    def _serve(self, worker: WorkerProcess, reader: OutputReader) -> dict[str, Any]:
        with selectors.DefaultSelector() as sel:
            sel.register(worker.ctl, selectors.EVENT_READ)
            sel.register(worker.output_fd, selectors.EVENT_READ)
            while True:
                reader.feed(worker.read_output())
                frames = worker.frames()
                if frames is None:
                    reader.flush(final=True)
                    self._restart(reader.host)
                    return {"aborted": True, "lost": True}
                for frame in frames:
                    event = frame.get("ev")
                    if event == "standby":
                        with self._lock:
                            self._standby = True
                            if self._abort:
                                self._kill()
                    elif event == "promoted":
                        status = worker.promoted(int(frame["pid"]))
                        reader.feed(worker.read_output())
                        reader.flush(final=True)
                        with self._lock:
                            killed = self._abort
                        if not killed and status is not None and 0 <= status != CRASH_STATUS:
                            # Quit[n]/Exit[n]: Woxi ends its process at once, with status n
                            self._quit, self._quit_status = True, status
                        elif not killed:
                            reader.host.message(
                                "WSTPJupyter", "woxicrash", CRASH_TEXT.format(status=status)
                            )
                        else:
                            reader.host.message("WSTPJupyter", "woxiabort", ABORT_TEXT)
                        return {"aborted": True}
                    elif event == "done":
                        reader.feed(worker.read_output())
                        reader.flush(final=True)
                        return frame
                sel.select(0.1)

    def _marker(self, marker: str, host: Host | None) -> None:
        kind, prompt = marker[:1], marker[1:]
        worker = self._worker()
        if kind == "Q":
            self._quit = True
        elif kind in ("S", "E"):
            reply, stop = self._ask_front_end(prompt, kind == "S", host)
            with self._lock:
                if self._abort:
                    return  # the worker is being (or has been) replaced by its standby
            if stop:
                text = worker.mark + "A"  # Input[] calls Abort[]
            elif reply is None:
                text = worker.mark + "E"  # EndOfFile
            elif kind == "E" and self._input_syntax(reply, host) is not None:
                text = "$Failed"  # the message is out; ToExpression["$Failed"] is $Failed
            else:
                text = reply
            worker.answer_input(text, lambda: self._abort)
        elif kind in LINK_MARKERS:
            # A Link function: run in this process (open links outlive the worker); a stop
            # ends its wait unanswered, and the worker is replaced by its standby.
            on_link_marker(
                kind, prompt, lambda text: worker.answer_input(text, lambda: self._abort),
                aborted=lambda: self._abort,
                fix=lambda value: self._fix(value, link_call=True),
                system_names=self.system_names,
            )

    def _ask_front_end(
        self, prompt: str, string: bool, host: Host | None
    ) -> tuple[str | None, bool]:
        """The front end's answer to ``Input``/``InputString`` (``None``: none) and whether an
        abort ended the wait. :meth:`abort` raises ``_InputAborted`` in this thread only
        while it is registered, at most once, wherever the exception lands in here."""
        with self._lock:
            if self._abort:
                return None, True
            self._input_thread = threading.get_ident()
            self._input_aborted = False
        reply: str | None = None
        try:
            try:
                if host is not None:
                    reply = host.request_input(prompt, string=string)
            finally:
                with self._lock:
                    self._input_thread = None
        except _InputAborted:
            pass
        with self._lock:
            return reply, self._input_aborted

    def _input_syntax(self, text: str, host: Host | None) -> SyntaxIssue | None:
        """Check an answer to ``Input[]`` as a cell is checked, with the same ``Syntax::``
        message (Woxi's ``ToExpression`` would say ``ToExpression::sntxi`` for any error)."""
        reply = self._check_cell(text)
        if "syntax" not in reply:
            return None
        return _syntax_message(text, int(reply["syntax"]), bool(reply.get("incomplete")),
                               host or NullHost())

    def _worker(self) -> WorkerProcess:
        if self.worker is None:
            self.worker = WorkerProcess()
        return self.worker

    def _restart(self, host: Host) -> None:
        if self.worker is not None:
            self.worker.close()
        self.worker = WorkerProcess()
        self._line = 0
        host.message("WSTPJupyter", "woxirestart", RESTART_TEXT)

    # -- parsing and evaluation --------------------------------------------------------
    def _check_cell(self, text: str) -> dict[str, Any]:
        # Parsing needs no state: the side session does it, without a trip to the worker.
        from wstp_jupyter.engine._woxi_worker import check_cell

        assert self.side is not None
        return dict(self.side.call(lambda woxi: check_cell(woxi, text)))

    def check_syntax(self, text: str, host: Host) -> SyntaxIssue | None:
        reply = self._check_cell(text)
        if "syntax" not in reply:
            self._chunks = list(reply.get("chunks", []))
            return None
        return _syntax_message(text, int(reply["syntax"]), bool(reply.get("incomplete")), host)

    def run_cell(self, text: str, host: Host) -> Iterator[LineResult]:
        chunks = getattr(self, "_chunks", None)
        self._chunks = None
        if chunks is None:
            chunks = list(self._check_cell(text).get("chunks", []))
        for chunk in chunks:
            result = self._line_of(chunk, host)
            yield result
            if result.aborted:
                return

    def run_line(self, expr: Any, host: Host) -> LineResult:
        return self._line_of(input_form(expr), host)

    def _line_of(self, code: str, host: Host) -> LineResult:
        n = self._line + 1
        reply = self._request({"op": "line", "n": n, "code": code}, host)
        self._check_quit()
        if reply.get("lost"):
            return LineResult(line=n, value=Symbol("$Aborted"), aborted=True)
        if reply.get("aborted") and "ev" not in reply:
            self._line = n
            return LineResult(line=n, value=WoxiValue(Symbol("$Aborted")), aborted=True)
        self._line = int(reply.get("line", n))
        value = self._value(reply, host)
        if value is None:
            return LineResult(line=n, value=None)
        form = reply.get("form")
        if form is not None and isinstance(value.wire, Expr) and value.wire.args:
            value = replace(value, form=str(form), formtext=reply.get("formtext"))
        else:
            form = None
            if reply.get("formtext") is not None:  # a Definition: Woxi's text of it
                value = replace(value, formtext=str(reply["formtext"]))
        return LineResult(line=n, value=value, aborted=bool(reply.get("aborted")), form=form)

    def _check_quit(self) -> None:
        if self._quit:
            raise SystemExit(self._quit_status)

    def evaluate(self, expr: Any, host: Host, *, side: bool = False) -> Any:
        code = input_form(expr)
        if side:
            # The user's definitions live in the worker: use it when it is free.
            reply = self._try_request({"op": "eval", "code": code})
            if reply is None:
                return self._side_eval(code)
            if reply.get("aborted") and "ev" not in reply:
                return WoxiValue(Symbol("$Aborted"))
            return self._value(reply, None) or WoxiValue(None)
        reply = self._request({"op": "eval", "code": code}, host)
        self._check_quit()
        if reply.get("aborted") and "ev" not in reply:
            return WoxiValue(Symbol("$Aborted"))
        return self._value(reply, host) or WoxiValue(None)

    def _side_eval(self, code: str) -> WoxiValue:
        assert self.side is not None

        def job(woxi: Any) -> dict[str, Any]:
            from wstp_jupyter.engine._woxi_worker import RES, wire_of

            result = woxi.evaluate(f"{RES} = ({code}\n)")  # Print captured, not shown
            return {"text": result.result, **wire_of(woxi.interpret, RES)}

        return self._value(self.side.call(job), None) or WoxiValue(None)

    def _value(self, reply: dict[str, Any], host: Host | None) -> WoxiValue | None:
        if "error" in reply:
            if host is not None:
                host.message("General", "woxi", f"General::woxi: {reply['error']}")
            return WoxiValue(Symbol("$Failed"))
        data = reply.get("wxf")
        svg = reply.get("svg")
        if data is not None:
            # The worker is this kernel's own process: its result is read however deep it is
            # (the receiver limit protects a link, and a deep result is what was asked for).
            wire = self._fix(loads(data, limits=_WORKER_LIMITS))
            if wire is None and svg is None:
                return None
            return WoxiValue(wire, svg=svg, opaque=reply.get("opaque"))
        text = reply.get("inputform") or reply.get("text") or ""
        return WoxiValue(Expr(Symbol("WSTPJupyter`Unserialized"), text), inputform=text, svg=svg,
                         opaque=reply.get("opaque"))

    def _fix(self, value: Any, *, link_call: bool = False) -> Any:
        """Woxi's WXF quirks: ``Global``` on system ``$`` symbols; big reals as text.

        ``link_call``: ``value`` is a Link function call for a peer kernel, where every System
        symbol Woxi writes in ``Global``` (``EvaluatePacket``, ``Links``) and every ``$``
        symbol (``$ProcessID``) must be read as System's, or the peer takes it for its own.

        Innermost parts first with an explicit stack, so a result of any depth is fixed."""
        stack: list[tuple[Any, Iterator[Any], list[Any]]] = []
        node = value
        while True:
            parts = _parts(node)
            if parts is None:
                done = self._fix_atom(node, link_call)
            else:
                stack.append((node, iter(parts), []))
                done = _OPEN
            while True:
                if done is not _OPEN:
                    if not stack:
                        return done
                    stack[-1][2].append(done)
                original, pending, fixed = stack[-1]
                node = next(pending, _OPEN)
                if node is not _OPEN:
                    break
                stack.pop()
                done = _rebuild(original, fixed)

    def _fix_atom(self, value: Any, link_call: bool) -> Any:
        if isinstance(value, Symbol) and value.name.startswith("Global`"):
            short = value.name[7:]
            if short.startswith("$"):
                if link_call or short in self.system_names or short in _SYSTEM_DOLLAR:
                    return Symbol(short)
            elif link_call and short in self.system_names:
                return Symbol(short)
        return value

    # -- conversions and text ----------------------------------------------------------
    def to_wire(self, value: Any) -> Any:
        return value.wire if isinstance(value, WoxiValue) else value

    def output_text(self, value: Any) -> str:
        if isinstance(value, WoxiValue):
            if value.form is not None or value.formtext is not None:
                return _form_text(value)
            if value.opaque:
                return f"-{value.opaque}-"
            if value.inputform is not None:
                return value.inputform
            return to_text(value.wire, output=True)
        return to_text(value, output=True)

    def input_text(self, value: Any) -> str:
        if isinstance(value, WoxiValue):
            if value.inputform is not None:
                return value.inputform
            return to_text(value.wire, output=False)
        return to_text(value, output=False)

    def mime_bundle(
        self, value: Any, options: dict[str, Any], *, side: bool = False
    ) -> dict[str, Any]:
        from wstp_jupyter.engine._woxi_render import render_bundle

        return render_bundle(self, value, options)

    # -- helpers -----------------------------------------------------------------------
    def complete(self, prefix: str) -> list[str]:
        from wstp_jupyter.engine._woxi_help import complete

        return complete(self, prefix)

    def inspect(self, name: str) -> str | None:
        from wstp_jupyter.engine._woxi_help import inspect

        return inspect(self, name)

    def is_complete(self, code: str) -> str:
        if not code.strip():
            return "complete"
        if open_construct(code) or ends_with_operator(code):
            return "incomplete"
        assert self.side is not None
        hold = "Hold[\n" + code + "\n];"

        def job(woxi: Any) -> str:
            try:
                woxi.interpret(hold)
            except woxi.WolframError:
                return "invalid"
            return "complete"

        return str(self.side.call(job))

    def call(self, code: str) -> str | None:
        """Evaluate ``code`` in the main session and return Woxi's text; ``None`` when the
        worker is busy (helpers never wait for an evaluation)."""
        reply = self._try_request({"op": "call", "code": code})
        return None if reply is None else str(reply.get("text", ""))


_OPEN = object()  # _fix: no finished value yet
_BIG_REAL = Symbol("WSTPJupyter`BigReal")


def _parts(value: Any) -> list[Any] | None:
    """The parts :meth:`WoxiBackend._fix` visits, or ``None`` for a value fixed as a whole."""
    if isinstance(value, Expr):
        return [value.head, *value.args]
    if isinstance(value, list):
        return None if all(type(x) in (int, float) for x in value) else value
    if isinstance(value, dict):
        return [part for item in value.items() for part in item]
    if isinstance(value, Association):  # an association with delayed rules: its rules
        return list(value.rules)
    return None


def _rebuild(original: Any, fixed: list[Any]) -> Any:
    """``original`` (an ``Expr``, list, dict or Association) made again of its ``fixed`` parts."""
    if isinstance(original, Expr):
        args = original.args
        if original.head == _BIG_REAL and len(args) == 1 and isinstance(args[0], str):
            return BigReal(args[0])
        return Expr(fixed[0], *fixed[1:])
    if isinstance(original, list):
        return fixed
    if isinstance(original, Association):
        return Association(fixed)
    return dict(zip(fixed[::2], fixed[1::2], strict=True))


def _syntax_message(text: str, position: int, incomplete: bool, host: Host) -> SyntaxIssue:
    """Send the ``Syntax::`` message for an error at ``position`` of ``text``."""
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line_end = len(text) if line_end < 0 else line_end
    before, after = text[line_start:position].strip(), text[position:line_end].strip()
    if incomplete:
        host.message(
            "Syntax", "sntxi", "Syntax::sntxi: Incomplete expression; more input is needed ."
        )
    elif after:
        host.message(
            "Syntax", "sntxf", f'Syntax::sntxf: "{before}" cannot be followed by "{after}".'
        )
    else:
        # Woxi's parser does not always say where the error is (it backtracks to the end).
        host.message("Syntax", "sntx", f'Syntax::sntx: Invalid syntax in or before "{before}".')
    return SyntaxIssue(position=position, incomplete=incomplete)


def _form_text(value: WoxiValue) -> str:
    """The text of a result wrapped in an output form, as the main loop prints it."""
    if value.formtext is not None:
        return value.formtext
    inner = value.wire.args[0]
    if value.form == "InputForm":
        return to_text(inner, output=False)
    if value.form == "FullForm":
        return full_form(inner)
    return to_text(inner, output=True)  # OutputForm, StandardForm, TraditionalForm


class _InputAborted(Exception):
    """Raised in the evaluating thread to end its wait for an ``Input[]`` answer on abort."""


def _async_raise(thread_id: int, exc: type[BaseException]) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))
