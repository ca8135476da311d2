"""MIME bundles of Woxi results (the Woxi counterpart of ``_render``).

``text/plain`` is OutputForm and ``application/vnd.wolfram.inputform`` InputForm (both from
``_woxi_forms``); graphics give Woxi's own SVG as ``image/svg+xml`` and a PNG rasterized from it
by cairosvg at ``PNGResolution`` dpi (144 by default, with the logical size in ``metadata``).
No ``text/latex``: Woxi's ``TeXForm`` covers too little of the language to be trusted for display.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("wstp_jupyter.engine")

PLAIN = "text/plain"
INPUTFORM = "application/vnd.wolfram.inputform"
SVG = "image/svg+xml"
PNG = "image/png"
_SIZE = re.compile(r'<svg\s+width="([0-9.]+)(?:px)?"\s+height="([0-9.]+)(?:px)?"')


def render_bundle(backend: Any, value: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Render ``value`` (a ``WoxiValue``) to ``{mime: data}`` plus ``metadata``."""
    formats = set(options.get("Formats") or (PLAIN, INPUTFORM, SVG, PNG))
    bundle: dict[str, Any] = {}
    if PLAIN in formats:
        bundle[PLAIN] = backend.output_text(value)
    if INPUTFORM in formats:
        bundle[INPUTFORM] = backend.input_text(value)
    svg = getattr(value, "svg", None)
    if svg and (SVG in formats or PNG in formats):
        _graphics(svg.strip(), options, formats, bundle)
    return bundle


def _graphics(svg: str, options: dict[str, Any], formats: set[str], bundle: dict[str, Any]) -> None:
    match = _SIZE.search(svg)
    width = float(match.group(1)) if match else 360.0
    height = float(match.group(2)) if match else 225.0
    wanted = options.get("ImageSize")
    if isinstance(wanted, int | float) and wanted > 0 and match:
        height, width = height * float(wanted) / width, float(wanted)
        svg = _SIZE.sub(f'<svg width="{width:.1f}" height="{height:.1f}"', svg, count=1)
    if SVG in formats:
        bundle[SVG] = svg
    if PNG in formats:
        dpi = float(options.get("PNGResolution") or 144)
        try:
            import cairosvg

            bundle[PNG] = cairosvg.svg2png(bytestring=svg.encode(), scale=dpi / 72.0)
            size = {"width": round(width), "height": round(height)}
            bundle.setdefault("metadata", {})[PNG] = size
        except Exception:  # cairosvg or libcairo missing: the SVG alone is still useful
            log.debug("PNG rasterization failed", exc_info=True)
