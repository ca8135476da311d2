"""``Manipulate``, ``Animate``, ``ListAnimate`` and ``Dynamic`` as ipywidgets.

A view is a ``VBox`` of controls over an ``Output`` widget. Moving a control marks the view
dirty and, unless an update of that view is already running, starts one; an update reads the
controls' *current* values, so fast moves coalesce: while one update runs, any number of moves
leave one more update to do, with the latest values.

An update evaluates ``WSTPJupyter`MIMEBundle[ReleaseHold[Hold[body] /. {u -> value, ...}]]``
(the values put into the body, as ``With`` does) in an
``EvaluatePacket`` on the main link -- the body alone, not the cell -- and replaces the
``Output`` widget's outputs with what came back: ``Print`` text, messages (stderr) and the
rendered result (text, TeX, SVG, PNG: the same MIME data as a cell result). An error or an abort
shows in the output, and the controls stay usable.

Ordering. The main link evaluates one request at a time, and cells and updates share the
definitions, so updates and cells take turns under one lock (``_widget_base.turn``), which every
cell holds while it runs. An update waits for the running cell to end (and
then sees the definitions the cell made); a cell sent during an update waits for that update to
end (a few milliseconds for a small body). Several views update one after another.
Interrupting the kernel aborts the running update like a cell.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from wstp_jupyter.kernel._widget_base import SCENE3D, SPEC_MIME, WidgetKernel, turn
from wstp_jupyter.wxf import Expr, Symbol

log = logging.getLogger("wstp_jupyter.kernel")

PLAIN = "text/plain"
INPUTFORM = "application/vnd.wolfram.inputform"
SVG = "image/svg+xml"
PNG = "image/png"
_SLIDER_STEPS = 200  # a continuous slider moves in this many steps
_ANIMATION_FRAMES = 24
# What an update's output needs: a widget output is shown live (JupyterLab renders the SVG of a
# plot), so no PNG of graphics and no InputForm text, which are most of the rendering time.
_UPDATE_FORMATS = {
    "Formats": ["text/plain", "text/latex", "image/svg+xml", "image/png"],
    "GraphicsPNG": False,
}
_ANIMATION_INTERVAL_MS = 200
# Shown Dynamic views, refreshed after each cell (as long as the kernel runs, like the widget
# models themselves, which ipywidgets keeps until the front end closes them).
_DYNAMICS: list[InteractiveView] = []


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


class InteractiveView:
    """The widgets of one interactive result and the updates of its output."""

    def __init__(self, kernel: WidgetKernel, spec: dict[str, Any]) -> None:
        import ipywidgets as w

        from wstp_jupyter.engine._manipulate import decode

        self.kernel = kernel
        self.spec = spec
        self.body = decode(spec["body"])
        self.dirty = False
        self.task: asyncio.Task[None] | None = None
        self.updates = 0  # updates finished
        self.fresh = True  # shown by the running cell: no refresh needed at its end
        self.output = w.Output()
        self.controls: list[tuple[dict[str, Any], Any]] = []
        rows: list[Any] = []
        for control in spec["controls"]:
            widget, row = self._control(control)
            self.controls.append((control, widget))
            rows.append(row)
            widget.observe(self._changed, names="index" if control["type"] == "Animator"
                           else "value")
        self.widget = w.VBox([*rows, self.output])
        self.widget.add_class("wstp-interactive")

    # -- building ----------------------------------------------------------------------
    def _control(self, control: dict[str, Any]) -> tuple[Any, Any]:
        import ipywidgets as w

        kind, label = control["type"], control["label"]
        style = {"description_width": "initial"}
        if kind == "Slider" and control["integer"]:
            widget = w.IntSlider(min=control["min"], max=control["max"],
                                 step=control["step"] or 1, value=control["init"],
                                 description=label, style=style)
            return widget, widget
        if kind == "Slider":
            low, high = float(control["min"]), float(control["max"])
            step = control["step"] or (high - low) / _SLIDER_STEPS
            widget = w.FloatSlider(min=low, max=high, step=step, value=float(control["init"]),
                                   description=label, readout_format=".4", style=style)
            return widget, widget
        if kind == "Animator":
            values = self._frames(control)
            control["frames"] = values
            start = min(range(len(values)), key=lambda i: abs(values[i] - control["init"]))
            options = [(_number_text(v), i) for i, v in enumerate(values)]
            slider = w.SelectionSlider(options=options, index=start, description=label,
                                       style=style)
            play = w.Play(min=0, max=len(values) - 1, value=start, step=1,
                          interval=_ANIMATION_INTERVAL_MS, description="play")
            w.jslink((play, "value"), (slider, "index"))
            return slider, w.HBox([play, slider])
        if kind == "Checkbox":
            widget = w.Checkbox(value=bool(self._choice(control, control["init"])),
                                description=label, indent=False)
            return widget, widget
        if kind in ("SetterBar", "PopupMenu"):
            options = [(text, i) for i, text in enumerate(control["choices"])]
            cls = w.ToggleButtons if kind == "SetterBar" else w.Dropdown
            widget = cls(options=options, value=control["init"], description=label, style=style)
            return widget, widget
        widget = w.Text(value=str(control["init"]), description=label, continuous_update=False,
                        style=style)
        return widget, widget

    @staticmethod
    def _frames(control: dict[str, Any]) -> list[float]:
        low, high, step = control["min"], control["max"], control["step"]
        if step is None:
            step = (high - low) / (_ANIMATION_FRAMES - 1) if high != low else 1
        count = max(1, int((high - low) / step + 1e-9) + 1)
        values = [low + i * step for i in range(count)]
        return [int(v) for v in values] if control["integer"] else values

    @staticmethod
    def _choice(control: dict[str, Any], index: int) -> Any:
        from wstp_jupyter.engine._manipulate import decode

        return decode(control["values"][index])

    # -- values ------------------------------------------------------------------------
    def values(self) -> list[tuple[str, Any]]:
        """The controls' current values as ``(var, wire value)`` pairs."""
        from wstp_jupyter.engine._manipulate import control_value

        pairs = []
        for control, widget in self.controls:
            if control["type"] == "Animator":
                pairs.append((control["var"], control["frames"][widget.index]))
            elif control["type"] == "Checkbox":
                wanted = bool(widget.value)
                index = next(i for i in range(len(control["values"]))
                             if self._choice(control, i) is wanted)
                pairs.append((control["var"], control_value(control, index)))
            else:
                pairs.append((control["var"], control_value(control, widget.value)))
        return pairs

    def request(self) -> Any:
        """The expression an update evaluates."""
        from wstp_jupyter.engine._manipulate import with_values

        return Expr(Symbol("WSTPJupyter`MIMEBundle"), with_values(self.body, self.values()),
                    _UPDATE_FORMATS)

    # -- updates -----------------------------------------------------------------------
    def _changed(self, _change: Any = None) -> None:
        self.schedule()

    def schedule(self) -> None:
        """Ask for an update; coalesces with one that is waiting or running."""
        self.dirty = True
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while self.dirty:
            self.dirty = False
            await self.update()

    async def update(self, *, in_cell: bool = False) -> None:
        """Evaluate the body for the controls' current values and show the outcome."""
        try:
            outputs = await evaluate_outputs(self.kernel, self.request(), in_cell=in_cell)
        except Exception as exc:  # the view must stay usable whatever happened
            log.info("widget update failed", exc_info=True)
            outputs = [_stream("stderr", f"{type(exc).__name__}: {exc}\n")]
        if outputs != list(self.output.outputs):
            self.output.outputs = tuple(outputs)
        self.updates += 1

    def show(self, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        """Show a rendered result (the initial state) in the output widget."""
        self.output.outputs = (_display(data, metadata),)


def _stream(name: str, text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def _display(data: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": metadata}


async def evaluate_outputs(
    kernel: WidgetKernel, expr: Any, *, in_cell: bool = False
) -> list[dict[str, Any]]:
    """Evaluate ``expr`` (a ``MIMEBundle`` request) on the main link in turn with cells, and
    return what it printed and returned as nbformat outputs (see the module docstring).

    ``in_cell``: called by the running cell itself, which already has the turn.
    """
    if in_cell:
        return await _evaluate_outputs(kernel, expr)
    async with turn(kernel):
        return await _evaluate_outputs(kernel, expr)


async def _evaluate_outputs(kernel: WidgetKernel, expr: Any) -> list[dict[str, Any]]:
    from wstp_jupyter.kernel._mapping import Stream, result_data
    from wstp_jupyter.wxf import Symbol

    outputs: list[dict[str, Any]] = []

    def add_stream(name: str, text: str) -> None:
        last = outputs[-1] if outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            outputs.append(_stream(name, text))

    side: list[Stream] = []
    value = await kernel.evaluate_between_cells(expr, side)
    for event in side:
        add_stream(event.name, event.text)
    data, metadata = result_data(Symbol("$Aborted") if value is None else value)
    # Nested interactivity (a Manipulate in a Manipulate) is shown in its static form.
    data.pop(SPEC_MIME, None)
    data.pop(SCENE3D, None)
    data.pop(INPUTFORM, None)  # no front end shows it; a plot's would be most of the message
    if data.get(PLAIN) == "$Aborted" and len(data) == 1:
        add_stream("stderr", "$Aborted\n")
    else:
        outputs.append(_display(data, metadata))
    return outputs


def build_view(
    kernel: WidgetKernel, spec_text: str, data: dict[str, Any], metadata: dict[str, Any]
) -> Any:
    """The widget of an interactive result, showing ``data`` (its initial state)."""
    spec = json.loads(spec_text)
    view = InteractiveView(kernel, spec)
    # The Output widget shows the SVG of a plot; its PNG (for exports) stays in the cell's result.
    dropped = {INPUTFORM, PNG} if SVG in data else {INPUTFORM}
    view.show({k: v for k, v in data.items() if k not in dropped}, metadata)
    if spec["kind"] == "Dynamic":
        _DYNAMICS.append(view)
    return view.widget


async def refresh_dynamics(kernel: WidgetKernel) -> None:
    """Update every ``Dynamic`` shown, as the last part of the cell that just ran (so its
    outputs change before the cell's reply, and nbclient records them)."""
    if not kernel.connected:
        return
    for view in list(_DYNAMICS):
        if view.widget.comm is None:  # closed by the front end
            _DYNAMICS.remove(view)
        elif view.fresh:
            view.fresh = False
        elif view.kernel is kernel:
            await view.update(in_cell=True)
