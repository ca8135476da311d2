"""The master's scheduler: jobs onto subkernels, output back, deaths and aborts survived.

How it works:

* A :class:`Job` is one ``EvaluatePacket`` worth of work (a batch of a ``ParallelMap``, one
  ``ParallelEvaluate`` on a given kernel, one ``ParallelSubmit``). Its expression is built per
  kernel at dispatch time (``prepare``), so the definitions a kernel still lacks travel with it.
* :class:`Cluster` holds the running subkernels and a queue of pending jobs. :meth:`Cluster.run`
  is called on the master's evaluating thread and returns when the given jobs are finished: it
  hands pending jobs to idle kernels and consumes the one queue into which every subkernel's
  reader thread files its packets. ``TextPacket`` (``Print``) and ``MessagePacket`` +
  ``TextPacket`` (messages) go to the :class:`Reporter` marked with the kernel, as
  ``(kernel n) text``; ``ReturnPacket`` finishes the kernel's job.
* A subkernel whose link ends (or whose wstpserver reports it dead) is dropped: its unfinished
  job goes back to the front of the queue for the others and the reporter says so; a job pinned
  to that kernel (``ParallelEvaluate``) fails. With no kernel left, :class:`NoKernels` is raised.
* Waits are short (50 ms) so that the master's abort, raised asynchronously in this thread,
  lands promptly; it is caught, every busy subkernel gets the abort urgent message, pending work
  is dropped, and the wait goes on until each busy kernel has answered (``$Aborted``) before the
  abort continues upward. The subkernels stay usable; one that does not answer within
  :data:`ABORT_GRACE` seconds is closed.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from wstp_jupyter.engine._subkernels import DIED, Subkernel
from wstp_jupyter.link import LinkError
from wstp_jupyter.wxf import Expr, Symbol

ABORT_GRACE = 20.0
_POLL = 0.05
ABORTED = Symbol("$Aborted")
FAILED = Symbol("$Failed")


class NoKernels(Exception):
    """Work remains but no subkernel is left to run it."""


class Reporter(Protocol):
    """Where a subkernel's output and the scheduler's notices go (the master's evaluation)."""

    def print_text(self, kernel: Subkernel, text: str) -> None:
        """A subkernel printed ``text`` (without its final newline)."""

    def message(self, kernel: Subkernel, symbol: str, tag: str, text: str) -> None:
        """A subkernel issued the message ``symbol::tag``; ``text`` is its formatted text."""

    def kernel_died(self, kernel: Subkernel, requeued: bool) -> None:
        """``kernel`` is gone; ``requeued``: it had unfinished work that others will do."""


@dataclass(eq=False)
class Job:
    """One evaluation on one subkernel.

    Attributes:
        prepare: builds the wire expression for the kernel that will run it.
        pin: the only kernel allowed to run it (``ParallelEvaluate``), else ``None``.
        state: ``pending``, ``running``, ``done``, ``failed`` (pinned kernel died) or
            ``aborted``.
        result: the wire value of its ``ReturnPacket`` once done.
    """

    prepare: Callable[[Subkernel], Any]
    pin: Subkernel | None = None
    state: str = "pending"
    result: Any = None
    kernel: Subkernel | None = None
    sent: bool = False  # set just before its packet is written (see Cluster.abort)
    id: int = field(default_factory=itertools.count(1).__next__)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "aborted")


def _head(expr: Any) -> str | None:
    return expr.head.name if isinstance(expr, Expr) and isinstance(expr.head, Symbol) else None


def _server_failure(value: Any) -> bool:
    """``Failure["WSTPServer", ...]``: the server answers so when the kernel behind it died."""
    return _head(value) == "Failure" and bool(value.args) and value.args[0] == "WSTPServer"


class Cluster:
    """The subkernels of this process and the jobs waiting for them."""

    def __init__(self) -> None:
        self.kernels: list[Subkernel] = []
        self.events: queue.Queue[tuple[Subkernel, Any]] = queue.Queue()
        self.pending: deque[Job] = deque()
        self.lock = threading.RLock()
        self._ids = itertools.count(1)

    # -- kernels -----------------------------------------------------------------------------

    def new_id(self) -> int:
        """The next kernel number (numbers are never reused, as in Wolfram's kernels)."""
        with self.lock:
            return next(self._ids)

    def add(self, kernel: Subkernel) -> None:
        with self.lock:
            self.kernels.append(kernel)
        kernel.start_reader(self.events)

    def close(self, kernels: Iterable[Subkernel]) -> list[Subkernel]:
        """Close ``kernels``; their pending pinned jobs fail. Returns those that were running."""
        closed: list[Subkernel] = []
        with self.lock:
            for k in list(kernels):
                if k in self.kernels:
                    self.kernels.remove(k)
                    closed.append(k)
            for job in [j for j in self.pending if j.pin in closed]:
                self.pending.remove(job)
                job.state, job.result = "failed", FAILED
        threads = [threading.Thread(target=k.close, daemon=True) for k in closed]
        for t in threads:  # closing waits for each process to exit: do it side by side
            t.start()
        for t in threads:
            t.join(10)
        return closed

    @property
    def count(self) -> int:
        return len(self.kernels)

    # -- jobs --------------------------------------------------------------------------------

    def submit(self, jobs: Iterable[Job]) -> None:
        """Queue jobs and start as many as idle kernels allow (they run in the background)."""
        with self.lock:
            self.pending.extend(jobs)
        self._dispatch()

    def run(self, jobs: list[Job], reporter: Reporter, *, until_any: bool = False) -> None:
        """Queue ``jobs`` (those not queued yet) and wait until every one of them is finished
        (with ``until_any``: until one is).

        Raises:
            NoKernels: unfinished work and no subkernel left; the unfinished jobs are dropped.
            BaseException: an abort (or anything else) raised while waiting, after the
                subkernels' work has been aborted and collected (see the module docstring).
        """
        with self.lock:
            queued = set(map(id, self.pending))
            self.pending.extend(j for j in jobs if j.state == "pending" and id(j) not in queued)
        try:
            done = any if until_any else all
            while not done(j.finished for j in jobs):
                self._dispatch()
                if not self.kernels:
                    self._drop(jobs)
                    raise NoKernels
                try:
                    kernel, packet = self.events.get(timeout=_POLL)
                except queue.Empty:
                    continue
                self._handle(kernel, packet, reporter)
        except NoKernels:
            raise
        except BaseException:
            self.abort(reporter)
            raise

    def drain(self, reporter: Reporter) -> None:
        """Handle what the subkernels sent while no one waited (output of submitted jobs, a
        death), without waiting; so a kernel that died while idle is gone before new work."""
        while True:
            try:
                kernel, packet = self.events.get_nowait()
            except queue.Empty:
                return
            self._handle(kernel, packet, reporter)

    def _drop(self, jobs: list[Job]) -> None:
        with self.lock:
            for job in jobs:
                if not job.finished:
                    if job in self.pending:
                        self.pending.remove(job)
                    job.state, job.result = "failed", FAILED

    def _dispatch(self) -> None:
        with self.lock:
            for kernel in list(self.kernels):
                if kernel.job is not None or not kernel.alive:
                    continue
                job = next((j for j in self.pending if j.pin is None or j.pin is kernel), None)
                if job is None:
                    continue
                self.pending.remove(job)
                expr = job.prepare(kernel)
                job.state, job.kernel, job.sent, kernel.job = "running", kernel, False, job
                job.sent = True
                try:
                    kernel.send(expr)
                except LinkError:
                    pass  # its reader files DIED; the job is requeued then

    def _handle(self, kernel: Subkernel, packet: Any, reporter: Reporter) -> None:
        if packet is DIED:
            if kernel in self.kernels:
                self._died(kernel, reporter)
            return
        head = _head(packet)
        args = packet.args if isinstance(packet, Expr) else ()
        if head == "ReturnPacket":
            value = args[0] if args else None
            if _server_failure(value):
                self._died(kernel, reporter)
                return
            job, kernel.job = kernel.job, None
            kernel.message = None
            if job is not None and job.state == "running":
                job.state, job.result = "done", value
                kernel.jobs_done += 1
        elif head == "MessagePacket" and len(args) == 2:
            symbol = args[0].name if isinstance(args[0], Symbol) else str(args[0])
            kernel.message = (symbol.removeprefix("System`"), str(args[1]))
        elif head == "TextPacket" and args and isinstance(args[0], str):
            text = args[0][:-1] if args[0].endswith("\n") else args[0]
            if kernel.message is not None:
                (symbol, tag), kernel.message = kernel.message, None
                reporter.message(kernel, symbol, tag, text)
            else:
                reporter.print_text(kernel, text)
        elif head in ("InputPacket", "InputStringPacket"):
            # A subkernel has no one to ask: Input[] there gets EndOfFile.
            try:
                kernel.link.put(Expr(Symbol("ReturnPacket"), None))
            except LinkError:
                pass

    def _died(self, kernel: Subkernel, reporter: Reporter) -> None:
        with self.lock:
            if kernel in self.kernels:
                self.kernels.remove(kernel)
            job, kernel.job = kernel.job, None
            requeued = False
            if job is not None and job.state == "running":
                if job.pin is None:
                    job.state, job.kernel = "pending", None
                    self.pending.appendleft(job)
                    requeued = True
                else:
                    job.state, job.result = "failed", FAILED
            for pinned in [j for j in self.pending if j.pin is kernel]:
                self.pending.remove(pinned)
                pinned.state, pinned.result = "failed", FAILED
        threading.Thread(target=kernel.close, daemon=True).start()
        reporter.kernel_died(kernel, requeued)

    # -- abort -------------------------------------------------------------------------------

    def abort(self, reporter: Reporter) -> None:
        """Abort every running job, drop the pending ones, and wait for the busy kernels."""
        with self.lock:
            for job in self.pending:
                job.state, job.result = "aborted", ABORTED
            self.pending.clear()
            busy = [k for k in self.kernels if k.job is not None]
            for kernel in [k for k in busy if not k.job.sent]:
                # The abort landed between handing the job out and writing it: nothing to
                # wait for. (A job marked sent whose packet never left costs a closed kernel
                # after ABORT_GRACE, never a result attributed to the wrong job.)
                kernel.job.state, kernel.job.result, kernel.job = "aborted", ABORTED, None
                busy.remove(kernel)
            for kernel in self.kernels:
                # A definition may have been cut short, or marked sent and never written:
                # every kernel gets the definitions again.
                kernel.distributed.clear()
        for kernel in busy:
            kernel.abort()
        deadline = time.monotonic() + ABORT_GRACE
        while any(k.job is not None and k in self.kernels for k in busy):
            if time.monotonic() > deadline:
                self.close([k for k in busy if k.job is not None])
                break
            try:
                kernel, packet = self.events.get(timeout=_POLL)
                job = kernel.job
                self._handle(kernel, packet, reporter)
                if job is not None and job.state == "done":
                    job.state, job.result = "aborted", ABORTED
            except queue.Empty:
                continue
            except BaseException:  # a second abort while collecting: keep collecting
                continue
        with self.lock:  # a dying kernel's job may have been queued again meanwhile
            for job in self.pending:
                job.state, job.result = "aborted", ABORTED
            self.pending.clear()


__all__ = ["ABORTED", "FAILED", "Cluster", "Job", "NoKernels", "Reporter"]
