"""The Jupyter kernel: an ipykernel ``Kernel`` that is the front end of a Wolfram kernel process.

How it works. At start-up a worker thread obtains the Wolfram kernel (:class:`Backend`: a local
process, or a wstpserver kernel), so the cold start of Mathics3 overlaps with the front end
connecting. ``execute_request`` becomes ``EnterTextPacket[code]`` on the main link; the packets
read back are translated by :class:`CellTranslator` and published as they arrive, so ``Print``
output streams while the cell runs. The execution count is the kernel's own ``In[n]`` number.

Requests that must answer while a cell runs -- completion, inspection, completeness,
kernel_info, history -- bypass ipykernel's one-shell-message-at-a-time lock (see
:meth:`WolframKernel.shell_main`) and go over the preemptive link, which the kernel process
services between evaluation steps. ``interrupt_request`` (``interrupt_mode: message``) arrives on
the control thread and sends the abort urgent message: the evaluation returns ``$Aborted`` and
every definition survives. A kernel process that dies is reported in the cell that was running
(or the next one), and a fresh process is started at once for the following cells.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import fnmatch
import logging
import re
import threading
from contextvars import copy_context
from typing import TYPE_CHECKING, Any

from ipykernel.kernelbase import Kernel

from wstp_jupyter import __version__
from wstp_jupyter.kernel import _syntax, _widgets
from wstp_jupyter.kernel._backend import Backend, make_packet
from wstp_jupyter.kernel._errors import KernelDied, KernelError, KernelStartError
from wstp_jupyter.kernel._options import KernelOptions
from wstp_jupyter.kernel._spec import IMPLEMENTATION, LANGUAGE_INFO
from wstp_jupyter.kernel._stdin import StdinChannel, StdinUnavailable

if TYPE_CHECKING:
    from wstp_jupyter.kernel._mapping import InputRequest

# The packet translation (and with it the WXF codec and numpy) is imported on first use, not
# here: in server mode that import then happens after ipykernel has bound its sockets, in the
# idle time while the front end is still connecting (see __main__).

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
_PREEMPTIVE_TIMEOUT = 5.0
_SERVICE_HOLD_LIMIT = 1.0  # seconds a service-link item may wait for the main link
_HELP = re.compile(r"^\s*\?\??\s*([A-Za-z$][A-Za-z0-9$`]*)\s*$")


class _CellOrder:
    """How far the running cell's main-link output has been published, and the service-link
    items waiting for it."""

    __slots__ = ("pending", "seen")

    def __init__(self) -> None:
        self.seen = 0  # main-link packets of this cell read and published
        self.pending: list[tuple[Backend, Any]] = []


def _service_seq(expr: Any) -> dict[Any, Any]:
    """The ``<|"Serial" -> n, "After" -> m|>`` a service-link item ends with (``{}`` if none)."""
    args = getattr(expr, "args", ())
    return args[-1] if args and isinstance(args[-1], dict) else {}


def _wl(name: str, *args: Any) -> Any:
    from wstp_jupyter.wxf import Expr, Symbol

    return Expr(Symbol(name), *args)


class WolframKernel(Kernel):
    """Jupyter kernel for the Wolfram Language over WSTP links (see the module docstring)."""

    implementation = IMPLEMENTATION
    implementation_version = __version__
    language_info = LANGUAGE_INFO
    banner = (
        f"Wolfram Language via wstp-jupyter {__version__} "
        "(Mathics3 kernel process over WSTP links)"
    )
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
    prestarted: concurrent.futures.Future[Backend] | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._backend: Backend | None = None
        self._starting: asyncio.Future[Backend] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_in = 1  # the kernel process's next In[n]
        self._prompt_seen = False  # the kernel has sent the InputNamePacket for _next_in
        self._running: Backend | None = None  # the backend evaluating a cell, for interrupts
        # An interrupt that comes while a cell is on its way (waiting for the kernel process to
        # start, or for the previous prompt) cancels it before it is sent.
        self._executing = False
        self._interrupted = False
        self._sent = 0  # requests sent on the main link, so an interrupt knows which it meant
        self._stdin: StdinChannel | None = None
        self._history: list[tuple[int, int, str, str | None]] = []
        self._cell_parent: Any = None  # the running cell's request, parent of display_data
        self._display_parents: dict[str, Any] = {}
        self._order: _CellOrder | None = None  # the running cell's main/service ordering
        self._state_lock = threading.Lock()
        _widgets.install_comms(self)
        atexit.register(self._close_backend)

    @property
    def kernel_info(self) -> dict[str, Any]:
        """ipykernel's kernel_info, without the debugger.

        The base class imports ``ipykernel.debugger`` (and debugpy, about 0.1 s) on the first
        ``kernel_info_request`` to decide whether to advertise debugging; this kernel has no
        debugger, so it neither pays for that on the start-up path nor claims the feature.
        """
        from ipykernel.kernelbase import kernel_protocol_version

        subshells = getattr(self, "_supports_kernel_subshells", False)
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

    def _begin_start(self) -> asyncio.Future[Backend]:
        assert self._loop is not None
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._start_backend())
        return self._starting

    async def _start_backend(self) -> Backend:
        assert self._loop is not None
        prestarted, WolframKernel.prestarted = WolframKernel.prestarted, None
        if prestarted is not None:
            backend = await asyncio.wrap_future(prestarted)
        else:
            backend = Backend(self.kernel_options)
            await asyncio.to_thread(backend.connect)
        backend.attach_loop(self._loop, lambda expr: self._on_service(backend, expr))
        self._backend = backend
        self._next_in, self._prompt_seen = backend.first_prompt or 1, True
        self.execution_count = self._next_in - 1
        return backend

    async def _ensure_backend(self) -> Backend:
        backend = self._backend
        if backend is not None and backend.alive:
            return backend
        if backend is not None:
            self._backend = None
            await asyncio.to_thread(backend.close)
        future = self._begin_start()
        try:
            return await asyncio.shield(future)
        except KernelStartError:
            self._starting = None  # the next cell tries again
            raise

    def _close_backend(self, end_kernel: bool | None = None) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close(end_kernel=end_kernel)

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Close the Wolfram kernel; Jupyter then ends (and for a restart, replaces) us.

        A restart always ends the kernel, so the new process gets a fresh one even under a
        profile; a plain shutdown keeps a long-lived wstpserver kernel (profile, kernel ID) for
        the next time the notebook is opened.
        """
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._starting), 60)
        await asyncio.to_thread(self._close_backend, True if restart else None)
        return {"status": "ok", "restart": restart}

    # -- concurrency -------------------------------------------------------------------------

    async def shell_main(self, subshell_id: str | None, msg: Any) -> None:
        """Dispatch front-end service requests even while a cell holds the shell lock."""
        if subshell_id is None and self._main_asyncio_lock.locked() and self.session:
            try:
                _, frames = self.session.feed_identities(msg, copy=False)
                header = self.session.deserialize(frames, content=False, copy=False)["header"]
            except Exception:
                header = {}
            if header.get("msg_type") in _CONCURRENT_REQUESTS:
                parent = self.get_parent("shell")
                ident = self._get_shell_context_var(self._shell_parent_ident)
                try:
                    await asyncio.create_task(
                        self.dispatch_shell(msg, subshell_id=None, concurrent=True),
                        context=copy_context(),
                    )
                finally:
                    self.set_parent(ident, parent, channel="shell")
                return
        await super().shell_main(subshell_id, msg)

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

    # -- the service link: displays the kernel pushes (Display, PrintTemporary, ClearOutput) --

    def _on_service(self, backend: Backend, expr: Any) -> None:
        """Show a service-link item in order with the running cell's main-link output.

        Each item says how many main-link packets its evaluation wrote before it
        (``<|"After" -> m, ...|>``); it is held until the cell has published that many, and
        acknowledged once shown, which lets the kernel process go on (see docs/engine.md).
        """
        order = self._order
        after = _service_seq(expr).get("After", 0)
        if order is not None and isinstance(after, int) and after > order.seen:
            order.pending.append((backend, expr))
            if self._loop is not None:
                # The packets it waits for were written before it, so they come within
                # milliseconds; should a count ever disagree, the kernel process (waiting for
                # the acknowledgement) must not stall for long.
                self._loop.call_later(
                    _SERVICE_HOLD_LIMIT, lambda: self._release_service(order, everything=True)
                )
            return
        self._show_service(backend, expr)

    def _release_service(self, order: _CellOrder, *, everything: bool = False) -> None:
        while order.pending:
            backend, expr = order.pending[0]
            after = _service_seq(expr).get("After", 0)
            if not everything and isinstance(after, int) and after > order.seen:
                return
            order.pending.pop(0)
            self._show_service(backend, expr)

    def _show_service(self, backend: Backend, expr: Any) -> None:
        from wstp_jupyter.kernel._mapping import bundle_to_jupyter, head_name

        name, args = head_name(expr), tuple(getattr(expr, "args", ()))
        parent = self._cell_parent
        if name == "WSTPJupyter`DisplayData" and args and parent is not None:
            display_id = args[1] if len(args) > 1 and isinstance(args[1], str) else None
            data, metadata = bundle_to_jupyter(args[0])
            content: dict[str, Any] = {"data": data, "metadata": metadata, "transient": {}}
            if display_id:
                content["transient"] = {"display_id": display_id}
                self._display_parents[display_id] = parent
            self._publish(parent, "display_data", content)
        elif name == "WSTPJupyter`ClearDisplay" and args:
            display_id = str(args[0])
            display_parent = self._display_parents.pop(display_id, None)
            if display_parent is not None:
                # Jupyter cannot delete an output; an empty update makes it disappear.
                self._publish(display_parent, "update_display_data", {
                    "data": {PLAIN: ""}, "metadata": {}, "transient": {"display_id": display_id}
                })
        elif name == "WSTPJupyter`ClearOutput" and parent is not None:
            self._publish(parent, "clear_output", {"wait": len(args) > 1 and args[0] is True})
        elif name not in ("WSTPJupyter`DisplayData", "WSTPJupyter`ClearOutput"):
            log.info("ignoring a service-link expression: %.200r", expr)
        serial = _service_seq(expr).get("Serial")
        if serial is not None:
            backend.acknowledge(serial)

    # -- execution ---------------------------------------------------------------------------

    def _publish(self, parent: Any, msg_type: str, content: dict[str, Any]) -> None:
        if self.session is None:
            return
        self.session.send(
            self.iopub_socket, msg_type, content, parent, ident=self._topic(msg_type)
        )

    def _error_reply(
        self, parent: Any, ename: str, evalue: str, count: int, *, publish: bool = True
    ) -> dict[str, Any]:
        traceback = [f"{ename}: {evalue}"]
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        if publish:
            self._publish(parent, "error", content)
        return {"status": "error", "execution_count": count, **content}

    async def _await_prompt(self, backend: Backend, parent: Any, silent: bool) -> None:
        # WSTP's rule: input is sent only after the kernel's InputNamePacket. Anything else the
        # kernel sent in between (late output of an aborted cell) is still shown.
        from wstp_jupyter.kernel._mapping import CellDone, CellTranslator, Stream, packet_parts

        while not self._prompt_seen:
            name, args = packet_parts(await backend.next_packet())
            probe = CellTranslator(self._next_in)
            for event in probe.feed(name, args):
                if isinstance(event, CellDone):
                    self._next_in, self._prompt_seen = event.next_count, True
                elif isinstance(event, Stream) and not silent:
                    self._publish(parent, "stream", {"name": event.name, "text": event.text})

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
        ident = self._get_shell_context_var(self._shell_parent_ident)
        count = self._next_in if not silent else self.execution_count
        try:
            backend = await self._ensure_backend()
        except KernelStartError as exc:
            return self._error_reply(parent, "KernelStartError", str(exc), count)
        if silent:
            return await self._execute_silent(backend, code, parent)
        if not code.strip():
            self.execution_count = self._next_in - 1
            return {"status": "ok", "execution_count": count, "payload": [],
                    "user_expressions": {}}
        help_match = _HELP.match(code)
        if help_match:
            # `?name` is answered by the front end, as in Wolfram's notebooks: the usage text
            # goes to Jupyter's pager (JupyterLab shows it below the cell).
            self.execution_count = self._next_in - 1
            return await self._page_help(help_match.group(1), count)
        try:
            await self._await_prompt(backend, parent, silent)
            count = self._next_in
            self.execution_count = count  # execute_input said count already; keep it true
            reply = await self._run_cell(backend, code, parent, ident, allow_stdin)
            reply["user_expressions"] = await self._user_expressions(backend, user_expressions)
        except KernelDied as exc:
            self._publish(parent, "stream", {"name": "stderr", "text": str(exc) + "\n"})
            self._backend = None
            self._begin_start()  # the replacement boots while the user reads the message
            self.execution_count = 0
            return self._error_reply(parent, "KernelDied", str(exc), count)
        if store_history:
            output = self._last_plain
            self._history.append((1, count, code, output))
        self.execution_count = self._next_in - 1
        return reply

    async def _page_help(self, name: str, count: int) -> dict[str, Any]:
        text: Any = None
        try:
            text = await self._preemptive(_wl("WSTPJupyter`Inspect", name))
        except (KernelError, TimeoutError) as exc:
            text = f"no help available now: {exc}"
        if not isinstance(text, str) or not text:
            text = f"no information about {name}"
        page = {"source": "page", "data": {PLAIN: text}, "start": 0}
        return {"status": "ok", "execution_count": count, "payload": [page],
                "user_expressions": {}}

    async def _run_cell(
        self, backend: Backend, code: str, parent: Any, ident: Any, allow_stdin: bool
    ) -> dict[str, Any]:
        from wstp_jupyter.kernel._mapping import (
            CellDone,
            CellTranslator,
            InputRequest,
            Menu,
            Result,
            Stream,
            packet_parts,
        )

        count = self._next_in
        translator = CellTranslator(count)
        stdin_error: tuple[str, str] | None = None
        self._last_plain: str | None = None
        self._cell_parent = parent
        self._order = order = _CellOrder()
        if not self._send_request(backend, make_packet("EnterTextPacket", code)):
            self._order = None
            return self._error_reply(parent, "Aborted",
                                     "$Aborted: interrupted before the evaluation started", count)
        self._prompt_seen = False
        try:
            while not translator.done:
                name, args = packet_parts(await backend.next_packet())
                order.seen += 1
                for event in translator.feed(name, args):
                    if isinstance(event, Stream):
                        self._publish(parent, "stream", {"name": event.name, "text": event.text})
                    elif isinstance(event, Result):
                        self._last_plain = event.data.get(PLAIN)
                        data, metadata = event.data, event.metadata
                        if _widgets.interactive(data):  # Manipulate, Graphics3D...: widgets
                            data, metadata = _widgets.present(self, data, metadata)
                        self._publish(parent, "execute_result", {
                            "execution_count": event.execution_count,
                            "data": data,
                            "metadata": metadata,
                        })
                    elif isinstance(event, InputRequest):
                        stdin_error = await self._answer_input(
                            backend, event, parent, ident, allow_stdin
                        ) or stdin_error
                    elif isinstance(event, Menu):
                        backend.put_main("a")  # the interrupt menu: choose "abort"
                    elif isinstance(event, CellDone):
                        self._next_in, self._prompt_seen = event.next_count, True
                if order.pending:
                    self._release_service(order)
        finally:
            with self._state_lock:
                self._running = None
            self._order = None
            self._release_service(order, everything=True)
        error = stdin_error or translator.error
        if error is not None:
            return self._error_reply(parent, error[0], error[1], count)
        return {"status": "ok", "execution_count": count, "payload": []}

    async def _answer_input(
        self, backend: Backend, event: InputRequest, parent: Any, ident: Any, allow_stdin: bool
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
                backend.abort()
                return (
                    "StdinNotImplementedError",
                    f"{what} needs a front end that accepts input (this request has "
                    "allow_stdin=false, as under nbconvert and papermill)",
                )
            value = await asyncio.to_thread(channel.ask, event.prompt)
        except StdinUnavailable as exc:
            # Cancelled by interrupt_request (which aborts) or EOF from the front end.
            backend.abort()
            return ("StdinNotImplementedError" if "EOF" in str(exc) else "Aborted", str(exc))
        finally:
            with self._state_lock:
                self._stdin = None
        backend.put_main(value if event.as_string else make_packet("EnterTextPacket", value))
        return None

    def _send_request(self, backend: Backend, request: Any) -> bool:
        """Send ``request`` on the main link and mark it running; False (nothing sent) if an
        interrupt came while it was on its way.

        Both under one lock, so that an interrupt either cancels the request before it is sent
        or is sent after it, where the kernel applies it even before evaluation starts.
        """
        with self._state_lock:
            if self._interrupted:
                return False
            backend.put_main(request)
            self._running = backend
            self._sent += 1
            return True

    async def _evaluate_main(self, backend: Backend, expr: Any) -> Any:
        """EvaluatePacket on the main link: one ReturnPacket back, no In/Out numbers used.

        Interruptible like a cell (silent cells, user_expressions): the result is then
        ``$Aborted``.
        """
        from wstp_jupyter.kernel._mapping import packet_parts
        from wstp_jupyter.wxf import Symbol

        if not self._send_request(backend, make_packet("EvaluatePacket", expr)):
            return Symbol("$Aborted")
        try:
            while True:
                name, args = packet_parts(await backend.next_packet())
                if name == "ReturnPacket":
                    return args[0] if args else None
                if name in ("InputPacket", "InputStringPacket"):
                    backend.put_main("")
        finally:
            with self._state_lock:
                self._running = None

    async def _execute_silent(self, backend: Backend, code: str, parent: Any) -> dict[str, Any]:
        try:
            await self._await_prompt(backend, parent, True)
            await self._evaluate_main(backend, _wl("ToExpression", code))
        except KernelDied as exc:
            self._backend = None
            return self._error_reply(parent, "KernelDied", str(exc), self.execution_count,
                                     publish=False)
        return {"status": "ok", "execution_count": self.execution_count, "payload": [],
                "user_expressions": {}}

    async def _user_expressions(
        self, backend: Backend, expressions: dict[str, str] | None
    ) -> dict[str, Any]:
        from wstp_jupyter.kernel._mapping import result_data

        results: dict[str, Any] = {}
        for key, text in (expressions or {}).items():
            value = await self._evaluate_main(
                backend, _wl("WSTPJupyter`MIMEBundle", _wl("ToExpression", text))
            )
            data, metadata = result_data(value)
            results[key] = {"status": "ok", "data": data, "metadata": metadata}
        return results

    # -- front-end services (preemptive link) ------------------------------------------------

    async def _preemptive(self, request: Any) -> Any:
        backend = self._backend
        if backend is None or not backend.alive:
            raise KernelError("the Wolfram kernel is still starting")
        return await asyncio.to_thread(backend.evaluate, request, timeout=_PREEMPTIVE_TIMEOUT)

    async def do_complete(self, code: str, cursor_pos: int) -> dict[str, Any]:
        """Symbols (user and system, with contexts) starting with the text before the cursor."""
        cursor_pos = len(code) if cursor_pos is None else cursor_pos
        prefix, start = _syntax.symbol_before(code, cursor_pos)
        matches: list[str] = []
        status = "ok"
        if prefix:
            try:
                names = await self._preemptive(_wl("WSTPJupyter`Complete", prefix))
                matches = [str(n) for n in names or ()]
            except (KernelError, TimeoutError) as exc:
                log.info("completion of %r failed: %s", prefix, exc)
        return {"matches": matches, "cursor_start": start, "cursor_end": cursor_pos,
                "metadata": {}, "status": status}

    async def do_inspect(
        self, code: str, cursor_pos: int, detail_level: int = 0, omit_sections: Any = ()
    ) -> dict[str, Any]:
        """Usage text, attributes and options of the symbol under the cursor."""
        name = _syntax.symbol_at(code, len(code) if cursor_pos is None else cursor_pos)
        text: Any = None
        if name:
            try:
                text = await self._preemptive(_wl("WSTPJupyter`Inspect", name))
            except (KernelError, TimeoutError) as exc:
                log.info("inspection of %r failed: %s", name, exc)
        found = isinstance(text, str) and bool(text)
        data = {PLAIN: text} if found else {}
        return {"status": "ok", "found": found, "data": data, "metadata": {}}

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        """complete / incomplete (with an indent) / invalid, from the kernel's own parser."""
        status, indent = _syntax.is_complete(code)
        if self._backend is not None and self._backend.alive:
            try:
                answer = await self._preemptive(_wl("WSTPJupyter`IsComplete", code))
                if answer in ("complete", "incomplete", "invalid"):
                    status = str(answer)
                    if status == "incomplete" and not indent:
                        indent = _syntax.INDENT
            except (KernelError, TimeoutError) as exc:
                log.info("is_complete fell back to the local scanner: %s", exc)
        reply: dict[str, Any] = {"status": status}
        if status == "incomplete":
            reply["indent"] = indent
        return reply

    async def do_history(  # noqa: PLR0917 -- ipykernel's signature
        self,
        hist_access_type: str,
        output: bool,
        raw: bool,
        session: int | None = None,
        start: int | None = None,
        stop: int | None = None,
        n: int | None = None,
        pattern: str | None = None,
        unique: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        """This session's inputs (and outputs' plain text), by tail, range or search."""
        entries = self._history
        if hist_access_type == "tail":
            entries = entries[-n:] if n else entries
        elif hist_access_type == "range":
            lo = start or 0
            entries = [e for e in entries if e[1] >= lo and (stop is None or e[1] < stop)]
        elif hist_access_type == "search":
            glob = pattern or "*"
            entries = [e for e in entries if fnmatch.fnmatchcase(e[2], glob)]
            if unique:
                latest = {e[2]: e for e in entries}
                entries = [e for e in entries if latest[e[2]] is e]
            entries = entries[-n:] if n else entries
        history = [
            (s, line, (code, out) if output else code) for s, line, code, out in entries
        ]
        return {"status": "ok", "history": history}
