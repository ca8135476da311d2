"""Ending a child process in stages, the one way every layer does it.

A kernel process quits by itself when its link closes, so the polite request is closing the
link; the stages after it are the ones jupyter_client's local provisioner uses::

    close the link(s)  -> wait ``grace`` s
    SIGTERM            -> wait ``grace`` s
    SIGKILL            -> wait until reaped

A signal goes to the child's whole process group when the child leads one (it was started with
``start_new_session=True``, as the server starts its kernels), so helpers it started end with it;
otherwise to the child alone, never to our own group. The stages live in :data:`STAGES`; the two
drivers differ only in how they wait: :func:`stop` blocks on a ``subprocess.Popen``,
:func:`stop_async` awaits an ``asyncio.subprocess.Process``. Both are idempotent and return the
exit status (negative: ended by that signal).

This module sits outside the layers (it imports nothing of the package) so the link layer's
launcher, the engine's launcher and the server may all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from typing import Final

#: Seconds each polite stage gets before the next, harsher one.
DEFAULT_GRACE: Final = 3.0
#: What each stage sends: ``None`` for "the caller's close, then wait".
STAGES: Final[tuple[signal.Signals | None, ...]] = (None, signal.SIGTERM, signal.SIGKILL)


def send_signal(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to ``pid``'s process group if it leads its own, else to ``pid`` alone.

    A process that is already gone is not an error.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid and pid != os.getpgrp():
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _run_close(close: Callable[[], None] | None) -> None:
    if close is not None:
        # The link may already be broken; the signals that follow still end the process.
        with contextlib.suppress(Exception):
            close()


def stop(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str],
    *,
    close: Callable[[], None] | None = None,
    grace: float = DEFAULT_GRACE,
) -> int:
    """End ``proc`` in stages: ``close()``, wait, SIGTERM, wait, SIGKILL, reap.

    Args:
        proc: the child.
        close: the polite request (closing its links); errors it raises are ignored.
        grace: seconds to wait after the request and after SIGTERM.

    Returns:
        The exit status.
    """
    for _ in _stages(proc.pid, lambda: proc.poll() is not None, close):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    return int(proc.wait())


def _stages(
    pid: int, exited: Callable[[], bool], close: Callable[[], None] | None
) -> Iterator[None]:
    """The stages of :func:`stop`, without the waiting: each ``yield`` is where the caller
    waits up to the grace period for the process to exit (blocking or awaited)."""
    asked = False
    for sig in STAGES:
        if exited():
            break
        if sig is None:
            _run_close(close)
            asked = True
        else:
            send_signal(pid, sig)
        if sig is signal.SIGKILL:
            break
        yield
    if not asked:  # a child that had already exited still leaves our end of its links
        _run_close(close)


async def stop_async(
    proc: asyncio.subprocess.Process,
    *,
    close: Callable[[], None] | None = None,
    grace: float = DEFAULT_GRACE,
) -> int:
    """:func:`stop` for an ``asyncio.subprocess.Process``; the same stages, awaited.

    Cancelling the caller does not cut the stages short: the process is always reaped, so a
    server shutting down never leaves a kernel behind.
    """
    task = asyncio.ensure_future(_stop_async(proc, close, grace))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def _stop_async(
    proc: asyncio.subprocess.Process, close: Callable[[], None] | None, grace: float
) -> int:
    for _ in _stages(proc.pid, lambda: proc.returncode is not None, close):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), grace)
    return await proc.wait()


__all__ = ["DEFAULT_GRACE", "STAGES", "send_signal", "stop", "stop_async"]
