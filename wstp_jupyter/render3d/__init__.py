"""Static pictures of 3D scenes: ``Graphics3D`` drawn as SVG, without a browser.

The engine renders a ``Graphics3D`` result through :func:`graphics3d_svg` (and rasterises that
SVG for PNG): the fallback every front end can show, and what exported notebooks keep. Pure
Python; it imports nothing else of the project, so any layer may use it. How the drawing works is
described in ``_svg``.
"""

from __future__ import annotations

from wstp_jupyter.render3d._svg import graphics3d_svg

__all__ = ["graphics3d_svg"]
