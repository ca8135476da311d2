"""``sys.stdout``/``sys.stderr`` of the Jupyter kernel process: ipykernel's, minus empty flushes.

ipykernel flushes both streams four times per ``execute_request`` (before the reply and after
the handler), and every flush waits for a round trip through its IOPub thread, even when nothing
was written. This kernel writes cell output as Jupyter messages, never to ``sys.stdout``, so
those round trips were pure latency on every cell (about 1 ms of a ``1+1`` here). A flush with
nothing buffered and nothing scheduled now returns at once; anything written (a warning, a
library's print, captured file-descriptor output) is flushed exactly as before.
"""

from __future__ import annotations

from ipykernel.iostream import OutStream


class QuietOutStream(OutStream):
    """An ``OutStream`` whose ``flush`` is free when there is nothing to send."""

    def flush(self) -> None:
        """Send what was written, waiting for the IOPub thread; nothing to do if nothing was."""
        # An ipykernel without these attributes gets its own flush every time.
        if (
            getattr(self, "_flush_pending", True)
            or getattr(self, "_subprocess_flush_pending", True)
            or getattr(self, "_buffers", True)
        ):
            super().flush()
