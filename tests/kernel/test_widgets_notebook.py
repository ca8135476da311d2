"""notebooks/interactive.ipynb run headless (papermill), then exported to HTML.

Checks what a headless run must keep: every interactive result has its widget view *and* a
static fallback of the initial state (``image/png`` or text), the widget state is saved in the
notebook's metadata (so the export shows the controls), a ``Dynamic`` shows the value a later
cell gave, and the HTML export carries the widget state and views.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "interactive.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def executed(artifact_dir: Path) -> Any:
    out = artifact_dir / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    target = out / "papermill-interactive.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(NOTEBOOK), str(target), "--no-progress-bar"],
        capture_output=True, text=True, timeout=360, cwd=out, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return nbformat.read(target, as_version=4)


def _results(nb: Any) -> list[tuple[str, dict[str, Any]]]:
    return [("".join(cell.source), out) for cell in nb.cells if cell.cell_type == "code"
            for out in cell.outputs if out.output_type == "execute_result"]


def test_every_interactive_result_keeps_a_static_fallback(executed: Any) -> None:
    results = _results(executed)
    views = [(src, out) for src, out in results if WIDGET_VIEW in out.data]
    heads = ("Manipulate", "Animate", "ListAnimate", "Dynamic", "Plot3D", "Graphics3D")
    assert len(views) == sum(1 for src, _ in results if any(h in src for h in heads))
    for src, out in views:
        assert out.data.get("text/plain"), src
        if "Plot" in src or "Graphics" in src:
            assert "image/png" in out.data, src


def test_the_widget_state_is_saved_with_every_view(executed: Any) -> None:
    state = executed.metadata["widgets"][WIDGET_STATE]["state"]
    for _, out in _results(executed):
        if WIDGET_VIEW in out.data:
            model = state[out.data[WIDGET_VIEW]["model_id"]]
            assert model["model_name"] in ("VBoxModel", "AnyModel")
    names = {m["model_name"] for m in state.values()}
    assert {"FloatSliderModel", "IntSliderModel", "ToggleButtonsModel", "DropdownModel",
            "CheckboxModel", "TextModel", "PlayModel", "OutputModel", "AnyModel"} <= names
    outputs = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    shown = [o["data"].get("text/plain") for outs in outputs for o in outs if "data" in o]
    assert "144" in shown  # the Dynamic, after `counter = 12`


def test_the_html_export_carries_the_widgets(executed: Any, artifact_dir: Path) -> None:
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(executed)
    (artifact_dir / "notebooks" / "papermill-interactive.html").write_text(html)
    assert f'<script type="{WIDGET_STATE}">' in html
    assert html.count(f'<script type="{WIDGET_VIEW}">') == sum(
        1 for _, out in _results(executed) if WIDGET_VIEW in out.data)
    state = html.split(f'<script type="{WIDGET_STATE}">', 1)[1].split("</script>", 1)[0]
    assert json.loads(state)["state"]
