"""The Jupyter kernel: an ipykernel ``Kernel`` that is the front end of a Wolfram kernel process.

How it works. At start-up a worker thread obtains the Wolfram kernel (:class:`KernelConnection`:
a local process, or a wstpserver kernel), so the cold start of Mathics3 overlaps with the front
end connecting. ``execute_request`` becomes ``EnterTextPacket[code]`` on the main link; the
packets read back -- ``Print`` output, messages, displays, results, in the order the evaluation
made them -- are translated by :class:`CellTranslator` and published as they arrive, so output
streams while the cell runs. The execution count is the kernel's own ``In[n]`` number (see
:meth:`WolframKernel._execute`); a request with ``store_history=False`` or ``silent`` is evaluated
outside the main loop (``EvaluatePacket``s, see ``_unstored``), so neither ``$Line`` nor the
execution count advances.

Requests that must answer while a cell runs -- completion, inspection, completeness,
kernel_info, history -- bypass ipykernel's one-shell-message-at-a-time order (see
:meth:`WolframKernel._dispatch_concurrently`) and go over the preemptive link, which the kernel
process services while it evaluates. ``interrupt_request`` (``interrupt_mode: message``) arrives
on the control thread and sends the abort urgent message: the evaluation returns ``$Aborted``
and every definition survives. A kernel process that dies is reported in the cell that was
running (or the next one), and a fresh process is started at once for the following cells. A
cell that ends the kernel itself (``Quit[]``, ``Exit[n]``; on a wstpserver too) completes without
an error, with a note on stderr; the next cell runs in the fresh process, from ``In[1]`` as in
Wolfram's notebooks.
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
from wstp_jupyter.kernel import _widgets
from wstp_jupyter.kernel._connection import KernelConnection
from wstp_jupyter.kernel._errors import KernelDied, KernelError, KernelStartError
from wstp_jupyter.kernel._mapping import (
    CellDone,
    CellTranslator,
    ClearOutput,
    DisplayData,
    InputRequest,
    KernelLost,
    Menu,
    Output,
    Result,
    Stream,
    UpdateDisplayData,
    server_kernel_end,
)
from wstp_jupyter.kernel._options import ENGINE_NAMES, KernelOptions
from wstp_jupyter.kernel._services import PREEMPTIVE_TIMEOUT, FrontEndServices
from wstp_jupyter.kernel._spec import IMPLEMENTATION, LANGUAGE_INFO, engine_version, help_links
from wstp_jupyter.kernel._stdin import StdinChannel, StdinUnavailable
from wstp_jupyter.kernel._unstored import UnstoredRequests
from wstp_jupyter.link import EnterTextPacket, EvaluatePacket, Packet, ReturnPacket, TextPacket
from wstp_jupyter.wxf import Symbol

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
_ENGINE_VERSION = re.compile(r"^(Mathics3|Woxi) (\S+)")


class WolframKernel(FrontEndServices, UnstoredRequests, Kernel):
    """Jupyter kernel for the Wolfram Language over WSTP links (see the module docstring)."""

    implementation = IMPLEMENTATION
    implementation_version = __version__

    #: A wstpserver kernel's engine and its version, from its ``$Version`` once connected.
    _server_engine: tuple[str, str] | None = None

    @property
    def language_info(self) -> dict[str, Any]:  # type: ignore[override]
        """Jupyter's ``language_info``; its version is the evaluating engine's (Mathics3's or
        Woxi's package version; for a wstpserver kernel, known once it is connected)."""
        if self.kernel_options.uses_server:
            version = self._server_engine[1] if self._server_engine else ""
        else:
            version = engine_version(self.kernel_options.engine)
        return {**LANGUAGE_INFO, "version": version}

    @property
    def help_links(self) -> list[dict[str, str]]:  # type: ignore[override]
        """The project, the Wolfram Language reference and the engine's documentation."""
        if self.kernel_options.uses_server:
            engine = self._server_engine[0] if self._server_engine else None
        else:
            engine = self.kernel_options.engine
        return help_links(engine)

    async def _learn_server_engine(self, connection: KernelConnection) -> None:
        """Ask a wstpserver kernel for ``$Version`` ("Mathics3 10.0.1 ...", "Woxi 0.3.0"), for
        ``language_info`` and ``help_links``; its pool chose the engine, not this front end."""
        try:
            text = await asyncio.to_thread(
                connection.evaluate, Symbol("$Version"), timeout=PREEMPTIVE_TIMEOUT
            )
        except (KernelError, TimeoutError) as exc:
            log.info("the wstpserver kernel did not say its version: %s", exc)
            return
        found = _ENGINE_VERSION.match(text) if isinstance(text, str) else None
        if found is not None:
            self._server_engine = (found.group(1).lower(), found.group(2))

    @property
    def banner(self) -> str:  # type: ignore[override]
        return (f"Wolfram Language via wstp-jupyter {__version__} "
                f"({self._evaluator()} kernel process over WSTP links)")

    def _evaluator(self) -> str:
        # A wstpserver's pool decides its kernels' engine, which the front end is not told.
        if self.kernel_options.uses_server:
            return "wstpserver"
        return ENGINE_NAMES.get(self.kernel_options.engine, self.kernel_options.engine)

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
        self._aborts_sent = 0  # abort messages sent by interrupts, to tell an abort from a value
        self._session = 0  # history's session number: one per kernel process (or server kernel)
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
        self._session += 1
        if self.kernel_options.uses_server:
            # In the background: the first cell need not wait for it.
            task = asyncio.ensure_future(self._learn_server_engine(connection))
            self._concurrent.add(task)
            task.add_done_callback(self._concurrent.discard)
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

    async def dispatch_shell(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """ipykernel's handler of each shell message in turn (6.29 and 7): an execute_request
        counts as executing from before its ``busy`` status, so that an interrupt sent on
        seeing that status is never lost in the moment before :meth:`do_execute` starts (it
        then cancels the cell before it is sent)."""
        executes = self._message_type(msg) == "execute_request"
        if executes:
            with self._state_lock:
                self._executing = True
        try:
            await super().dispatch_shell(msg, *args, **kwargs)
        finally:
            if executes:  # also when ipykernel skipped the request (stop_on_error)
                with self._state_lock:
                    self._executing = self._interrupted = False

    def _message_type(self, msg: Any) -> str | None:
        """The ``msg_type`` of a shell message still in frames; None when it has none."""
        peeked = self._peek(msg)
        return None if peeked is None else str(peeked[2].get("msg_type"))

    def _peek(self, msg: Any) -> tuple[Any, Any, dict[str, Any]] | None:
        """The identities, frames and header of a shell message still in frames; None when
        it has none. Only the header is read: a peek that the signature check does not count
        as a replay, so ipykernel still reads the whole message afterwards."""
        if self.session is None:
            return None
        try:
            idents, frames = self.session.feed_identities(msg, copy=False)
            header = self.session.deserialize(frames, content=False, copy=False)["header"]
        except Exception:
            return None
        return idents, frames, header

    def _dispatch_concurrently(self, msg: Any) -> bool:
        """Serve ``msg`` now, beside the running cell, if it is a service request; else False.

        The request is answered with its own parent, explicitly, so the running cell's parent
        (which ipykernel keeps per channel) is never touched.
        """
        if not self._executing:
            return False
        peeked = self._peek(msg)
        if peeked is None or peeked[2].get("msg_type") not in _CONCURRENT_REQUESTS:
            return False
        idents, frames, _ = peeked
        assert self.session is not None  # _peek found one
        try:
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
            # The whole request is interrupted: what it has not sent yet (a cell on its way,
            # the next input of an unstored cell, user_expressions) is not sent. Its running
            # part may have ended just now, before the abort reaches the kernel process.
            if self._executing:
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
                        self._aborts_sent += 1

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
        self, parent: Any, ename: str, evalue: str, *, publish: bool = True
    ) -> dict[str, Any]:
        """An error reply (its execution count is the current one) and, unless ``publish`` is
        false (a silent request), its ``error`` message."""
        traceback = [f"{ename}: {evalue}"]
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        if publish:
            self._publish(parent, "error", content)
        return {"status": "error", "execution_count": self._next_in - 1, **content}

    async def _await_prompt(self, connection: KernelConnection, parent: Any, silent: bool) -> None:
        # WSTP's rule: input is sent only after the kernel's InputNamePacket. Anything else the
        # kernel sent in between (late output of an aborted cell) is still shown.
        while not self._prompt_seen:
            probe = CellTranslator(self._next_in)
            for event in probe.feed(await connection.next_packet()):
                match event:
                    case CellDone(next_count=next_count):
                        self._next_in, self._prompt_seen = next_count, True
                    case KernelLost(reason=reason):
                        _lost(connection, reason)
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
            # Not clearing _interrupted: an interrupt since the request's busy status counts.
            self._executing = True
        try:
            # Cells and widget updates take turns on the main link (docs/interactive.md).
            async with _widgets.turn(self):
                reply = await self._execute(code, silent, store_history, user_expressions,
                                            allow_stdin)
                await _widgets.after_cell(self)  # Dynamic outputs show what the cell changed
            return reply
        finally:
            with self._state_lock:
                self._executing = self._interrupted = False

    async def _execute(
        self,
        code: str,
        silent: bool,
        store_history: bool,
        user_expressions: dict[str, str] | None,
        allow_stdin: bool,
    ) -> dict[str, Any]:
        """The reply to one execute_request.

        Its ``execution_count`` is the number of the last ``In[n]`` the Wolfram kernel has used
        (``$Line``), whatever the request: a client shows that count + 1 as its next prompt, and
        it is the kernel's next ``In[n]``. A cell of three inputs replies ``n + 2``; one that
        used none (a syntax error, an empty cell, ``silent``, ``store_history=False``) replies
        the count before it; after ``Quit[]`` it is 0 (the next cell is ``In[1]``).
        """
        parent = self.get_parent("shell")
        # The front end that sent the cell, for stdin requests. ipykernel has no public
        # accessor; this mapping exists in 6.29 and (for compatibility) in 7.x.
        ident = self._parent_ident["shell"]
        stored = store_history and not silent
        publish = not silent  # the messaging spec: a silent request broadcasts nothing
        # ipykernel counted this request already; the count is the kernel's $Line instead.
        self.execution_count = self._next_in - 1
        try:
            connection = await self._ensure_connection()
        except KernelStartError as exc:
            return self._error_reply(parent, "KernelStartError", str(exc), publish=publish)
        help_match = _HELP.match(code) if publish else None
        first: int | None = None  # the In[n] the cell is sent as
        try:
            if help_match:
                # `?name` is answered by the front end, as in Wolfram's notebooks: the usage
                # text goes to Jupyter's pager (JupyterLab shows it below the cell).
                reply = await self._page_help(help_match.group(1), 0)
            elif not code.strip():
                reply = {"status": "ok", "payload": []}
            else:
                await self._await_prompt(connection, parent, silent)
                first = self._next_in
                if stored:
                    reply = await self._run_cell(connection, code, parent, ident, allow_stdin)
                else:
                    reply = await self._run_unstored(connection, code, parent, ident,
                                                     allow_stdin, publish=publish)
                if self._next_in > first:  # history holds what used In[first], In[first+1]...
                    self._history.append((self._session, first, code, self._last_plain))
                first = None
            # The messaging spec: evaluated after the code, for silent requests too.
            reply["user_expressions"] = await self._user_expressions(connection, user_expressions)
        except KernelDied as exc:
            if stored and first is not None:  # a cell that quit was sent as In[first] too
                self._history.append((self._session, first, code, self._last_plain))
            return await self._kernel_ended(connection, exc, parent, publish)
        self.execution_count = self._next_in - 1
        reply["execution_count"] = self.execution_count
        return reply

    async def _kernel_ended(
        self, connection: KernelConnection, exc: KernelDied, parent: Any, publish: bool
    ) -> dict[str, Any]:
        """The reply for a request during which the kernel ended; a fresh one starts at once.

        ``Quit[]``/``Exit[n]`` (the kernel ended by itself, with a status) is what the cell
        asked for, so it is no error: as in Wolfram's notebooks the session ends and the next
        evaluation starts a fresh kernel. A crash or a signal is a ``KernelDied`` error.
        """
        status = connection.exit_status()
        self._connection = None
        self._next_in, self.execution_count = 1, 0  # the fresh kernel's In[1] is next
        self._begin_start()  # the replacement boots while the user reads the message
        # Its links (to a wstpserver: the whole client session) go too.
        await asyncio.to_thread(connection.close)
        if status is not None:
            if publish:
                self._publish(parent, "stream", {"name": "stderr", "text": _quit_note(status)})
            return {"status": "ok", "execution_count": 0, "payload": [], "user_expressions": {}}
        if publish:
            self._publish(parent, "stream", {"name": "stderr", "text": str(exc) + "\n"})
        return self._error_reply(parent, "KernelDied", str(exc), publish=publish)

    async def _run_cell(
        self, connection: KernelConnection, code: str, parent: Any, ident: Any,
        allow_stdin: bool,
    ) -> dict[str, Any]:
        self._last_plain = None
        translator = CellTranslator(self._next_in)
        outcome = await self._converse(
            connection, EnterTextPacket(code), translator,
            parent=parent, ident=ident, allow_stdin=allow_stdin,
        )
        if outcome is _ABORTED:
            return self._error_reply(parent, "Aborted",
                                     "$Aborted: interrupted before the evaluation started")
        error = outcome if isinstance(outcome, tuple) else translator.error
        if error is not None:
            return self._error_reply(parent, error[0], error[1])
        return {"status": "ok", "payload": []}

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
                if isinstance(packet, ReturnPacket) and ended:
                    lost = server_kernel_end(packet.expr)
                    if lost is not None:
                        _lost(connection, lost)
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
                        case KernelLost(reason=reason):
                            _lost(connection, reason)
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

def _lost(connection: KernelConnection, reason: str) -> None:
    """The wstpserver said the kernel ended: from now on as if its process had died here.

    Raises:
        KernelDied: always.
    """
    connection.lose(reason)
    raise KernelDied(connection.death_description())


def _quit_note(status: int) -> str:
    """What stderr says when the cell ended the kernel process with ``Quit[status]``."""
    how = "was quit" if status == 0 else f"was quit with exit code {status} (Exit[{status}])"
    return (f"The Wolfram kernel process {how}; its definitions are gone. "
            "The next cell starts a fresh kernel process (In[1]).\n")
