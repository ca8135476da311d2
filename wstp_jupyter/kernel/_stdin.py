"""Jupyter's stdin channel for ``Input[]`` and ``InputString[]``.

ipykernel's own ``raw_input`` blocks its caller until the front end replies and cannot be
cancelled from another thread. Here one request is one :class:`StdinChannel`: :meth:`ask` runs in
a worker thread (the kernel awaits it with ``asyncio.to_thread``), sends ``input_request`` on the
stdin socket to the front end that sent the cell, and polls for the ``input_reply`` in short
slices so that :meth:`cancel` -- called by ``interrupt_request`` -- ends the wait promptly.
The stdin socket is used by nothing else while a request is pending, so one thread owns it.
"""

from __future__ import annotations

import threading
from typing import Any

import zmq

from wstp_jupyter.kernel._errors import KernelError

_POLL_SLICE = 0.05  # seconds; bounds how late a cancel is noticed


class StdinUnavailable(KernelError):
    """The front end cannot answer input requests, or the request was cancelled."""


class StdinChannel:
    """One pending input request to the front end that sent ``parent``."""

    def __init__(self, kernel: Any, parent: Any, ident: Any) -> None:
        self._kernel = kernel
        self._parent = parent
        self._ident = ident
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop waiting (the user interrupted the cell)."""
        self._cancelled.set()

    def ask(self, prompt: str, *, password: bool = False) -> str:
        """Send ``input_request`` and return the front end's answer.

        Raises:
            StdinUnavailable: the wait was cancelled, or the front end sent EOF (Ctrl-D).
        """
        session = self._kernel.session
        socket = self._kernel.stdin_socket
        # Stale replies (from a request that was cancelled) must not answer this one.
        while True:
            try:
                socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
        content = {"prompt": prompt, "password": password}
        session.send(socket, "input_request", content, self._parent, ident=self._ident)
        while not self._cancelled.is_set():
            readable, _, failed = zmq.select([socket], [], [socket], _POLL_SLICE)
            if not (readable or failed):
                continue
            _, reply = session.recv(socket)
            if reply is None:
                continue
            value = str(reply.get("content", {}).get("value", ""))
            if value == "\x04":
                raise StdinUnavailable("input ended (EOF) before a line was entered")
            return value
        raise StdinUnavailable("the input request was interrupted")
