"""The 3D scene Mathics3 describes as JSON, as arrays a WebGL front end draws directly.

Input: the JSON of a ``Graphics3DBox`` (the engine's ``application/vnd.wstp-jupyter.scene3d+
json``; its fields are described in ``engine/_render3d``). Output (:func:`extract`): a
:class:`SceneArrays` of little-endian ``float32`` / ``uint32`` buffers and a small JSON-ready
``meta`` dict:

* ``positions``, ``colors`` (RGB), ``normals``, ``indices``: polygons fanned into triangles,
  vertices shared between polygons that meet at the same point with the same colour, so the
  normals (see ``_orient``) are smooth across a sampled surface, as in the static renderer;
  transparent polygons (opacity < 1) go to ``alpha_positions`` / ``alpha_colors``, drawn with
  blending at the opacity ``meta["alpha"]``;
* ``lines`` (segment pairs) and ``points`` with per-vertex RGB;
* ``meta``: ``extent`` (the plot-range box), ``viewpoint``, ``boxed``, ``background`` (RGB),
  ``axes`` (which axes, their major ticks with labels and minor ticks),
  ``lights`` (``ambient`` RGB; ``directional`` as camera-space directions, because Wolfram's
  default lights turn with the camera; ``point`` in scene coordinates), ``spheres`` (``[x, y,
  z, r, R, G, B, opacity]``), ``cuboids`` (``[x0, y0, z0, x1, y1, z1, R, G, B, opacity]``),
  ``cylinders`` and ``cones`` (``[x0, y0, z0, x1, y1, z1, r, R, G, B, opacity]``), and
  ``skipped``: how many primitives of other types (tubes, arrows, polyhedra) were left out --
  the static SVG/PNG next to the widget still has them.

Pure Python, no I/O; one pass over the primitives.
"""

from __future__ import annotations

import collections
import itertools
import math
from array import array
from dataclasses import dataclass, field
from typing import Any

DEFAULT_VIEWPOINT = (1.3, -2.4, 2.0)
_WHITE = (1.0, 1.0, 1.0)


@dataclass
class SceneArrays:
    """Buffers (bytes of little-endian float32/uint32 arrays) and metadata of one scene."""

    meta: dict[str, Any] = field(default_factory=dict)
    positions: array[float] = field(default_factory=lambda: array("f"))
    colors: array[float] = field(default_factory=lambda: array("f"))
    indices: array[int] = field(default_factory=lambda: array("I"))
    normals: array[float] = field(default_factory=lambda: array("f"))
    alpha_positions: array[float] = field(default_factory=lambda: array("f"))
    alpha_colors: array[float] = field(default_factory=lambda: array("f"))
    lines: array[float] = field(default_factory=lambda: array("f"))
    line_colors: array[float] = field(default_factory=lambda: array("f"))
    points: array[float] = field(default_factory=lambda: array("f"))
    point_colors: array[float] = field(default_factory=lambda: array("f"))

    @property
    def triangles(self) -> int:
        return len(self.indices) // 3 + len(self.alpha_positions) // 9


def _vec(value: Any) -> tuple[float, float, float] | None:
    try:
        v = (float(value[0]), float(value[1]), float(value[2]))
    except (TypeError, ValueError, IndexError):
        return None
    return v if all(math.isfinite(c) for c in v) else None


def _coords(element: dict[str, Any]) -> list[tuple[float, float, float]]:
    points = []
    for item in element.get("coords") or ():
        # Each coordinate is ``[[x, y, z], offset]`` (the offset is for scaled coordinates).
        point = _vec(item[0] if isinstance(item, list) and item and isinstance(item[0], list)
                     else item)
        if point is not None:
            points.append(point)
    return points


def _color(element: dict[str, Any]) -> tuple[float, float, float]:
    return _vec(element.get("color")) or _WHITE


def _opacity(element: dict[str, Any]) -> float:
    try:
        value = float(element.get("opacity", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return min(1.0, max(0.0, value)) if math.isfinite(value) else 1.0


def _norm(v: tuple[float, float, float]) -> tuple[float, float, float]:
    length = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) or 1.0
    return (v[0] / length, v[1] / length, v[2] / length)


def _cross(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def camera_axes(viewpoint: tuple[float, float, float]) -> tuple[tuple[float, ...], ...]:
    """(right, up, forward) of a camera at ``viewpoint`` looking at the origin, z up."""
    forward = _norm((-viewpoint[0], -viewpoint[1], -viewpoint[2]))
    up_hint = (0.0, 1.0, 0.0) if abs(forward[2]) > 0.999 else (0.0, 0.0, 1.0)
    right = _norm(_cross(forward, up_hint))
    return right, _cross(right, forward), forward


def _lights(lighting: Any) -> dict[str, Any]:
    ambient = [0.0, 0.0, 0.0]
    directional, point = [], []
    right, up, forward = camera_axes(DEFAULT_VIEWPOINT)
    for light in lighting if isinstance(lighting, list) else []:
        if not isinstance(light, dict):
            continue
        kind = str(light.get("type", "")).lower()
        color = _vec(light.get("color")) or _WHITE
        position = _vec(light.get("position"))
        if kind == "ambient":
            ambient = [a + c for a, c in zip(ambient, color, strict=True)]
        elif kind == "directional":
            d = _norm(position or (0.0, 0.0, 1.0))
            # Where the light is as seen from the default view point: camera coordinates
            # (x right, y up, z toward the viewer), which the front end keeps with its camera.
            directional.append([[_dot(d, right), _dot(d, up), -_dot(d, forward)], list(color)])
        elif kind in ("point", "spot") and position is not None:
            point.append([list(position), list(color)])
    if not directional and not point and ambient == [0.0, 0.0, 0.0]:
        ambient = [0.4, 0.4, 0.4]
        directional.append([[0.3, 0.5, 1.0], [0.7, 0.7, 0.7]])
    return {"ambient": ambient, "directional": directional, "point": point}


def _axes(axes: Any) -> dict[str, Any]:
    """``{"has": [x, y, z], "ticks": [[[position, label], ...] per axis],
    "minor": [[position, ...] per axis]}`` from Mathics3's ``axes`` (see ``render3d``)."""
    axes = axes if isinstance(axes, dict) else {}
    has = axes.get("hasaxes", False)
    flags = [bool(has)] * 3 if isinstance(has, bool) else [
        bool(v) for v in (list(has)[:3] if isinstance(has, list) else [])]
    flags += [False] * (3 - len(flags))
    spec = axes.get("ticks") if isinstance(axes.get("ticks"), list) else []
    ticks: list[list[list[Any]]] = [[], [], []]
    minor: list[list[float]] = [[], [], []]
    for axis in range(3):
        try:
            major, small, labels = spec[axis][0], spec[axis][1], spec[axis][2]
            ticks[axis] = [[float(p), str(t)] for p, t in zip(major, labels, strict=False)]
            minor[axis] = [float(p) for p in small]
        except (IndexError, TypeError, ValueError, KeyError):
            continue
    return {"has": flags, "ticks": ticks, "minor": minor}


def _background(text: Any) -> list[float]:
    if isinstance(text, str) and "(" in text:
        parts = [p.strip() for p in text[text.index("(") + 1 : text.rindex(")")].split(",")]
        try:
            rgb = [float(p.rstrip("%")) / (100.0 if p.endswith("%") else 255.0) for p in parts[:3]]
            if len(rgb) == 3:
                return rgb
        except ValueError:
            pass
    return [1.0, 1.0, 1.0]


class _Mesh:
    def __init__(self, out: SceneArrays) -> None:
        self.out = out
        self.shared: dict[tuple[Any, ...], int] = {}

    def vertex(self, p: tuple[float, float, float], color: tuple[float, float, float]) -> int:
        key = (round(p[0], 9), round(p[1], 9), round(p[2], 9), color)
        index = self.shared.get(key)
        if index is None:
            index = len(self.out.positions) // 3
            self.shared[key] = index
            self.out.positions.extend(p)
            self.out.colors.extend(color)
        return index

    def polygon(self, points: list[tuple[float, float, float]], color: tuple[float, ...],
                opacity: float) -> None:
        rgb = (color[0], color[1], color[2])
        if opacity < 1.0:
            for i in range(1, len(points) - 1):
                for p in (points[0], points[i], points[i + 1]):
                    self.out.alpha_positions.extend(p)
                    self.out.alpha_colors.extend(rgb)
            return
        ids = [self.vertex(p, rgb) for p in points]
        for i in range(1, len(ids) - 1):
            self.out.indices.extend((ids[0], ids[i], ids[i + 1]))


def _orient(out: SceneArrays) -> None:
    """Triangles wound consistently, and smooth vertex normals.

    Polygons of a sampled surface come with either winding; averaging their normals as given
    would cancel them out (a patchy surface), and WebGL tells front from back faces by the
    winding. So the triangles of each connected piece are turned over where needed until
    every shared edge is walked in opposite directions by its two triangles (a breadth-first
    walk over the edges), and each vertex then averages its triangles' normals.
    """
    pos, idx = out.positions, out.indices
    count = len(idx) // 3
    tri = [[idx[3 * f], idx[3 * f + 1], idx[3 * f + 2]] for f in range(count)]
    by_edge: dict[tuple[int, int], list[int]] = {}
    for f, (a, b, c) in enumerate(tri):
        for u, v in ((a, b), (b, c), (c, a)):
            by_edge.setdefault((min(u, v), max(u, v)), []).append(f)
    done = [False] * count
    for seed in range(count):
        if done[seed]:
            continue
        done[seed] = True
        queue = collections.deque([seed])
        while queue:
            f = queue.popleft()
            a, b, c = tri[f]
            for u, v in ((a, b), (b, c), (c, a)):
                for g in by_edge[(min(u, v), max(u, v))]:
                    if done[g]:
                        continue
                    done[g] = True
                    ga, gb, gc = tri[g]
                    if (u, v) in ((ga, gb), (gb, gc), (gc, ga)):  # same direction: turn over
                        tri[g] = [ga, gc, gb]
                    queue.append(g)
    sums = [[0.0, 0.0, 0.0] for _ in range(len(pos) // 3)]
    for f, (a, b, c) in enumerate(tri):
        pa, pb, pc = pos[3 * a : 3 * a + 3], pos[3 * b : 3 * b + 3], pos[3 * c : 3 * c + 3]
        n = _cross((pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]),
                   (pc[0] - pa[0], pc[1] - pa[1], pc[2] - pa[2]))
        idx[3 * f], idx[3 * f + 1], idx[3 * f + 2] = a, b, c
        for v in (a, b, c):
            acc = sums[v]
            acc[0] += n[0]
            acc[1] += n[1]
            acc[2] += n[2]
    for acc in sums:
        out.normals.extend(_norm((acc[0], acc[1], acc[2])))


def extract(data: dict[str, Any]) -> SceneArrays:
    """Arrays and metadata of a Mathics3 3D scene (see the module docstring)."""
    out = SceneArrays()
    mesh = _Mesh(out)
    spheres: list[list[float]] = []
    cuboids: list[list[float]] = []
    cylinders: list[list[float]] = []
    cones: list[list[float]] = []
    skipped = 0
    opacities: list[float] = []
    for element in data.get("elements") or ():
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        points = _coords(element)
        color, opacity = _color(element), _opacity(element)
        if kind == "polygon" and len(points) >= 3:
            mesh.polygon(points, color, opacity)
            if opacity < 1.0:
                opacities.append(opacity)
        elif kind == "line" and len(points) >= 2:
            for a, b in itertools.pairwise(points):
                out.lines.extend((*a, *b))
                out.line_colors.extend((*color, *color))
        elif kind == "point":
            for p in points:
                out.points.extend(p)
                out.point_colors.extend(color)
        elif kind == "sphere":
            radius = float(element.get("radius") or 1.0)
            spheres += [[*p, radius, *color, opacity] for p in points]
        elif kind == "cuboid":
            cuboids += [[*a, *b, *color, opacity] for a, b in zip(points[::2], points[1::2],
                                                                    strict=False)]
        elif kind in ("cylinder", "cone"):
            radius = float(element.get("radius") or 1.0)
            target = cylinders if kind == "cylinder" else cones
            target += [[*a, *b, radius, *color, opacity]
                       for a, b in zip(points[::2], points[1::2], strict=False)]
        else:
            skipped += 1
    _orient(out)
    extent = data.get("extent")
    if not isinstance(extent, dict):
        extent = {}
    out.meta = {
        "extent": {k: float(v) for k, v in extent.items()
                   if isinstance(v, int | float) and math.isfinite(v)},
        "viewpoint": list(_vec(data.get("viewpoint")) or DEFAULT_VIEWPOINT),
        "boxed": data.get("boxed", True) is not False,
        "background": _background(data.get("background_color")),
        "lights": _lights(data.get("lighting")),
        "spheres": spheres,
        "cuboids": cuboids,
        "cylinders": cylinders,
        "cones": cones,
        "alpha": min(opacities) if opacities else 1.0,
        "axes": _axes(data.get("axes")),
        "skipped": skipped,
    }
    return out
