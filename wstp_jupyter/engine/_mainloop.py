"""The kernel's main loop: packets in, evaluations in a worker thread, packets out.

Threads and who does what:

* a **reader thread per link** blocks in ``link.get()`` and turns what it reads into the link's
  ``Packet`` classes (:func:`as_packet`: the one place a packet's shape is checked); the
  preemptive and service links queue ``(source, packet)`` events for the loop thread; the main
  link's urgent messages arrive on the link's own thread and are handled at once (abort) or
  queued (interrupt, terminate);
* the **main link's reader thread** routes its packets: in order to the worker's job queue,
  except that a packet arriving while the worker waits for the front end (``Input[]``, the
  interrupt menu, the side-links exchange) is that answer;
* the **loop thread** (``MainLoop.run``) handles the other events: preemptive-link packets are
  answered right here, without waiting for the worker; interrupts, service-link messages, exit;
* the **worker thread** evaluates. Everything an evaluation shows (``Print``, messages, displays,
  clear-output) is written on the main link as it happens, by its ``LinkHost`` (``_host``), so a
  cell's output is in order on one link; the result packets come last.

The worker and the loop thread get large stacks (``_stack``): deep expressions are evaluated,
formatted and converted there. Whatever still fails is said, never swallowed: an expression the
front end cannot read is replaced by ``$Failed`` after a message (``LinkWriter``), a request the
kernel could not read (beyond its receiver limits) is answered with a message and ``$Failed``,
a line whose output fails gives a ``General::engine`` message and the cell goes on.

Writes to a link are serialised by a per-link lock (the worker and the loop both write to the
main link). The service link carries only what is truly asynchronous
(:meth:`MainLoop.send_service`). The packet sequences are documented in ``docs/engine.md``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wstp_jupyter.engine import _stack
from wstp_jupyter.engine._backend import Backend, LineResult
from wstp_jupyter.engine._host import LinkHost, LinkWriter, reply_text
from wstp_jupyter.engine._requests import (
    BadRequest,
    Complete,
    Inspect,
    IsComplete,
    MIMEBundle,
    OpenParallelLinks,
    ResultFormat,
    SetResultFormat,
    bundle_result,
    parse_request,
)
from wstp_jupyter.link import (
    EnterExpressionPacket,
    EnterTextPacket,
    EvaluatePacket,
    InputNamePacket,
    LimitExceeded,
    Link,
    LinkClosed,
    LinkError,
    MenuPacket,
    OutputNamePacket,
    Packet,
    RemoteProtocolError,
    ReturnExpressionPacket,
    ReturnPacket,
    ReturnTextPacket,
    SyntaxPacket,
    TextPacket,
    UrgentMessage,
    packet_from_peer,
)
from wstp_jupyter.wxf import Expr, Symbol

log = logging.getLogger("wstp_jupyter.engine")

INTERRUPT_MENU_TITLE = "Interrupt> "
INTERRUPT_MENU_HELP = (
    "Interrupt menu: a - abort the evaluation, c - continue, e - exit the kernel, "
    "s - show the input being evaluated"
)
_FAILED = Symbol("$Failed")
_EVALUATE_HEAD = Symbol("EvaluatePacket")
_ENTER_HEADS = (Symbol("EnterTextPacket"), Symbol("EnterExpressionPacket"))


@dataclass(frozen=True, slots=True)
class DroppedRequest:
    """Where the front end sent an expression the link dropped for breaking the kernel's
    receiver limits (``LimitExceeded``); answered in its turn with a message and ``$Failed``.

    Attributes:
        head: the dropped expression's head, when the link could read it.
        reason: what the link said.
    """

    head: object
    reason: str


def as_packet(expr: Any) -> Any:
    """``expr`` as an instance of its ``Packet`` class (shape checked), or ``expr`` itself when it
    is no well-formed packet (a bare answer such as a string, something to ignore, or a
    ``DroppedRequest``)."""
    if isinstance(expr, DroppedRequest):
        return expr
    try:
        return packet_from_peer(expr)
    except RemoteProtocolError:
        return expr


class MainLoop:
    """Drives one backend from one main link (plus optional preemptive and service links).

    Args:
        backend: the evaluator.
        link: the main link, active.
        side_links: callable that opens the preemptive and service links when the front end asks
            (``_sidelinks.KernelSideLinks``); without it the request answers ``$Failed``.
    """

    def __init__(
        self,
        backend: Backend,
        link: Link,
        *,
        side_links: Callable[[MainLoop], Any] | None = None,
    ) -> None:
        self.backend = backend
        self.result_format = ResultFormat()
        self.main = LinkWriter(link)
        self.main_host = LinkHost(
            self.main, self.result_format, ask=self.ask_front_end, service=self.send_service
        )
        self.preemptive: LinkWriter | None = None
        self.preemptive_host: LinkHost | None = None
        self.service: LinkWriter | None = None
        #: Called on the loop thread with each expression the front end sends on the service
        #: link (asynchronous messages, e.g. from widgets); by default they are logged.
        self.on_service: Callable[[Any], None] | None = None
        self.side_links = side_links
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.replies: queue.Queue[Any] = queue.Queue()
        self.waiting_reply = threading.Event()
        # Which main-link requests an urgent message can still reach: the reader counts the
        # expressions it has routed and the jobs it has queued; a job counts as finished when
        # its last packets are about to be written (see ``_finish``).
        self._requests_lock = threading.Lock()
        self._routed = 0
        self._queued = 0
        self._finished = 0
        self._job_finished = False
        self._job_written = False  # its last packets reached the link
        self._menu_after = 0  # main-link expressions received before the menu was shown
        self.menu_open = False
        self.current_input: str = ""
        self.exit_code: int | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def run(self) -> int:
        """Serve until ``Quit[]``, a terminate message or the main link closing; return the
        process exit code."""
        link = self.main.link
        link.set_message_handler(self._on_message)
        self.start_reader("main", link)
        _stack.start_thread(self._worker, "engine-worker")
        self.main.put(self.input_name())
        while self.exit_code is None:
            match self.events.get():
                case "exit", code:
                    self.exit_code = int(code)
                case "preemptive", packet:
                    self._serve_preemptive(packet)
                case "interrupt", sent_before:
                    self._interrupt(int(sent_before))
                case "service", expr:
                    self._serve_service(expr)
                case "closed", "main":
                    self.exit_code = 0
                case "closed", name:
                    log.info("%s link closed", name)
        return self.exit_code

    def start_reader(self, name: str, link: Link) -> None:
        """Read ``link`` on a thread of its own. Main-link packets are routed right there (one
        thread hop less on every request's latency path); the rest go to the loop thread."""

        def read() -> None:
            while True:
                try:
                    expr = link.get()
                except LimitExceeded as exc:  # one expression lost, the link goes on
                    log.warning("%s link: %s", name, exc)
                    if name == "service":
                        continue  # nobody waits for an answer there
                    expr = DroppedRequest(exc.head, str(exc.args[0]))
                except LinkClosed:
                    break
                except LinkError as exc:
                    log.warning("%s link failed: %s", name, exc)
                    break
                if name == "main":
                    self._route_main(as_packet(expr))
                    self._routed += 1
                elif name == "preemptive":
                    self.events.put((name, as_packet(expr)))
                else:
                    self.events.put((name, expr))
            self.events.put(("closed", name))

        threading.Thread(target=read, name=f"engine-read-{name}", daemon=True).start()

    def input_name(self) -> InputNamePacket:
        return InputNamePacket(f"In[{self.backend.next_line()}]:= ")

    # -- urgent messages ---------------------------------------------------------------
    def _on_message(self, message: Any, arg: int = 0) -> None:
        # Runs on the main link's reader thread, in wire order: ``received`` now counts every
        # request the front end sent before this message.
        code = int(getattr(message, "code", message))
        if code == UrgentMessage.ABORT:
            self.abort(self.main.link.received)
        elif code == UrgentMessage.INTERRUPT:
            # Counted now: the loop thread handles the interrupt later, when a job sent after
            # it may already be queued.
            with self._requests_lock:
                sent_before = self._jobs_sent_before(self.main.link.received)
            self.events.put(("interrupt", sent_before))
        elif code == UrgentMessage.TERMINATE:
            self.backend.abort()
            self.events.put(("exit", 0))

    def _jobs_sent_before(self, received: int) -> int:
        """How many jobs (at most) the front end sent before an urgent message that arrived
        when the main link had ``received`` expressions: those queued plus any still unread.
        While ``_finished`` is below it, such a job is queued, running or unread. Caller holds
        ``_requests_lock``."""
        return self._queued + max(0, received - self._routed)

    def abort(self, received: int | None = None) -> None:
        """Abort the running evaluation (and close the interrupt menu if it is open).

        With ``received`` (the main link's count when the abort arrived), a request that was
        sent before the abort but has not started evaluating yet is aborted as it starts: a
        front end that aborts right after sending must not see its request run on.
        """
        with self._requests_lock:
            pending = received is not None and self._finished < self._jobs_sent_before(received)
            self.backend.abort(pending=pending)
        self.waiting_reply.clear()
        self.menu_open = False  # the abort answers an open menu too

    def _interrupt(self, sent_before: int) -> None:
        with self._requests_lock:
            if self.menu_open or self._finished >= sent_before:
                return  # every job sent before the interrupt is over: nothing to interrupt
            self.backend.hold()
            # Only what the front end sends after seeing the menu answers it; a request that
            # was still unread when the interrupt came is the one being interrupted.
            self._menu_after = self.main.link.received
            self.menu_open = True
            # Under the lock, so the menu cannot follow the job's last packet.
            self.main.put(MenuPacket(1, INTERRUPT_MENU_TITLE))

    def _abort_request(self) -> None:
        """Abort the interrupted request, whether or not its evaluation has started."""
        with self._requests_lock:
            self.backend.abort(pending=self._queued > self._finished)

    def _menu_answer(self, reply: Any) -> None:
        choice = (reply_text(reply) or "").strip().lower()[:1]
        if choice == "a":
            self.menu_open = False
            self._abort_request()
        elif choice in {"c", ""}:
            self.menu_open = False
            self.backend.resume()
        elif choice in ("e", "q"):
            self.menu_open = False
            self._abort_request()
            self.events.put(("exit", 0))  # answered on the reader thread: the loop ends it
        elif choice in ("s", "t", "i"):
            shown = (
                f"Evaluating: {self.current_input}"
                if choice != "i"
                else "Inspecting is not available: the evaluator has no dialog subsessions."
            )
            self.main.put(TextPacket(shown), MenuPacket(1, INTERRUPT_MENU_TITLE))
        else:
            self.main.put(TextPacket(INTERRUPT_MENU_HELP), MenuPacket(1, INTERRUPT_MENU_TITLE))

    # -- routing -----------------------------------------------------------------------
    def _route_main(self, expr: Any) -> None:
        if self.menu_open and self._routed >= self._menu_after:
            self._menu_answer(expr)
        elif self.waiting_reply.is_set():
            self.waiting_reply.clear()
            self.replies.put(expr)
        else:
            self._queued += 1
            self.jobs.put(expr)

    def ask_front_end(self, request: Any, timeout: float | None = None) -> Any:
        """From the worker: send ``request`` on the main link and wait for the next packet the
        front end sends there (the answer). ``None`` on timeout or when aborted."""
        self.expect_reply()
        self.main.put(request)
        return self.wait_reply(timeout)

    def expect_reply(self) -> None:
        """Route the next main-link packet to :meth:`wait_reply` (call before sending the
        request it answers). Anything left from an earlier, aborted wait is dropped."""
        while True:
            try:
                self.replies.get_nowait()
            except queue.Empty:
                break
        self.waiting_reply.set()

    def wait_reply(self, timeout: float | None = None) -> Any:
        """Wait for the answer announced by :meth:`expect_reply`; ``None`` on timeout.

        An abort raised in this thread while waiting ends the wait: the next packet is then
        a request again, not an answer.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                # Short waits so an asynchronous abort reaches this thread promptly.
                try:
                    return self.replies.get(timeout=0.05)
                except queue.Empty:
                    if deadline is not None and time.monotonic() > deadline:
                        self.waiting_reply.clear()
                        return None
        except BaseException:
            self.waiting_reply.clear()
            raise

    # -- the worker --------------------------------------------------------------------
    def _worker(self) -> None:
        while True:
            packet = self.jobs.get()
            self.main_host.temporary.clear()
            try:
                self._job(packet)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
                self.events.put(("exit", code))
                return
            except LinkClosed:
                self.events.put(("exit", 0))
                return
            except BaseException as exc:  # a stray async abort or a bug must not kill the kernel
                log.exception("evaluation of a packet failed")
                self._recover(packet, exc)
            finally:
                with self._requests_lock:
                    if not self._job_finished:  # ended without a last packet
                        self._finished += 1
                        self.backend.clear_pending()
                    self._job_finished = self._job_written = False

    def _recover(self, packet: Any, error: BaseException) -> None:
        """After an internal failure, say so and still end the exchange, so the front end
        never hangs nor waits for output that will not come."""
        try:
            if self._job_written:
                return
            self._internal_error(error, "the rest of this input was not evaluated")
            match packet:
                case EvaluatePacket():
                    self._finish(ReturnPacket(_FAILED))
                case EnterTextPacket() | EnterExpressionPacket():
                    self._finish(self.input_name())
        except BaseException:
            log.exception("could not report the failure to the front end")

    def _finish(self, *packets: Packet) -> None:
        """Write the current job's last packets, after the clearing of its temporary displays;
        from then on it is over for urgent messages too (an abort or hold still pending for it
        is dropped, not left for the next job)."""
        with self._requests_lock:
            # Before the write: a request the front end sends once it has read these packets
            # must find this job over. (Not during it: a large result must not keep the link's
            # reader, which runs the message handler, waiting for the lock.)
            if not self._job_finished:  # (counted once, even when _recover writes again)
                self._finished += 1
                self._job_finished = True
            self.backend.clear_pending()
        # Temporary displays vanish before the last packet, so the cell's output is final when
        # the front end sees it end (nbconvert stops collecting output there).
        self.main.put(*self.main_host.closing_packets(), *packets)
        self._job_written = True

    def _job(self, packet: Any) -> None:
        host = self.main_host
        match packet:
            case EnterTextPacket(text=text):
                self._enter_text(text)
            case EnterExpressionPacket(expr=expr):
                self.current_input = str(expr)[:200]
                self._send_result(self.backend.run_line(expr, host), text=False)
                self._finish(self.input_name())
            case EvaluatePacket(expr=expr):
                self._finish(ReturnPacket(self.evaluate_packet(expr, host)))
            case DroppedRequest(head=head, reason=reason):
                self._answer_dropped(head, reason, host)
            case _:
                log.warning("ignoring unexpected packet on the main link: %.200r", packet)

    def _enter_text(self, text: str) -> None:
        self.current_input = text[:200]
        issue = self.backend.check_syntax(text, self.main_host)
        if issue is not None:
            self._finish(SyntaxPacket(issue.position), self.input_name())
            return
        for result in self.backend.run_cell(text, self.main_host):
            self._send_result(result, text=True)
        self._finish(self.input_name())

    def _send_result(self, result: LineResult, *, text: bool) -> None:
        """``_send_line``, except that a failure to show one line's result is reported and
        the cell goes on (the link failing still ends it)."""
        try:
            self._send_line(result, text=text)
        except (LinkError, SystemExit):
            raise
        except Exception as exc:
            log.exception("the result of line %s could not be sent", result.line)
            self._internal_error(exc, f"Out[{result.line}] is not shown")

    def _internal_error(self, error: BaseException, consequence: str) -> None:
        """Tell the front end of a failure inside the kernel (``General::engine``)."""
        detail = f"{type(error).__name__}: {error}"[:300]
        self.main_host.message(
            "General", "engine", f"General::engine: Internal error ({detail}); {consequence}."
        )

    def _answer_dropped(self, head: object, reason: str, host: LinkHost) -> None:
        """Answer a request the link could not read: a message, then what ends the request."""
        host.message(
            "General",
            "linkread",
            f"General::linkread: The kernel could not read an expression from the front end: "
            f"{reason}.",
        )
        if head == _EVALUATE_HEAD:
            self._finish(ReturnPacket(_FAILED))
        elif head in _ENTER_HEADS:
            self._finish(self.input_name())

    def _send_line(self, result: LineResult, *, text: bool) -> None:
        if result.value is None:
            return
        # "Out[5]//TeXForm= " for a result in one of $OutputForms, as the Wolfram kernel names it
        form = f"//{result.form}" if result.form else ""
        name = OutputNamePacket(f"Out[{result.line}]{form}= ")
        body: Packet
        if self.result_format.bundles:
            bundle = self.backend.mime_bundle(result.value, self.result_format.options)
            if result.aborted:
                # The one thing the text cannot say: this $Aborted is an abort (Abort[], the
                # abort message, the interrupt menu), not a value such as TimeConstrained
                # returns. The front end fails the cell on this flag (docs/jupyter.md).
                metadata = bundle.get("metadata")
                metadata = dict(metadata) if isinstance(metadata, dict) else {}
                bundle = {**bundle, "metadata": {**metadata, "aborted": True}}
            body = ReturnExpressionPacket(bundle_result(bundle))
        elif text:
            body = ReturnTextPacket(self.backend.output_text(result.value))
        else:
            body = ReturnExpressionPacket(self.backend.to_wire(result.value))
        self.main.put(name, body)

    def evaluate_packet(self, expr: Any, host: LinkHost, *, side: bool = False) -> Any:
        """Evaluate the body of an ``EvaluatePacket`` (requests included); the wire result."""
        backend = self.backend
        try:
            request = parse_request(expr)
        except BadRequest as exc:
            log.info("%s", exc)
            return _FAILED
        match request:
            case None:
                return backend.to_wire(backend.evaluate(expr, host, side=side))
            case OpenParallelLinks():
                # Only the worker may open them: it answers on the main link meanwhile.
                return _FAILED if side or self.side_links is None else self.side_links(self)
            case Complete(prefix=prefix):
                return backend.complete(prefix)
            case Inspect(symbol=symbol):
                return backend.inspect(symbol)
            case IsComplete(code=code):
                return backend.is_complete(code)
            case SetResultFormat(kind=kind, options=options):
                self.result_format.kind = kind
                self.result_format.options = options if self.result_format.bundles else {}
                return kind
            case MIMEBundle(expr=body, options=options):
                value = backend.evaluate(body, host, side=side)
                return bundle_result(backend.mime_bundle(value, options, side=side))
        return _FAILED

    # -- preemptive and service links ----------------------------------------------------
    def attach_side_links(self, service: Link, preemptive: Link) -> None:
        """Start serving the preemptive link and reading the service link."""
        self.service = LinkWriter(service)
        self.preemptive = LinkWriter(preemptive)
        self.preemptive_host = LinkHost(
            self.preemptive, self.result_format, service=self.send_service
        )
        self.start_reader("preemptive", preemptive)
        self.start_reader("service", service)

    def _serve_preemptive(self, packet: Any) -> None:
        writer, host = self.preemptive, self.preemptive_host
        if writer is None or host is None:
            return
        match packet:
            case EvaluatePacket(expr=expr):
                try:
                    value = self.evaluate_packet(expr, host, side=True)
                except SystemExit:
                    value = _FAILED
                writer.put(*host.closing_packets(), ReturnPacket(value))
            case EnterTextPacket(text=text):
                # Read-only use of the parser/evaluator: no $Line, no In/Out on this link.
                value = self.backend.evaluate(Expr(Symbol("ToExpression"), text), host, side=True)
                text = self.backend.output_text(value)
                writer.put(*host.closing_packets(), ReturnTextPacket(text))
            case DroppedRequest(head=head, reason=reason):
                host.message("General", "linkread", f"General::linkread: The kernel could not "
                             f"read an expression from the front end: {reason}.")
                if head == _EVALUATE_HEAD:
                    writer.put(ReturnPacket(_FAILED))
                elif head == Symbol("EnterTextPacket"):
                    writer.put(ReturnTextPacket("$Failed"))
            case _:
                log.warning("ignoring unexpected packet on the preemptive link: %.200r", packet)

    def send_service(self, expr: Any) -> bool:
        """Send ``expr`` to the front end on the service link, at once, from any thread.

        For what is truly asynchronous (updates of widgets and ``Dynamic``): it is in no order
        with the main link. Output that belongs to a cell goes on the main link instead (the
        evaluation's host). False when the front end has opened no service link, or it failed.
        """
        if self.service is None:
            return False
        try:
            self.service.put_expr(expr)
        except LinkError as exc:
            log.info("service link: could not send: %s", exc)
            return False
        return True

    def _serve_service(self, expr: Any) -> None:
        if self.on_service is not None:
            self.on_service(expr)
        else:
            log.info("ignoring an expression on the service link: %.200r", expr)
