"""Functions over several links: ``channel`` (a connected pair) and ``wait_ready``
(``LinkReadyQ`` over a group)."""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Iterable

from wstp_jupyter.link._constants import ErrorCode
from wstp_jupyter.link._errors import LocalProtocolError
from wstp_jupyter.link._handshake import remaining
from wstp_jupyter.link._link import Link
from wstp_jupyter.link._names import Protocol


def wait_ready(links: Iterable[Link], timeout: float | None = None) -> list[Link]:
    """The links that have an expression ready, waiting up to ``timeout`` seconds for one
    (``LinkReadyQ`` over several links). Returns ``[]`` on timeout."""
    group = list(links)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        ready = [link for link in group if link.ready(0)]
        if ready:
            return ready
        left = remaining(deadline)
        if left == 0:
            return []
        fds = [fd for fd in (link._select_fd() for link in group) if fd >= 0]
        # Links read by their own thread (or loopbacks) have no descriptor to wait on; poll.
        slice_ = 0.005 if len(fds) < len(group) else left
        if slice_ is not None and left is not None:
            slice_ = min(slice_, left)
        if fds:
            select.select(fds, [], [], slice_)
        else:
            time.sleep(slice_ or 0.005)


def channel(
    protocol: Protocol | str = Protocol.IntraProcess,
    *,
    key: bytes | str | None = None,
    timeout: float = 10.0,
) -> tuple[Link, Link]:
    """Two connected, active links (the listening end first), as wstp-rs ``channel``.

    Raises:
        LocalProtocolError: ``Loopback`` (a loopback link is one object: ``Link.loopback()``).
    """
    proto = Protocol.parse(protocol)
    if proto is Protocol.Loopback:
        raise LocalProtocolError(
            "a loopback link has one end; use Link.loopback()", ErrorCode.WSEBADPARAM
        )
    a = Link.listen(proto, None, key=key)
    b = Link.connect(proto, a.name, key=key)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            a.activate(timeout)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="wstp-channel")
    thread.start()
    try:
        b.activate(timeout)
    finally:
        thread.join()
    if failure:
        b.close()
        a.close()
        raise failure[0]
    return a, b
