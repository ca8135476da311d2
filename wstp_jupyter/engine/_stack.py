"""Room for deep expressions: large thread stacks and a recursion limit that fits them.

A result such as ``Nest[f, x, 5000]`` is a tree 5000 levels deep, and the code that evaluates,
formats, converts and renders it recurses once or more per level (the OutputForm printer four
Python calls a level). With Python's default recursion limit (1000) such a result could not be
printed at all; the Wolfram kernel prints it. So the kernel process:

* raises the interpreter's recursion limit to :data:`RECURSION_LIMIT` (:func:`set_limit`; the
  Mathics3 backend raises it further for a larger ``$RecursionLimit``, up to
  :data:`MAX_RECURSION_LIMIT`), and
* runs every thread that evaluates or formats (the main loop's worker and loop threads) with
  :data:`STACK_SIZE` bytes of stack (:func:`start_thread`, :func:`run`), so that the deepest
  recursion allowed still fits: Python calls made through C (a builtin calling back, a
  property, ``isinstance`` with an ABC) cost the C stack up to about 1.3 KiB each (measured),
  and the budget is ``STACK_SIZE / MAX_RECURSION_LIMIT`` = 2.6 KiB a call. Past the limit,
  Python raises ``RecursionError``, which the engine reports as a message; the stack never
  overflows.

Why not higher: a recursive algorithm may hold memory per level that grows with the depth
(Mathics3's level walker keeps the position list of every level: quadratic), and a limit of
hundreds of thousands would let such a computation exhaust the machine's memory where a
``RecursionError`` stops it early. The default fits ``$RecursionLimit`` 1024 as Mathics3 reckons
it (200 + 30 calls a level) and prints about 7000 levels; deeper output is shown cut
(``_outputform``).

The stack is reserved address space: only the pages a deep recursion touches are ever used.
The recursion limit is process-wide and the large stack is not, so code that may recurse deeply
must run on one of these threads (the main thread has 8 MiB).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("wstp_jupyter.engine")

T = TypeVar("T")

STACK_SIZE = 512 << 20
RECURSION_LIMIT = 32_768
MAX_RECURSION_LIMIT = 200_000
# If the system refuses the large stack (a strict overcommit policy), threads get this and the
# recursion limits shrink in proportion.
_FALLBACK_STACK_SIZE = 64 << 20

_lock = threading.Lock()
_most = MAX_RECURSION_LIMIT  # what the evaluating threads' stacks hold


def set_limit(limit: int = RECURSION_LIMIT) -> int:
    """Set the interpreter's recursion limit to ``limit``, at least :data:`RECURSION_LIMIT` and
    at most what the evaluating threads' stacks hold; return the limit set."""
    value = min(max(limit, RECURSION_LIMIT), _most)
    sys.setrecursionlimit(value)
    return value


def start_thread(target: Callable[[], Any], name: str) -> threading.Thread:
    """Start a daemon thread with :data:`STACK_SIZE` of stack and return it.

    Falls back to a smaller stack (and a proportionally lower recursion limit) when the system
    refuses the large one, so that a deep recursion still ends in ``RecursionError``.
    """
    global _most
    with _lock:  # threading.stack_size is process-wide: set it, start, restore
        previous = threading.stack_size()
        try:
            for size in (STACK_SIZE, _FALLBACK_STACK_SIZE):
                try:
                    threading.stack_size(size)
                    thread = threading.Thread(target=target, name=name, daemon=True)
                    thread.start()
                except (RuntimeError, ValueError, MemoryError) as exc:
                    log.warning("cannot start %s with a %d MiB stack: %s", name, size >> 20, exc)
                    continue
                if size < STACK_SIZE:
                    _most = min(_most, MAX_RECURSION_LIMIT * size // STACK_SIZE)
                    sys.setrecursionlimit(min(sys.getrecursionlimit(), _most))
                return thread
        finally:
            threading.stack_size(previous)
    thread = threading.Thread(target=target, name=name, daemon=True)
    _most = 1000  # a default stack: Python's default limit
    sys.setrecursionlimit(1000)
    thread.start()
    return thread


def run(function: Callable[[], T], name: str) -> T:
    """Call ``function()`` on a thread of :func:`start_thread` and wait for it; its result, or
    the exception it raised."""
    outcome: list[Any] = []

    def call() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))

    start_thread(call, name).join()
    ok, value = outcome[0]
    if not ok:
        raise value
    result: T = value
    return result
