"""A static SVG renderer for ``Graphics3D``, from the JSON Mathics3 gives for a ``Graphics3DBox``.

Mathics3's own SVG for 3D is a placeholder; its JSON (``boxes.to_format("json")``, the data its
three.js front end draws) describes the whole scene, so this module draws that JSON itself.
Pure Python and no Mathics import: the input is the decoded JSON ``dict``.

Input (what Mathics3 10 emits): ``elements`` (a list of primitives), ``extent`` (``xmin`` ..
``zmax``, the plot-range box after ``BoxRatios`` scaling), ``viewpoint``, ``lighting``,
``axes`` (``hasaxes``: three booleans; ``ticks``: per axis ``[major positions, minor positions,
labels]`` in the same coordinates as the elements) and ``background_color`` (CSS ``rgb(..%)``).
Primitive ``type``s: ``polygon``, ``line``, ``point`` (``pointSize``, a fraction of the width),
``arrow``, ``sphere`` (``radius``; every coordinate is a centre), ``cuboid`` (corner pairs),
``cylinder`` and ``cone`` (end-point pairs and ``radius``; the cone's apex is the second point),
``tube`` (a polyline and ``radius``) and ``uniformPolyhedron`` (``subType`` ``tetrahedron``,
``cube``, ``octahedron``, ``dodecahedron`` or ``icosahedron``, centred on each coordinate, edge
length ``edgeLength`` or 1). Each has ``coords`` (``[[x, y, z], offset]`` items; the offset is
ignored), ``color`` (RGB 0..1, ``None`` meaning white) and ``opacity``. An unknown type, or a
malformed primitive, is skipped.

Rendering, following Wolfram's conventions:

* camera: the view point is relative to the centre of the ``extent`` box in units of its longest
  side, the camera looks at that centre with z up (y up when looking along z), perspective
  projection; the projected scene (box, primitives, tick labels) is fitted into ``width`` with a
  margin, and the height follows the scene's aspect;
* lights: the ambient colour plus, per directional light, ``max(0, n.l) * colour``, times the
  primitive's colour, one colour per face and two-sided (a face's normal is turned toward the
  camera). A directional light shines from the direction of its ``position`` as seen from the
  default view point ``{1.3, -2.4, 2}``, and turns with the camera for any other view point:
  Wolfram's default lights are fixed to the image (``ImageScaled``), a wrapper Mathics3's JSON
  drops. Point and spot lights shine from their position in scene coordinates (spot cones are
  ignored). Polygons (a sampled surface such as Plot3D's triangles) are lit with normals
  averaged over their smoothly joined neighbours, so the surface does not look faceted;
* painter's algorithm: faces, line segments, discs and spheres sorted by mean camera depth, lines
  drawn a little in front so mesh lines lying on a surface stay visible; spheres are discs with a
  radial gradient, cuboids six faces, cylinders, cones and tubes faceted surfaces with caps,
  arrows a line with a conical head, points flat discs, solids seen from outside drop their
  back faces;
* the bounding box edges unless ``boxed`` is false (the JSON does not carry ``Boxed``; pass it
  or set ``data["boxed"]``), and tick marks with labels on three outer edges for each axis that
  ``hasaxes`` selects.

Output: one ``<svg width="W" height="H" viewBox="0 0 W H" ...>`` document, numbers with at most
two decimals; gradient ids derive from the content, so equal pictures on one page share ids
harmlessly. A default ``Plot3D`` (about 800 primitives) renders in a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Vec = tuple[float, float, float]
RGB = tuple[float, float, float]

FONT_SIZE = 10.0
MARGIN = 8.0
LINE_WIDTH = 0.6
EDGE = ' stroke="#000" stroke-opacity=".7" stroke-width=".7"'  # edges of cuboids, polyhedra
TICK_MAJOR = 5.0
TICK_MINOR = 2.5
ROUND_SIDES = 24  # facets around a cylinder or cone
TUBE_SIDES = 12
DEFAULT_VIEWPOINT: Vec = (1.3, -2.4, 2.0)
DEFAULT_LIGHTING: list[dict[str, Any]] = [
    {"type": "Ambient", "color": [0.3, 0.2, 0.4]},
    {"type": "Directional", "color": [0.8, 0.0, 0.0], "position": [2.0, 0.0, 2.0]},
    {"type": "Directional", "color": [0.0, 0.8, 0.0], "position": [2.0, 2.0, 2.0]},
    {"type": "Directional", "color": [0.0, 0.0, 0.8], "position": [0.0, 2.0, 2.0]},
]

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")


def graphics3d_svg(data: dict[str, Any], *, width: float = 360.0, boxed: bool | None = None) -> str:
    """Render Mathics3's Graphics3D JSON (decoded) to a self-contained SVG document.

    Args:
        data: the decoded JSON of a ``Graphics3DBox`` (see the module docstring).
        width: the SVG width in pixels; the height follows the projected scene's aspect.
        boxed: draw the bounding box edges; ``None`` reads ``data.get("boxed", True)``.

    Returns:
        the SVG text, starting ``<svg width="W" height="H"``. Never raises for odd primitives:
        they are skipped.
    """
    if boxed is None:
        boxed = bool(data.get("boxed", True))
    scene = _Scene(data, max(float(width), 16.0))
    for element in data.get("elements") or ():
        if not isinstance(element, dict):
            continue
        draw = _PRIMITIVES.get(str(element.get("type")))
        if draw is None:
            continue
        try:
            draw(scene, element)
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
            continue  # a malformed primitive must not lose the rest of the picture
    scene.add_surface()
    if boxed:
        scene.add_box_edges()
    return scene.to_svg()


# -- vectors ---------------------------------------------------------------------------------


def _sub(a: Sequence[float], b: Sequence[float]) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _add(a: Sequence[float], b: Sequence[float]) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _scale(a: Sequence[float], k: float) -> Vec:
    return (a[0] * k, a[1] * k, a[2] * k)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Sequence[float], b: Sequence[float]) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: Sequence[float]) -> Vec:
    n = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])
    if n == 0.0:
        return (0.0, 0.0, 0.0)
    return (a[0] / n, a[1] / n, a[2] / n)


def _newell(points: Sequence[Vec]) -> Vec:
    """The (unnormalised) normal of a polygon, robust for non-planar and degenerate ones."""
    nx = ny = nz = 0.0
    px, py, pz = points[-1]
    for x, y, z in points:
        nx += (py - y) * (pz + z)
        ny += (pz - z) * (px + x)
        nz += (px - x) * (py + y)
        px, py, pz = x, y, z
    return (nx, ny, nz)


def _centroid(points: Sequence[Vec]) -> Vec:
    n = len(points)
    return (
        sum(p[0] for p in points) / n,
        sum(p[1] for p in points) / n,
        sum(p[2] for p in points) / n,
    )


def _basis(axis: Vec) -> tuple[Vec, Vec]:
    """Two unit vectors perpendicular to ``axis`` (a unit vector) and to each other."""
    helper = (1.0, 0.0, 0.0) if abs(axis[0]) < 0.9 else (0.0, 1.0, 0.0)
    u = _norm(_cross(axis, helper))
    return u, _cross(axis, u)


# -- numbers and colours ---------------------------------------------------------------------


def _f(value: float) -> str:
    """A compact number: at most two decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _hex(rgb: Sequence[float]) -> str:
    r, g, b = (max(0, min(255, round(float(c) * 255.0))) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgb(value: Any) -> RGB:
    if not isinstance(value, list | tuple) or len(value) < 3:
        return (1.0, 1.0, 1.0)
    return (float(value[0]), float(value[1]), float(value[2]))


def _opacity(element: dict[str, Any]) -> float:
    value = element.get("opacity")
    if value is None:
        color = element.get("color")
        value = color[3] if isinstance(color, list | tuple) and len(color) > 3 else 1.0
    return max(0.0, min(1.0, float(value)))


def _css_color(text: Any) -> tuple[RGB, float]:
    """``rgb(10%, 20%, 30%)`` / ``rgba(..., 100%)`` (Mathics' form) -> (rgb 0..1, alpha)."""
    if not isinstance(text, str):
        return (1.0, 1.0, 1.0), 1.0
    values = []
    for token in _NUMBER.findall(text):
        number = float(token.rstrip("%"))
        values.append(number / 100.0 if token.endswith("%") else number / 255.0)
    if len(values) < 3:
        return (1.0, 1.0, 1.0), 1.0
    alpha = values[3] if len(values) > 3 else 1.0
    if len(values) > 3 and not _NUMBER.findall(text)[3].endswith("%"):
        alpha = values[3] * 255.0  # a plain alpha is 0..1, not 0..255
    return (values[0], values[1], values[2]), max(0.0, min(1.0, alpha))


def _coords(element: dict[str, Any]) -> list[Vec]:
    """The points of a primitive: ``[[x, y, z], offset]`` items or bare ``[x, y, z]``."""
    points = []
    for item in element["coords"]:
        p = item[0] if isinstance(item[0], list | tuple) else item
        points.append((float(p[0]), float(p[1]), float(p[2])))
    return points


# -- the scene -------------------------------------------------------------------------------

# A drawable: (depth, kind, camera-space points, payload). Kinds: "face", "line", "disc",
# "sphere". Projection to pixels happens at the end, once the picture's scale is known.
_Item = tuple[float, str, list[Vec], Any]


class _Scene:
    """Camera, lights and the drawables collected so far."""

    def __init__(self, data: dict[str, Any], width: float) -> None:
        self.width = width
        extent = data.get("extent") or {}
        lo = [0.0, 0.0, 0.0]
        hi = [1.0, 1.0, 1.0]
        for i, axis in enumerate("xyz"):
            try:
                a, b = float(extent[axis + "min"]), float(extent[axis + "max"])
            except (KeyError, TypeError, ValueError):
                continue
            if math.isfinite(a) and math.isfinite(b):
                lo[i], hi[i] = min(a, b), max(a, b)
        self.lo: Vec = (lo[0], lo[1], lo[2])
        self.hi: Vec = (hi[0], hi[1], hi[2])
        self.size = max(*(b - a for a, b in zip(lo, hi, strict=True)), 1e-12)
        self.center = _scale(_add(self.lo, self.hi), 0.5)
        self._set_camera(data.get("viewpoint"))
        self.background, self.background_alpha = _css_color(data.get("background_color"))
        dark = _luminance(self.background) < 0.5 and self.background_alpha > 0.5
        self.ink = "#cccccc" if dark else "#333333"
        self.edge_ink = "#aaaaaa" if dark else "#555555"
        self._set_lights(data.get("lighting"))
        axes = data.get("axes")
        self.axes: dict[str, Any] = axes if isinstance(axes, dict) else {}
        self.items: list[_Item] = []
        self.surface: list[tuple[list[Vec], RGB, float]] = []  # polygons, see add_surface
        self.line_bias = 0.005 * self.size
        self.polylines = 0

    # -- camera ----------------------------------------------------------------------------
    def _set_camera(self, viewpoint: Any) -> None:
        try:
            vp = (float(viewpoint[0]), float(viewpoint[1]), float(viewpoint[2]))
        except (TypeError, ValueError, IndexError):
            vp = DEFAULT_VIEWPOINT
        if not all(math.isfinite(v) for v in vp) or _dot(vp, vp) < 1e-12:
            vp = DEFAULT_VIEWPOINT
        self.eye = _add(self.center, _scale(vp, self.size))
        self.right, self.up, self.forward = _camera_axes(vp)
        self.near = 1e-3 * self.size

    def to_camera(self, p: Vec) -> Vec:
        """Camera coordinates: x right, y up, z the depth in front of the eye."""
        d = (p[0] - self.eye[0], p[1] - self.eye[1], p[2] - self.eye[2])
        return (_dot(d, self.right), _dot(d, self.up), max(_dot(d, self.forward), self.near))

    # -- lights ----------------------------------------------------------------------------
    def _set_lights(self, lighting: Any) -> None:
        if not isinstance(lighting, list):
            lighting = DEFAULT_LIGHTING
        ambient = [0.0, 0.0, 0.0]
        self.directional: list[tuple[Vec, RGB]] = []  # (world direction, colour)
        self.positional: list[tuple[Vec, RGB]] = []  # (world position, colour)
        for light in lighting:
            if not isinstance(light, dict):
                continue
            try:
                kind = str(light.get("type", "")).lower()
                color = _rgb(light.get("color"))
                if kind == "ambient":
                    ambient = [a + c for a, c in zip(ambient, color, strict=True)]
                elif kind == "directional":
                    p = light.get("position") or [0.0, 0.0, 1.0]
                    d = _norm((float(p[0]), float(p[1]), float(p[2])))
                    # the light's place relative to the default camera, carried to this one
                    right0, up0, forward0 = _camera_axes(DEFAULT_VIEWPOINT)
                    cam = (_dot(d, right0), _dot(d, up0), -_dot(d, forward0))
                    world = _norm(
                        _add(
                            _add(_scale(self.right, cam[0]), _scale(self.up, cam[1])),
                            _scale(self.forward, -cam[2]),
                        )
                    )
                    self.directional.append((world, color))
                elif kind in ("point", "spot"):
                    p = light["position"]
                    self.positional.append(((float(p[0]), float(p[1]), float(p[2])), color))
            except (KeyError, TypeError, ValueError, IndexError):
                continue
        self.ambient: RGB = (ambient[0], ambient[1], ambient[2])

    def shade(self, color: RGB, normal: Vec, at: Vec) -> RGB:
        """Lit colour of a surface at ``at`` with unit world ``normal`` facing the camera."""
        r, g, b = self.ambient
        for direction, light in self.directional:
            k = _dot(normal, direction)
            if k > 0.0:
                r += k * light[0]
                g += k * light[1]
                b += k * light[2]
        for position, light in self.positional:
            k = _dot(normal, _norm(_sub(position, at)))
            if k > 0.0:
                r += k * light[0]
                g += k * light[1]
                b += k * light[2]
        return (min(1.0, r * color[0]), min(1.0, g * color[1]), min(1.0, b * color[2]))

    def shade_camera(self, color: RGB, normal: Vec, at: Vec) -> RGB:
        """As ``shade`` with ``normal`` in camera axes (x right, y up, z toward the viewer)."""
        world = _add(
            _add(_scale(self.right, normal[0]), _scale(self.up, normal[1])),
            _scale(self.forward, -normal[2]),
        )
        return self.shade(color, world, at)

    # -- drawables -------------------------------------------------------------------------
    def face(
        self,
        points: Sequence[Vec],
        color: RGB,
        opacity: float,
        *,
        solid_center: Vec | None = None,
        edges: bool = False,
        normal: Vec | None = None,
    ) -> None:
        """A flat-shaded polygon. With ``solid_center`` it belongs to a convex solid: its
        outward side is away from that centre and, when opaque, it is culled if facing away.
        ``normal`` replaces the polygon's own for lighting (not for deciding its side)."""
        if len(points) < 3:
            return
        center = _centroid(points)
        own = _norm(_newell(points))
        to_eye = _sub(self.eye, center)
        facing = _dot(own, to_eye)
        if normal is None:
            normal = own
        elif _dot(normal, own) < 0.0:
            normal = _scale(normal, -1.0)
        if solid_center is not None:
            if _dot(own, _sub(center, solid_center)) < 0.0:
                normal = _scale(normal, -1.0)
                facing = -facing
            if facing < 0.0 and opacity >= 1.0:
                return
        if facing < 0.0:
            normal = _scale(normal, -1.0)  # two-sided: light the side the camera sees
        lit = self.shade(color, normal, center)
        cam = [self.to_camera(p) for p in points]
        depth = sum(c[2] for c in cam) / len(cam)
        if not math.isfinite(depth + cam[0][0] + cam[0][1]):
            return  # a NaN coordinate (a failed sample) would make the path unreadable
        self.items.append((depth, "face", cam, (_hex(lit), opacity, edges)))

    def add_surface(self) -> None:
        """Add the collected polygons, each lit with the mean of its own normal and its
        vertices' normals, so a sampled surface (Plot3D's triangles) looks smooth rather than
        faceted. A vertex normal sums the normals of the polygons there (turned to agree, since
        a surface may list its polygons with either orientation); one more than 45 degrees off
        the polygon's own normal sits on a crease and is left out."""
        normals = [_norm(_newell(points)) for points, _c, _o in self.surface]
        sums: dict[Vec, list[float]] = {}
        keys = []
        for (points, _c, _o), (nx, ny, nz) in zip(self.surface, normals, strict=True):
            face_keys = [(round(x, 9), round(y, 9), round(z, 9)) for x, y, z in points]
            keys.append(face_keys)
            for key in face_keys:
                acc = sums.get(key)
                if acc is None:
                    sums[key] = [nx, ny, nz]
                elif acc[0] * nx + acc[1] * ny + acc[2] * nz >= 0.0:
                    acc[0] += nx
                    acc[1] += ny
                    acc[2] += nz
                else:
                    acc[0] -= nx
                    acc[1] -= ny
                    acc[2] -= nz
        unit = {key: _norm(acc) for key, acc in sums.items()}
        crease = math.cos(math.radians(45.0))
        for (points, color, opacity), own, face_keys in zip(
            self.surface, normals, keys, strict=True
        ):
            sx, sy, sz = own
            for key in face_keys:
                vx, vy, vz = unit[key]
                k = own[0] * vx + own[1] * vy + own[2] * vz
                if k > crease:
                    sx, sy, sz = sx + vx, sy + vy, sz + vz
                elif k < -crease:
                    sx, sy, sz = sx - vx, sy - vy, sz - vz
            self.face(points, color, opacity, normal=_norm((sx, sy, sz)))
        self.surface = []

    def polyline(self, points: Sequence[Vec], color: RGB, opacity: float, width: float) -> None:
        """Line segments, each sorted on its own and biased toward the viewer. A segment
        longer than an eighth of the scene is cut, so the parts of a long line behind a
        surface are hidden and the parts in front are not."""
        longest = self.size / 8.0
        fine: list[Vec] = []
        for p, q in itertools.pairwise(points):
            pieces = max(1, math.ceil(math.dist(p, q) / longest))
            fine.extend(_add(p, _scale(_sub(q, p), k / pieces)) for k in range(pieces))
        if points:
            fine.append(points[-1])
        cam = [self.to_camera(p) for p in fine]
        style = (_hex(color), opacity, width)
        self.polylines += 1
        for index in range(len(fine) - 1):
            a, b = cam[index], cam[index + 1]
            # A mesh line lies on the surface: its neighbouring faces' centroids are up to a
            # segment length nearer, so it is drawn that much in front.
            bias = self.line_bias + 0.6 * math.dist(fine[index], fine[index + 1])
            depth = 0.5 * (a[2] + b[2]) - bias
            if not math.isfinite(depth + a[0] + a[1] + b[0] + b[1]):
                continue
            self.items.append((depth, "line", [a, b], (style, (self.polylines, index))))

    def disc(self, point: Vec, color: RGB, opacity: float, radius_px: float) -> None:
        cam = self.to_camera(point)
        if not all(math.isfinite(c) for c in cam):
            return
        payload = (_hex(color), opacity, radius_px)
        self.items.append((cam[2] - self.line_bias, "disc", [cam], payload))

    def sphere(self, center: Vec, radius: float, color: RGB, opacity: float) -> None:
        cam = self.to_camera(center)
        if not all(math.isfinite(c) for c in (*cam, radius)) or radius <= 0.0:
            return
        stops = self._sphere_stops(color, center)
        self.items.append((cam[2], "sphere", [cam], (radius, stops, opacity)))

    def _sphere_stops(self, color: RGB, center: Vec) -> tuple[float, float, list[str]]:
        """Focal point (in units of the radius) and gradient colours of a lit sphere."""
        best, fx, fy = -1.0, 0.0, 0.0
        steps = 8
        for i in range(-steps, steps + 1):
            for j in range(-steps, steps + 1):
                x, y = i / steps, j / steps
                if x * x + y * y > 0.81:
                    continue
                c = self.shade_camera(color, (x, y, math.sqrt(1.0 - x * x - y * y)), center)
                lum = _luminance(c)
                if lum > best + 1e-9:
                    best, fx, fy = lum, x, y
        dist = math.hypot(fx, fy)
        dx, dy = (-fx / dist, -fy / dist) if dist > 1e-9 else (0.0, -1.0)
        colors = []
        for t in (0.0, 0.25, 0.5, 0.75, 0.97):
            # the stop at fraction t runs from the focal point to the far rim
            x, y = fx + t * (dx - fx), fy + t * (dy - fy)
            r2 = min(x * x + y * y, 1.0)
            colors.append(_hex(self.shade_camera(color, (x, y, math.sqrt(1.0 - r2)), center)))
        return fx, fy, colors

    def add_box_edges(self) -> None:
        (x0, y0, z0), (x1, y1, z1) = self.lo, self.hi
        corners = [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
        color = _hex_to_rgb(self.edge_ink)
        for i, a in enumerate(corners):
            for b in corners[i + 1 :]:
                if sum(1 for u, v in zip(a, b, strict=True) if u != v) != 1:
                    continue
                self.polyline([a, b], color, 1.0, LINE_WIDTH)

    # -- output ----------------------------------------------------------------------------
    def to_svg(self) -> str:
        corners = [
            self.to_camera((x, y, z))
            for x in (self.lo[0], self.hi[0])
            for y in (self.lo[1], self.hi[1])
            for z in (self.lo[2], self.hi[2])
        ]
        us: list[float] = []
        vs: list[float] = []
        for c in corners:
            us.append(c[0] / c[2])
            vs.append(-c[1] / c[2])
        for _depth, kind, cam, payload in self.items:
            if kind == "sphere":
                c = cam[0]
                r = payload[0] / c[2]
                us.extend((c[0] / c[2] - r, c[0] / c[2] + r))
                vs.extend((-c[1] / c[2] - r, -c[1] / c[2] + r))
            else:
                for c in cam:
                    us.append(c[0] / c[2])
                    vs.append(-c[1] / c[2])
        umin, umax, vmin, vmax = min(us), max(us), min(vs), max(vs)
        span_u = max(umax - umin, 1e-9)
        span_v = max(vmax - vmin, 1e-9)

        ticks = _Axes(self, corners) if any(self.hasaxes()) else None
        # Fit: labels stick out by a fixed number of pixels, so fit once, measure, refit.
        pad = [MARGIN, MARGIN, MARGIN, MARGIN]  # left, top, right, bottom
        scale = (self.width - 2 * MARGIN) / span_u
        for _ in range(2):
            if ticks is None:
                break
            left, top, right, bottom = ticks.overhang(scale, umin, umax, vmin, vmax)
            pad = [MARGIN + left, MARGIN + top, MARGIN + right, MARGIN + bottom]
            scale = max((self.width - pad[0] - pad[2]) / span_u, 1e-9)
        if span_v * scale > 3.0 * self.width:  # a needle-like scene: cap the height
            scale = 3.0 * self.width / span_v
        height = span_v * scale + pad[1] + pad[3]
        ox = pad[0] + (self.width - pad[0] - pad[2] - span_u * scale) / 2 - umin * scale
        oy = pad[1] - vmin * scale

        def px(c: Vec) -> tuple[float, float]:
            return ox + scale * c[0] / c[2], oy - scale * c[1] / c[2]

        out: list[str] = []
        defs: list[str] = []
        self.items.sort(key=lambda item: -item[0])
        run: dict[tuple[str, float, float], list[Any]] = {}  # line pieces not yet written
        for _depth, kind, cam, payload in self.items:
            if run and kind != "line":
                out.extend(_line_paths(run))
                run = {}
            if kind == "face":
                fill, opacity, edges = payload
                d = "M" + "L".join(_f(x) + " " + _f(y) for x, y in map(px, cam)) + "Z"
                if opacity < 1.0:
                    # no seam-closing stroke: it would show through a translucent face
                    stroke = EDGE if edges else ' stroke="none"'
                    alpha = _f(opacity)
                    out.append(f'<path d="{d}" fill="{fill}" fill-opacity="{alpha}"{stroke}/>')
                elif edges:
                    out.append(f'<path d="{d}" fill="{fill}"{EDGE}/>')
                else:
                    # stroking with the fill colour closes the hairline seams anti-aliasing
                    # leaves between neighbouring faces
                    out.append(f'<path d="{d}" fill="{fill}" stroke="{fill}"/>')
            elif kind == "line":
                # Line pieces drawn between the same two faces may go in any order: gather
                # them, and write one path per style (see ``_line_paths``).
                style, key = payload
                run.setdefault(style, []).append((key, px(cam[0]), px(cam[1])))
                continue
            elif kind == "disc":
                fill, opacity, radius = payload
                x, y = px(cam[0])
                extra = "" if opacity >= 1.0 else f' fill-opacity="{_f(opacity)}"'
                out.append(
                    f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(radius)}" fill="{fill}" '
                    f'stroke="none"{extra}/>'
                )
            else:  # sphere
                radius, (fx, fy, colors), opacity = payload
                x, y = px(cam[0])
                r = scale * radius / cam[0][2]
                gid = f"g{len(defs)}_@ID@"
                stops = "".join(
                    f'<stop offset="{_f(t)}" stop-color="{c}"/>'
                    for t, c in zip((0.0, 0.25, 0.5, 0.75, 1.0), colors, strict=True)
                )
                defs.append(
                    f'<radialGradient id="{gid}" fx="{_f(0.5 + 0.5 * fx)}" '
                    f'fy="{_f(0.5 - 0.5 * fy)}">{stops}</radialGradient>'
                )
                extra = "" if opacity >= 1.0 else f' fill-opacity="{_f(opacity)}"'
                out.append(
                    f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="url(#{gid})" '
                    f'stroke="none"{extra}/>'
                )
        out.extend(_line_paths(run))
        if ticks is not None:
            out.append(ticks.svg(px))

        w, h = _f(self.width), _f(height)
        head = [
            f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            'xmlns="http://www.w3.org/2000/svg" version="1.1">'
        ]
        if self.background_alpha > 0.0:
            alpha = (
                ""
                if self.background_alpha >= 1.0
                else (f' fill-opacity="{_f(self.background_alpha)}"')
            )
            head.append(f'<rect width="{w}" height="{h}" fill="{_hex(self.background)}"{alpha}/>')
        if defs:
            head.append("<defs>" + "".join(defs) + "</defs>")
        head.append('<g stroke-width=".5" stroke-linejoin="round" stroke-linecap="round">')
        svg = "\n".join([*head, *out, "</g>", "</svg>"])
        if defs:
            # ids unique per picture: Jupyter inlines many SVGs into one HTML document
            digest = hashlib.blake2b(svg.encode(), digest_size=5).hexdigest()
            svg = svg.replace("@ID@", digest)
        return svg

    def hasaxes(self) -> list[bool]:
        value = self.axes.get("hasaxes", False)
        if isinstance(value, bool):
            return [value] * 3
        if isinstance(value, list | tuple):
            return [bool(v) for v in list(value)[:3]] + [False] * (3 - len(value[:3]))
        return [False, False, False]


def _line_paths(run: dict[tuple[str, float, float], list[Any]]) -> list[str]:
    """One ``<path>`` per line style; pieces of one polyline that follow each other join."""
    paths = []
    for (stroke, opacity, width), pieces in run.items():
        pieces.sort(key=lambda piece: piece[0])
        d: list[str] = []
        previous: tuple[int, int] | None = None
        for (polyline, index), (xa, ya), (xb, yb) in pieces:
            if previous != (polyline, index - 1):
                d.append(f"M{_f(xa)} {_f(ya)}")
            d.append(f"L{_f(xb)} {_f(yb)}")
            previous = (polyline, index)
        extra = "" if opacity >= 1.0 else f' stroke-opacity="{_f(opacity)}"'
        paths.append(
            f'<path d="{"".join(d)}" fill="none" stroke="{stroke}" '
            f'stroke-width="{_f(width)}"{extra}/>'
        )
    return paths


def _camera_axes(viewpoint: Vec) -> tuple[Vec, Vec, Vec]:
    """Unit right, up and forward vectors of a camera at ``viewpoint`` looking at the origin."""
    forward = _norm(_scale(viewpoint, -1.0))
    up: Vec = (0.0, 0.0, 1.0)
    if abs(_dot(forward, up)) > 0.999:
        up = (0.0, 1.0, 0.0)  # looking along z: y is up on the screen, as in Wolfram's
    right = _norm(_cross(forward, up))
    return right, _cross(right, forward), forward


def _luminance(rgb: Sequence[float]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def _hex_to_rgb(text: str) -> RGB:
    return (int(text[1:3], 16) / 255.0, int(text[3:5], 16) / 255.0, int(text[5:7], 16) / 255.0)


# -- axes ------------------------------------------------------------------------------------


class _Axes:
    """Tick marks and labels on one outer edge per axis: x and y on the lowest edges of the
    picture, z on the leftmost vertical edge, as Wolfram's front end places them."""

    def __init__(self, scene: _Scene, corners: list[Vec]) -> None:
        self.scene = scene
        self.ink = scene.ink
        center = scene.to_camera(scene.center)
        self.center_uv = (center[0] / center[2], -center[1] / center[2])
        self.ticks: list[tuple[Vec, tuple[float, float], float, str]] = []  # point, out, len, label
        self.edges: list[tuple[Vec, Vec]] = []
        has = scene.hasaxes()
        ticks = scene.axes.get("ticks")
        spec: list[Any] = ticks if isinstance(ticks, list) else []
        for axis in range(3):
            if not has[axis]:
                continue
            a, b = self._edge(axis)
            self.edges.append((a, b))
            mid = _scale(_add(a, b), 0.5)
            out = self._outward(mid)
            try:
                major, minor, labels = spec[axis][0], spec[axis][1], spec[axis][2]
            except (IndexError, TypeError, KeyError):
                continue
            lo, hi = scene.lo[axis], scene.hi[axis]
            eps = 1e-9 * scene.size
            for position, label in zip(major, labels, strict=False):
                t = float(position)
                if lo - eps <= t <= hi + eps:
                    p = list(a)
                    p[axis] = t
                    self.ticks.append(((p[0], p[1], p[2]), out, TICK_MAJOR, str(label)))
            for position in minor:
                t = float(position)
                if lo - eps <= t <= hi + eps:
                    p = list(a)
                    p[axis] = t
                    self.ticks.append(((p[0], p[1], p[2]), out, TICK_MINOR, ""))

    def _uv(self, p: Vec) -> tuple[float, float]:
        c = self.scene.to_camera(p)
        return c[0] / c[2], -c[1] / c[2]

    def _edge(self, axis: int) -> tuple[Vec, Vec]:
        """The box edge parallel to ``axis`` on which its ticks go."""
        lo, hi = self.scene.lo, self.scene.hi
        others = [i for i in range(3) if i != axis]
        best: tuple[float, tuple[Vec, Vec]] | None = None
        for s in (lo[others[0]], hi[others[0]]):
            for t in (lo[others[1]], hi[others[1]]):
                a = [0.0, 0.0, 0.0]
                a[others[0]], a[others[1]] = s, t
                b = list(a)
                a[axis], b[axis] = lo[axis], hi[axis]
                pa, pb = (a[0], a[1], a[2]), (b[0], b[1], b[2])
                u, v = self._uv(_scale(_add(pa, pb), 0.5))
                # x, y: the lowest edge on the screen; z: the leftmost one
                score = -u if axis == 2 else v
                if best is None or score > best[0] + 1e-12:
                    best = (score, (pa, pb))
        assert best is not None
        return best[1]

    def _outward(self, mid: Vec) -> tuple[float, float]:
        u, v = self._uv(mid)
        du, dv = u - self.center_uv[0], v - self.center_uv[1]
        n = math.hypot(du, dv)
        return (du / n, dv / n) if n > 1e-12 else (0.0, 1.0)

    def _label_box(
        self, x: float, y: float, out: tuple[float, float], text: str
    ) -> tuple[float, float, float, float, str, float]:
        """Anchor point, text-anchor and extent of a tick label next to pixel (x, y)."""
        gap = TICK_MAJOR + 3.0
        lx, ly = x + out[0] * gap, y + out[1] * gap
        w = 0.6 * FONT_SIZE * len(text)
        if out[0] < -0.5:
            anchor, x0 = "end", lx - w
        elif out[0] > 0.5:
            anchor, x0 = "start", lx
        else:
            anchor, x0 = "middle", lx - w / 2
        # baseline: below the point when the label hangs under the edge, centred otherwise
        if out[1] > 0.5:
            base = ly + FONT_SIZE * 0.8
        elif out[1] < -0.5:
            base = ly
        else:
            base = ly + FONT_SIZE * 0.35
        return x0, base - FONT_SIZE * 0.8, x0 + w, base + FONT_SIZE * 0.2, anchor, lx

    def overhang(
        self, scale: float, umin: float, umax: float, vmin: float, vmax: float
    ) -> tuple[float, float, float, float]:
        """Pixels by which marks and labels reach past the geometry at this scale."""
        left = top = right = bottom = 0.0
        for p, out, _length, label in self.ticks:
            u, v = self._uv(p)
            x, y = (u - umin) * scale, (v - vmin) * scale
            if label:
                x0, y0, x1, y1, _a, _lx = self._label_box(x, y, out, label)
            else:
                x0 = x1 = x + out[0] * TICK_MAJOR
                y0 = y1 = y + out[1] * TICK_MAJOR
            left = max(left, -x0)
            top = max(top, -y0)
            right = max(right, x1 - (umax - umin) * scale)
            bottom = max(bottom, y1 - (vmax - vmin) * scale)
        return left, top, right, bottom

    def svg(self, px: Callable[[Vec], tuple[float, float]]) -> str:
        scene = self.scene
        parts = [f'<g stroke="{scene.edge_ink}" stroke-width="{_f(LINE_WIDTH)}" fill="none">']
        for a, b in self.edges:
            (xa, ya), (xb, yb) = px(scene.to_camera(a)), px(scene.to_camera(b))
            parts.append(f'<path d="M{_f(xa)} {_f(ya)}L{_f(xb)} {_f(yb)}"/>')
        texts = []
        placed: list[tuple[float, float, float, float]] = []
        for p, out, length, label in self.ticks:
            x, y = px(scene.to_camera(p))
            parts.append(
                f'<path d="M{_f(x)} {_f(y)}l{_f(out[0] * length)} {_f(out[1] * length)}"/>'
            )
            if label:
                x0, y0, x1, y1, anchor, lx = self._label_box(x, y, out, label)
                # a foreshortened axis crowds its labels: keep those that do not overlap
                if any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed):
                    continue
                placed.append((x0 - 1.0, y0 - 1.0, x1 + 1.0, y1 + 1.0))
                texts.append(
                    f'<text x="{_f(lx)}" y="{_f(y1 - FONT_SIZE * 0.2)}" '
                    f'text-anchor="{anchor}">{_escape(label)}</text>'
                )
        parts.append("</g>")
        parts.append(
            f'<g font-family="sans-serif" font-size="{_f(FONT_SIZE)}" fill="{self.ink}" '
            'stroke="none">'
        )
        parts.extend(texts)
        parts.append("</g>")
        return "\n".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- primitives ------------------------------------------------------------------------------


def _color(element: dict[str, Any]) -> RGB:
    return _rgb(element.get("color"))


def _polygon(scene: _Scene, element: dict[str, Any]) -> None:
    points = _coords(element)
    if len(points) >= 3:
        scene.surface.append((points, _color(element), _opacity(element)))


def _line(scene: _Scene, element: dict[str, Any]) -> None:
    scene.polyline(_coords(element), _color(element), _opacity(element), LINE_WIDTH * 1.2)


def _point(scene: _Scene, element: dict[str, Any]) -> None:
    size = float(element.get("pointSize") or 0.005)
    radius = max(1.5, size * scene.width)
    color, opacity = _color(element), _opacity(element)
    for p in _coords(element):
        scene.disc(p, color, opacity, radius)


def _arrow(scene: _Scene, element: dict[str, Any]) -> None:
    points = _coords(element)
    if len(points) < 2:
        return
    color, opacity = _color(element), _opacity(element)
    tip, before = points[-1], points[-2]
    segment = math.dist(tip, before)
    if segment == 0.0:
        scene.polyline(points, color, opacity, LINE_WIDTH * 1.5)
        return
    length = min(0.06 * scene.size, 0.5 * segment)
    base = _add(tip, _scale(_sub(before, tip), length / segment))
    scene.polyline([*points[:-1], base], color, opacity, LINE_WIDTH * 1.5)
    _cone_faces(scene, base, tip, length / 3.0, (color, opacity), sides=12)


def _sphere(scene: _Scene, element: dict[str, Any]) -> None:
    radius = float(element.get("radius", 1.0))
    color, opacity = _color(element), _opacity(element)
    for p in _coords(element):
        scene.sphere(p, radius, color, opacity)


def _pairs(points: list[Vec]) -> Iterable[tuple[Vec, Vec]]:
    return zip(points[0::2], points[1::2], strict=False)


def _cuboid(scene: _Scene, element: dict[str, Any]) -> None:
    color, opacity = _color(element), _opacity(element)
    points = _coords(element)
    if len(points) == 1:  # one corner: the unit cube
        points.append(_add(points[0], (1.0, 1.0, 1.0)))
    for a, b in _pairs(points):
        (x0, x1), (y0, y1), (z0, z1) = (
            sorted((a[0], b[0])),
            sorted((a[1], b[1])),
            sorted((a[2], b[2])),
        )
        v = [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
        center = _scale(_add(v[0], v[7]), 0.5)
        for quad in (
            (0, 1, 3, 2),
            (4, 5, 7, 6),
            (0, 1, 5, 4),
            (2, 3, 7, 6),
            (0, 2, 6, 4),
            (1, 3, 7, 5),
        ):
            scene.face([v[i] for i in quad], color, opacity, solid_center=center, edges=True)


def _ring(center: Vec, axis: Vec, radius: float, sides: int) -> list[Vec]:
    u, w = _basis(axis)
    ring = []
    for k in range(sides):
        angle = 2.0 * math.pi * k / sides
        c, s = math.cos(angle) * radius, math.sin(angle) * radius
        ring.append(
            (
                center[0] + c * u[0] + s * w[0],
                center[1] + c * u[1] + s * w[1],
                center[2] + c * u[2] + s * w[2],
            )
        )
    return ring


def _cylinder_faces(
    scene: _Scene, a: Vec, b: Vec, radius: float, paint: tuple[RGB, float], *, sides: int
) -> None:
    color, opacity = paint
    axis = _norm(_sub(b, a))
    if axis == (0.0, 0.0, 0.0) or radius <= 0.0:
        return
    bottom, top = _ring(a, axis, radius, sides), _ring(b, axis, radius, sides)
    center = _scale(_add(a, b), 0.5)
    for k in range(sides):
        n = (k + 1) % sides
        scene.face([bottom[k], bottom[n], top[n], top[k]], color, opacity, solid_center=center)
    scene.face(bottom, color, opacity, solid_center=center)
    scene.face(top, color, opacity, solid_center=center)


def _cone_faces(
    scene: _Scene, base: Vec, apex: Vec, radius: float, paint: tuple[RGB, float], *, sides: int
) -> None:
    color, opacity = paint
    axis = _norm(_sub(apex, base))
    if axis == (0.0, 0.0, 0.0) or radius <= 0.0:
        return
    ring = _ring(base, axis, radius, sides)
    center = _add(base, _scale(_sub(apex, base), 0.25))
    for k in range(sides):
        scene.face([ring[k], ring[(k + 1) % sides], apex], color, opacity, solid_center=center)
    scene.face(ring, color, opacity, solid_center=center)


def _cylinder(scene: _Scene, element: dict[str, Any]) -> None:
    radius = float(element.get("radius", 1.0))
    color, opacity = _color(element), _opacity(element)
    for a, b in _pairs(_coords(element)):
        _cylinder_faces(scene, a, b, radius, (color, opacity), sides=ROUND_SIDES)


def _cone(scene: _Scene, element: dict[str, Any]) -> None:
    radius = float(element.get("radius", 1.0))
    color, opacity = _color(element), _opacity(element)
    for a, b in _pairs(_coords(element)):
        _cone_faces(scene, a, b, radius, (color, opacity), sides=ROUND_SIDES)


def _tube(scene: _Scene, element: dict[str, Any]) -> None:
    radius = float(element.get("radius") or 0.05 * scene.size)
    color, opacity = _color(element), _opacity(element)
    points = _coords(element)
    for a, b in itertools.pairwise(points):
        _cylinder_faces(scene, a, b, radius, (color, opacity), sides=TUBE_SIDES)


def _polyhedron(scene: _Scene, element: dict[str, Any]) -> None:
    shape = _SOLIDS.get(str(element.get("subType", "")).lower())
    if shape is None:
        return
    vertices, faces = shape
    edge = float(element.get("edgeLength") or 1.0)
    color, opacity = _color(element), _opacity(element)
    for c in _coords(element):
        v = [_add(c, _scale(p, edge)) for p in vertices]
        for face in faces:
            scene.face([v[i] for i in face], color, opacity, solid_center=c, edges=True)


def _platonic(vertices: list[Vec], normals: list[Vec]) -> tuple[list[Vec], list[list[int]]]:
    """A Platonic solid with unit edge: its vertices and, per face normal (the dual's
    vertices), the indices of the vertices farthest along it, in order around the face."""
    edge = min(math.dist(a, b) for i, a in enumerate(vertices) for b in vertices[i + 1 :])
    unit = [_scale(p, 1.0 / edge) for p in vertices]
    faces = []
    for normal in normals:
        n = _norm(normal)
        top = max(_dot(p, n) for p in unit)
        members = [i for i, p in enumerate(unit) if _dot(p, n) > top - 1e-6]
        center = _centroid([unit[i] for i in members])
        u, w = _basis(n)
        members.sort(
            key=lambda i: math.atan2(_dot(_sub(unit[i], center), w), _dot(_sub(unit[i], center), u))
        )
        faces.append(members)
    return unit, faces


def _solids() -> dict[str, tuple[list[Vec], list[list[int]]]]:
    phi = (1.0 + math.sqrt(5.0)) / 2.0
    signs = (-1.0, 1.0)
    cube = [(x, y, z) for x in signs for y in signs for z in signs]
    octa = (
        [(s, 0.0, 0.0) for s in signs]
        + [(0.0, s, 0.0) for s in signs]
        + [(0.0, 0.0, s) for s in signs]
    )
    tetra = [(1.0, 1.0, 1.0), (1.0, -1.0, -1.0), (-1.0, 1.0, -1.0), (-1.0, -1.0, 1.0)]
    ico: list[Vec] = []
    dodeca: list[Vec] = list(cube)
    for s in signs:
        for t in signs:
            ico += [(0.0, s, t * phi), (s, t * phi, 0.0), (t * phi, 0.0, s)]
            dodeca += [(s / phi, 0.0, t * phi), (0.0, t * phi, s / phi), (t * phi, s / phi, 0.0)]
    return {
        "tetrahedron": _platonic(tetra, [_scale(p, -1.0) for p in tetra]),
        "cube": _platonic(cube, octa),
        "octahedron": _platonic(octa, cube),
        "icosahedron": _platonic(ico, dodeca),
        "dodecahedron": _platonic(dodeca, ico),
    }


_SOLIDS = _solids()

_PRIMITIVES: dict[str, Callable[[_Scene, dict[str, Any]], None]] = {
    "polygon": _polygon,
    "line": _line,
    "point": _point,
    "arrow": _arrow,
    "sphere": _sphere,
    "cuboid": _cuboid,
    "cylinder": _cylinder,
    "cone": _cone,
    "tube": _tube,
    "uniformPolyhedron": _polyhedron,
}
