"""``Graphics3D`` results as a widget you can turn: three.js through anywidget.

The widget's front-end code is ``static/scene3d.js``: a small module of the project's own
(source in ``static/src/scene3d.js``) bundled with the three.js library (npm package ``three``,
MIT licence) by ``scripts/build-scene3d.sh``. It ships inside the package and travels in the
widget model itself (anywidget's ``_esm``), so JupyterLab draws it offline, with no extension to
install and no CDN. Drag to turn the view around the scene's centre, wheel (or pinch) to zoom,
double-click to return to the initial view.

The scene's data is :mod:`_scene3d_data`'s arrays, sent as binary buffers of the widget
message (a 1,800-triangle surface is about 70 kB). The cell's result keeps the static SVG/PNG
next to the widget view for exports and front ends without widgets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from wstp_jupyter.kernel._scene3d_data import extract

STATIC = Path(__file__).with_name("static")
BUNDLE = STATIC / "scene3d.js"
DEFAULT_WIDTH = 400


class Scene3D(anywidget.AnyWidget):
    """A rotatable, zoomable view of one 3D scene (see the module docstring)."""

    _esm = BUNDLE
    _css = ".wstp-scene3d canvas { display: block; cursor: grab; touch-action: none; }"
    meta = traitlets.Dict().tag(sync=True)
    width = traitlets.Int(DEFAULT_WIDTH).tag(sync=True)
    height = traitlets.Int(DEFAULT_WIDTH).tag(sync=True)
    positions = traitlets.Bytes(b"").tag(sync=True)
    colors = traitlets.Bytes(b"").tag(sync=True)
    indices = traitlets.Bytes(b"").tag(sync=True)
    normals = traitlets.Bytes(b"").tag(sync=True)
    alpha_positions = traitlets.Bytes(b"").tag(sync=True)
    alpha_colors = traitlets.Bytes(b"").tag(sync=True)
    lines = traitlets.Bytes(b"").tag(sync=True)
    line_colors = traitlets.Bytes(b"").tag(sync=True)
    points = traitlets.Bytes(b"").tag(sync=True)
    point_colors = traitlets.Bytes(b"").tag(sync=True)

    @classmethod
    def from_json(cls, text: str, **kwargs: Any) -> Scene3D:
        """The widget of the engine's scene JSON (``application/vnd.wstp-jupyter.scene3d+json``)."""
        return cls.from_data(json.loads(text), **kwargs)

    @classmethod
    def from_data(cls, data: dict[str, Any], **kwargs: Any) -> Scene3D:
        arrays = extract(data)
        buffers = {
            name: getattr(arrays, name).tobytes()
            for name in ("positions", "colors", "indices", "normals", "alpha_positions",
                         "alpha_colors", "lines", "line_colors", "points", "point_colors")
        }
        return cls(meta=arrays.meta, **buffers, **kwargs)
