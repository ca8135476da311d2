"""What the widget modules share: the MIME keys the engine marks results with, the turn lock,
and the part of the Jupyter kernel they use.

``_widgets`` (comms, presenting results) and ``_manipulate`` (the views and their updates) both
build on this module, and neither imports the kernel class: :class:`WidgetKernel` states what
they need of it, which ``WolframKernel`` provides.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Protocol

SPEC_MIME = "application/vnd.wstp-jupyter.interactive+json"
SCENE3D = "application/vnd.wstp-jupyter.scene3d+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
INTERACTIVE_KEYS = (SPEC_MIME, SCENE3D)


class WidgetKernel(Protocol):
    """The Jupyter kernel as the widget code sees it.

    A widget update is a request on the main link like a cell's, so it takes part in the same
    bookkeeping: ``_running`` and ``_sent`` (under ``_state_lock``) tell an interrupt which
    request it meant, and ``_await_prompt`` keeps WSTP's rule that input waits for the prompt.
    """

    _connection: Any
    _running: Any
    _sent: int
    _state_lock: threading.Lock

    def get_parent(self, channel: str = ...) -> dict[str, Any]: ...

    async def _ensure_connection(self) -> Any: ...

    async def _await_prompt(self, connection: Any, parent: Any, silent: bool) -> None: ...


def turn(kernel: object) -> asyncio.Lock:
    """The lock a cell holds while it runs and a widget update while it evaluates."""
    lock: asyncio.Lock | None = getattr(kernel, "_widget_turn", None)
    if lock is None:
        lock = asyncio.Lock()
        kernel._widget_turn = lock  # type: ignore[attr-defined]
    return lock


__all__ = ["INTERACTIVE_KEYS", "SCENE3D", "SPEC_MIME", "WIDGET_VIEW", "WidgetKernel", "turn"]
