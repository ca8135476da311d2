"""What the widget modules share: the MIME keys the engine marks results with, the turn lock,
and the part of the Jupyter kernel they use.

``_widgets`` (comms, presenting results) and ``_manipulate`` (the views and their updates) both
build on this module, and neither imports the kernel class: :class:`WidgetKernel` states what
they need of it, which ``WolframKernel`` provides.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

SPEC_MIME = "application/vnd.wstp-jupyter.interactive+json"
SCENE3D = "application/vnd.wstp-jupyter.scene3d+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
INTERACTIVE_KEYS = (SPEC_MIME, SCENE3D)


class WidgetKernel(Protocol):
    """The Jupyter kernel as the widget code sees it (``WolframKernel`` provides it)."""

    @property
    def connected(self) -> bool:
        """A kernel process is connected and alive."""

    async def evaluate_between_cells(self, expr: Any, side: list[Any]) -> Any:
        """Evaluate ``expr`` (the body of an ``EvaluatePacket``) on the main link as a request
        of its own (a widget update): after the kernel's prompt, interruptible like a cell.
        Print output and messages are appended to ``side`` as ``_mapping.Stream`` events.
        Returns the ``ReturnPacket``'s expression, ``$Aborted`` when interrupted, None when
        it could not finish."""


def turn(kernel: object) -> asyncio.Lock:
    """The lock a cell holds while it runs and a widget update while it evaluates."""
    lock: asyncio.Lock | None = getattr(kernel, "_widget_turn", None)
    if lock is None:
        lock = asyncio.Lock()
        kernel._widget_turn = lock  # type: ignore[attr-defined]
    return lock


__all__ = ["INTERACTIVE_KEYS", "SCENE3D", "SPEC_MIME", "WIDGET_VIEW", "WidgetKernel", "turn"]
