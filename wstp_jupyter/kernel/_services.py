"""Front-end services of the Jupyter kernel, answered over the preemptive link.

Completion, inspection (and the ``?name`` pager), completeness and history: requests a front end
sends while it edits, which must answer even while a cell runs. Each becomes one of the project's
requests (``engine._requests``) evaluated on the preemptive link, which the kernel process serves
beside the running evaluation; history is the kernel's own record.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import re
from typing import Any

from wstp_jupyter.engine._requests import Complete, Inspect, IsComplete
from wstp_jupyter.kernel import _syntax
from wstp_jupyter.kernel._connection import KernelConnection
from wstp_jupyter.kernel._errors import KernelError

log = logging.getLogger("wstp_jupyter.kernel")
PLAIN = "text/plain"
PREEMPTIVE_TIMEOUT = 5.0
#: How long a service request waits for a Wolfram kernel that is still starting.
STARTUP_WAIT = 120.0


# ``\[`` and the start of a name just before the cursor; an even run of backslashes before the
# ``[`` is escaped backslashes (``"\\[x"`` in a string), not a named character.
_NAMED_BEFORE = re.compile(r"(\\+)\[[A-Za-z0-9]*$")


def named_character_before(code: str, cursor_pos: int) -> tuple[str, int]:
    """``("\\[Alp", start)`` when the text before the cursor ends in a named character being
    typed (``start`` is its backslash), else ``("", cursor_pos)``."""
    found = _NAMED_BEFORE.search(code, 0, cursor_pos)
    if found is None or len(found.group(1)) % 2 == 0:
        return "", cursor_pos
    start = found.end(1) - 1
    return code[start:cursor_pos], start


class FrontEndServices:
    """The ``do_complete``/``do_inspect``/``do_is_complete``/``do_history`` handlers of
    :class:`~wstp_jupyter.kernel._kernel.WolframKernel` (a mixin: it reads the kernel's
    connection and history)."""

    _connection: KernelConnection | None
    _history: list[tuple[int, int, str, str | None]]
    _session: int

    async def _page_help(self, name: str, count: int) -> dict[str, Any]:
        text: Any = None
        try:
            text = await self._preemptive(Inspect(symbol=name).to_expr())
        except (KernelError, TimeoutError) as exc:
            text = f"no help available now: {exc}"
        if not isinstance(text, str) or not text:
            text = f"no information about {name}"
        page = {"source": "page", "data": {PLAIN: text}, "start": 0}
        return {"status": "ok", "execution_count": count, "payload": [page],
                "user_expressions": {}}

    async def _ensure_connection(self) -> KernelConnection:
        raise NotImplementedError  # the kernel's: the connection, started or restarted

    async def _preemptive(self, request: Any) -> Any:
        """Evaluate ``request`` on the preemptive link.

        A request that comes while the Wolfram kernel is still starting (the first Tab of a new
        notebook, Mathics3 taking seconds to load) or being replaced (after ``Quit[]`` or a
        death) waits for it, up to :data:`STARTUP_WAIT` seconds, so that its answer is right
        rather than empty.
        """
        connection = self._connection
        if connection is None or not connection.alive:
            try:
                connection = await asyncio.wait_for(self._ensure_connection(), STARTUP_WAIT)
            except TimeoutError as exc:
                raise KernelError(
                    f"the Wolfram kernel did not start within {STARTUP_WAIT:.0f} s"
                ) from exc
        return await asyncio.to_thread(connection.evaluate, request, timeout=PREEMPTIVE_TIMEOUT)

    async def do_complete(self, code: str, cursor_pos: int) -> dict[str, Any]:
        """Symbols (user and system, with contexts) starting with the text before the cursor;
        after ``\\[``, named characters (``\\[Alp`` -> ``\\[Alpha]``, replacing from the
        backslash)."""
        cursor_pos = len(code) if cursor_pos is None else cursor_pos
        prefix, start = named_character_before(code, cursor_pos)
        if not prefix:
            prefix, start = _syntax.symbol_before(code, cursor_pos)
        matches: list[str] = []
        status = "ok"
        if prefix:
            try:
                names = await self._preemptive(Complete(prefix=prefix).to_expr())
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
                text = await self._preemptive(Inspect(symbol=name).to_expr())
            except (KernelError, TimeoutError) as exc:
                log.info("inspection of %r failed: %s", name, exc)
        found = isinstance(text, str) and bool(text)
        data = {PLAIN: text} if found else {}
        return {"status": "ok", "found": found, "data": data, "metadata": {}}

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        """complete / incomplete (with an indent) / invalid, from the kernel's own parser."""
        status, indent = _syntax.is_complete(code)
        if self._connection is not None and self._connection.alive:
            try:
                answer = await self._preemptive(IsComplete(code=code).to_expr())
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
        """The inputs (and outputs' plain text) of this Jupyter kernel, by tail, range or search.

        Entries are ``(session, line, input)``: a session is one Wolfram kernel process (the
        next one, after ``Quit[]`` or a death, starts again at line 1); a range asks for one
        session, ``session`` 0 (or none) being the current one and -1 the one before, as in
        IPython.
        """
        entries = self._history
        if hist_access_type == "tail":
            entries = entries[-n:] if n else entries
        elif hist_access_type == "range":
            lo = start or 0
            wanted = session if session is not None and session > 0 else self._session + (
                session or 0)
            entries = [e for e in entries if e[0] == wanted and e[1] >= lo
                       and (stop is None or e[1] < stop)]
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
