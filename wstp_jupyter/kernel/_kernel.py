"""The Jupyter kernel: an ipykernel ``Kernel`` that is the front end of a Wolfram kernel process.

How it works. At start-up a worker thread obtains the Wolfram kernel (:class:`KernelConnection`:
a local process, or a wstpserver kernel), so the cold start of Mathics3 overlaps with the front
end connecting. ``execute_request`` becomes ``EnterTextPacket[code]`` on the main link; the
packets read back -- ``Print`` output, messages, displays, results, in the order the evaluation
made them -- are translated by :class:`CellTranslator` and published as they arrive, so output
streams while the cell runs. The execution count is the kernel's own ``In[n]`` number; a request
with ``store_history=False`` is evaluated outside the main loop (``EvaluatePacket``), so neither
``$Line`` nor the execution count advances.

Requests that must answer while a cell runs -- completion, inspection, completeness,
kernel_info, history -- bypass ipykernel's one-shell-message-at-a-time order (see
:meth:`WolframKernel._dispatch_concurrently`) and go over the preemptive link, which the kernel
process services while it evaluates. ``interrupt_request`` (``interrupt_mode: message``) arrives
on the control thread and sends the abort urgent message: the evaluation returns ``$Aborted``
and every definition survives. A kernel process that dies is reported in the cell that was
running (or the next one), and a fresh process is started at once for the following cells. A
cell that ends the kernel itself (``Quit[]``, ``Exit[]``) completes without an error, with a note
on stderr; the next cell runs in the fresh process, from ``In[1]`` as in Wolfram's notebooks.
Works with ipykernel 6.29 and 7.x (the two differ in how shell messages are dispatched; both
hooks are here).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import re
import threading
from typing import Any

from ipykernel.kernelbase import Kernel, kernel_protocol_version

from wstp_jupyter import __version__
from wstp_jupyter.engine._requests import MIMEBundle
from wstp_jupyter.kernel import _widgets
from wstp_jupyter.kernel._connection import KernelConnection
from wstp_jupyter.kernel._errors import KernelDied, KernelStartError
from wstp_jupyter.kernel._mapping import (
    CellDone,
    CellTranslator,
    ClearOutput,
    DisplayData,
    InputRequest,
    Menu,
    Output,
    Result,
    Stream,
    UpdateDisplayData,
    result_data,
)
from wstp_jupyter.kernel._options import ENGINE_NAMES, KernelOptions
from wstp_jupyter.kernel._services import FrontEndServices
from wstp_jupyter.kernel._spec import IMPLEMENTATION, LANGUAGE_INFO
from wstp_jupyter.kernel._stdin import StdinChannel, StdinUnavailable
from wstp_jupyter.link import EnterTextPacket, EvaluatePacket, Packet, ReturnPacket, TextPacket
from wstp_jupyter.wxf import Expr, Symbol

log = logging.getLogger("wstp_jupyter.kernel")
PLAIN = "text/plain"

# Shell requests served while an execute_request is still running.
_CONCURRENT_REQUESTS = frozenset(
    {
        "complete_request",
        "inspect_request",
        "is_complete_request",
        "kernel_info_request",
        "history_request",
        "comm_info_request",
    }
)
_HELP = re.compile(r"^\s*\?\??\s*([A-Za-z$][A-Za-z0-9$`]*)\s*$")
_ABORTED = Symbol("$Aborted")
_NULL_TEXTS = ("Null", "")
_QUIT_NOTE = (
    "The Wolfram kernel process was quit; its definitions are gone. "
    "The next cell starts a fresh kernel process (In[1]).\n"
)
_MESSAGE_NAME = re.compile(r"^([\w`$]+::\w+):\s*(.*)$", re.DOTALL)


def _to_expression(code: str) -> Expr:
    return Expr(Symbol("ToExpression"), code)


class WolframKernel(FrontEndServices, Kernel):
    """Jupyter kernel for the Wolfram Language over WSTP links (see the module docstring)."""

    implementation = IMPLEMENTATION
    implementation_version = __version__

    @property
    def language_info(self) -> dict[str, Any]:  # type: ignore[override]
        """Jupyter's ``language_info``; its version names the evaluator of a local kernel."""
        return {**LANGUAGE_INFO, "version": self._evaluator()}

    @property
    def banner(self) -> str:  # type: ignore[override]
        return (f"Wolfram Language via wstp-jupyter {__version__} "
                f"({self._evaluator()} kernel process over WSTP links)")

    def _evaluator(self) -> str:
        # A wstpserver's pool decides its kernels' engine, which the front end is not told.
        if self.kernel_options.uses_server:
            return "wstpserver"
        return ENGINE_NAMES.get(self.kernel_options.engine, self.kernel_options.engine)

    help_links = [
        {"text": "wstp-jupyter", "url": "https://github.com/wstp-jupyter/wstp-jupyter"},
        {"text": "Mathics3", "url": "https://mathics.org/"},
    ]

    # ipykernel sleeps this long after every cell so that output written to the Jupyter
    # kernel's own sys.stdout is flushed first. Cell output here never goes through sys.stdout
    # (it is published in order by the translator), so the sleep would be pure latency.
    _execute_sleep = 0.0

    #: Where the Wolfram kernel comes from; set by ``python -m wstp_jupyter.kernel``.
    kernel_options: KernelOptions = KernelOptions()
    #: The first kernel, already being started by ``python -m wstp_jupyter.kernel``.
    prestarted: concurrent.futures.Future[KernelConnection] | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connection: KernelConnection | None = None
        self._starting: asyncio.Future[KernelConnection] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_in = 1  # the kernel process's next In[n]
        self._prompt_seen = False  # the kernel has sent the InputNamePacket for _next_in
        self._running: KernelConnection | None = None  # evaluating a request, for interrupts
        # An interrupt that comes while a cell is on its way (waiting for the kernel process to
        # start, or for the previous prompt) cancels it before it is sent.
        self._executing = False
        self._interrupted = False
        self._sent = 0  # requests sent on the main link, so an interrupt knows which it meant
        self._stdin: StdinChannel | None = None
        self._history: list[tuple[int, int, str, str | None]] = []
        self._last_plain: str | None = None
        self._concurrent: set[asyncio.Future[None]] = set()
        self._state_lock = threading.Lock()
        _widgets.install_comms(self)
        atexit.register(self._close_connection)

    @property
    def kernel_info(self) -> dict[str, Any]:
        """ipykernel's kernel_info, without the debugger.

        The base class imports ``ipykernel.debugger`` (and debugpy, about 0.1 s) on the first
        ``kernel_info_request`` to decide whether to advertise debugging; this kernel has no
        debugger, so it neither pays for that on the start-up path nor claims the feature.
        """
        subshells = getattr(self, "_supports_kernel_subshells", False)  # ipykernel 7 only
        features = ["kernel subshells"] if subshells else []
        return {
            "protocol_version": kernel_protocol_version,
            "implementation": self.implementation,
            "implementation_version": self.implementation_version,
            "language_info": self.language_info,
            "banner": self.banner,
            "help_links": self.help_links,
            "supported_features": features,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start ipykernel's dispatchers and begin obtaining the Wolfram kernel at once."""
        super().start()
        self._loop = asyncio.get_event_loop()
        self._loop.call_soon(self._begin_start)

    def _begin_start(self) -> asyncio.Future[KernelConnection]:
        assert self._loop is not None
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._start_connection())
        return self._starting

    async def _start_connection(self) -> KernelConnection:
        assert self._loop is not None
        prestarted, WolframKernel.prestarted = WolframKernel.prestarted, None
        if prestarted is not None:
            connection = await asyncio.wrap_future(prestarted)
        else:
            connection = KernelConnection(self.kernel_options)
            await asyncio.to_thread(connection.connect)
        connection.attach_loop(self._loop, self.on_service_message)
        self._connection = connection
        # A reattached server kernel busy with an earlier evaluation: the first cell waits for
        # its prompt (showing the rest of its printed output) before it is sent.
        self._next_in = connection.first_prompt or 1
        self._prompt_seen = not connection.busy_at_start
        self.execution_count = self._next_in - 1
        return connection

    async def _ensure_connection(self) -> KernelConnection:
        connection = self._connection
        if connection is not None and connection.alive:
            return connection
        if connection is not None:
            self._connection = None
            await asyncio.to_thread(connection.close)
        future = self._begin_start()
        try:
            return await asyncio.shield(future)
        except KernelStartError:
            self._starting = None  # the next cell tries again
            raise

    def _close_connection(self, end_kernel: bool | None = None) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close(end_kernel=end_kernel)

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Close the Wolfram kernel; Jupyter then ends (and for a restart, replaces) us.

        A restart always ends the kernel, so the new process gets a fresh one even under a
        profile; a plain shutdown keeps a long-lived wstpserver kernel (profile, kernel ID) for
        the next time the notebook is opened.
        """
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._starting), 60)
        await asyncio.to_thread(self._close_connection, True if restart else None)
        return {"status": "ok", "restart": restart}

    # -- concurrency -------------------------------------------------------------------------

    async def shell_main(self, subshell_id: str | None, msg: Any) -> None:
        """ipykernel 7's entry for every shell message: serve service requests at once while a
        cell runs, everything else in order."""
        if subshell_id is None and self._dispatch_concurrently(msg):
            return
        await super().shell_main(subshell_id, msg)

    def schedule_dispatch(self, dispatch: Any, *args: Any) -> None:
        """ipykernel 6's entry for every shell message (7 has no such method and never calls
        it): as :meth:`shell_main`."""
        if dispatch == self.dispatch_shell and args and self._dispatch_concurrently(args[0]):
            return
        super().schedule_dispatch(dispatch, *args)  # type: ignore[misc]  # (ipykernel 6)

    def _dispatch_concurrently(self, msg: Any) -> bool:
        """Serve ``msg`` now, beside the running cell, if it is a service request; else False.

        The request is answered with its own parent, explicitly, so the running cell's parent
        (which ipykernel keeps per channel) is never touched.
        """
        if not self._executing or self.session is None:
            return False
        try:
            idents, frames = self.session.feed_identities(msg, copy=False)
            # Only the header: a peek that the signature check does not count as a replay.
            header = self.session.deserialize(frames, content=False, copy=False)["header"]
            if header.get("msg_type") not in _CONCURRENT_REQUESTS:
                return False
            request = self.session.deserialize(frames, content=True, copy=False)
        except Exception:
            return False
        task = asyncio.ensure_future(self._serve_concurrently(idents, request))
        self._concurrent.add(task)
        task.add_done_callback(self._concurrent.discard)
        return True

    async def _serve_concurrently(self, idents: Any, request: dict[str, Any]) -> None:
        handler = self.shell_handlers.get(request["header"]["msg_type"])
        if handler is None:
            return
        self._publish(request, "status", {"execution_state": "busy"})
        try:
            await handler(self.shell_stream, idents, request)
        except Exception:
            log.exception("%s failed", request["header"]["msg_type"])
        finally:
            self._publish(request, "status", {"execution_state": "idle"})

    async def interrupt_request(self, stream: Any, ident: Any, parent: Any) -> None:
        """Abort the running evaluation; the session keeps its definitions."""
        content: dict[str, Any] = {"status": "ok"}
        with self._state_lock:
            running, stdin, sent = self._running, self._stdin, self._sent
            if running is None and self._executing:
                self._interrupted = True
        if stdin is not None:
            stdin.cancel()
        if running is not None:

            def abort_if_still_running() -> None:
                # Checked again where it is sent: meanwhile the cell may have ended and the
                # next one (Run All) been sent, which this interrupt must not reach.
                with self._state_lock:
                    if self._running is running and self._sent == sent:
                        running.abort()

            try:
                await asyncio.to_thread(abort_if_still_running)
            except Exception as exc:
                content = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc),
                           "traceback": []}
        if self.session is not None:
            self.session.send(stream, "interrupt_reply", content, parent, ident=ident)

    # -- the service link: asynchronous messages from the kernel process ---------------------

    def on_service_message(self, expr: Any) -> None:
        """Called on the event loop with each expression the kernel process sends on the
        service link (updates of widgets and ``Dynamic``: nothing that belongs to a cell's
        output, which comes on the main link). Extend it with a ``match`` case per message;
        :meth:`KernelConnection.send_service` answers on the same link."""
        log.info("ignoring a service-link expression: %.200r", expr)

    # -- execution ---------------------------------------------------------------------------

    def _publish(self, parent: Any, msg_type: str, content: dict[str, Any]) -> None:
        if self.session is None:
            return
        self.session.send(
            self.iopub_socket, msg_type, content, parent, ident=self._topic(msg_type)
        )

    def _publish_output(self, parent: Any, event: Output | Result) -> None:
        """Publish one output event of a cell as its Jupyter message."""
        match event:
            case Stream(name=name, text=text):
                self._publish(parent, "stream", {"name": name, "text": text})
            case DisplayData(data=data, metadata=metadata, display_id=display_id):
                self._publish(parent, "display_data", {
                    "data": data, "metadata": metadata, "transient": {"display_id": display_id}
                })
            case UpdateDisplayData(data=data, display_id=display_id):
                self._publish(parent, "update_display_data", {
                    "data": data, "metadata": {}, "transient": {"display_id": display_id}
                })
            case ClearOutput(wait=wait):
                self._publish(parent, "clear_output", {"wait": wait})
            case Result(execution_count=count, data=data, metadata=metadata):
                self._last_plain = data.get(PLAIN)
                if _widgets.interactive(data):  # Manipulate, Graphics3D...: widgets
                    data, metadata = _widgets.present(self, data, metadata)
                self._publish(parent, "execute_result", {
                    "execution_count": count, "data": data, "metadata": metadata
                })

    def _error_reply(
        self, parent: Any, ename: str, evalue: str, count: int, *, publish: bool = True
    ) -> dict[str, Any]:
        traceback = [f"{ename}: {evalue}"]
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        if publish:
            self._publish(parent, "error", content)
        return {"status": "error", "execution_count": count, **content}

    async def _await_prompt(self, connection: KernelConnection, parent: Any, silent: bool) -> None:
        # WSTP's rule: input is sent only after the kernel's InputNamePacket. Anything else the
        # kernel sent in between (late output of an aborted cell) is still shown.
        while not self._prompt_seen:
            probe = CellTranslator(self._next_in)
            for event in probe.feed(await connection.next_packet()):
                match event:
                    case CellDone(next_count=next_count):
                        self._next_in, self._prompt_seen = next_count, True
                    case Stream() if not silent:
                        self._publish_output(parent, event)

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        allow_stdin: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        """Run one cell through the Wolfram kernel's main loop (see the module docstring)."""
        with self._state_lock:
            self._executing, self._interrupted = True, False
        try:
            # Cells and widget updates take turns on the main link (docs/interactive.md).
            async with _widgets.turn(self):
                reply = await self._execute(code, silent, store_history, user_expressions,
                                            allow_stdin)
                await _widgets.after_cell(self)  # Dynamic outputs show what the cell changed
            return reply
        finally:
            with self._state_lock:
                self._executing = False

    async def _execute(
        self,
        code: str,
        silent: bool,
        store_history: bool,
        user_expressions: dict[str, str] | None,
        allow_stdin: bool,
    ) -> dict[str, Any]:
        parent = self.get_parent("shell")
        # The front end that sent the cell, for stdin requests. ipykernel has no public
        # accessor; this mapping exists in 6.29 and (for compatibility) in 7.x.
        ident = self._parent_ident["shell"]
        stored = store_history and not silent
        count = self._next_in if stored else self._next_in - 1
        # ipykernel counted this request already; the count is the kernel's In[n] instead.
        self.execution_count = self._next_in - 1
        try:
            connection = await self._ensure_connection()
        except KernelStartError as exc:
            return self._error_reply(parent, "KernelStartError", str(exc), count)
        if silent:
            return await self._execute_silent(connection, code, parent)
        if not code.strip():
            return {"status": "ok", "execution_count": count, "payload": [],
                    "user_expressions": {}}
        help_match = _HELP.match(code)
        if help_match:
            # `?name` is answered by the front end, as in Wolfram's notebooks: the usage text
            # goes to Jupyter's pager (JupyterLab shows it below the cell).
            return await self._page_help(help_match.group(1), count)
        try:
            await self._await_prompt(connection, parent, silent)
            if stored:
                count = self._next_in
                self.execution_count = count  # execute_input said count already; keep it true
                reply = await self._run_cell(connection, code, parent, ident, allow_stdin)
            else:
                count = self._next_in - 1
                reply = await self._run_unstored(connection, code, parent, ident, allow_stdin)
            reply["user_expressions"] = await self._user_expressions(connection, user_expressions)
        except KernelDied as exc:
            quit_ = connection.quit_by_request()
            self._connection = None
            self._begin_start()  # the replacement boots while the user reads the message
            self.execution_count = 0
            if quit_:
                # Quit[] / Exit[]: what the cell asked for, so no error -- as in Wolfram's
                # notebooks the session ends and the next evaluation starts a fresh kernel.
                self._publish(parent, "stream", {"name": "stderr", "text": _QUIT_NOTE})
                return {"status": "ok", "execution_count": count, "payload": [],
                        "user_expressions": {}}
            self._publish(parent, "stream", {"name": "stderr", "text": str(exc) + "\n"})
            return self._error_reply(parent, "KernelDied", str(exc), count)
        if stored:
            self._history.append((1, count, code, self._last_plain))
        self.execution_count = self._next_in - 1
        return reply

    async def _run_cell(
        self, connection: KernelConnection, code: str, parent: Any, ident: Any,
        allow_stdin: bool,
    ) -> dict[str, Any]:
        count = self._next_in
        self._last_plain = None
        translator = CellTranslator(count)
        outcome = await self._converse(
            connection, EnterTextPacket(code), translator,
            parent=parent, ident=ident, allow_stdin=allow_stdin,
        )
        if outcome is _ABORTED:
            return self._error_reply(parent, "Aborted",
                                     "$Aborted: interrupted before the evaluation started", count)
        error = outcome if isinstance(outcome, tuple) else translator.error
        if error is not None:
            return self._error_reply(parent, error[0], error[1], count)
        return {"status": "ok", "execution_count": count, "payload": []}

    async def _run_unstored(
        self, connection: KernelConnection, code: str, parent: Any, ident: Any,
        allow_stdin: bool,
    ) -> dict[str, Any]:
        """A cell with ``store_history=False``: evaluated outside the main loop (no ``$Line``,
        no ``In``/``Out``), its output shown as a cell's; the execution count stays."""
        count = self._next_in - 1
        self._last_plain = None
        translator = CellTranslator(count)
        request = EvaluatePacket(MIMEBundle(expr=_to_expression(code)).to_expr())
        outcome = await self._converse(
            connection, request, translator, parent=parent, ident=ident, allow_stdin=allow_stdin
        )
        if isinstance(outcome, tuple):
            return self._error_reply(parent, outcome[0], outcome[1], count)
        if outcome == _ABORTED:
            return self._error_reply(parent, "Aborted", "$Aborted: the evaluation was aborted",
                                     count)
        data, metadata = result_data(outcome)
        if data.get(PLAIN, "") not in _NULL_TEXTS:
            self._publish_output(parent, Result(execution_count=count, data=data,
                                                metadata=metadata))
        return {"status": "ok", "execution_count": count, "payload": []}

    async def _converse(
        self,
        connection: KernelConnection,
        request: Packet,
        translator: CellTranslator,
        *,
        parent: Any,
        ident: Any,
        allow_stdin: bool,
        publish: bool = True,
        side: list[Stream] | None = None,
    ) -> Any:
        """Send ``request`` on the main link and handle what comes back until it is over.

        Returns:
            For an ``EvaluatePacket``, the expression of its ``ReturnPacket``; ``$Aborted`` if
            an interrupt came before it was sent; an ``(ename, evalue)`` pair when an input
            request could not be answered; else ``None`` (the translator holds the outcome).
            With ``publish=False``, the output streams (messages on stderr) are appended to
            ``side`` when it is given, else dropped.
        """
        if not self._send_request(connection, request):
            return _ABORTED
        evaluation = isinstance(request, EvaluatePacket)
        if not evaluation:
            self._prompt_seen = False
        stdin_error: tuple[str, str] | None = None
        try:
            while not translator.done:
                packet = await connection.next_packet()
                ended = evaluation and isinstance(packet, ReturnPacket)
                events = translator.flush() if ended else translator.feed(packet)
                for event in events:
                    match event:
                        case InputRequest() if publish:
                            stdin_error = await self._answer_input(
                                connection, event, parent, ident, allow_stdin
                            ) or stdin_error
                        case InputRequest():
                            connection.put_main(TextPacket(""))
                        case Menu():
                            connection.put_main(TextPacket("a"))  # the interrupt menu: abort
                        case CellDone(next_count=next_count):
                            self._next_in, self._prompt_seen = next_count, True
                        case _ if publish:
                            self._publish_output(parent, event)
                        case Stream() if side is not None:
                            side.append(event)
                if ended:
                    assert isinstance(packet, ReturnPacket)
                    return stdin_error or packet.expr
        finally:
            with self._state_lock:
                self._running = None
        return stdin_error

    async def _answer_input(
        self, connection: KernelConnection, event: InputRequest, parent: Any, ident: Any,
        allow_stdin: bool,
    ) -> tuple[str, str] | None:
        """Ask the front end for a line and send it back; an error pair when stdin is missing."""
        what = "InputString[]" if event.as_string else "Input[]"
        channel = StdinChannel(self, parent, ident) if allow_stdin else None
        with self._state_lock:
            self._stdin = channel
        try:
            if channel is None:
                # The kernel waits for an answer; the abort ends that wait and the cell
                # (answering instead would let the program go on with made-up input).
                connection.abort()
                return (
                    "StdinNotImplementedError",
                    f"{what} needs a front end that accepts input (this request has "
                    "allow_stdin=false, as under nbconvert and papermill)",
                )
            value = await asyncio.to_thread(channel.ask, event.prompt)
        except StdinUnavailable as exc:
            # Cancelled by interrupt_request (which aborts) or EOF from the front end.
            connection.abort()
            return ("StdinNotImplementedError" if "EOF" in str(exc) else "Aborted", str(exc))
        finally:
            with self._state_lock:
                self._stdin = None
        connection.put_main(TextPacket(value) if event.as_string else EnterTextPacket(value))
        return None

    def _send_request(self, connection: KernelConnection, request: Packet) -> bool:
        """Send ``request`` on the main link and mark it running; False (nothing sent) if an
        interrupt came while it was on its way.

        Both under one lock, so that an interrupt either cancels the request before it is sent
        or is sent after it, where the kernel applies it even before evaluation starts.
        """
        with self._state_lock:
            if self._interrupted:
                return False
            connection.put_main(request)
            self._running = connection
            self._sent += 1
            return True

    async def _evaluate_main(
        self, connection: KernelConnection, expr: Any, side: list[Stream] | None = None
    ) -> Any:
        """EvaluatePacket on the main link: one ReturnPacket back, no In/Out numbers used, its
        side output dropped (or, with ``side``, collected there).

        Interruptible like a cell (silent cells, user_expressions): the result is then
        ``$Aborted``.
        """
        translator = CellTranslator(self._next_in)
        outcome = await self._converse(
            connection, EvaluatePacket(expr), translator,
            parent=None, ident=None, allow_stdin=False, publish=False, side=side,
        )
        return None if isinstance(outcome, tuple) else outcome

    # -- what widget updates use (``_widget_base.WidgetKernel``) ----------------------
    @property
    def connected(self) -> bool:
        """A kernel process is connected and alive."""
        return self._connection is not None and self._connection.alive

    async def evaluate_between_cells(self, expr: Any, side: list[Stream]) -> Any:
        """See ``_widget_base.WidgetKernel.evaluate_between_cells``; the caller holds the turn
        (``_widgets.turn``) that cells hold while they run."""
        connection = await self._ensure_connection()
        await self._await_prompt(connection, self.get_parent("shell"), True)
        return await self._evaluate_main(connection, expr, side)

    async def _execute_silent(
        self, connection: KernelConnection, code: str, parent: Any
    ) -> dict[str, Any]:
        try:
            await self._await_prompt(connection, parent, True)
            await self._evaluate_main(connection, _to_expression(code))
        except KernelDied as exc:
            quit_ = connection.quit_by_request()
            self._connection = None
            self._begin_start()
            if quit_:
                self.execution_count = 0
                return {"status": "ok", "execution_count": 0, "payload": [],
                        "user_expressions": {}}
            return self._error_reply(parent, "KernelDied", str(exc), self.execution_count,
                                     publish=False)
        return {"status": "ok", "execution_count": self.execution_count, "payload": [],
                "user_expressions": {}}

    async def _user_expressions(
        self, connection: KernelConnection, expressions: dict[str, str] | None
    ) -> dict[str, Any]:
        """Evaluate each user expression (outside the main loop); per the messaging spec each
        answer is ``{"status": "ok", "data", "metadata"}`` or, for one that fails, the error
        content ``{"status": "error", "ename", "evalue", "traceback"}``.

        An expression fails as under ``Check``: when it is not valid syntax, when its
        evaluation issues a message (``1/0``: ``ename`` is the first message's ``Power::infy``,
        the traceback lists them all), or when it is aborted. A ``$Failed`` it merely returns
        is a value like any other.
        """
        results: dict[str, Any] = {}
        for key, text in (expressions or {}).items():
            side: list[Stream] = []
            value = await self._evaluate_main(
                connection, MIMEBundle(expr=_to_expression(text)).to_expr(), side
            )
            data, metadata = result_data(value)
            messages = [s.text.strip() for s in side if s.name == "stderr" and s.text.strip()]
            if value is None or data.get(PLAIN) == "$Aborted":
                results[key] = _expression_error("Aborted", "$Aborted", messages)
            elif messages:
                named = _MESSAGE_NAME.match(messages[0])
                ename, evalue = (named.group(1), named.group(2)) if named else (
                    "Message", messages[0])
                results[key] = _expression_error(ename, evalue, messages)
            else:
                results[key] = {"status": "ok", "data": data, "metadata": metadata}
        return results


def _expression_error(ename: str, evalue: str, lines: list[str]) -> dict[str, Any]:
    return {"status": "error", "ename": ename, "evalue": evalue,
            "traceback": lines or [f"{ename}: {evalue}"]}
