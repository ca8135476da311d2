"""The kernel's main loop: packets in, evaluations in a worker thread, packets out.

Threads and who does what:

* a **reader thread per link** blocks in ``link.get()``; the preemptive and service links queue
  ``(source, packet)`` events for the loop thread; the main link's urgent messages arrive on the
  link's own thread and are handled at once (abort) or queued (interrupt, terminate);
* the **main link's reader thread** routes its packets: in order to the worker's job queue,
  except that a packet arriving while the worker waits for the front end (``Input[]``, the
  interrupt menu, the parallel-links exchange) is that answer;
* the **loop thread** (``MainLoop.run``) handles the other events: preemptive-link packets are
  answered right here, without waiting for the worker; interrupts, service-link answers, exit;
* the **worker thread** evaluates, writing ``TextPacket``/``MessagePacket`` while it runs and the
  result packets when done.

Writes to a link are serialised by a per-link lock (the worker and the loop both write to the
main link). The packet sequences are documented in ``docs/engine.md``.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from typing import Any

from wstp_jupyter.engine._backend import Backend, LineResult
from wstp_jupyter.engine._requests import NOT_A_REQUEST, ResultFormat, handle_request
from wstp_jupyter.link import Link, LinkClosed, LinkError, UrgentMessage
from wstp_jupyter.wxf import Expr, Symbol

log = logging.getLogger("wstp_jupyter.engine")

INTERRUPT_MENU_TITLE = "Interrupt> "
SERVICE_ACK_TIMEOUT = 10.0  # seconds an evaluation waits for the front end to show an item
INTERRUPT_MENU_HELP = (
    "Interrupt menu: a - abort the evaluation, c - continue, e - exit the kernel, "
    "s - show the input being evaluated"
)


def packet(head: str, *args: Any) -> Expr:
    return Expr(Symbol(head), *args)


def packet_head(expr: Any) -> str | None:
    if isinstance(expr, Expr) and isinstance(expr.head, Symbol):
        return str(expr.head.name)
    return None


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class LinkWriter:
    """Serialises writes to one link from several threads and counts the packets written.

    ``count`` is what service-link items are ordered against (see :meth:`MainLoop.send_service`);
    the worker resets it when an evaluation starts.
    """

    def __init__(self, link: Link) -> None:
        self.link = link
        self.lock = threading.Lock()
        self.count = 0

    def put(self, *exprs: Any) -> None:
        with self.lock:
            # Packets that belong together (Out name and result, a message and its text) go
            # out in one write: one wake-up of the front end instead of several.
            self.link.put_many(*exprs)
            self.count += len(exprs)


class LinkHost:
    """The ``Host`` an evaluation talks to: output goes to one link as packets."""

    def __init__(self, loop: MainLoop, writer: LinkWriter, *, main: bool) -> None:
        self.loop = loop
        self.writer = writer
        self.main = main

    def print_text(self, text: str) -> None:
        self.writer.put(packet("TextPacket", text + "\n"))

    def message(self, symbol: str, tag: str, text: str) -> None:
        self.writer.put(packet("MessagePacket", Symbol(symbol), tag), packet("TextPacket", text))

    def request_input(self, prompt: str, *, string: bool) -> str | None:
        if not self.main:
            return None
        head = "InputStringPacket" if string else "InputPacket"
        reply = self.loop.ask_front_end(packet(head, prompt))
        return reply_text(reply)

    def display(self, bundle: dict[str, Any], *, temporary: bool) -> bool:
        return self.loop.send_display(bundle, temporary=temporary, ordered=self.main)

    def clear_output(self, *, wait: bool) -> bool:
        return self.loop.send_clear_output(wait=wait, ordered=self.main)


def reply_text(reply: Any) -> str | None:
    """The text of a front-end answer: ``EnterTextPacket[s]``, ``TextPacket[s]``,
    ``ReturnTextPacket[s]``, ``ReturnPacket[s]`` or a bare string."""
    if isinstance(reply, str):
        return reply
    if (
        packet_head(reply)
        in (
            "EnterTextPacket",
            "TextPacket",
            "ReturnTextPacket",
            "ReturnPacket",
        )
        and len(reply.args) == 1
        and isinstance(reply.args[0], str)
    ):
        return str(reply.args[0])
    return None


class MainLoop:
    """Drives one backend from one main link (plus optional preemptive and service links)."""

    def __init__(self, backend: Backend, link: Link, *, parallel: Any = None) -> None:
        self.backend = backend
        self.main = LinkWriter(link)
        self.main_host = LinkHost(self, self.main, main=True)
        self.preemptive: LinkWriter | None = None
        self.preemptive_host: LinkHost | None = None
        self.service: LinkWriter | None = None
        self.parallel = parallel  # callable that opens the parallel links (see _parallel)
        self.result_format = ResultFormat()
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.jobs: queue.Queue[Any] = queue.Queue()
        self.replies: queue.Queue[Any] = queue.Queue()
        self.waiting_reply = threading.Event()
        self.busy = threading.Event()
        # Which main-link requests an urgent message can still reach: the reader counts the
        # expressions it has routed and the jobs it has queued; a job counts as finished when
        # its last packet (prompt or ReturnPacket) is written, which is when the front end
        # considers it over. Abort and interrupt compare these with ``Link.received`` (see
        # ``_jobs_sent_before``).
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
        self._display_ids = itertools.count(1)
        self._serials = itertools.count(1)
        self._temporary: list[str] = []
        self.acks: queue.Queue[Any] = queue.Queue()  # serials the front end has handled

    # -- lifecycle ---------------------------------------------------------------------
    def run(self) -> int:
        """Serve until ``Quit[]``, a terminate message or the main link closing; return the
        process exit code."""
        link = self.main.link
        link.set_message_handler(self._on_message)
        self.start_reader("main", link)
        threading.Thread(target=self._worker, name="engine-worker", daemon=True).start()
        self.main.put(self.input_name())
        while self.exit_code is None:
            source, item = self.events.get()
            if source == "exit":
                self.exit_code = int(item)
            elif source == "preemptive":
                self._serve_preemptive(item)
            elif source == "interrupt":
                self._interrupt(int(item))
            elif source == "service":
                self._service_reply(item)
            elif source == "closed":
                if item == "main":
                    self.exit_code = 0
                else:
                    log.info("%s link closed", item)
        return self.exit_code

    def start_reader(self, name: str, link: Link) -> None:
        """Read ``link`` on a thread of its own. Main-link packets are routed right there (one
        thread hop less on every request's latency path); the rest go to the loop thread."""

        def read() -> None:
            while True:
                try:
                    expr = link.get()
                except LinkClosed:
                    break
                except LinkError as exc:
                    log.warning("%s link failed: %s", name, exc)
                    break
                if name == "main":
                    self._route_main(expr)
                    self._routed += 1
                else:
                    self.events.put((name, expr))
            self.events.put(("closed", name))

        threading.Thread(target=read, name=f"engine-read-{name}", daemon=True).start()

    def input_name(self) -> Expr:
        return packet("InputNamePacket", f"In[{self.backend.next_line()}]:= ")

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
            self.main.put(packet("MenuPacket", 1, INTERRUPT_MENU_TITLE))

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
            self.main.put(
                packet("TextPacket", shown), packet("MenuPacket", 1, INTERRUPT_MENU_TITLE)
            )
        else:
            self.main.put(
                packet("TextPacket", INTERRUPT_MENU_HELP),
                packet("MenuPacket", 1, INTERRUPT_MENU_TITLE),
            )

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
            expr = self.jobs.get()
            self.main.count = 0  # service items of this evaluation count from here
            self.busy.set()
            try:
                self._job(expr)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
                self.events.put(("exit", code))
                return
            except LinkClosed:
                self.events.put(("exit", 0))
                return
            except BaseException:  # a stray async abort or a bug must not kill the kernel
                log.exception("evaluation of a packet failed")
                self._recover(expr)
            finally:
                with self._requests_lock:
                    if not self._job_finished:  # ended without a last packet
                        self._finished += 1
                        self.backend.clear_pending()
                    self._job_finished = self._job_written = False
                    self.busy.clear()
                self._clear_temporary()

    def _recover(self, expr: Any) -> None:
        """After an internal failure, still end the exchange so the front end never hangs."""
        head = packet_head(expr)
        try:
            if self._job_written:
                return
            if head == "EvaluatePacket":
                self._finish(packet("ReturnPacket", Symbol("$Failed")))
            elif head in ("EnterTextPacket", "EnterExpressionPacket"):
                self._finish(self.input_name())
        except BaseException:
            log.exception("could not report the failure to the front end")

    def _finish(self, *packets: Any) -> None:
        """Write the current job's last packets; from then on it is over for urgent messages
        too (an abort or hold still pending for it is dropped, not left for the next job)."""
        with self._requests_lock:
            # Before the write: a request the front end sends once it has read these packets
            # must find this job over. (Not during it: a large result must not keep the link's
            # reader, which runs the message handler, waiting for the lock.)
            if not self._job_finished:  # (counted once, even when _recover writes again)
                self._finished += 1
                self._job_finished = True
            self.backend.clear_pending()
        self.main.put(*packets)
        self._job_written = True

    def _job(self, expr: Any) -> None:
        head = packet_head(expr)
        args = expr.args if isinstance(expr, Expr) else ()
        if head == "EnterTextPacket" and len(args) == 1 and isinstance(args[0], str):
            self._enter_text(args[0])
        elif head == "EnterExpressionPacket" and len(args) == 1:
            self.current_input = str(args[0])[:200]
            self._send_line(self.backend.run_line(args[0], self.main_host), text=False)
            self._clear_temporary(ordered=True)
            self._finish(self.input_name())
        elif head == "EvaluatePacket" and len(args) == 1:
            self._finish(packet("ReturnPacket", self.evaluate_packet(args[0], self.main_host)))
        else:
            log.warning("ignoring unexpected packet on the main link: %.200r", expr)

    def _enter_text(self, text: str) -> None:
        self.current_input = text[:200]
        issue = self.backend.check_syntax(text, self.main_host)
        if issue is not None:
            self._finish(packet("SyntaxPacket", issue.position), self.input_name())
            return
        for result in self.backend.run_cell(text, self.main_host):
            self._send_line(result, text=True)
        # Temporary displays vanish before the prompt, so the cell's output is final when the
        # front end sees the cell end (nbconvert stops collecting output there).
        self._clear_temporary(ordered=True)
        self._finish(self.input_name())

    def _send_line(self, result: LineResult, *, text: bool) -> None:
        if result.value is None:
            return
        name = packet("OutputNamePacket", f"Out[{result.line}]= ")
        if self.result_format.kind == "MIMEBundle":
            bundle = self.backend.mime_bundle(result.value, self.result_format.options)
            body = packet("ReturnExpressionPacket", Expr(Symbol("WSTPJupyter`MIMEBundle"), bundle))
        elif text:
            body = packet("ReturnTextPacket", self.backend.output_text(result.value))
        else:
            body = packet("ReturnExpressionPacket", self.backend.to_wire(result.value))
        self.main.put(name, body)

    def evaluate_packet(self, expr: Any, host: LinkHost, *, side: bool = False) -> Any:
        """Evaluate the body of an ``EvaluatePacket`` (requests included); the wire result."""
        if packet_head(expr) == "WSTPJupyter`OpenParallelLinks" and not side:
            if self.parallel is None:
                return Symbol("$Failed")
            result: Any = self.parallel(self)
            return result
        answer = handle_request(expr, self.backend, host, self.result_format, side=side)
        if answer is not NOT_A_REQUEST:
            return answer
        return self.backend.to_wire(self.backend.evaluate(expr, host, side=side))

    # -- preemptive and service links ----------------------------------------------------
    def attach_parallel(self, service: Link, preemptive: Link) -> None:
        """Start serving the preemptive link and writing display requests to the service link."""
        self.service = LinkWriter(service)
        self.preemptive = LinkWriter(preemptive)
        self.preemptive_host = LinkHost(self, self.preemptive, main=False)
        self.start_reader("preemptive", preemptive)
        self.start_reader("service", service)

    def _serve_preemptive(self, expr: Any) -> None:
        writer, host = self.preemptive, self.preemptive_host
        if writer is None or host is None:
            return
        head = packet_head(expr)
        args = expr.args if isinstance(expr, Expr) else ()
        if head == "EvaluatePacket" and len(args) == 1:
            try:
                value = self.evaluate_packet(args[0], host, side=True)
            except SystemExit:
                value = Symbol("$Failed")
            writer.put(packet("ReturnPacket", value))
        elif head == "EnterTextPacket" and len(args) == 1 and isinstance(args[0], str):
            # Read-only use of the parser/evaluator: no $Line, no In/Out on this link.
            value = self.backend.evaluate(Expr(Symbol("ToExpression"), args[0]), host, side=True)
            writer.put(packet("ReturnTextPacket", self.backend.output_text(value)))
        else:
            log.warning("ignoring unexpected packet on the preemptive link: %.200r", expr)

    def send_display(self, bundle: dict[str, Any], *, temporary: bool, ordered: bool) -> bool:
        """Send ``WSTPJupyter`DisplayData[bundle, id, temporary, seq]`` on the service link.

        False when there is no service link (the caller then prints the plain text).
        """
        if self.service is None:
            return False
        display_id = f"display-{next(self._display_ids)}"
        if temporary:
            self._temporary.append(display_id)
        self.send_service("DisplayData", bundle, display_id, temporary, ordered=ordered)
        return True

    def send_clear_output(self, *, wait: bool, ordered: bool) -> bool:
        """Send ``WSTPJupyter`ClearOutput[wait, seq]``; False (nothing sent) without a service
        link."""
        if self.service is None:
            return False
        self.send_service("ClearOutput", wait, ordered=ordered)
        return True

    def send_service(self, name: str, *args: Any, ordered: bool) -> None:
        """Write ``WSTPJupyter`name[args..., seq]`` on the service link, in order with the main
        link.

        ``seq`` is ``<|"Serial" -> n, "After" -> m|>``: ``n`` numbers the item, ``m`` is how many
        main-link packets this evaluation wrote before it, so a front end that reads the two
        links separately can show it right after the ``m``-th packet. When the front end asked
        for acknowledgements (``"ServiceAcknowledgements" -> True`` in ``SetResultFormat``), an
        ``ordered`` item (one from the evaluating worker) also waits until the front end answers
        ``WSTPJupyter`ServiceDone[n]``: nothing the evaluation writes afterwards can then
        overtake it. Items from the loop thread (preemptive evaluations) never wait: the loop is
        the thread that reads the answers.
        """
        assert self.service is not None
        serial = next(self._serials)
        after = self.main.count if ordered else 0
        seq = {"Serial": serial, "After": after}
        self.service.put(Expr(Symbol("WSTPJupyter`" + name), *args, seq))
        if ordered and self.result_format.options.get("ServiceAcknowledgements") is True:
            self._await_ack(serial)

    def _await_ack(self, serial: int) -> None:
        deadline = time.monotonic() + SERVICE_ACK_TIMEOUT
        while True:
            # Short waits so an asynchronous abort reaches this (evaluating) thread promptly.
            try:
                if self.acks.get(timeout=0.05) == serial:
                    return
            except queue.Empty:
                if time.monotonic() > deadline:
                    log.warning("no acknowledgement of service item %d; going on", serial)
                    return

    def _service_reply(self, expr: Any) -> None:
        if packet_head(expr) == "WSTPJupyter`ServiceDone" and len(expr.args) == 1:
            if self.result_format.options.get("ServiceAcknowledgements") is True:
                self.acks.put(expr.args[0])
        else:
            log.info("ignoring unexpected expression on the service link: %.200r", expr)

    def _clear_temporary(self, *, ordered: bool = False) -> None:
        if self.service is None or not self._temporary:
            return
        ids, self._temporary = self._temporary, []
        try:
            for display_id in ids:
                self.send_service("ClearDisplay", display_id, ordered=ordered)
        except LinkError:
            log.info("service link gone; temporary displays not cleared")
