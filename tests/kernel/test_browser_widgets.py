"""Widgets in a real JupyterLab and Notebook 7 (headless Chromium): a Manipulate slider redraws
the plot, and a Plot3D view turns when dragged, an Animate plays.

Same isolated JupyterLab as ``test_browser`` (its fixtures). WebGL runs on Chromium's software
renderer (SwiftShader). Screenshots: ``artifacts/widgets-manipulate-{before,after}.png``,
``artifacts/widgets-plot3d-{before,after}.png`` and the whole page,
``artifacts/widgets-jupyterlab.png``; the 3D view's time to its first frame (measured in the
page) goes to ``artifacts/widgets-3d-ready.txt``; Notebook 7: ``artifacts/widgets-notebook7.png``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kernel.test_browser import (  # noqa: F401 -- fixtures
    DISPLAY_NAME,
    _run_cell,
    chromium,
    jupyterlab,
    local_page,
    serve_jupyter,
)

pytestmark = pytest.mark.browser



def _open_notebook(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/lab")
    card = page.locator(".jp-LauncherCard[data-category='Notebook']", has_text=DISPLAY_NAME)
    expect(card).to_be_visible(timeout=90_000)
    card.click()
    expect(page.locator(".jp-NotebookPanel .jp-CodeCell").first).to_be_visible()
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=120_000)


def _wait_changed(read: Any, before: Any, timeout: float = 60.0) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while True:
        now = read()
        if now != before:
            return now
        if time.monotonic() > deadline:
            raise AssertionError("the view did not change")
        time.sleep(0.1)


def _settled(read: Any, quiet: float = 3.0, timeout: float = 90.0) -> Any:
    """The value once it has stopped changing for ``quiet`` seconds (coalesced updates of a
    drag arrive one after another; the last one shows the final value)."""
    deadline = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError("the view kept changing")
        time.sleep(0.2)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
    return value


@pytest.mark.timeout(400)
def test_slider_redraws_the_plot_and_the_3d_view_turns(
    chromium: str, jupyterlab: str, artifact_dir: Path  # noqa: F811 -- fixtures
) -> None:
    from playwright.sync_api import expect

    with local_page(chromium, jupyterlab, height=1000, webgl=True) as page:
        _open_notebook(page, jupyterlab)

        cell = _run_cell(page, 0, "Manipulate[Plot[Sin[a x], {x, 0, 6}], {a, 1, 5}]")
        handle = cell.locator(".widget-slider .noUi-handle")
        expect(handle).to_be_visible(timeout=120_000)
        plot = cell.locator(".widget-output .jp-OutputArea-output").first
        expect(plot.locator("svg, img").first).to_be_visible(timeout=60_000)
        readout = cell.locator(".widget-readout")
        expect(readout).to_have_text("1")

        def picture() -> str:
            return str(plot.inner_html())

        before = picture()
        plot.screenshot(path=str(artifact_dir / "widgets-manipulate-before.png"))
        box = handle.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 9):  # a drag, as a hand does it: several moves
            page.mouse.move(x + 15 * step, y)
        page.mouse.up()
        expect(readout).not_to_have_text("1")
        _wait_changed(picture, before)
        assert _settled(picture) != before
        plot.screenshot(path=str(artifact_dir / "widgets-manipulate-after.png"))

        cell3d = _run_cell(page, 1, "Plot3D[Sin[x y], {x, 0, 3}, {y, 0, 3}]")
        view = cell3d.locator(".wstp-scene3d canvas")
        expect(view).to_be_visible(timeout=120_000)
        host = cell3d.locator("[data-ready='1']")
        expect(host).to_have_count(1, timeout=60_000)
        ready_ms = host.get_attribute("data-ready-ms")
        shot_before = view.screenshot(path=str(artifact_dir / "widgets-plot3d-before.png"))
        box = view.bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        frames = host.get_attribute("data-frames")
        page.mouse.move(cx, cy)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(cx + 12 * step, cy + 4 * step)
        page.mouse.up()
        expect(host).not_to_have_attribute("data-frames", frames or "")
        shot_after = _wait_changed(
            lambda: view.screenshot(path=str(artifact_dir / "widgets-plot3d-after.png")),
            shot_before)
        assert shot_after != shot_before
        # Animate: the play button drives the slider in the browser, each frame an update.
        cell_anim = _run_cell(page, 2, 'Animate["frame " <> ToString[k], {k, 1, 5, 1}]')
        frame = cell_anim.locator(".widget-output .jp-OutputArea-output").first
        expect(frame).to_contain_text("frame 1", timeout=120_000)
        cell_anim.locator(".widget-play button").first.click()
        expect(frame).to_contain_text(re.compile(r"frame [2-5]"), timeout=60_000)
        (artifact_dir / "widgets-3d-ready.txt").write_text(
            f"Plot3D (default sampling) view ready in the page: {ready_ms} ms\n")
        page.screenshot(path=str(artifact_dir / "widgets-jupyterlab.png"), full_page=True)


MANIPULATE = "Manipulate[Plot[Sin[a x], {x, 0, 6}], {a, 1, 5}]"


@pytest.fixture
def notebook7(tmp_path: Path) -> Iterator[str]:
    """Notebook 7 on 127.0.0.1 (token off, temporary directories), serving ``widgets.ipynb``."""
    root = tmp_path / "root"
    root.mkdir()
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                     "outputs": [], "source": MANIPULATE}],
          "metadata": {"kernelspec": {"name": "wolfram-wstp", "display_name": DISPLAY_NAME,
                                      "language": "wolfram"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / "widgets.ipynb").write_text(json.dumps(nb))
    with serve_jupyter("notebook", "Notebook 7", tmp_path, root, []) as url:
        yield url


@pytest.mark.timeout(300)
def test_notebook7_shows_the_manipulate_and_its_slider_redraws_the_plot(
    chromium: str, notebook7: str, artifact_dir: Path  # noqa: F811 -- fixtures
) -> None:
    from playwright.sync_api import expect

    with local_page(chromium, notebook7, height=900, webgl=True) as page:
        page.goto(f"{notebook7}/notebooks/widgets.ipynb")
        cell = page.locator(".jp-CodeCell").first
        expect(cell.locator(".cm-content")).to_contain_text("Manipulate", timeout=90_000)
        prompt = cell.locator(".jp-InputPrompt")
        # A cell run before the kernel is connected is not sent: run it until it starts.
        for attempt in range(12):
            cell.locator(".cm-content").click()
            page.keyboard.press("Control+Enter")
            try:
                expect(prompt).to_contain_text(re.compile(r"\[(\*|\d+)\]"), timeout=15_000)
                break
            except AssertionError:
                if attempt == 11:
                    raise
        handle = cell.locator(".widget-slider .noUi-handle")
        expect(handle).to_be_visible(timeout=180_000)
        plot = cell.locator(".widget-output .jp-OutputArea-output").first
        expect(plot.locator("svg, img").first).to_be_visible(timeout=60_000)
        before = plot.inner_html()
        box = handle.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 120, box["y"] + box["height"] / 2, steps=6)
        page.mouse.up()
        _wait_changed(plot.inner_html, before)
        assert _settled(plot.inner_html) != before
        page.screenshot(path=str(artifact_dir / "widgets-notebook7.png"), full_page=True)
