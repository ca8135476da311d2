"""A front end's side of Jupyter widgets, over jupyter_client: models from ``comm_open``,
state updates sent as ``comm_msg``, and waits for the kernel's updates of a model.

Used by the widget tests and the kernel benchmarks; it speaks the widget message protocol
(``@jupyter-widgets/schema`` version 2) and nothing of the kernel's internals.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class Models:
    """Widget models seen on iopub: ``comm_id -> state`` (kept current by updates)."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)

    def feed(self, msg: dict[str, Any]) -> str | None:
        """Record a ``comm_open`` / ``comm_msg`` update; the comm id it touched, if any."""
        content = msg["content"]
        if msg["msg_type"] == "comm_open":
            self.states[content["comm_id"]] = dict(content["data"].get("state", {}))
            return str(content["comm_id"])
        if msg["msg_type"] == "comm_msg" and content["data"].get("method") == "update":
            self.states.setdefault(content["comm_id"], {}).update(content["data"]["state"])
            return str(content["comm_id"])
        return None

    def of_model(self, name: str) -> list[str]:
        """Comm ids of the models named ``name`` (``"IntSliderModel"``...), oldest first."""
        return [cid for cid, st in self.states.items() if st.get("_model_name") == name]

    def children(self, comm_id: str) -> list[str]:
        """Model ids of a box's children (``"IPY_MODEL_<id>"`` references)."""
        return [str(c).removeprefix("IPY_MODEL_") for c in self.states[comm_id].get("children", [])]


def send_update(kc: BlockingKernelClient, comm_id: str, state: dict[str, Any]) -> str:
    """What a front end sends when the user moves a control; the message id."""
    msg = kc.session.msg("comm_msg", {
        "comm_id": comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}
    })
    kc.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


def wait_update(
    kc: BlockingKernelClient,
    models: Models,
    comm_id: str,
    match: Callable[[dict[str, Any]], bool],
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Read iopub until model ``comm_id``'s state satisfies ``match``; that state."""
    deadline = time.monotonic() + timeout
    while True:
        if comm_id in models.states and match(models.states[comm_id]):
            return models.states[comm_id]
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"model {comm_id} never reached the expected state: "
                               f"{str(models.states.get(comm_id))[:500]}")
        try:
            msg = kc.get_iopub_msg(timeout=min(left, 1.0))
        except queue.Empty:
            continue
        models.feed(msg)


def output_text(state: dict[str, Any]) -> str:
    """Everything an Output model shows, as text: streams and every text-like MIME entry."""
    parts = []
    for out in state.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        else:
            data = out.get("data", {})
            parts.append(data.get("text/plain", ""))
    return "".join(parts)
