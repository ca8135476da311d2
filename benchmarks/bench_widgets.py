"""Widget benchmarks (rows of ``bench_kernel``): control updates and the 3D view.

* control update -> new output: a front end's ``comm_msg`` update of a slider's value until
  the kernel's update of the Output model with the new result arrives (median), for a trivial
  body (``x^2``) and a plot (``Plot[Sin[a x], {x, 0, 6}]``), through jupyter_client;
* 3D view ready: an 1,800-triangle ``Graphics3D`` surface, from the scene JSON to the first
  frame drawn in headless Chromium: the kernel's part (arrays for the widget, in process) plus
  the page's part (loading the shipped three.js module, building the scene, drawing the first
  frame), measured in the page by ``performance.now()``. The Jupyter messages in between are a
  local websocket carrying ~70 kB of buffers and the module text, not counted.
"""

from __future__ import annotations

import base64
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient

from tests.kernel.widget_client import Models, output_text, send_update, wait_update

CHROMIUM = "/usr/bin/chromium"
TRIVIAL = "Manipulate[x^2, {x, 0, 1}]"
PLOT = "Manipulate[Plot[Sin[a x], {x, 0, 6}], {a, 1, 5}]"


def _open(kc: BlockingKernelClient, code: str) -> tuple[Models, str, str]:
    msg_id = kc.execute(code)
    models = Models()
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        models.feed(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    slider = models.of_model("FloatSliderModel")[-1]
    output = models.of_model("OutputModel")[-1]
    return models, slider, output


def control_update(kc: BlockingKernelClient, code: str, reps: int) -> float:
    """Median seconds from a slider update sent to the new output received."""
    models, slider, output = _open(kc, code)
    low, high = models.states[slider]["min"], models.states[slider]["max"]
    times = []
    for i in range(reps + 2):  # two warm-up moves
        value = low + (high - low) * ((0.1 + i * 0.37) % 1.0)  # never the same twice running
        before = output_text(models.states[output]), models.states[output].get("outputs")
        started = time.perf_counter()
        send_update(kc, slider, {"value": value})
        wait_update(kc, models, output,
                    lambda st, b=before: (output_text(st), st.get("outputs")) != b)
        if i >= 2:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def surface(n: int = 30) -> dict[str, Any]:
    """The scene JSON of an n x n sampled surface: 2 n^2 triangles (1,800 for n = 30)."""
    elements = []
    for i in range(n):
        for j in range(n):
            quad = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            pts = [[x / n, y / n, 0.2 * math.sin(6 * x * y / n / n)] for x, y in quad]
            for tri in ((pts[0], pts[1], pts[2]), (pts[0], pts[2], pts[3])):
                elements.append({"type": "polygon", "coords": [[p, None] for p in tri],
                                 "color": [1, 1, 1], "opacity": 1})
    return {
        "elements": elements,
        "extent": {"xmin": 0.0, "xmax": 1.0, "ymin": 0.0, "ymax": 1.0, "zmin": -0.2, "zmax": 0.2},
        "lighting": [{"type": "Ambient", "color": [0.4, 0.4, 0.4]},
                     {"type": "Directional", "color": [0.8, 0.3, 0.3], "position": [2, 0, 2]}],
        "viewpoint": [1.3, -2.4, 2.0],
        "boxed": True,
    }


_RENDER = """async ([esm, state, buffers]) => {
  const started = performance.now();
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const module = await import(url);
  const decode = (b64) => {
    const s = atob(b64);
    const a = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
    return new DataView(a.buffer);
  };
  const model = { get: (k) => (k in buffers ? decode(buffers[k]) : state[k]), on() {}, off() {} };
  const el = document.createElement("div");
  document.body.appendChild(el);
  module.default.render({ model, el });
  if (el.dataset.ready !== "1") throw new Error(el.textContent || "no frame drawn");
  return performance.now() - started;
}"""


def view_ready(reps: int) -> tuple[float, float, int]:
    """(kernel part, page part, triangles): medians in seconds, see the module docstring."""
    from playwright.sync_api import sync_playwright

    from wstp_jupyter.kernel._scene3d import BUNDLE
    from wstp_jupyter.kernel._scene3d_data import extract

    data = surface()
    kernel_times = []
    for _ in range(reps):
        started = time.perf_counter()
        arrays = extract(json.loads(json.dumps(data)))
        buffers = {name: getattr(arrays, name).tobytes() for name in
                   ("positions", "colors", "indices", "normals", "lines", "line_colors",
                    "points", "point_colors", "alpha_positions", "alpha_colors")}
        kernel_times.append(time.perf_counter() - started)
    state = {"meta": arrays.meta, "width": 400, "height": 400}
    encoded = {k: base64.b64encode(v).decode() for k, v in buffers.items()}
    esm = Path(BUNDLE).read_text()
    page_times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else None, headless=True,
            args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"])
        try:
            for _ in range(reps):
                page = browser.new_page()
                page.set_content("<!doctype html><html><body></body></html>")
                elapsed = page.evaluate(_RENDER, [esm, state, encoded])
                page_times.append(float(elapsed) / 1000.0)
                page.close()
        finally:
            browser.close()
    return statistics.median(kernel_times), statistics.median(page_times), arrays.triangles
