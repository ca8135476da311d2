"""Subkernels: kernel specifications, launching, and one link per subkernel.

A subkernel is one of this project's own kernel processes, reached over an ordinary main link and
driven with ``EvaluatePacket`` / ``ReturnPacket`` (expressions travel as WXF):

* **local** subkernels are started by this process (``python -m wstp_jupyter.engine -wstp``,
  through :func:`wstp_jupyter.engine._process.launch`), so each costs a cold Mathics3 start;
* **wstp://** subkernels are handed out by a wstpserver pool marked ``ParallelKernels``: a new
  link to the server sends ``WSTPServer`ConnectPool[pool, "Parallel" -> True]`` and is bridged to
  a warm kernel (milliseconds). With no pool in the URL the server picks its
  ``ParallelKernelDefault`` pool. The authentication key, when the server needs one, comes from
  the ``WSTPSERVER_KEY`` environment variable of the master.

Every subkernel is told its number first (``WSTPJupyter`SubkernelInit[id]``, which sets
``$KernelID`` there). After that a reader thread per subkernel files every packet it sends, and
its death (the link closing), into one queue that the scheduler (``_parallel_jobs``) consumes.

Specifications (``LaunchKernels``, ``$ConfiguredKernels``, ``$DefaultParallelKernels``):
``n`` (``n`` local kernels), ``"local"``, ``"local?n"``, ``"wstp://host[:port][/pool][?n]"``,
and ``{url, n}``; :func:`parse_spec` turns one into ``(url, count)`` pairs.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wstp_jupyter.link import Link, LinkClosed, LinkError, Protocol, UrgentMessage
from wstp_jupyter.wxf import Expr, Symbol

log = logging.getLogger("wstp_jupyter.engine")

LOCAL = "local"
DEFAULT_PORT = 31415  # wstpserver's default port
KEY_ENV = "WSTPSERVER_KEY"
INIT_TIMEOUT = 120.0  # a cold Mathics3 start on a busy machine takes seconds, not minutes
DIED = object()  # filed into the queue when a subkernel's link ends


class SpecError(ValueError):
    """A kernel specification that cannot be understood (the message says why)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where subkernels come from: ``local`` or a wstpserver (host, port, pool or ``None``)."""

    url: str
    host: str = ""
    port: int = 0
    pool: str | None = None

    @property
    def local(self) -> bool:
        return self.url == LOCAL


def parse_url(text: str) -> tuple[Target, int | None]:
    """``"local"``, ``"local?n"``, ``"wstp://host[:port][/pool][?n]"`` -> (target, count or None).

    Raises:
        SpecError: another scheme, no host, a bad port or count.
    """
    text = text.strip()
    count: int | None = None
    base, _, query = text.partition("?")
    if query:
        if not query.isdigit() or int(query) < 1:
            raise SpecError(f"bad kernel count {query!r} in {text!r}")
        count = int(query)
    if base.lower() == LOCAL:
        return Target(LOCAL), count
    parts = urllib.parse.urlsplit(base)
    if parts.scheme.lower() != "wstp":
        raise SpecError(f"{text!r} is not a kernel specification (use \"local\" or "
                        "\"wstp://host:port/pool\")")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise SpecError(f"bad port in {text!r}") from None
    host = parts.hostname or ""
    if not host:
        raise SpecError(f"no host in {text!r}")
    pool = urllib.parse.unquote(parts.path.strip("/")) or None
    where = host if ":" not in host else f"[{host}]"
    shown = f"wstp://{where}:{port}" + (f"/{pool}" if pool else "")
    return Target(shown, host, port, pool), count


class Subkernel:
    """One running subkernel: its number, where it came from, its link and how to end it.

    ``job`` is the scheduler's current job on it (``None`` when idle); ``distributed`` maps a
    symbol name to the definition stamp last sent to it; ``message`` holds the head of a
    ``MessagePacket`` until its text arrives.
    """

    def __init__(self, kernel_id: int, target: Target, link: Link,
                 closer: Callable[[], None]) -> None:
        self.id = kernel_id
        self.target = target
        self.link = link
        self._closer = closer
        self.alive = True
        self.job: Any = None
        self.distributed: dict[str, int] = {}
        self.message: tuple[str, str] | None = None
        self.jobs_done = 0

    @property
    def name(self) -> str:
        return self.target.url

    def send(self, expr: Any) -> None:
        """Write ``EvaluatePacket[expr]``. Raises ``LinkError`` when the link is gone."""
        self.link.put(Expr(Symbol("EvaluatePacket"), expr))

    def abort(self) -> None:
        """Send the abort urgent message (its running evaluation returns ``$Aborted``)."""
        try:
            self.link.put_message(UrgentMessage.ABORT)
        except LinkError:
            pass

    def start_reader(self, events: queue.Queue[tuple[Subkernel, Any]]) -> None:
        """File every packet, then :data:`DIED` once the link ends, into ``events``."""

        def read() -> None:
            while True:
                try:
                    packet = self.link.get()
                except (LinkClosed, LinkError):
                    break
                events.put((self, packet))
            events.put((self, DIED))

        threading.Thread(target=read, name=f"subkernel-{self.id}", daemon=True).start()

    def close(self) -> None:
        """End the subkernel (idempotent); local processes are stopped, server kernels closed."""
        self.alive = False
        try:
            self._closer()
        except Exception:  # closing must never raise into an evaluation
            log.exception("closing subkernel %d failed", self.id)

    def __repr__(self) -> str:
        return f"<Subkernel {self.id} {self.name} {'alive' if self.alive else 'closed'}>"


def _head(expr: Any) -> str | None:
    return expr.head.name if isinstance(expr, Expr) and isinstance(expr.head, Symbol) else None


def _initialize(link: Link, kernel_id: int, timeout: float) -> None:
    """Tell a fresh subkernel its number; skip whatever it sent before (its prompt)."""
    link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPJupyter`SubkernelInit"), kernel_id)))
    deadline = time.monotonic() + timeout
    while True:
        packet = link.get(timeout=max(0.0, deadline - time.monotonic()))
        if isinstance(packet, Expr) and _head(packet) == "ReturnPacket":
            value = packet.args[0] if packet.args else None
            if value is not True:
                raise LinkError(f"the kernel did not accept to be a subkernel: {value}")
            return


def launch_local(kernel_id: int, timeout: float = INIT_TIMEOUT) -> Subkernel:
    """Start a local subkernel process and initialize it.

    Raises:
        StartupError, LinkError: it could not be started or did not answer.
    """
    from wstp_jupyter.engine._process import launch

    process = launch(startup_timeout=timeout)
    try:
        _initialize(process.link, kernel_id, timeout)
    except BaseException:
        process.close(timeout=1.0)
        raise

    def close() -> None:
        process.close(timeout=2.0)

    return Subkernel(kernel_id, Target(LOCAL), process.link, close)


def launch_remote(kernel_id: int, target: Target, timeout: float = INIT_TIMEOUT) -> Subkernel:
    """Take a subkernel from a wstpserver pool and initialize it.

    Raises:
        LinkError: the server cannot be reached; ``AttachError``: the server refused (no such
            pool, the pool serves no parallel kernels, the pool is exhausted).
    """
    from wstp_jupyter.server.client import call

    key = os.environ.get(KEY_ENV) or None
    # A link in connect mode waits for its listener (WSTP's semantics); probing the port first
    # turns "nothing listens there" into an immediate, clear failure.
    try:
        socket.create_connection((target.host, target.port), timeout=10.0).close()
    except OSError as exc:
        raise LinkError(f"no wstpserver answers at {target.host}:{target.port} ({exc})") from None
    link = Link.connect(Protocol.TCPIP, f"{target.port}@{target.host}", key=key)
    try:
        link.activate(timeout=min(timeout, 30.0))
        args = (target.pool,) if target.pool else ()
        call(link, "ConnectPool", *args, timeout=timeout, Parallel=True)
        _initialize(link, kernel_id, timeout)
    except BaseException:
        link.close()
        raise

    def close() -> None:
        # Not waited for: the subkernel's reader thread owns the link's input. The server reads
        # the command before it sees the link close; either way the kernel is not kept (the
        # server never keeps a subkernel alive), so the pool replaces it with a fresh one.
        try:
            link.put_message(UrgentMessage.ABORT)
            link.put(Expr(Symbol("EvaluatePacket"), Expr(Symbol("WSTPServer`CloseKernel"))))
        except LinkError:
            pass
        link.close()

    return Subkernel(kernel_id, target, link, close)


__all__ = ["DIED", "LOCAL", "SpecError", "Subkernel", "Target", "launch_local",
           "launch_remote", "parse_url"]
