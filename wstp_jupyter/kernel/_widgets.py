"""Jupyter widgets in the kernel: comms, and results that become widgets.

The Jupyter kernel process is where widget models live (ipywidgets and anywidget, over the
``comm`` package, as in IPython's kernel); what they show is evaluated by the Wolfram kernel
process over the links. This module is the seam between the two:

* :func:`install_comms` gives the kernel ipykernel's comm manager and its ``comm_open`` /
  ``comm_msg`` / ``comm_close`` handlers (ipykernel sets them up only in its IPython kernel).
  ipywidgets itself (about 0.3 s to import) is loaded on the first widget.
* :func:`present` turns a result's MIME data into a widget view when the engine marked it as
  interactive (``Manipulate``, ``Animate``, ``ListAnimate``, ``Dynamic``: see
  ``engine/_manipulate``) or as a 3D scene (``Graphics3D``: see ``_scene3d``). The result keeps
  its static data (text, SVG, PNG) next to ``application/vnd.jupyter.widget-view+json``, so an
  export or a front end without widgets still shows the initial state.
* :func:`turn` is the lock cells and widget updates take turns under (the main link evaluates
  one request at a time, and both use the session's definitions).
* :func:`after_cell` refreshes the ``Dynamic`` outputs once a cell has finished.
"""

from __future__ import annotations

import logging
from typing import Any

from wstp_jupyter.kernel._widget_base import SCENE3D, SPEC_MIME, WIDGET_VIEW, WidgetKernel, turn

log = logging.getLogger("wstp_jupyter.kernel")


_registered = False


def install_comms(kernel: Any) -> None:
    """Give ``kernel`` a comm manager and route comm messages to it (cheap: no widget import)."""
    import comm
    from ipykernel.comm.comm import BaseComm
    from ipykernel.comm.manager import CommManager

    manager = CommManager(kernel=kernel)

    def create_comm(*args: Any, **kwargs: Any) -> BaseComm:
        return BaseComm(*args, **kwargs)

    def get_comm_manager() -> CommManager:
        return manager

    # The comm package's documented extension points: a kernel installs its own factories.
    comm.create_comm = create_comm
    comm.get_comm_manager = get_comm_manager
    kernel.comm_manager = manager
    for msg_type in ("comm_open", "comm_msg", "comm_close"):
        kernel.shell_handlers[msg_type] = getattr(manager, msg_type)


def load_widgets() -> None:
    """Import ipywidgets and register its comm targets (once)."""
    global _registered  # once per process, like ipywidgets' own registration
    if not _registered:
        import ipywidgets

        ipywidgets.register_comm_target()
        _registered = True


def present(
    kernel: WidgetKernel, data: dict[str, Any], metadata: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The result's data with a widget view added when the engine marked it interactive.

    The engine's marker entries are removed in every case (they are instructions, not
    something to show). A widget that cannot be built leaves the static result as it was.
    """
    spec = data.pop(SPEC_MIME, None)
    scene = data.pop(SCENE3D, None)
    if spec is None and scene is None:
        return data, metadata
    try:
        load_widgets()
        if spec is not None:
            from wstp_jupyter.kernel._manipulate import build_view

            widget = build_view(kernel, spec, dict(data), metadata)
        else:
            from wstp_jupyter.kernel._scene3d import Scene3D

            widget = Scene3D.from_json(str(scene))
    except Exception:
        log.warning("could not build a widget for a result", exc_info=True)
        return data, metadata
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return {WIDGET_VIEW: view, **data}, metadata


def interactive(data: dict[str, Any]) -> bool:
    """Whether a result's data asks for a widget (cheap test for the kernel's hook)."""
    return SPEC_MIME in data or SCENE3D in data


async def after_cell(kernel: WidgetKernel) -> None:
    """Refresh the ``Dynamic`` outputs shown so far (a cell may have changed what they show);
    called by the cell, before its reply. Never raises: the cell's own outcome stands."""
    if _registered:
        from wstp_jupyter.kernel._manipulate import refresh_dynamics

        try:
            await refresh_dynamics(kernel)
        except Exception:
            log.warning("could not refresh the Dynamic outputs", exc_info=True)


__all__ = ["after_cell", "install_comms", "interactive", "load_widgets", "present", "turn"]
