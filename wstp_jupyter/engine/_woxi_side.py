"""A second Woxi session on a thread of the engine process, for requests that cannot wait.

Woxi keeps its session per thread, so one dedicated thread runs every job given to
:meth:`SideSession.call` (preemptive evaluations, completeness checks, usage of built-ins) while
the worker process is busy with the main evaluation. It knows the built-in functions, not the
user's definitions (those live in the worker).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

from wstp_jupyter.engine import _stack


class SideSession:
    """A Woxi session on a dedicated thread of the engine process (state is per thread)."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], queue.Queue[Any]]] = queue.Queue()
        # Woxi recurses on this thread's C stack: give it the evaluating threads' large one.
        _stack.start_thread(self._run, "engine-woxi-side")

    def _run(self) -> None:
        import woxi

        while True:
            job, answer = self._jobs.get()
            try:
                answer.put((True, job(woxi)))
            except BaseException as exc:
                answer.put((False, exc))

    def call(self, job: Callable[[Any], Any]) -> Any:
        answer: queue.Queue[Any] = queue.Queue()
        self._jobs.put((job, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value
