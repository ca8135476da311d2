"""The kernelspec logos, drawn in code so that no binary asset has to ship inside the package.

The design is a rounded square with three linked nodes (the main, preemptive and service links)
around a centre node (the kernel process). The wstpserver kernelspec uses another colour so the
two kernels are easy to tell apart in JupyterLab's launcher. PNGs are drawn at 8x and downsampled,
which gives antialiased edges without fonts. ``kernelspec/*/logo-*`` in the repository are the
output of :func:`write_logos` (``scripts/make_logos.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

# kernelspec name -> (background, foreground)
COLOURS: dict[str, tuple[str, str]] = {
    "wolfram-wstp": ("#c0392b", "#fdebd0"),
    "wolfram-wstpserver": ("#1f618d", "#d6eaf8"),
    "wolfram-woxi": ("#7d3c98", "#f4ecf7"),
}
_SCALE = 8


def _nodes(size: float) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    centre = (size / 2, size / 2)
    radius = size * 0.28
    outer = [
        (
            centre[0] + radius * math.cos(math.radians(angle)),
            centre[1] - radius * math.sin(math.radians(angle)),
        )
        for angle in (90, 210, 330)
    ]
    return centre, outer


def draw_png(size: int, background: str, foreground: str) -> Image.Image:
    """Return the logo as an RGBA image of ``size`` x ``size`` pixels."""
    big = size * _SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.2, fill=background)
    centre, outer = _nodes(big)
    width = max(1, round(big * 0.06))
    for point in outer:
        draw.line((centre, point), fill=foreground, width=width)
    for a, b in zip(outer, outer[1:] + outer[:1], strict=True):
        draw.line((a, b), fill=foreground, width=max(1, width // 2))
    for point, r in [(centre, big * 0.12)] + [(p, big * 0.09) for p in outer]:
        draw.ellipse((point[0] - r, point[1] - r, point[0] + r, point[1] + r), fill=foreground)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_svg(background: str, foreground: str) -> str:
    """Return the logo as a standalone SVG document, 64 user units square."""
    centre, outer = _nodes(64.0)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">',
        f'<rect x="0" y="0" width="64" height="64" rx="12.8" fill="{background}"/>',
    ]
    for x, y in outer:
        parts.append(
            f'<line x1="{centre[0]:.2f}" y1="{centre[1]:.2f}" x2="{x:.2f}" y2="{y:.2f}" '
            f'stroke="{foreground}" stroke-width="3.84"/>'
        )
    for (x1, y1), (x2, y2) in zip(outer, outer[1:] + outer[:1], strict=True):
        parts.append(
            f'<line x1="{x1:.2f}" y1="{y1:.2f}" x2="{x2:.2f}" y2="{y2:.2f}" '
            f'stroke="{foreground}" stroke-width="1.92"/>'
        )
    cx, cy = centre
    parts.append(f'<circle cx="{cx:.2f}" cy="{cy:.2f}" r="7.68" fill="{foreground}"/>')
    for x, y in outer:
        parts.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="5.76" fill="{foreground}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_logos(name: str, target: Path) -> list[Path]:
    """Write ``logo-32x32.png``, ``logo-64x64.png`` and ``logo-svg.svg`` for kernelspec ``name``.

    Args:
        name: a key of :data:`COLOURS`.
        target: the kernelspec directory (created if missing).

    Returns:
        The paths written.

    Raises:
        KeyError: ``name`` is not a known kernelspec.
    """
    background, foreground = COLOURS[name]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for size in (32, 64):
        path = target / f"logo-{size}x{size}.png"
        draw_png(size, background, foreground).save(path)
        written.append(path)
    svg = target / "logo-svg.svg"
    svg.write_text(draw_svg(background, foreground), encoding="utf-8")
    written.append(svg)
    return written
